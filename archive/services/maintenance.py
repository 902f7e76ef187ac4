"""Keeping the archive sound: derived stores rebuilt and checked, integrity verified, templates registered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.derived.stores import index_guard
from archive.documents import templates as templates_register
from archive.record import folders
from archive.record import reader as casefile
from archive.services.archive import Archive
from archive.store import txn
from archive.store.hashing import sha256_file
from archive.store.manifest import MANIFEST

if TYPE_CHECKING:
    from archive.integrity.verify import Report


def rebuild(arc: Archive, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Recreate the register and the index from the record folders alone."""
    from archive.derived.register import row_of
    from archive.search.extract import TextLimits, document

    with arc.writing(derived_needed=False):
        dirs = folders.record_dirs(arc.layout)
        # Writers sweep temp files only where a killed change could have left them; rebuild reads every
        # record anyway, so it sweeps them all (verify names this for a temp file in a record folder).
        txn.remove_temp_files([sub for p in dirs for sub in (p, *(d for d in p.rglob("*") if d.is_dir()))])
        with txn.before_commit("rebuild"):
            count = arc.register.rebuild(row_of(casefile.load(p)) for p in dirs)
            limits = TextLimits.of(arc.settings)
            indexed = arc.engine.rebuild((document(casefile.load(p), limits) for p in dirs),
                                         (lambda done: progress(done, len(dirs))) if progress else None)
            arc.layout.index_pending.unlink(missing_ok=True)  # the rebuilt index holds every case
    return {"register_rows": count, "indexed": indexed}


def index_check(arc: Archive) -> dict[str, list[str]]:
    """Cases missing from the index, indexed from an older state of their record, or indexed but gone."""
    with index_guard():
        stamps = arc.engine.stamps()
    missing, stale = [], []
    records = {p.name: p for p in folders.record_dirs(arc.layout)}
    for number, path in records.items():
        if number not in stamps:
            missing.append(number)
        elif stamps[number] != sha256_file(path / MANIFEST):
            stale.append(number)
    return {"missing": missing, "stale": stale, "extra": sorted(set(stamps) - set(records))}


def verify(arc: Archive, numbers: list[str] | None = None,
           progress: Callable[[int, int], None] | None = None, head: str | None = None) -> Report:
    """Check records, signatures and the audit chain, writing nothing (not even to finish a change a killed
    writer left: that is reported, and the next write command's recovery does it). A running writer is
    waited for, so no change is seen half-made. ``head``: SEQ:SHA256 kept outside the root."""
    from archive.errors import InputError
    from archive.integrity import approvals
    from archive.integrity import verify as verifier

    try:
        given = verifier.parse_head(head) if head is not None else None
    except ValueError as exc:
        raise InputError("command line", "--head", str(exc)) from None
    with arc.consistent() as unfinished:
        report = verifier.run(arc.layout, numbers, progress, given)
        for record in folders.record_dirs(arc.layout):
            if numbers and record.name not in numbers:
                continue
            try:
                view = casefile.load(record)
            except (OSError, ValueError, KeyError, TypeError):
                continue  # its files are reported above; approvals need a readable case
            for doc_id in approvals.lapsed(view):
                report.warnings.append({"kind": "approval_lapsed", "where": record.name,
                                        "detail": f"{doc_id}: approved before, its current content is not"})
            for f in approvals.approver_findings(view):
                report.warnings.append({"kind": f["kind"], "where": record.name, "detail": f["detail"]})
    if unfinished:
        report.unfinished_change = True
        report.warnings.append({"kind": "unfinished_change", "where": arc.layout.journal.name,
                                "detail": "a change a killed writer left open; verify leaves it as it is: the "
                                          "next write command (e.g. `archive rebuild`) finishes or undoes it"})
    return report


def template_versions(arc: Archive) -> list[dict[str, Any]]:
    rows = []
    for t in templates_register.load(arc.layout.templates):
        path = t.path(arc.layout.templates)
        # intact: the file is the registered one, and the register's hash is the one its audited registration
        # recorded (what render checks before it renders)
        rows.append({**t.__dict__, "intact": path.is_file() and sha256_file(path) == t.sha256
                     and templates_register.trusted_sha256(arc.layout.templates, t) == t.sha256})
    return rows


def register_template(arc: Archive, source: Path, template_id: str, version: str, title: str | None,
                      effective: str | None) -> templates_register.Template:
    with arc.writing():
        t, files = templates_register.plan_registration(arc.layout.templates, source, template_id, version,
                                                        effective, title)
        folder = arc.layout.templates.relative_to(arc.layout.root).as_posix()
        txn.add_files(arc.layout, {f"{folder}/{name}": data for name, data in files.items()},
                      txn.Entry(arc.actor, "template-register", extra={"template": {"id": t.id, "version": t.version}}),
                      replace=frozenset({f"{folder}/{templates_register.REGISTER}"}))
    return t
