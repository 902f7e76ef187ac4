"""Build the manufacturer's 客户抱怨处理表 (PCB SOP 表14.6.3) as the controlled template pcb-complaint, GL-004-07.

    python templates/build_pcb_form.py [VERSION]   # writes templates/pcb-complaint.vN.docx and adds its entry
                                                   # (default: the latest version, 1)

The SOP prints the table as five copies (五联) that go to five departments; the template holds the five,
each in its own section so that each copy carries its own distribution (第一联 质量管理部存 ...) in its
footer. The body of every copy is the same table. Pages are numbered through the whole document (第 X 页
共 Y 页, PAGE and NUMPAGES): LibreOffice, which makes the archive's PDFs, does not compute a per-section
total (SECTIONPAGES prints its cached value), so a per-copy count would be false in the PDF.
Document number GL-004-07 follows the house's GL-004 series; the SOP's own number, 表14.6.3, is printed
under the title so a reader of either system finds the form.
A shipped version, once registered, is never rebuilt in place.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.section import WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

sys.path.insert(0, str(Path(__file__).parent))
from build_templates import (  # noqa: E402  (a sibling script, not a package)
    CJK_HEAD_FONT,
    cell_text,
    field,
    grid,
    kv_table,
    new_doc,
    register_new_version,
    section_title,
    tall_row,
    write,
)

TEMPLATE_ID = "pcb-complaint"
TITLE = "客户抱怨处理表"
DOCUMENT_NUMBER = "GL-004-07"
SOP_FORM = "表14.6.3"
EFFECTIVE_BY_VERSION = {"1": "2026-11-30"}
LATEST = "1"
# The five copies (五联) and where each is kept, in the SOP's order.
COPIES = (("第一联", "质量管理部存"), ("第二联", "业务部存"), ("第三联", "生产部(责任单位)存"),
          ("第四联", "研发部存"), ("第五联", "总经理室存"))
WIDTHS = (3.7, 5.0, 2.6, 5.7)
SIG_ROWS = (("填表", "drafted"), ("审核", "reviewed"), ("核决", "approved"))


def _joint(doc: object) -> None:
    """A one-point paragraph between two tables that print as one (Word merges tables that touch)."""
    par = doc.add_paragraph()  # type: ignore[attr-defined]
    fmt = par.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(1)
    fmt.keep_with_next = True
    write(par, "", size=1)


def _keep_rows_whole(table: object, skip: set[int] | None = None) -> None:
    """A row never splits across pages, but the free-text rows in ``skip``: a complaint longer than a page
    must flow on, not leave its first page empty."""
    for i, row in enumerate(table.rows):  # type: ignore[attr-defined]
        if i in (skip or set()):
            continue
        trpr = row._tr.get_or_add_trPr()
        cant = OxmlElement("w:cantSplit")
        trpr.insert(0, cant)


def _keep_with_next(table: object, from_row: int = 0) -> None:
    """The last rows keep with what follows: the signature block never stands alone on a page."""
    for row in table.rows[from_row:]:  # type: ignore[attr-defined]
        for cell in row.cells:
            for par in cell.paragraphs:
                par.paragraph_format.keep_with_next = True


def _relabel_version(section: object) -> None:
    """The shared header's 版本 is the template's: named so a reader tells it from the document's own
    文件版次 printed under the title."""
    table = section.header.tables[0]  # type: ignore[attr-defined]
    for par in table.cell(0, 2).paragraphs:
        for run in par.runs:
            run.text = run.text.replace("版本:", "模板版本:")


def _footer(section: object, copy: str, kept_by: str) -> None:
    footer = section.footer  # type: ignore[attr-defined]
    footer.is_linked_to_previous = False
    par = footer.paragraphs[0]
    for child in list(par._element):
        if child.tag != qn("w:pPr"):
            par._element.remove(child)
    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    write(par, f"{copy} {kept_by}", size=9, bold=True, cjk=CJK_HEAD_FONT)
    write(par, f"  ·  编号 {{{{ number }}}}  ·  受控文件,未经批准不得复制  ·  {DOCUMENT_NUMBER} 第 ", size=8)
    field(par, "PAGE", size=8)
    write(par, " 页 共 ", size=8)
    field(par, "NUMPAGES", size=8)
    write(par, " 页", size=8)


def _copy_body(doc: object, copy: str, kept_by: str, first: bool) -> None:
    if not first:
        par = doc.add_paragraph()  # type: ignore[attr-defined]
        par.alignment = WD_ALIGN_PARAGRAPH.CENTER
        par.paragraph_format.space_before = Pt(0)
        par.paragraph_format.space_after = Pt(6)
        write(par, TITLE, size=16, bold=True, cjk=CJK_HEAD_FONT)
    note = doc.add_paragraph()  # type: ignore[attr-defined]
    note.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    note.paragraph_format.space_after = Pt(3)
    write(note, f"{SOP_FORM}    {copy}({kept_by})    文件版次:{{{{ version_label }}}}", size=9)
    table = kv_table(doc, [
        ("编号", "{{ number }}", "抱怨日期", "{{ received }}"),
        ("客户名称", "{{ pcb.customer }}", "品名", "{{ p.name }}"),
        ("料号", "{{ p.part_no }}", "交运日期", "{{ p.ship_date }}"),
        ("数量", "{{ p.quantity }}", "不良数量", "{{ p.defect_quantity }}"),
        ("异常样品", "{{ pcb.sample }}"),
        ("抱怨内容", "{{ description }}"),
        ("客户要求", "{{ request }}"),
        ("业务部签注意见", "{{ pcb.sales_opinion }}"),
        ("责任归属部门", "{{ pcb.department }}"),
        ("生产单位", "{{ pcb.unit }}", "机班别", "{{ pcb.shift }}"),
        ("生产人员", "{{ pcb.operator }}", "生产日期", "{{ pcb.produced }}"),
        ("研发部意见", "{{ pcb.rd_opinion }}"),
        ("总经理室综合意见", "{{ pcb.gm_opinion }}"),
        ("交涉结果", "{{ pcb.result }}"),
    ], widths=WIDTHS)
    free_text = {5: 2.6, 7: 1.8, 11: 1.8, 12: 1.8, 13: 1.2}
    for index, cm in free_text.items():
        tall_row(table, index, cm)
    _keep_rows_whole(table, skip=set(free_text))
    # The decision rows are a table of their own that keeps with the signatures: LibreOffice keeps a whole
    # table with what follows, never the last rows of one that has to break across pages.
    _joint(doc)
    decision = kv_table(doc, [
        ("是否列入追踪", "{{ pcb.tracking }}"),
        ("损失金额(元)", "{{ pcb.loss }}", "罚扣", "{{ pcb.penalty }}"),
        ("核决", "{{ pcb.decided_by }}", "核决日期", "{{ pcb.decided }}"),
    ], widths=WIDTHS)
    _keep_rows_whole(decision)
    _keep_with_next(decision)
    section_title(doc, "签名")
    doc.paragraphs[-1].paragraph_format.keep_with_next = True  # type: ignore[attr-defined]
    sig = grid(doc, len(SIG_ROWS) + 1, (2.2, 3.4, 3.2, 4.2, 4.0))
    for i, head in enumerate(("签署", "签名", "职务", "日期时间", "密钥指纹")):
        cell_text(sig.rows[0].cells[i], head, label=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=9.5)
    for r, (zh, key) in enumerate(SIG_ROWS, start=1):
        cells = sig.rows[r].cells
        cell_text(cells[0], zh, label=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=9.5)
        for i, part in enumerate(("name", "title", "time", "fingerprint"), start=1):
            cell_text(cells[i], f"{{{{ sig.{key}.{part} }}}}", size={"time": 8.5, "fingerprint": 7.5}.get(part, 9.5))
        for cell in cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        trpr = sig.rows[r]._tr.get_or_add_trPr()
        height = OxmlElement("w:trHeight")
        height.set(qn("w:val"), str(int(1.0 * 567)))
        height.set(qn("w:hRule"), "atLeast")
        trpr.append(height)
    _keep_rows_whole(sig)
    for row in sig.rows[:-1]:
        for cell in row.cells:
            for par in cell.paragraphs:
                par.paragraph_format.keep_with_next = True


def pcb_form(version: str = LATEST) -> object:
    doc = new_doc(TITLE)
    # new_doc's line under the title names the case number and version: this form prints its own (编号 is
    # the SOP's first field, and each copy says which 联 it is).
    doc.paragraphs[1]._element.getparent().remove(doc.paragraphs[1]._element)  # type: ignore[attr-defined]
    first = doc.sections[0]  # type: ignore[attr-defined]
    first.top_margin, first.bottom_margin = Cm(1.4), Cm(1.4)
    _relabel_version(first)
    for n, (copy, kept_by) in enumerate(COPIES):
        section = doc.add_section(WD_SECTION.NEW_PAGE) if n else first  # type: ignore[attr-defined]
        _footer(section, copy, kept_by)
        _copy_body(doc, copy, kept_by, first=n == 0)
    return doc


def main(version: str = LATEST) -> None:
    register_new_version(pcb_form(version), TEMPLATE_ID, TITLE, DOCUMENT_NUMBER, version, EFFECTIVE_BY_VERSION[version],
                         f"{DOCUMENT_NUMBER} v{version}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
