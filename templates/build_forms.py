"""Build version 2 of the six GL-004 forms and register them beside version 1 (which stays as shipped).

    python templates/build_forms.py      # writes templates/*.v2.docx and adds their entries

Version 2 (2026-11-30) prints every field of the SOP (GL-004-01 … 06), Chinese only, and lays its pages out
for paper: one Simplified Chinese face declared for Chinese and digits (宋体/黑体, zh-CN; LibreOffice
substitutes Noto Serif/Sans CJK SC), column widths that hold a date such as 2026年11月10日 on one line, table
header rows repeated on continuation pages, rows never split, and the signature block kept with the table
before it. A shipped version, once registered, is never rebuilt in place.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell

sys.path.insert(0, str(Path(__file__).parent))
from build_templates import (  # a sibling script, not a package
    CJK_FONT,
    cell_text,
    grid,
    new_doc,
    register_new_version,
    set_run_font,
    tall_row,
    write,
)

VERSION = "2"
EFFECTIVE = "2026-11-30"
WIDTHS = (3.2, 5.3, 3.2, 5.3)  # a label such as 接收人能否处理 on one line
SIG_WIDTHS = (1.8, 3.0, 3.6, 4.8, 3.8)
# 8D: labels such as "D6 实施与验证" on one line; the value column takes the rest.
E8_WIDTHS = (3.0, 5.5, 2.9, 5.6)
# CAPA actions at 8.5 pt: a date (2026年11月10日, with LibreOffice's space between Chinese and digits) needs
# 3.0 cm with the cell margins; a name such as 质量管理部 赵强 breaks, if at all, at its space.
CAPA_WIDTHS = (0.8, 1.5, 3.0, 2.5, 3.1, 3.1, 3.0)
CAPA_SIZE = 8.5
MEANINGS = (("起草", "drafted"), ("审核", "reviewed"), ("批准", "approved"))
# 核准人/批准人 is whoever signed 批准; the closure's free-text name stands in only until someone signs.
APPROVER = "{% if sig.approved.name %}{{ sig.approved.name }}{% else %}{{ cl.approved_by }}{% endif %}"

Row = tuple[str, ...]


# ------------------------------------------------------------------ page rules shared by every v2 document

def _tr_flag(row: object, tag: str, first: bool = False) -> None:
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    if trpr.find(qn(tag)) is not None:
        return
    el = OxmlElement(tag)
    if first:
        trpr.insert(0, el)  # cantSplit comes before trHeight in CT_TrPr
    else:
        trpr.append(el)  # tblHeader comes after it


def keep_rows(table: Table, header_rows: int = 0) -> None:
    """No row splits across pages; the first ``header_rows`` repeat on each continuation page."""
    for i, row in enumerate(table.rows):
        _tr_flag(row, "w:cantSplit", first=True)
        if i < header_rows:
            _tr_flag(row, "w:tblHeader")


# Chinese text is declared zh-CN (w:eastAsia); Latin runs keep a Western language so that a lot number,
# a part number or a name such as "Mr. Tanaka" breaks at its spaces, never inside itself.
LATIN_LANG = "en-US"


def zh_fonts(doc: object) -> None:
    """One Simplified Chinese face per run for Chinese and digits alike, and the language declared zh-CN."""
    parts = [doc.element, doc.styles.element]  # type: ignore[attr-defined]
    for section in doc.sections:  # type: ignore[attr-defined]
        parts += [section.header._element, section.footer._element]
    for part in parts:
        for fonts in part.iter(qn("w:rFonts")):
            for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(theme), None)
            face = fonts.get(qn("w:eastAsia")) or CJK_FONT
            for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
                fonts.set(qn(attr), face)
        for lang in part.iter(qn("w:lang")):
            lang.set(qn("w:val"), LATIN_LANG)
            lang.set(qn("w:eastAsia"), "zh-CN")
    styles = doc.styles.element  # type: ignore[attr-defined]
    rpr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    if rpr.find(qn("w:lang")) is None:
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), LATIN_LANG)
        lang.set(qn("w:eastAsia"), "zh-CN")
        rpr.append(lang)


def relabel_versions(doc: object) -> None:
    """The header's 版本 is the template's; the line under the title gives the document's own 版次."""
    section = doc.sections[0]  # type: ignore[attr-defined]
    for table in section.header.tables:
        for row in table.rows:
            for cell in row.cells:
                for par in cell.paragraphs:
                    for run in par.runs:
                        run.text = run.text.replace("版本:{{ doc.version }}", "模板版本:第 {{ doc.version }} 版")
    for par in doc.paragraphs[:3]:  # type: ignore[attr-defined]
        for run in par.runs:
            run.text = run.text.replace("版次:{{ version_label }}", "文件版次:{{ version_label }}")


def _simple_field(par: object, instr: str, size: float = 9) -> None:
    """A PAGE/NUMPAGES field as w:fldSimple: LibreOffice updates it in a header table cell (the complex
    field of version 1 printed 第 1 页 共 1 页 on every page there)."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), f" {instr} ")
    run = OxmlElement("w:r")
    fld.append(run)
    par._p.append(fld)  # type: ignore[attr-defined]
    from docx.text.run import Run
    r = Run(run, par)  # type: ignore[arg-type]
    r.text = "1"
    set_run_font(r, size)


def _header_page_numbers(doc: object) -> None:
    cell = doc.sections[0].header.tables[0].cell(1, 2)  # type: ignore[attr-defined]
    par = cell.paragraphs[0]
    for child in list(par._p):
        if child.tag != qn("w:pPr"):
            par._p.remove(child)
    write(par, "第 ", size=9)
    _simple_field(par, "PAGE")
    write(par, " 页 共 ", size=9)
    _simple_field(par, "NUMPAGES")
    write(par, " 页", size=9)


def v2_doc(title: str) -> object:
    doc = new_doc(title)
    relabel_versions(doc)
    _header_page_numbers(doc)
    return doc


def finish(doc: object) -> object:
    """Fonts, and table rows 1 pt tighter than version 1 so that a full form fits one A4 page."""
    zh_fonts(doc)
    for table in doc.tables:  # type: ignore[attr-defined]
        for par in table._tbl.iter(qn("w:p")):
            spacing = par.find(qn("w:pPr") + "/" + qn("w:spacing"))
            if spacing is not None and spacing.get(qn("w:before")) == "40":
                spacing.set(qn("w:before"), "20")
                spacing.set(qn("w:after"), "20")
    return doc


# ------------------------------------------------------------------ tables

def form_table(doc: object, rows: Sequence[Row], widths: Sequence[float] = WIDTHS,
               tall: dict[str, float] | None = None) -> Table:
    """Label/value rows as in build_templates.kv_table, plus docxtpl row tags: ("{%tr if x %}",) etc."""
    table = grid(doc, len(rows), widths)
    for r, spec in enumerate(rows):
        cells = table.rows[r].cells
        if len(spec) == 1:  # a docxtpl row tag: the whole row is replaced by the tag
            cell_text(cells[0].merge(cells[-1]), spec[0])
        elif len(spec) == 2:
            merged = cells[1].merge(cells[-1])
            cell_text(cells[0], spec[0], label=True)
            cell_text(merged, spec[1])
            if tall and spec[0] in tall:
                tall_row(table, r, tall[spec[0]])
        else:
            for i, text in enumerate(spec):
                cell_text(cells[i], text, label=i % 2 == 0)
    keep_rows(table)
    return table


def corrections(name: str) -> list[Row]:
    """GMP 第161条: each corrected stage the form prints, with its reason, who, when and what it replaces."""
    return [(f"{{%tr for f in fix_{name} %}}",), ("更正", "{{ f.text }}"), ("{%tr endfor %}",)]


def heading(doc: object, text: str) -> None:
    par = doc.add_paragraph()  # type: ignore[attr-defined]
    par.paragraph_format.space_before = Pt(8)
    par.paragraph_format.space_after = Pt(3)
    par.paragraph_format.keep_with_next = True
    write(par, text, size=11, bold=True, cjk="黑体")


def _no_margins(cell: _Cell) -> None:
    mar = OxmlElement("w:tcMar")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), "0")
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    cell._element.get_or_add_tcPr().append(mar)


def _nested(cell: _Cell, rows: int, widths: Sequence[float]) -> Table:
    table = cell.add_table(rows, len(widths))
    table.style = "Table Grid"
    table.autofit = False
    for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(w * 567)))
    for row in table.rows:
        for c, w in zip(row.cells, widths, strict=True):
            c.width = Cm(w)
    return table


def closing_row(table: Table, widths: Sequence[float], last: Sequence[str], *, size: float = 10.5,
                kv: bool = True) -> None:
    """The table's last row and the signature block (labelled by meaning: 起草/审核/批准) in one row that
    cannot split: the block always shares its page with the table's end (a long CAPA list never leaves it
    alone on the next page), and a table with a header row repeats it there."""
    row = table.add_row()
    _tr_flag(row, "w:cantSplit", first=True)
    cell = row.cells[0].merge(row.cells[-1])
    _no_margins(cell)
    first = cell.paragraphs[0]
    inner_widths = widths if len(last) == len(widths) else (widths[0], sum(widths[1:]))
    inner = _nested(cell, 1, inner_widths)
    for i, text in enumerate(last):
        cell_text(inner.rows[0].cells[i], text, label=kv and i % 2 == 0, size=size)
    par = cell.add_paragraph()
    par.paragraph_format.space_before = Pt(8)
    par.paragraph_format.space_after = Pt(3)
    write(par, "签名", size=11, bold=True, cjk="黑体")
    sig = _nested(cell, len(MEANINGS) + 1, SIG_WIDTHS)
    for i, head in enumerate(("签署", "签名", "职务", "日期时间", "密钥指纹")):
        cell_text(sig.rows[0].cells[i], head, label=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for r, (zh, key) in enumerate(MEANINGS, start=1):
        cells = sig.rows[r].cells
        cell_text(cells[0], zh, label=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        cell_text(cells[1], f"{{{{ sig.{key}.name }}}}")
        cell_text(cells[2], f"{{{{ sig.{key}.title }}}}", size=9.5)
        cell_text(cells[3], f"{{{{ sig.{key}.time }}}}", size=9)
        cell_text(cells[4], f"{{{{ sig.{key}.fingerprint }}}}", size=8)
        tall_row(sig, r, 0.9)
    # The cell's own first (empty) paragraph goes; its last one, which Word requires, is made tiny.
    first._element.getparent().remove(first._element)
    tail = cell.paragraphs[-1]
    tail.paragraph_format.space_before = tail.paragraph_format.space_after = Pt(0)
    write(tail, "", size=1)
    # A borderless outer cell: the nested tables draw the lines.
    borders = OxmlElement("w:tcBorders")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    cell._element.get_or_add_tcPr().append(borders)


PHARMA_CASE: list[Row] = [("{%tr if ph.sample %}",), ("样品/封样", "{{ ph.sample }}"), ("{%tr endif %}",),
                          ("{%tr if ph.patient %}",), ("患者", "{{ ph.patient }}"), ("{%tr endif %}",)]
PHARMA_INVESTIGATION: list[Row] = [
    ("{%tr if ph_inv.retained %}",), ("留样检查", "{{ ph_inv.retained }}"), ("{%tr endif %}",),
    ("{%tr if ph_inv.risk %}",), ("风险评估", "{{ ph_inv.risk }}"), ("{%tr endif %}",),
    ("{%tr if ph_inv.recall %}",), ("召回决定", "{{ ph_inv.recall }}"), ("{%tr endif %}",)]


# ------------------------------------------------------------------ the forms

def register_form() -> object:
    doc = v2_doc("客户投诉接收登记表")
    table = form_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("投诉途径", "{{ box_channel }}"),
        ("接收人", "{{ case.received_by }}", "紧急投诉", "{{ box_urgent }}"),
        ("接收人能否处理", "{{ box_can_handle }}", "承诺答复时间", "{{ handover.promised }}"),
        ("投诉单位", "{{ c.organization }}", "投诉人", "{{ c.name }}"),
        ("联系电话", "{{ c.phone }}", "电子邮件", "{{ c.email }}"),
        ("地址", "{{ c.address }}"),
        ("品名", "{{ p.name }}", "规格", "{{ p.spec }}"),
        ("批号", "{{ p.lot }}", "料号", "{{ p.part_no }}"),
        ("订单编号", "{{ p.order_no }}", "交运日期", "{{ p.ship_date }}"),
        ("数量", "{{ p.quantity }}", "不良数量", "{{ p.defect_quantity }}"),
        ("有效期至", "{{ p.expiry_date }}", "索赔金额(元)", "{{ case.claim_amount }}"),
        *PHARMA_CASE,
        ("投诉内容", "{{ description }}"),
        ("客户要求", "{{ request }}"),
        ("投诉类别", "{{ box_category }}"),
        ("严重程度", "{{ box_severity }}"),
        ("重大投诉判定", "{{ major }}"),
        ("受理部门", "{{ departments }}"),
        ("答复期限", "{{ due.reply }}", "调查期限", "{{ due.investigation }}"),
        ("8D 报告期限", "{{ due.eightd }}", "受理负责人", "{{ owner }}"),
        ("登记人", "{{ intake.by }}", "登记时间", "{{ intake.at }}"),
        ("转交QA时间", "{{ handover.at }}", "接手QA", "{{ handover.qa }}"),
        *corrections("register"),
    ], tall={"投诉内容": 1.8, "客户要求": 0.9})
    closing_row(table, WIDTHS, ("附件", "{{ attachment_list }}"))
    return finish(doc)


def record_form() -> object:
    doc = v2_doc("客户投诉记录表")
    table = form_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("投诉人", "{{ c.name }}", "投诉单位", "{{ c.organization }}"),
        ("联系方式", "{{ contact }}"),
        ("接收人", "{{ case.received_by }}", "紧急投诉", "{{ box_urgent }}"),
        ("投诉途径", "{{ box_channel }}"),
        ("品名", "{{ p.name }}", "规格", "{{ p.spec }}"),
        ("批号", "{{ p.lot }}", "有效期至", "{{ p.expiry_date }}"),
        ("数量", "{{ p.quantity }}", "不良数量", "{{ p.defect_quantity }}"),
        ("类别", "{{ box_category }}"),
        ("严重程度", "{{ box_severity }}"),
        ("重大投诉判定", "{{ major }}"),
        *PHARMA_CASE,
        ("投诉内容", "{{ description }}"),
        ("客户要求", "{{ request }}"),
        *corrections("record"),
        ("QA", "{{ rec.qa }}", "记录日期", "{{ rec.qa_date }}"),
    ], tall={"投诉内容": 5.0, "客户要求": 1.6})
    closing_row(table, WIDTHS, ("复核人", "{{ rec.reviewer }}", "复核日期", "{{ rec.review_date }}"))
    return finish(doc)


def investigation_report() -> object:
    doc = v2_doc("投诉调查报告")
    table = form_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("投诉人", "{{ c.name }}", "投诉单位", "{{ c.organization }}"),
        ("产品", "{{ p.name }}", "批号", "{{ p.lot }}"),
        ("投诉内容摘要", "{{ description }}"),
        ("调查人", "{{ inv.investigator }}", "调查完成时间", "{{ inv.completed }}"),
        ("调查期限", "{{ due.investigation }}", "是否按期", "{{ inv_timely.met }}{{ inv_timely.late }}"),
        ("查阅记录", "{{ inv.records }}"),
        ("调查结果", "{{ inv.findings }}"),
        ("根本原因", "{{ inv.root_cause }}"),
        *PHARMA_INVESTIGATION,
        *corrections("inv"),
    ], tall={"调查结果": 5.0, "根本原因": 2.0})
    closing_row(table, WIDTHS, ("责任判定", "{{ box_responsibility }}"))
    return finish(doc)


def capa_record() -> object:
    doc = v2_doc("纠正和预防措施记录")
    form_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("产品", "{{ p.name }}", "批号", "{{ p.lot }}"),
        ("问题描述", "{{ capa_problem }}"),
        ("根本原因", "{{ inv.root_cause }}"),
        ("{%tr if capa_open_reason %}",), ("带未完成措施结案的原因", "{{ capa_open_reason }}"), ("{%tr endif %}",),
        *corrections("capa"),
    ])
    heading(doc, "纠正和预防措施")
    table = grid(doc, 3, CAPA_WIDTHS)
    for i, head in enumerate(("序号", "类型", "措施", "责任人", "完成期限", "完成情况", "有效性验证")):
        cell_text(table.rows[0].cells[i], head, label=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=9.5)
    cell_text(table.rows[1].cells[0], "{%tr for a in capa_rest %}")
    body = ("{{ a.n }}", "{{ a.kind }}", "{{ a.action }}", "{{ a.owner }}", "{{ a.due }}",
            "{{ a.status }}\n{{ a.done }}", "{{ a.verification }}\n验证人:{{ a.verified_by }}\n{{ a.verified_at }}")
    for i, text in enumerate(body):
        cell_text(table.rows[2].cells[i], text, size=CAPA_SIZE)
    cell_text(table.add_row().cells[0], "{%tr endfor %}")
    keep_rows(table, header_rows=1)
    closing_row(table, CAPA_WIDTHS, tuple(x.replace("a.", "capa_last.") for x in body), size=CAPA_SIZE, kv=False)
    return finish(doc)


def response_feedback() -> object:
    doc = v2_doc("投诉处理措施及客户反馈表")
    table = form_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("投诉人", "{{ c.name }}", "投诉单位", "{{ c.organization }}"),
        ("受理部门", "{{ departments }}", "负责人", "{{ owner }}"),
        ("答复期限", "{{ due.reply }}", "是否按期", "{{ reply_timely.met }}{{ reply_timely.late }}"),
        ("答复时间", "{{ resp.replied }}", "答复人", "{{ resp.by }}"),
        ("答复方式", "{{ box_method }}"),
        ("处理措施", "{{ resp.measures }}"),
        ("处理结果", "{{ resp.outcome }}"),
        ("答复内容", "{{ resp.content }}"),
        ("回访时间", "{{ fu.visited }}", "回访人", "{{ fu.by }}"),
        ("满意程度", "{{ box_satisfaction }}"),
        ("客户反馈", "{{ fu.feedback }}"),
        ("客户确认", "{{ fu.confirmation }}"),
        ("结案日期", "{{ cl.closed }}", "核准人", APPROVER),
        ("结案说明", "{{ cl.summary }}"),
        *corrections("resp"),
    ], tall={"处理措施": 1.6, "答复内容": 3.0, "客户确认": 1.0})
    closing_row(table, WIDTHS, ("保存期限", "{{ retention }}"))
    return finish(doc)


def eightd_report() -> object:
    doc = v2_doc("8D 报告")
    form_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("客户", "{{ c.organization }} {{ c.name }}", "8D 期限", "{{ due.eightd }}"),
        ("产品", "{{ p.name }}", "料号/批号", "{{ p.part_no }} {{ p.lot }}"),
        ("订单号", "{{ p.order_no }}", "交运日期", "{{ p.ship_date }}"),
        ("数量", "{{ p.quantity }}", "不良数量", "{{ p.defect_quantity }}"),
        ("报告日期", "{{ e8.report_date }}", "完成日期", "{{ e8.completed }}"),
    ])
    heading(doc, "8D")
    table = form_table(doc, [
        ("D1 小组成员", "{{ e8.team }}"),
        ("D2 问题描述", "{{ e8.problem }}"),
        ("D3 临时措施", "{{ e8.containment }}"),
        ("D4 根本原因", "{{ e8.root_cause }}"),
        ("D5 纠正措施", "{{ e8.corrective }}"),
        ("D6 实施与验证", "{{ e8.implemented }}"),
        ("D7 预防措施", "{{ e8.preventive }}"),
        ("D8 结案与总结", "{{ e8.summary }}"),
        *corrections("eightd"),
    ], widths=E8_WIDTHS, tall={k: 1.0 for k in ("D1 小组成员", "D2 问题描述", "D3 临时措施", "D4 根本原因",
                                                 "D5 纠正措施", "D6 实施与验证", "D7 预防措施", "D8 结案与总结")})
    closing_row(table, E8_WIDTHS, ("D8 结案日期", "{{ e8.closed }}", "D8 批准人", APPROVER))
    return finish(doc)


FORMS: dict[str, tuple[str, str, Callable[[], object]]] = {
    "register-form": ("客户投诉接收登记表", "GL-004-01", register_form),
    "record-form": ("客户投诉记录表", "GL-004-02", record_form),
    "investigation-report": ("投诉调查报告", "GL-004-03", investigation_report),
    "capa-record": ("纠正和预防措施记录", "GL-004-04", capa_record),
    "response-feedback": ("投诉处理措施及客户反馈表", "GL-004-05", response_feedback),
    "eightd-report": ("8D 报告", "GL-004-06", eightd_report),
}


def main(only: Sequence[str] = ()) -> None:
    for tid in only or FORMS:
        title, docno, make = FORMS[tid]
        register_new_version(make(), tid, title, docno, VERSION, EFFECTIVE, f"{docno} 第 {VERSION} 版")


if __name__ == "__main__":
    main(sys.argv[1:])
