"""Build the monthly 客户投诉案件统计表 as the controlled template monthly-report, GL-004-11.

    python templates/build_monthly_report.py [VERSION]   # writes templates/monthly-report.vN.docx and adds its
                                                         # entry (default: the latest version, 1)

`archive report monthly YYYY-MM` renders it: the month's figures, the tables by category, severity, channel,
department, responsibility, product and lot, the late and overdue cases, three charts (docxtpl InlineImage)
and an appendix naming the cases behind every count, then 编制/审核. It follows the forms' version 2 page rules
(A4, the controlled header with 第 X 页 共 Y 页, one Chinese face). A registered version is never rebuilt in place.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

sys.path.insert(0, str(Path(__file__).parent))
from build_forms import _simple_field, finish, keep_rows, v2_doc  # a sibling script, not a package
from build_templates import cell_text, grid, kv_table, register_new_version, section_title, tall_row, write

TEMPLATE_ID = "monthly-report"
TITLE = "客户投诉案件统计表"
DOCUMENT_NUMBER = "GL-004-11"
EFFECTIVE_BY_VERSION = {"1": "2026-11-30"}
LATEST = "1"


def _relabel(doc: object) -> None:
    """The shared header and footer name a case (投诉编号); a report names its month. The footer's page
    numbers are simple fields, as the header's: LibreOffice printed the complex ones as 第 1 页 共 1 页."""
    for par in doc.paragraphs[:3]:  # type: ignore[attr-defined]
        for run in par.runs:
            run.text = run.text.replace("投诉编号:{{ number }}", "统计月份:{{ month_label }}")
    footer = doc.sections[0].footer.paragraphs[0]  # type: ignore[attr-defined]
    for child in list(footer._p):
        if child.tag != qn("w:pPr"):
            footer._p.remove(child)
    write(footer, "统计月份 {{ month_label }}  ·  受控文件,未经批准不得复制  ·  {{ doc.number }} 第 ", size=8)
    _simple_field(footer, "PAGE", size=8)
    write(footer, " 页 共 ", size=8)
    _simple_field(footer, "NUMPAGES", size=8)
    write(footer, " 页", size=8)


def _loop_table(doc: object, heads: tuple[str, ...], keys: tuple[str, ...], widths: tuple[float, ...],
                loop: str, size: float = 9) -> None:
    """A table with one row per item of ``loop`` (docxtpl's {%tr %}), its header repeated on each page."""
    table = grid(doc, 3, widths)
    for i, head in enumerate(heads):
        cell_text(table.rows[0].cells[i], head, label=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=size)
    cell_text(table.rows[1].cells[0], f"{{%tr for r in {loop} %}}")
    for i, key in enumerate(keys):
        align = WD_ALIGN_PARAGRAPH.CENTER if key in ("count", "share", "days", "n") else None
        cell_text(table.rows[2].cells[i], f"{{{{ r.{key} }}}}", size=size, align=align)
    cell_text(table.add_row().cells[0], "{%tr endfor %}")
    keep_rows(table, header_rows=1)


def _chart(doc: object, name: str) -> None:
    par = doc.add_paragraph()  # type: ignore[attr-defined]
    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    par.add_run(f"{{{{ {name} }}}}")


def monthly_report(version: str = LATEST) -> object:
    doc = v2_doc(TITLE)
    _relabel(doc)
    section_title(doc, "一、本月概况")
    overview = kv_table(doc, [
        ("统计月份", "{{ month_label }}", "统计截至", "{{ as_of }}"),
        ("本月受理", "{{ f.received }} 件", "本月结案", "{{ f.closed }} 件"),
        ("月初未结", "{{ f.open_at_start }} 件", "月末未结", "{{ f.open_at_end }} 件"),
        ("按时答复", "{{ reply_line }}", "逾期答复", "{{ reply_late_count }} 件"),
        ("按时调查", "{{ investigation_line }}", "逾期调查", "{{ investigation_late_count }} 件"),
        ("结案天数", "{{ days_line }}", "逾期未办", "{{ overdue_count }} 件"),
        ("本月到期措施", "{{ capa_line }}", "本月完成措施", "{{ f.capa.done_in_month }} 项"),
        ("重新打开", "{{ reopened_line }}", "已销毁", "{{ destroyed_line }}"),
    ], widths=(2.9, 5.6, 2.9, 5.6))
    keep_rows(overview)
    section_title(doc, "二、分类统计(本月受理案件;责任判定另计本月结案案件)")
    _loop_table(doc, ("统计项", "分类", "件数", "占比"), ("dimension", "name", "count", "share"),
                (3.6, 8.6, 2.2, 2.6), "breakdown")
    section_title(doc, "三、答复与调查逾期(本月到期)")
    _loop_table(doc, ("投诉编号", "期限", "到期日", "完成日", "逾期工作日"),
                ("number", "deadline", "due", "done", "days"), (3.2, 3.0, 3.8, 3.8, 3.2), "late")
    section_title(doc, "四、月末逾期未办案件")
    _loop_table(doc, ("投诉编号", "期限", "到期日", "逾期工作日"), ("number", "deadline", "due", "days"),
                (3.6, 4.0, 5.0, 4.4), "overdue")
    section_title(doc, "五、趋势与分析图")
    _chart(doc, "chart_trend")
    _chart(doc, "chart_pareto")
    _chart(doc, "chart_rate")
    section_title(doc, "附录:各项统计所依据的投诉编号")
    _loop_table(doc, ("统计项", "件数", "投诉编号"), ("item", "count", "numbers"), (4.6, 1.6, 10.8), "appendix",
                size=8.5)
    section_title(doc, "编制与审核")
    sign = grid(doc, 2, (2.4, 6.1, 2.4, 6.1))
    for r, role in enumerate(("编制", "审核")):
        cells = sign.rows[r].cells
        cell_text(cells[0], role, label=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        cell_text(cells[1], "{{ made_by }}" if r == 0 else "")
        cell_text(cells[2], "日期", label=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        cell_text(cells[3], "{{ made_on }}" if r == 0 else "")
        tall_row(sign, r, 1.0)
    keep_rows(sign)
    return finish(doc)


def main(version: str = LATEST) -> None:
    register_new_version(monthly_report(version), TEMPLATE_ID, TITLE, DOCUMENT_NUMBER, version,
                         EFFECTIVE_BY_VERSION[version], f"{DOCUMENT_NUMBER} v{version}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
