"""What a case page shows beyond `archive show`: each stage's versions with their correction reasons, each form's
versions with the files the manifest lists, every signature with verify's verdict on it, the case's audit trail,
and a destroyed number's tombstone. Reading only."""

from __future__ import annotations

import json
from typing import Any

from archive.errors import NotFound
from archive.record import folders
from archive.record import grammar as g
from archive.record import reader as casefile
from archive.services.archive import Archive
from archive.store import audit
from archive.store.manifest import listed


def stage_versions(view: casefile.CaseView) -> dict[str, list[dict[str, Any]]]:
    """Per stage, every recorded version oldest first: when, by whom, and why it replaced the one before."""
    return {name: [{"version": s.get("version"), "recorded_at": s.get("recorded_at"), "actor": s.get("actor"),
                    "reason": s.get("reason"), "supersedes": s.get("supersedes")}
                   for s in casefile.stage_history(view, name)]
            for name in view.stages}


def documents(view: casefile.CaseView, files: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Per form, its versions oldest first, each with the .docx and .pdf the manifest lists (None if absent)."""
    out = {}
    for doc_id, versions in view.documents.items():
        rows = []
        for docx in versions:
            pdf = docx.removesuffix(".docx") + ".pdf"
            m = g.VERSIONED.match(docx.rsplit("/", 1)[-1])
            rows.append({"version": int(m.group("v")) if m else None, "docx": docx if docx in files else None,
                         "pdf": pdf if pdf in files else None})
        out[doc_id] = rows
    return out


def signatures(arc: Archive, view: casefile.CaseView) -> list[dict[str, Any]]:
    """Every signature file of the record, with what `archive verify` finds of it (nothing: it verifies)."""
    from archive.integrity import signing
    from archive.integrity.verify import check_records

    chain, by_record = check_records(arc.layout, [view.path])
    prefix = view.path.relative_to(arc.layout.root).as_posix() + "/"
    problems: dict[str, list[str]] = {}
    for f in by_record.get(view.number, []):
        if f.where.startswith(prefix) and f.where.removeprefix(prefix).startswith(g.SIGNATURES_DIR + "/"):
            problems.setdefault(f.where.removeprefix(prefix), []).append(f"{f.kind}: {f.detail}")
    chain_broken = [f"{f.kind}: {f.where}: {f.detail}" for f in chain]
    out = []
    for rel, rec in signing.records(view.path):
        found = problems.get(rel, []) + chain_broken
        out.append({"file": rel, "document": rec.get("document"), "meaning": rec.get("meaning"),
                    "signer": rec.get("signer"), "name": rec.get("name"), "time": rec.get("time"),
                    "verified": not found, "problems": found})
    return out


def trail(arc: Archive, number: str) -> list[dict[str, Any]]:
    """The audit log's entries about this case, oldest first (a line is parsed only if it names the number)."""
    needle = json.dumps(number).encode()
    out = []
    for raw in audit.read_lines(arc.layout.audit_log):
        if needle not in raw:
            continue
        entry = audit.parse_entry(raw)
        if entry is not None and entry.get("number") == number:
            out.append({"seq": entry.get("seq"), "time": entry.get("time"), "actor": entry.get("actor"),
                        "action": entry.get("action"), "reason": entry.get("reason")})
    return out


def form_titles(arc: Archive) -> dict[str, str]:
    """Each form's title (客户投诉登记表...) as the template register names it."""
    from archive.documents.templates import load

    return {t.id: t.title for t in load(arc.layout.templates)}


def detail(arc: Archive, number: str) -> dict[str, Any]:
    """The page's parts that `archive show --json` does not carry."""
    view = casefile.load(folders.find_record(arc.layout, number, zone=arc.settings.zone))
    files = listed(view.path)
    return {"stage_versions": stage_versions(view), "documents": documents(view, files),
            "form_titles": form_titles(arc), "holds": [h for _, h in sorted(view.holds.items())],
            "signatures": signatures(arc, view), "trail": trail(arc, number), "met": met(view),
            "attachments_listed": sorted(f for f in files if f.startswith(g.ATTACHMENTS_DIR + "/"))}


def met(view: casefile.CaseView) -> dict[str, str]:
    """The day each deadline (reply, investigation) was met by its stage, late or on time."""
    from archive.rules.deadlines import MET_BY, met_on

    out = {}
    for key, (stage, field) in MET_BY.items():
        done = ((view.stages.get(stage) or {}).get("data") or {}).get(field)
        if done:
            out[key] = met_on(done).isoformat()
    return out


def tombstone(arc: Archive, number: str) -> dict[str, Any] | None:
    """A destroyed number's tombstone (when, under which certificate); None if the number was never destroyed."""
    try:
        folders.find_record(arc.layout, number)
    except NotFound:
        pass
    else:
        return None
    for path in folders.tombstones(arc.layout):
        if path.name == f"{number}{g.TOMBSTONE_SUFFIX}":
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {"number": number, "destroyed_at": None, "certificate": None}
            return {"number": number, "destroyed_at": data.get("destroyed_at"), "certificate": data.get("certificate")}
    return None
