"""The dossier's own pages as Word documents (cover, case summary, audit trail, verification), converted to
PDF in the same LibreOffice run as the case documents, so every page uses the house faces: 宋体 for text,
黑体 for headings (the private LibreOffice profile maps both to the Simplified Chinese Noto faces), A4, zh-CN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

TEXT_FONT = "宋体"
HEAD_FONT = "黑体"
WIDTH_CM = 17.0  # A4 less 2 cm margins each side


def _fonts(run: Any, face: str) -> None:
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), face)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")  # a lot number or a hash breaks at its spaces, never inside itself
    lang.set(qn("w:eastAsia"), "zh-CN")


def write(par: Any, text: str, *, size: float = 10.5, bold: bool = False, face: str = TEXT_FONT) -> None:
    from archive.documents.context import printable

    run = par.add_run(printable(text))  # customer text may hold control characters Word cannot hold
    run.font.size = Pt(size)
    run.font.bold = bold
    _fonts(run, face)


def new_document(header: str) -> Any:
    """A4 portrait, 2 cm margins; ``header`` on every page says what the page belongs to."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), TEXT_FONT)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    par = section.header.paragraphs[0]
    par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    write(par, header, size=9)
    return doc


def title(doc: Any, text: str, size: float = 16) -> None:
    par = doc.add_paragraph()
    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    par.paragraph_format.space_after = Pt(8)
    write(par, text, size=size, bold=True, face=HEAD_FONT)


def heading(doc: Any, text: str) -> None:
    par = doc.add_paragraph()
    par.paragraph_format.space_before = Pt(8)
    par.paragraph_format.space_after = Pt(4)
    par.paragraph_format.keep_with_next = True
    write(par, text, size=12, bold=True, face=HEAD_FONT)


def line(doc: Any, text: str, *, size: float = 10.5, bold: bool = False) -> None:
    write(doc.add_paragraph(), text, size=size, bold=bold)


def page_break(doc: Any) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _repeat_header(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:tblHeader"))


def _no_split(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.insert(0, OxmlElement("w:cantSplit"))


def table(doc: Any, header: Sequence[str] | None, rows: Sequence[Sequence[str]], widths: Sequence[float],
          *, size: float = 9) -> Any:
    """A ruled table; its header row repeats on each continuation page and no row splits across pages."""
    count = len(rows) + (1 if header else 0)
    tbl = doc.add_table(rows=count, cols=len(widths))
    tbl.style = "Table Grid"
    tbl.autofit = False
    for c, width in enumerate(widths):
        tbl.columns[c].width = Cm(width)  # the grid LibreOffice lays out by; cell widths alone are ignored
    all_rows = ([header] if header else []) + list(rows)
    for r, values in enumerate(all_rows):
        row = tbl.rows[r]
        _no_split(row)
        if header and r == 0:
            _repeat_header(row)
        for c, width in enumerate(widths):
            cell = row.cells[c]
            cell.width = Cm(width)
            par = cell.paragraphs[0]
            par.paragraph_format.space_before = Pt(1)
            par.paragraph_format.space_after = Pt(1)
            text = values[c] if c < len(values) else ""
            for i, piece in enumerate(str(text).split("\n")):
                if i:
                    par = cell.add_paragraph()
                write(par, piece, size=size, bold=bool(header) and r == 0,
                      face=HEAD_FONT if header and r == 0 else TEXT_FONT)
    return tbl


def key_values(doc: Any, rows: Sequence[tuple[str, str]], widths: tuple[float, float] = (3.6, WIDTH_CM - 3.6),
               *, size: float = 10) -> Any:
    tbl = table(doc, None, [list(r) for r in rows], widths, size=size)
    for row in tbl.rows:
        for run in row.cells[0].paragraphs[0].runs:
            run.font.bold = True
            _fonts(run, HEAD_FONT)
    return tbl


def picture(doc: Any, path: str, caption: str) -> None:
    """An image attachment on its own page, as large as the page allows, under its caption."""
    heading(doc, caption)
    shape = doc.add_picture(path)
    scale = min(1.0, Cm(WIDTH_CM) / shape.width, Cm(23.0) / shape.height)
    shape.width, shape.height = int(shape.width * scale), int(shape.height * scale)
