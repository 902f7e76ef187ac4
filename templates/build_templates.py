"""Build the controlled GL-004 form set as .docx templates (docxtpl tags), and register their hashes.

    python templates/build_templates.py      # writes templates/*.docx and templates/templates.toml

The .docx files are committed; QA may edit them in Word and register the result as a new version
with `archive templates register`. This script is how version 1 of each form was made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

HERE = Path(__file__).parent
CJK_FONT = "宋体"
CJK_HEAD_FONT = "黑体"
LATIN_FONT = "Times New Roman"
EFFECTIVE = "2026-11-01"

SIG_ROWS = (("起草", "drafted"), ("审核", "reviewed"), ("批准", "approved"))


def set_run_font(run: object, size: float | None = None, bold: bool = False, cjk: str = CJK_FONT) -> None:
    r = run  # python-docx Run
    r.font.name = LATIN_FONT  # type: ignore[attr-defined]
    r.font.bold = bold  # type: ignore[attr-defined]
    if size:
        r.font.size = Pt(size)  # type: ignore[attr-defined]
    rpr = r._element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), cjk)


def write(par: Paragraph, text: str, size: float = 10.5, bold: bool = False, cjk: str = CJK_FONT) -> None:
    run = par.add_run(text)
    set_run_font(run, size, bold, cjk)


def field(par: Paragraph, instr: str, size: float = 9) -> None:
    """A PAGE or NUMPAGES field, so Word and LibreOffice print the real page numbers."""
    def fld(kind: str) -> object:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    for part in ("begin", "instr", "separate", "text", "end"):
        run = par.add_run()
        set_run_font(run, size)
        if part == "instr":
            it = OxmlElement("w:instrText")
            it.set(qn("xml:space"), "preserve")
            it.text = f" {instr} "
            run._element.append(it)
        elif part == "text":
            run.text = "1"
        else:
            run._element.append(fld(part))


def shade(cell: _Cell, fill: str = "EDEDED") -> None:
    tcpr = cell._element.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def cell_text(cell: _Cell, text: str, *, bold: bool = False, label: bool = False, size: float = 10.5,
              align: WD_ALIGN_PARAGRAPH | None = None) -> None:
    par = cell.paragraphs[0]
    par.paragraph_format.space_before = Pt(2)
    par.paragraph_format.space_after = Pt(2)
    if align is not None:
        par.alignment = align
    write(par, text, size=size, bold=bold or label, cjk=CJK_HEAD_FONT if label else CJK_FONT)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    if label:
        shade(cell)


def grid(doc: object, rows: int, widths: Sequence[float]) -> Table:
    table: Table = doc.add_table(rows=rows, cols=len(widths))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # LibreOffice lays a table out by its grid, Word by its cell widths: set both.
    for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(w * 567)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = Cm(w)
    return table


def kv_table(doc: object, rows: Sequence[Sequence[str]], widths: Sequence[float] = (2.7, 5.8, 2.7, 5.8)) -> Table:
    """Label/value rows: ("label", "value", "label", "value") or ("label", "value") spanning the width."""
    table = grid(doc, len(rows), widths)
    for r, spec in enumerate(rows):
        cells = table.rows[r].cells
        if len(spec) == 2:
            merged = cells[1].merge(cells[-1])
            cell_text(cells[0], spec[0], label=True)
            cell_text(merged, spec[1])
        else:
            for i, text in enumerate(spec):
                cell_text(cells[i], text, label=i % 2 == 0)
    return table


def tall_row(table: Table, index: int, cm: float) -> None:
    """A row with room to write in; its text starts at the top, as on the paper form."""
    for cell in table.rows[index].cells[1:]:
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    trpr = table.rows[index]._tr.get_or_add_trPr()
    h = OxmlElement("w:trHeight")
    h.set(qn("w:val"), str(int(cm * 567)))
    h.set(qn("w:hRule"), "atLeast")
    trpr.append(h)


def spacer(doc: object, pt: float = 6) -> None:
    par = doc.add_paragraph()  # type: ignore[attr-defined]
    par.paragraph_format.space_after = Pt(0)
    par.paragraph_format.space_before = Pt(0)
    write(par, "", size=pt)


def section_title(doc: object, text: str) -> None:
    par = doc.add_paragraph()  # type: ignore[attr-defined]
    par.paragraph_format.space_before = Pt(8)
    par.paragraph_format.space_after = Pt(3)
    write(par, text, size=11, bold=True, cjk=CJK_HEAD_FONT)


def signature_block(doc: object, roles: Sequence[tuple[str, str]] = SIG_ROWS) -> None:
    section_title(doc, "签名 Signatures")
    table = grid(doc, len(roles) + 1, (2.4, 3.6, 3.2, 3.6, 3.2))
    for i, head in enumerate(("签署", "签名", "职务", "日期时间", "密钥指纹")):
        cell_text(table.rows[0].cells[i], head, label=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for r, (zh, key) in enumerate(roles, start=1):
        cells = table.rows[r].cells
        cell_text(cells[0], zh, label=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        cell_text(cells[1], f"{{{{ sig.{key}.name }}}}")
        cell_text(cells[2], f"{{{{ sig.{key}.title }}}}")
        cell_text(cells[3], f"{{{{ sig.{key}.time }}}}", size=9)
        cell_text(cells[4], f"{{{{ sig.{key}.fingerprint }}}}", size=8)
        tall_row(table, r, 1.0)


def header_footer(doc: object, title: str) -> None:
    section = doc.sections[0]  # type: ignore[attr-defined]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(1.6), Cm(1.6)
    section.header_distance = section.footer_distance = Cm(0.8)
    header = section.header
    table = header.add_table(rows=2, cols=3, width=Cm(17))
    table.style = "Table Grid"
    for row in table.rows:
        for cell, w in zip(row.cells, (8.0, 4.5, 4.5), strict=True):
            cell.width = Cm(w)
    org = table.cell(0, 0).merge(table.cell(1, 0))
    cell_text(org, "{{ org }}", bold=True, size=11)
    par = org.add_paragraph()
    write(par, title, size=10, bold=True, cjk=CJK_HEAD_FONT)
    cell_text(table.cell(0, 1), "文件编号:{{ doc.number }}", size=9)
    cell_text(table.cell(0, 2), "版本:{{ doc.version }}", size=9)
    cell_text(table.cell(1, 1), "生效日期:{{ doc.effective }}", size=9)
    page_cell = table.cell(1, 2)
    page_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = page_cell.paragraphs[0]
    write(p, "第 ", size=9)
    field(p, "PAGE")
    write(p, " 页 共 ", size=9)
    field(p, "NUMPAGES")
    write(p, " 页", size=9)
    header.paragraphs[0].text = ""
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    write(footer, "投诉编号 {{ number }}  ·  受控文件,未经批准不得复制  ·  {{ doc.number }} 第 ", size=8)
    field(footer, "PAGE", size=8)
    write(footer, " 页 共 ", size=8)
    field(footer, "NUMPAGES", size=8)
    write(footer, " 页", size=8)


def new_doc(title: str) -> object:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT)
    header_footer(doc, title)
    par = doc.add_paragraph()
    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    par.paragraph_format.space_after = Pt(6)
    write(par, title, size=16, bold=True, cjk=CJK_HEAD_FONT)
    note = doc.add_paragraph()
    note.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    write(note, "投诉编号:{{ number }}    版次:{{ version_label }}", size=9)
    return doc


def register_form() -> object:
    doc = new_doc("客户投诉接收登记表")
    kv_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("投诉途径", "{{ box_channel }}"),
        ("接收人", "{{ case.received_by }}", "紧急投诉", "{{ box_urgent }}"),
        ("投诉单位", "{{ c.organization }}", "投诉人", "{{ c.name }}"),
        ("联系电话", "{{ c.phone }}", "电子邮件", "{{ c.email }}"),
        ("地址", "{{ c.address }}"),
        ("品名", "{{ p.name }}", "规格", "{{ p.spec }}"),
        ("批号", "{{ p.lot }}", "料号", "{{ p.part_no }}"),
        ("订单编号", "{{ p.order_no }}", "交运日期", "{{ p.ship_date }}"),
        ("数量", "{{ p.quantity }}", "不良数量", "{{ p.defect_quantity }}"),
        ("有效期至", "{{ p.expiry_date }}", "索赔金额(元)", "{{ case.claim_amount }}"),
        ("投诉类别", "{{ box_category }}"),
        ("严重程度", "{{ box_severity }}"),
        ("重大投诉判定", "{{ major }}"),
        ("受理部门", "{{ departments }}"),
        ("答复期限", "{{ due.reply }}", "调查期限", "{{ due.investigation }}"),
        ("8D 报告期限", "{{ due.eightd }}", "受理负责人", "{{ owner }}"),
        ("附件", "{{ attachment_list }}"),
    ])
    signature_block(doc, (("登记", "drafted"), ("审核", "reviewed"), ("批准", "approved")))
    return doc


def record_form() -> object:
    doc = new_doc("客户投诉记录表")
    table = kv_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("投诉人", "{{ c.name }}", "投诉单位", "{{ c.organization }}"),
        ("投诉途径", "{{ box_channel }}"),
        ("产品/批号", "{{ p.name }}  {{ p.lot }}"),
        ("投诉内容", "{{ description }}"),
        ("客户要求", "{{ request }}"),
        ("QA", "{{ sig.drafted.name }}", "日期", "{{ sig.drafted.date }}"),
        ("复核人", "{{ sig.reviewed.name }}", "日期", "{{ sig.reviewed.date }}"),
    ])
    tall_row(table, 4, 7.0)
    tall_row(table, 5, 2.5)
    signature_block(doc, (("QA", "drafted"), ("复核", "reviewed"), ("批准", "approved")))
    return doc


def investigation_report() -> object:
    doc = new_doc("投诉调查报告")
    table = kv_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("投诉人", "{{ c.name }}", "投诉单位", "{{ c.organization }}"),
        ("产品", "{{ p.name }}", "批号", "{{ p.lot }}"),
        ("投诉内容摘要", "{{ description }}"),
        ("调查人", "{{ inv.investigator }}", "调查完成时间", "{{ inv.completed }}"),
        ("查阅记录", "{{ inv.records }}"),
        ("调查结果", "{{ inv.findings }}"),
        ("根本原因", "{{ inv.root_cause }}"),
        ("责任判定", "{{ box_responsibility }}"),
    ])
    tall_row(table, 6, 5.0)
    tall_row(table, 7, 2.0)
    signature_block(doc, (("调查", "drafted"), ("审核", "reviewed"), ("批准", "approved")))
    return doc


def capa_record() -> object:
    doc = new_doc("纠正和预防措施记录")
    kv_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("产品", "{{ p.name }}", "批号", "{{ p.lot }}"),
        ("根本原因", "{{ inv.root_cause }}"),
    ])
    section_title(doc, "措施 Actions")
    widths = (1.1, 1.9, 5.2, 2.2, 2.1, 2.1, 2.4)
    table = grid(doc, 3, widths)
    for i, head in enumerate(("序号", "类型", "措施", "责任人", "完成期限", "完成日期", "有效性验证")):
        cell_text(table.rows[0].cells[i], head, label=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=9.5)
    loop, body = table.rows[1].cells, ("{{ a.n }}", "{{ a.kind }}", "{{ a.action }}", "{{ a.owner }}",
                                       "{{ a.due }}", "{{ a.done }}", "{{ a.verification }}")
    cell_text(loop[0], "{%tr for a in capa %}")
    for i, text in enumerate(body):
        cell_text(table.rows[2].cells[i], text, size=9.5)
    end = table.add_row()
    cell_text(end.cells[0], "{%tr endfor %}")
    signature_block(doc)
    return doc


def response_feedback() -> object:
    doc = new_doc("投诉处理措施及客户反馈表")
    table = kv_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("投诉人", "{{ c.name }}", "投诉单位", "{{ c.organization }}"),
        ("答复时间", "{{ resp.replied }}", "处理结果", "{{ resp.outcome }}"),
        ("答复方式", "{{ box_method }}"),
        ("答复内容", "{{ resp.content }}"),
        ("回访时间", "{{ fu.visited }}", "回访人", "{{ fu.by }}"),
        ("满意程度", "{{ box_satisfaction }}"),
        ("客户反馈", "{{ fu.feedback }}"),
        ("结案日期", "{{ cl.closed }}", "核准人", "{{ cl.approved_by }}"),
        ("结案说明", "{{ cl.summary }}"),
        ("保存期限", "{{ retention }}"),
    ])
    tall_row(table, 4, 4.0)
    signature_block(doc)
    return doc


def eightd_report() -> object:
    doc = new_doc("8D 报告")
    kv_table(doc, [
        ("投诉编号", "{{ number }}", "投诉时间", "{{ received }}"),
        ("客户", "{{ c.organization }} {{ c.name }}", "8D 期限", "{{ due.eightd }}"),
        ("产品", "{{ p.name }}", "料号/批号", "{{ p.part_no }} {{ p.lot }}"),
    ])
    section_title(doc, "8D")
    table = kv_table(doc, [
        ("D1 成立小组", "{{ d.d1 }}"),
        ("D2 问题描述", "{{ d.d2 }}"),
        ("D3 临时措施", "{{ d.d3 }}"),
        ("D4 根本原因", "{{ d.d4 }}"),
        ("D5 纠正措施", "{{ d.d5 }}"),
        ("D6 实施与验证", "{{ d.d6 }}"),
        ("D7 预防措施", "{{ d.d7 }}"),
        ("D8 结案与总结", "{{ d.d8 }}"),
    ], widths=(3.4, 13.6))
    for i in range(8):
        tall_row(table, i, 1.6)
    signature_block(doc)
    return doc


FORMS: dict[str, tuple[str, str, Callable[[], object]]] = {
    "register-form": ("客户投诉接收登记表", "GL-004-01", register_form),
    "record-form": ("客户投诉记录表", "GL-004-02", record_form),
    "investigation-report": ("投诉调查报告", "GL-004-03", investigation_report),
    "capa-record": ("纠正和预防措施记录", "GL-004-04", capa_record),
    "response-feedback": ("投诉处理措施及客户反馈表", "GL-004-05", response_feedback),
    "eightd-report": ("8D 报告", "GL-004-06", eightd_report),
}



def register_new_version(doc: object, template_id: str, title: str, document_number: str, version: str,
                         effective: str, subject: str) -> str:
    """Save ``doc`` as TEMPLATE_ID.vVERSION.docx and append its entry (with its SHA-256) to templates.toml.
    A registered version is never rebuilt in place: a changed form is a new version."""
    path = HERE / f"{template_id}.v{version}.docx"
    register = HERE / "templates.toml"
    text = register.read_text(encoding="utf-8")
    if f'file = "{path.name}"' in text:
        raise SystemExit(f"{path.name} is registered already: a shipped version is never rebuilt in place")
    doc.core_properties.title = title  # type: ignore[attr-defined]
    doc.core_properties.subject = subject  # type: ignore[attr-defined]
    doc.save(str(path))  # type: ignore[attr-defined]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    entry = "\n".join(["[[template]]", f'id = "{template_id}"', f'title = "{title}"',
                       f'document_number = "{document_number}"', f'version = "{version}"',
                       f'effective_date = "{effective}"', f'file = "{path.name}"', f'sha256 = "{digest}"', ""])
    register.write_text(text.rstrip("\n") + "\n\n" + entry, encoding="utf-8")
    return digest


def main() -> None:
    lines = ["# Controlled template register. One [[template]] per version; rendering refuses a file whose",
             "# SHA-256 differs from its entry. Add versions with `archive templates register`.", ""]
    for tid, (title, docno, build) in FORMS.items():
        path = HERE / f"{tid}.v1.docx"
        doc = build()
        doc.core_properties.title = title  # type: ignore[attr-defined]
        doc.core_properties.subject = f"{docno} v1"  # type: ignore[attr-defined]
        doc.save(str(path))  # type: ignore[attr-defined]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines += ["[[template]]", f'id = "{tid}"', f'title = "{title}"', f'document_number = "{docno}"',
                  'version = "1"', f'effective_date = "{EFFECTIVE}"', f'file = "{path.name}"',
                  f'sha256 = "{digest}"', ""]
    (HERE / "templates.toml").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
