"""The dossier PDF: cover, then per case its summary, documents, attachments, audit trail and verification.

Every Word file (the dossier's own pages and each case document) is converted in ONE LibreOffice run
(PDF/A-2b export); pypdf then joins the pieces with one bookmark per case and one per document inside it,
page labels that carry the case number (``26110001-3``), /Title and /Subject, and the PDF/A identification
(XMP pdfaid part 2, conformance B, and the sRGB output intent LibreOffice wrote) carried over to the whole.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from archive import clock, vocab
from archive.export import dossier_pages as pages
from archive.record import reader as casefile
from archive.rules import deadlines
from archive.store.manifest import MANIFEST

if TYPE_CHECKING:
    from archive.services.archive import Archive
    from archive.services.dossier import Gathered

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff")
NOT_PRINTED = "未转换为页面(非 PDF 或图片格式),见电子原件"


@dataclass
class Piece:
    """Pages of the dossier from one PDF: made by the batch (``docx``) or taken as it is (``pdf``)."""

    docx: Path | None = None
    pdf: Path | None = None
    bookmark: str | None = None  # a document's bookmark under its case
    keep_as: Path | None = None  # where the converted PDF is also kept in the bag


@dataclass
class CasePart:
    number: str
    title: str
    pieces: list[Piece] = field(default_factory=list)


def _local(value: Any, arc: Archive) -> str:
    return clock.local_text(str(value) if value else None, arc.settings.zone)


def _meta(record: Path, docx: str) -> dict[str, Any]:
    path = record / (docx.removesuffix(".docx") + ".meta.json")
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def _doc_title(record: Path, docx: str) -> str:
    meta = _meta(record, docx)
    template = meta.get("template") or {}
    name = str(template.get("title") or Path(docx).name)
    return f"{name}(第 {meta.get('version', '?')} 版)"


def _deadline_rows(arc: Archive, view: casefile.CaseView) -> list[tuple[str, str]]:
    today = clock.today(arc.settings.zone)
    stage_data = {k: v.get("data") or {} for k, v in view.stages.items()}
    late = {m["deadline"]: m for m in deadlines.late_marks(view.deadlines, stage_data, view.closed, today,
                                                           arc.settings)}
    rows = []
    for key, (stage, fld) in deadlines.MET_BY.items():
        due = view.deadlines.get(f"{key}_due")
        if not due:
            continue
        done = stage_data.get(stage, {}).get(fld)
        mark = late.get(key)
        if done and mark:
            text = f"{due};{deadlines.met_on(done)} 完成,逾期 {mark['working_days']} 个工作日(未按期)"
        elif done:
            text = f"{due};{deadlines.met_on(done)} 完成(按期)"
        elif mark:
            text = f"{due};未完成,已逾期 {mark['working_days']} 个工作日(未按期)"
        else:
            text = f"{due};未完成" + (",结案时未记录" if view.closed else ",未到期")
        rows.append((f"{vocab.DEADLINE[key]}期限", text))
    if view.deadlines.get("eightd_due"):
        rows.append(("8D 报告期限", f"{view.deadlines['eightd_due']};"
                     + ("CAPA 已记录" if "capa" in view.stages else "CAPA 未记录")))
    return rows


def _summary(arc: Archive, view: casefile.CaseView, doc_titles: list[str], attachment_rows: list[list[str]],
             path: Path) -> None:
    case = view.case
    c, p = case["complainant"], case.get("product", {})
    doc = pages.new_document(f"检查档案 · 投诉编号 {view.number} · 案件摘要")
    pages.title(doc, f"投诉 {view.number} 案件摘要")
    if view.active_holds:
        pages.title(doc, f"{vocab.HOLD_STATE['active']}", size=14)
        for h in view.active_holds:
            pages.line(doc, f"保全编号 {h.get('id', '')},{_local(h.get('placed_at') or h.get('time'), arc)} 起;"
                            f"原因:{h.get('reason', '')}", size=10)
    rows = [("投诉编号", view.number), ("投诉时间", _local(case["received_at"], arc)),
            ("投诉途径", vocab.label(vocab.CHANNEL, case.get("channel"))),
            ("投诉单位", str(c.get("organization") or "")), ("投诉人", str(c.get("name") or "")),
            ("品名", str(p.get("name") or "")), ("规格", str(p.get("spec") or "")), ("批号", str(p.get("lot") or "")),
            ("投诉类别", vocab.label(vocab.CATEGORY, view.category)),
            ("严重程度", vocab.label(vocab.SEVERITY, view.severity)),
            ("状态", vocab.label(vocab.STATUS, view.status)
             + (f"({vocab.HOLD_STATE['active']})" if view.active_holds else "")),
            *_deadline_rows(arc, view),
            ("结案日期", _local(view.closed_at, arc) if view.closed_at else "未结案"),
            ("保存期限至", view.retention_until or "未结案,尚未计算")]
    pages.key_values(doc, rows)
    pages.heading(doc, "投诉内容")
    pages.line(doc, str(case.get("description") or ""), size=10)
    pages.heading(doc, "本案收录的文件")
    pages.table(doc, ["序号", "文件"], [[str(i), t] for i, t in enumerate(doc_titles, 1)] or [["", "无"]],
                (1.5, pages.WIDTH_CM - 1.5))
    pages.heading(doc, "附件")
    pages.table(doc, ["附件", "标题", "大小(字节)", "SHA-256", "收录方式"], attachment_rows or [["无", "", "", "", ""]],
                (3.2, 2.6, 1.8, 6.0, 3.4), size=7.5)
    doc.save(str(path))


def _trail(arc: Archive, view: casefile.CaseView, lines: list[bytes], chain: dict[str, Any],
           signatures: list[dict[str, Any]], path: Path) -> None:
    doc = pages.new_document(f"检查档案 · 投诉编号 {view.number} · 审计追踪与核验")
    pages.title(doc, f"投诉 {view.number} 审计追踪")
    rows = []
    for raw in lines:
        e = json.loads(raw)
        files = "\n".join(str(f["path"]) for f in e.get("files", []))
        rows.append([f"{e['seq']}", _local(e["time"], arc), str(e.get("actor", "")),
                     vocab.label(vocab.AUDIT_ACTION, str(e.get("action", ""))), str(e.get("reason") or ""), files])
    pages.table(doc, ["序号", "时间", "操作人", "操作", "原因", "文件"], rows or [["", "", "", "", "", ""]],
                (1.1, 3.3, 2.6, 2.0, 2.6, 5.4), size=7.5)
    pages.page_break(doc)
    pages.title(doc, f"投诉 {view.number} 核验页")
    pages.heading(doc, "电子签名")
    sig_rows = [[str(s["document"]).removeprefix("documents/"), f"{s['name']} {s['title']}",
                 vocab.label(vocab.MEANING, s["meaning"]), _local(s["time"], arc), "是" if s["verified"] else "否"]
                for s in signatures]
    pages.table(doc, ["文件", "签名人", "含义", "时间", "验证通过"], sig_rows or [["无", "", "", "", ""]],
                (5.2, 3.6, 1.4, 4.4, 2.4), size=8)
    pages.heading(doc, "审计链")
    head = chain["head"]
    cp = chain.get("checkpoint")
    pages.key_values(doc, [
        ("审计链头", f"序号 {head['seq']},SHA-256 {head['hash']}"),
        ("最近封存点", f"序号 {cp['seq']},SHA-256 {cp['hash']},{_local(cp.get('time'), arc)},"
                       f"封存人 {cp.get('signer', '')}" if cp else "无")], size=8)
    pages.heading(doc, "文件 SHA-256(记录清单 manifest.json)")
    manifest = json.loads((view.path / MANIFEST).read_text(encoding="utf-8"))
    pages.table(doc, ["文件", "字节", "SHA-256"],
                [[str(f["path"]), str(f["size"]), str(f["sha256"])] for f in manifest["files"]],
                (6.3, 1.6, 9.1), size=7)
    doc.save(str(path))


def _destroyed_summary(arc: Archive, g: Gathered, path: Path) -> str:
    from archive.services.dossier import TOMBSTONE_FILE

    tomb = json.loads((g.folder / TOMBSTONE_FILE).read_text(encoding="utf-8"))
    doc = pages.new_document(f"检查档案 · 投诉编号 {g.number} · 已销毁")
    pages.title(doc, f"投诉 {g.number} 已销毁")
    pages.key_values(doc, [("投诉编号", g.number), ("受理月份", str(tomb.get("received_month", ""))),
                           ("投诉类别", vocab.label(vocab.CATEGORY, tomb.get("category"))),
                           ("结案日期", _local(tomb.get("closed_at"), arc)),
                           ("保存期限至", str(tomb.get("retention_until", ""))),
                           ("销毁时间", _local(tomb.get("destroyed_at"), arc)),
                           ("销毁证明", str(tomb.get("certificate", ""))),
                           ("记录清单 SHA-256", str(tomb.get("manifest_sha256", "")))], size=9)
    pages.line(doc, "本案已按保存期限销毁;本档案仅收录其销毁标记(tombstone)与销毁证明。", size=10)
    doc.save(str(path))
    return str(tomb.get("certificate", ""))


def _cover(arc: Archive, parts: list[tuple[str, str]], selection: str, exported_at: str, path: Path) -> None:
    doc = pages.new_document("检查档案 · 封面")
    pages.title(doc, "客户投诉检查档案", size=20)
    pages.key_values(doc, [("组织", arc.settings.organisation), ("导出人", arc.actor),
                           ("导出时间", _local(exported_at, arc)), ("选取条件", selection),
                           ("案件数", str(len(parts)))])
    pages.heading(doc, "案件列表")
    pages.table(doc, ["序号", "投诉编号", "摘要"], [[str(i), n, t] for i, (n, t) in enumerate(parts, 1)],
                (1.5, 2.8, pages.WIDTH_CM - 4.3))
    pages.line(doc, "电子原件见同一文件夹中的 BagIt 包(bag/);其完整性可用 bagit.py --validate 独立核验。", size=9)
    doc.save(str(path))


def _attachments(view: casefile.CaseView, pages_dir: Path, serial: Callable[[], int],
                 pieces: list[Piece]) -> list[list[str]]:
    rows = []
    for i, att in enumerate(view.record.get("attachments", []), start=1):
        src = view.path / str(att["file"])
        name, title = Path(att["file"]).name, str(att.get("title") or "")
        suffix = src.suffix.lower()
        how = NOT_PRINTED
        if suffix == ".pdf" and _readable_pdf(src):
            pieces.append(Piece(pdf=src))
            how = "原样收录"
        elif suffix in IMAGE_TYPES:
            doc = pages.new_document(f"检查档案 · 投诉编号 {view.number} · 附件 {i}")
            try:
                pages.picture(doc, str(src), f"附件 {i}:{title or name}")
            except Exception:  # python-docx cannot read every image; the file stays in the bag
                pass
            else:
                made = pages_dir / f"{serial():04d}.docx"
                doc.save(str(made))
                pieces.append(Piece(docx=made))
                how = "图片转换收录"
        rows.append([name, title, str(att.get("size", "")), str(att.get("sha256", "")), how])
    return rows


def _readable_pdf(path: Path) -> bool:
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path))
        return not reader.is_encrypted and len(reader.pages) > 0
    except Exception:  # pypdf raises many kinds for a damaged file; it is then listed, not printed
        return False


def _document_pieces(view: casefile.CaseView, pages_dir: Path, serial: Callable[[], int], bag_pdf: Path,
                     include_versions: bool) -> tuple[list[Piece], list[str]]:
    order = sorted(view.documents, key=lambda d: (str((_meta(view.path, view.documents[d][-1]).get("template")
                                                       or {}).get("document_number", "")), d))
    pieces, titles = [], []
    for doc_id in order:
        versions = view.documents[doc_id]
        chosen = list(reversed(versions)) if include_versions else versions[-1:]
        for k, rel in enumerate(chosen):
            made = pages_dir / f"{serial():04d}.docx"
            shutil.copyfile(view.path / rel, made)
            title = _doc_title(view.path, rel)
            pieces.append(Piece(docx=made, bookmark=title if k == 0 else None,
                                keep_as=bag_pdf / (Path(rel).stem + ".pdf")))
            if k == 0:
                titles.append(title)
    return pieces, titles


def build(arc: Archive, gathered: list[Gathered], chain: dict[str, Any], out: Path, pages_dir: Path, *,
          selection: str, exported_at: str, include_versions: bool,
          progress: Callable[[int, int], None] | None = None) -> None:
    from archive.documents import pdf
    from archive.services.dossier import CERTIFICATE_DIR, PDF_DIR, RECORD_DIR, signature_rows

    pages_dir.mkdir()
    counter = iter(range(1, 1_000_000))

    def serial() -> int:
        return next(counter)

    cover = pages_dir / f"{serial():04d}.docx"
    parts: list[CasePart] = []
    for g in gathered:
        if g.destroyed:
            summary = pages_dir / f"{serial():04d}.docx"
            cert_id = _destroyed_summary(arc, g, summary)
            part = CasePart(g.number, f"{g.number} 已销毁", [Piece(docx=summary)])
            cert_pdf = g.folder / CERTIFICATE_DIR / f"{cert_id}.pdf"
            if cert_id and cert_pdf.is_file():
                part.pieces.append(Piece(pdf=cert_pdf, bookmark=f"销毁证明 {cert_id}"))
            parts.append(part)
            continue
        view = casefile.load(g.folder / RECORD_DIR)
        summary = pages_dir / f"{serial():04d}.docx"
        documents, titles = _document_pieces(view, pages_dir, serial, g.folder / PDF_DIR, include_versions)
        attached: list[Piece] = []
        rows = _attachments(view, pages_dir, serial, attached)
        _summary(arc, view, titles, rows, summary)
        trail = pages_dir / f"{serial():04d}.docx"
        _trail(arc, view, g.audit_lines, chain, signature_rows(arc, view.path), trail)
        p = view.case.get("product", {})
        label = f"{view.number} {view.case['complainant'].get('name', '')} {p.get('name', '')} {p.get('lot', '')}"
        held = f" {vocab.HOLD_STATE['active']}" if view.active_holds else ""
        parts.append(CasePart(view.number, label.strip() + held,
                              [Piece(docx=summary), *documents, *attached, Piece(docx=trail)]))
    _cover(arc, [(c.number, c.title.removeprefix(c.number).strip()) for c in parts], selection, exported_at, cover)
    docx = [cover, *(piece.docx for c in parts for piece in c.pieces if piece.docx is not None)]
    if progress:
        progress(2, 4)
    made = dict(zip(docx, pdf.convert(docx, pages_dir / "pdf", timeout=arc.settings.pdf_timeout, pdfa=True),
                    strict=True))
    if progress:
        progress(3, 4)
    for c in parts:
        for piece in c.pieces:
            if piece.docx is not None:
                piece.pdf = made[piece.docx]
            if piece.keep_as is not None and piece.pdf is not None:
                piece.keep_as.parent.mkdir(exist_ok=True)
                shutil.copyfile(piece.pdf, piece.keep_as)
    _assemble(arc, made[cover], parts, out, selection, exported_at)


def _assemble(arc: Archive, cover: Path, parts: list[CasePart], out: Path, selection: str, exported_at: str) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.constants import PageLabelStyle
    from pypdf.generic import DictionaryObject, NameObject

    writer = PdfWriter()
    first = PdfReader(str(cover))
    writer.append(first, import_outline=False)
    writer.set_page_label(0, len(writer.pages) - 1, style=PageLabelStyle.DECIMAL, prefix="封面-")
    # Bookmarks are added once their pages exist: one made before its page points nowhere.
    marks: list[tuple[str, int, list[tuple[str, int]]]] = []
    for c in parts:
        start = len(writer.pages)
        inside = []
        for piece in c.pieces:
            assert piece.pdf is not None
            at = len(writer.pages)
            writer.append(PdfReader(str(piece.pdf)), import_outline=False)
            if piece.bookmark:
                inside.append((piece.bookmark, at))
        writer.set_page_label(start, len(writer.pages) - 1, style=PageLabelStyle.DECIMAL, prefix=f"{c.number}-")
        marks.append((c.title, start, inside))
    for case_title, start, inside in marks:
        case_item = writer.add_outline_item(title=case_title, page_number=start)
        for doc_title, at in inside:
            writer.add_outline_item(title=doc_title, page_number=at, parent=case_item)
    title = f"客户投诉检查档案 {arc.settings.organisation}"
    subject = f"{selection};{len(parts)} 件:{' '.join(c.number for c in parts)}"
    created = dt.datetime.fromisoformat(exported_at.replace("Z", "+00:00"))
    writer.add_metadata({"/Title": title, "/Subject": subject, "/Author": arc.actor,
                         "/Creator": "archive dossier", "/Producer": "LibreOffice; pypdf",
                         "/CreationDate": created.strftime("D:%Y%m%d%H%M%S+00'00'")})
    catalog = first.trailer["/Root"].get_object()
    intents = catalog.get("/OutputIntents") if isinstance(catalog, DictionaryObject) else None
    if intents is not None:
        writer._root_object[NameObject("/OutputIntents")] = intents.clone(writer)
    writer._root_object[NameObject("/Metadata")] = writer._add_object(_xmp(writer, title, subject, arc.actor,
                                                                           created))
    writer.page_mode = "/UseOutlines"
    with out.open("wb") as fh:
        writer.write(fh)


def _xmp(writer: Any, title: str, subject: str, author: str, created: dt.datetime) -> Any:
    """XMP that agrees with the document information (as PDF/A asks) and names PDF/A-2b."""
    from pypdf.generic import NameObject, StreamObject

    when = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(subject)}</rdf:li></rdf:Alt></dc:description>
   <dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Producer>LibreOffice; pypdf</pdf:Producer>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreatorTool>archive dossier</xmp:CreatorTool>
   <xmp:CreateDate>{when}</xmp:CreateDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    stream = StreamObject()
    stream.set_data(body.encode("utf-8"))
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    return stream
