"""Build the destruction certificate (销毁证明, GL-004-10) template and register it beside the GL-004 forms.

    python templates/build_certificate.py [VERSION]   # writes templates/destruction-certificate.vN.docx and
                                                      # adds its entry (default: the latest version, 2)

Uses the form builder's parts so the certificate looks like the other controlled documents. Versions:
1 (2026-11-01) the first; 2 (2026-11-30) adds 执行人, the archivist who carried the destruction out, beside
the approver whose signature is their own act; 3 (2026-11-30) has version 2's fields with the GL-004 forms'
version 2 conventions (build_forms.py): zh-CN and one Chinese face for Chinese and digits, 模板版本 apart
from 文件版次, rows that never split, table header rows repeated on each page, page numbers that LibreOffice
updates in the header. A shipped version, once registered, is never rebuilt in place.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH

sys.path.insert(0, str(Path(__file__).parent))
from build_templates import (  # noqa: E402  (a sibling script, not a package)
    EFFECTIVE,
    cell_text,
    grid,
    kv_table,
    new_doc,
    register_new_version,
    section_title,
    tall_row,
)

TEMPLATE_ID = "destruction-certificate"
TITLE = "投诉记录销毁证明"
DOCUMENT_NUMBER = "GL-004-10"
EFFECTIVE_BY_VERSION = {"1": EFFECTIVE, "2": "2026-11-30", "3": "2026-11-30"}
LATEST = "3"


def _relabel(doc: object) -> None:
    """The shared header says 投诉编号 for a case; a certificate carries its own number."""
    parts = [doc.sections[0].footer.paragraphs[0], *doc.paragraphs[:3]]  # type: ignore[attr-defined]
    for par in parts:
        for run in par.runs:
            if "投诉编号" in run.text:
                run.text = run.text.replace("投诉编号", "证明编号")


def certificate(version: str = LATEST) -> object:
    if version == "3":
        return _paper_rules(certificate("2"))
    doc = new_doc(TITLE)
    _relabel(doc)
    executor = [("执行人", "{{ executed_by }}")] if version != "1" else []
    kv_table(doc, [
        ("证明编号", "{{ number }}", "判定日期", "{{ as_of }}"),
        ("批准人", "{{ approved_by }}", "监销人", "{{ witness }}"),
        *executor,
        ("计划时间", "{{ planned_at }}", "执行时间", "{{ executed_at }}"),
        ("销毁份数", "{{ count }}", "文件总数", "{{ files_total }}"),
        ("销毁方式", "{{ method }}"),
        ("依据", "{{ basis }}"),
    ])
    section_title(doc, "销毁清单")
    widths = (1.0, 2.1, 2.0, 2.9, 2.9, 4.3, 1.8)
    table = grid(doc, 3, widths)
    for i, head in enumerate(("序号", "投诉编号", "类别", "结案日期", "保存至", "保存规则", "文件数")):
        cell_text(table.rows[0].cells[i], head, label=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=9)
    cell_text(table.rows[1].cells[0], "{%tr for c in cases %}")
    for i, key in enumerate(("n", "number", "category", "closed", "until", "rule", "files")):
        cell_text(table.rows[2].cells[i], f"{{{{ c.{key} }}}}", size=9)
    cell_text(table.add_row().cells[0], "{%tr endfor %}")
    section_title(doc, "签名")
    sig = grid(doc, 3, (2.2, 3.0, 3.6, 4.2, 4.0))
    for i, head in enumerate(("签署", "签名", "职务", "日期时间", "密钥指纹")):
        cell_text(sig.rows[0].cells[i], head, label=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for r, (zh, key) in enumerate((("批准", "approved"), ("监销", "witnessed")), start=1):
        cells = sig.rows[r].cells
        cell_text(cells[0], zh, label=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        for i, part in enumerate(("name", "title", "time", "fingerprint"), start=1):
            cell_text(cells[i], f"{{{{ sig.{key}.{part} }}}}", size=9 if part != "name" else 10.5)
        tall_row(sig, r, 1.0)
    section_title(doc, "附:销毁文件校验值(SHA-256,取自各记录清单)")
    files = grid(doc, 3, (2.2, 6.6, 1.6, 6.6))
    for i, head in enumerate(("投诉编号", "文件", "字节", "SHA-256")):
        cell_text(files.rows[0].cells[i], head, label=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=8)
    cell_text(files.rows[1].cells[0], "{%tr for f in files %}")
    for i, key in enumerate(("number", "path", "size", "sha256")):
        cell_text(files.rows[2].cells[i], f"{{{{ f.{key} }}}}", size=6.5)
    cell_text(files.add_row().cells[0], "{%tr endfor %}")
    return doc


def _paper_rules(doc: object) -> object:
    """Version 3: the forms' version 2 page and font rules on version 2's unchanged fields."""
    from build_forms import _header_page_numbers, finish, keep_rows, relabel_versions
    from docx.oxml.ns import qn
    from docx.shared import Cm

    relabel_versions(doc)
    _header_page_numbers(doc)
    for table in doc.tables:  # type: ignore[attr-defined]
        head = table.rows[0].cells[0].text
        keep_rows(table, header_rows=1 if head in ("序号", "签署", "投诉编号") else 0)
        if head == "序号":  # 结案日期 and 保存至 (2026年11月21日 at 9 pt) on one line
            widths = (0.9, 2.0, 1.9, 3.3, 3.3, 3.9, 1.7)
            for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
                col.set(qn("w:w"), str(int(w * 567)))
            for row in table.rows:
                if len(row.cells) == len(widths):
                    for cell, w in zip(row.cells, widths, strict=True):
                        cell.width = Cm(w)
    return finish(doc)


def main(version: str = LATEST) -> None:
    register_new_version(certificate(version), TEMPLATE_ID, TITLE, DOCUMENT_NUMBER, version,
                         EFFECTIVE_BY_VERSION[version], f"{DOCUMENT_NUMBER} v{version}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
