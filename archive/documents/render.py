"""Render controlled documents: a registered template version + a case → a new versioned .docx."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from archive.documents.context import context as form_context
from archive.documents.pcb import pcb_context
from archive.documents.templates import Template, checked_path, current
from archive.record.folders import next_version
from archive.record.grammar import DOCUMENTS_DIR
from archive.record.reader import CaseView
from archive.settings import Settings
from archive.store.hashing import sha256_bytes

# Which forms a case has, given the stages it holds. Intake renders the first two ([forms] set = "gl004").
INTAKE_FORMS = ("register-form", "record-form")
# [forms] set = "pcb": the manufacturer's 客户抱怨处理表 (PCB SOP 表14.6.3) is the intake form instead, and it
# is printed again as the stages that fill it are recorded; the stage forms (调查报告, CAPA, 反馈表, 8D) stay.
PCB_FORM = "pcb-complaint"
PCB_STAGES = ("investigation", "response", "closure")
INTAKE_BY_SET = {"gl004": INTAKE_FORMS, "pcb": (PCB_FORM,)}
STAGE_FORMS = {
    "triage": ("register-form", "record-form"),
    "investigation": ("investigation-report",),
    "capa": ("capa-record",),
    "response": ("response-feedback",),
    "follow_up": ("response-feedback",),
    "closure": ("response-feedback",),
}
EIGHTD = "eightd-report"
# Every form a case may be rendered into, whichever set intake uses (`archive render NUMBER --form ID`).
CASE_FORMS = (*INTAKE_FORMS, "investigation-report", "capa-record", "response-feedback", EIGHTD, PCB_FORM)


def intake_forms(form_set: str = "gl004") -> tuple[str, ...]:
    return INTAKE_BY_SET[form_set]


def forms_for(view: CaseView, stages: list[str], form_set: str = "gl004") -> list[str]:
    """Forms to (re)render after ``stages`` changed; 8D for quality complaints once investigation began."""
    out: list[str] = []
    for s in stages:
        out.extend(f for f in STAGE_FORMS.get(s, ()) if form_set == "gl004" or f not in INTAKE_FORMS)
    if form_set == "pcb" and any(s in PCB_STAGES for s in stages):
        out.append(PCB_FORM)
    if "closure" in stages and "capa" in view.stages:
        out.append("capa-record")  # it prints why a case closed with actions open
    if view.category == "quality" and any(s in view.stages for s in ("investigation", "capa", "closure")) \
            and any(s in stages for s in ("investigation", "capa", "response", "closure")):
        out.append(EIGHTD)
    return list(dict.fromkeys(out))


def all_forms(view: CaseView, form_set: str = "gl004") -> list[str]:
    return forms_for(view, list(view.stages), form_set)


@dataclass(frozen=True)
class Rendered:
    doc_id: str
    docx: str  # path relative to the record folder
    meta: str


def meta_name(docx_name: str) -> str:
    return docx_name.removesuffix(".docx") + ".meta.json"


@cache
def _jinja() -> Any:
    """A Jinja environment that compiles each template part once per process. docxtpl hands it the same
    patched XML for every case rendered from one template version; compiling it was a third of a render."""
    from jinja2 import Environment

    class Compiled(Environment):
        parts: ClassVar[dict[str, Any]] = {}

        def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:
            if globals is not None or template_class is not None or not isinstance(source, str):
                return super().from_string(source, globals, template_class)
            if source not in self.parts:
                self.parts[source] = super().from_string(source)
            return self.parts[source]

    return Compiled(autoescape=True)


def render_bytes(template_path: Path, template: Template, ctx: dict[str, Any]) -> bytes:
    from docxtpl import DocxTemplate  # heavy: imported only when a document is rendered

    tpl = DocxTemplate(str(template_path))
    # autoescape is not optional: without it '<' in a complaint silently drops the rest of the document
    # and '&' corrupts headers.
    tpl.render(ctx, jinja_env=_jinja(), autoescape=True)
    props = tpl.docx.core_properties
    props.subject = f"{template.document_number} {template.title}"
    props.keywords = f"complaint {ctx['number']}"
    props.comments = json.dumps({"template": template.id, "version": template.version,
                                 "sha256": template.sha256}, ensure_ascii=False)
    props.created = props.modified = dt.datetime(2000, 1, 1)  # stable bytes: time lives in the meta file
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


@cache
def used_names(template_path: Path, sha256: str) -> frozenset[str]:
    """Top-level context names a template prints (cached per template version)."""
    from docxtpl import DocxTemplate

    return frozenset(DocxTemplate(str(template_path)).get_undeclared_template_variables())


def _context(view: CaseView, template: Template, org: str,
             signatures: dict[str, dict[str, str]] | None, settings: Settings | None) -> dict[str, Any]:
    ctx = form_context(view, org, signatures, settings)
    ctx["pcb"] = pcb_context(view)
    ctx["doc"] = {"number": template.document_number, "version": template.version,
                  "effective": template.effective_date}
    return ctx


def render_controlled(templates: Path, doc_id: str, ctx: dict[str, Any]) -> bytes:
    """A controlled document that belongs to no case (a destruction certificate, a report): the current
    registered version of ``doc_id``, checked against the register, filled with ``ctx``."""
    template = current(templates, doc_id)
    path = checked_path(templates, template)
    full = {**ctx, "doc": {"number": template.document_number, "version": template.version,
                           "effective": template.effective_date}}
    return render_bytes(path, template, full)


def content_digest(ctx: dict[str, Any], names: frozenset[str]) -> str:
    """Hash of what the form prints, so `render` makes a new version only when the form would differ."""
    # Signatures are not content: signing re-renders the same content with its signature block filled.
    shown = {k: ctx.get(k) for k in sorted(names) if k not in ("version_label", "sig")}
    return sha256_bytes(json.dumps(shown, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def digest_for(view: CaseView, doc_id: str, templates: Path, org: str, settings: Settings | None = None) -> str:
    """Content hash the document would have if rendered now from the current template."""
    template = current(templates, doc_id)
    names = used_names(checked_path(templates, template), template.sha256)
    return content_digest(_context(view, template, org, None, settings), names)


def render(record_dir: Path, view: CaseView, doc_id: str, templates: Path, org: str,
           signatures: dict[str, dict[str, str]] | None = None, now: str | None = None,
           settings: Settings | None = None) -> Rendered:
    """Write ``documents/{doc_id}.vN.docx`` (N new) and its meta file; never overwrites."""
    template = current(templates, doc_id)
    path = checked_path(templates, template)
    folder = record_dir / DOCUMENTS_DIR
    folder.mkdir(exist_ok=True)
    version = next_version(folder, doc_id, ".docx")
    ctx = _context(view, template, org, signatures, settings)
    digest = content_digest(ctx, used_names(path, template.sha256))
    ctx["version_label"] = f"第 {version} 版"
    data = render_bytes(path, template, ctx)
    name = f"{doc_id}.v{version}.docx"
    target = folder / name
    with target.open("xb") as fh:  # 'x': a rendered document is never overwritten
        fh.write(data)
    meta = {"document": f"{DOCUMENTS_DIR}/{name}", "sha256": sha256_bytes(data), "version": version,
            "template": {"id": template.id, "version": template.version, "sha256": template.sha256,
                         "document_number": template.document_number, "title": template.title},
            "stage_versions": dict(view.stage_versions), "content_sha256": digest, "rendered_at": now,
            "signatures": sorted((signatures or {}).keys())}
    with (folder / meta_name(name)).open("x", encoding="utf-8") as fh:
        fh.write(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    return Rendered(doc_id, f"{DOCUMENTS_DIR}/{name}", f"{DOCUMENTS_DIR}/{meta_name(name)}")


def render_copy(templates: Path, view: CaseView, template: Template, org: str, version: int,
                signatures: dict[str, dict[str, str]] | None = None, settings: Settings | None = None,
                mark: str = "") -> bytes:
    """The bytes of version ``version`` of a form rendered from ``view`` with a given registered ``template``,
    written nowhere: a copy made from another view of the case (the web's masked download) is never archived.
    ``mark`` follows the version label (脱敏副本), so the copy is never taken for the controlled original."""
    path = checked_path(templates, template)
    ctx = _context(view, template, org, signatures, settings)
    ctx["version_label"] = f"第 {version} 版" + (f" · {mark}" if mark else "")
    return render_bytes(path, template, ctx)


def is_stale(record_dir: Path, view: CaseView, doc_id: str, templates: Path, org: str,
             settings: Settings | None = None) -> bool:
    """A document needs a new version when its template version or what it prints has changed."""
    latest = view.latest_document(doc_id)
    if latest is None:
        return True
    meta_path = record_dir / meta_name(latest)
    if not meta_path.exists():
        return True
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    template = current(templates, doc_id)
    if meta["template"]["sha256"] != template.sha256:
        return True
    return bool(meta.get("content_sha256") != digest_for(view, doc_id, templates, org, settings))
