"""The one layer that wires a change through store → documents → audit → register (→ index)."""

from __future__ import annotations

import getpass
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import audit, casefile, deadlines, register, store, txn
from . import settings as settings_mod
from .atomic import fsync_dir, fsync_tree, write_bytes
from .errors import ArchiveError, StateError
from .hashing import sha256_bytes, sha256_file
from .layout import Layout
from .locking import exclusive
from .settings import Settings
from .triage import triage
from .validate import check_attachments, check_schema, parse_json


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


@dataclass
class Archive:
    """An opened archive root: its layout and settings, and who is acting."""

    layout: Layout
    settings: Settings
    actor: str = field(default_factory=default_actor)

    @classmethod
    def open(cls, root: str | Path | None, actor: str | None = None, *, create: bool = True) -> Archive:
        layout = Layout.resolve(root)
        if not layout.root.is_dir():
            raise StateError(f"{layout.root}: archive root does not exist")
        if create and not layout.settings.exists():
            init(layout)
        return cls(layout, settings_mod.load(layout.root), actor or default_actor())

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the archive lock and finish whatever a killed writer left before changing anything."""
        with exclusive(self.layout.lock):
            txn.recover(self.layout, self.refresh)
            yield

    def refresh(self, number: str) -> None:
        """Bring the derived stores in line with one record folder."""
        register.upsert(self.layout.register, register.row_of(casefile.load(store.find_record(self.layout, number))))


def init(layout: Layout) -> list[str]:
    """Create the layout; idempotent. Returns what it created."""
    created = []
    layout.root.mkdir(parents=True, exist_ok=True)
    for folder in (layout.records, layout.audit_dir, layout.keys):
        if not folder.exists():
            folder.mkdir(parents=True)
            created.append(folder.name + "/")
    if not layout.settings.exists():
        write_bytes(layout.settings, settings_mod.DEFAULT_TEXT.encode("utf-8"))
        created.append(layout.settings.name)
    settings_mod.load(layout.root)
    return created


# ---------------------------------------------------------------- intake

@dataclass(frozen=True)
class Prepared:
    file: str
    raw: bytes
    case: dict[str, Any]
    attachments: list[Path]


@dataclass(frozen=True)
class IntakeResult:
    number: str
    file: str
    documents: list[str]
    severity: str
    reply_due: str
    reasons: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "file": self.file, "documents": self.documents,
                "severity": self.severity, "reply_due": self.reply_due, "triage_reasons": self.reasons}


def prepare(path: Path, *, allow_absolute: bool = False) -> Prepared:
    """Everything that can refuse a case file, done before the lock is taken and before any write."""
    from .errors import InputError

    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(name, "$", "file does not exist") from None
    except IsADirectoryError:
        raise InputError(name, "$", "is a folder, not a case file") from None
    except OSError as exc:
        raise InputError(name, "$", f"cannot be read: {exc.strerror}") from None
    case = parse_json(name, raw)
    check_schema(name, case, "case.schema.json")
    atts = check_attachments(name, case, path.parent, allow_absolute=allow_absolute)
    return Prepared(name, raw, case, atts)


def _allocate(arc: Archive, received_at: str) -> str:
    period = store.period_of(received_at)
    pattern = arc.settings.number_pattern
    used = store.used_serials(arc.layout, pattern, period)
    used |= {s for n in register.numbers(arc.layout.register)
             if (s := pattern.serial_of(n)) is not None and pattern.format(period, s) == n}
    serial = max(used, default=0) + 1
    if serial > pattern.max_serial:
        raise StateError(f"no case number left for {period:%Y-%m}: serial {pattern.max_serial} is used; "
                         "widen {serial} in numbering.pattern")
    return pattern.format(period, serial)


def _audit_files(record: Path, manifest: dict[str, Any], only: set[str] | None = None,
                 supersedes: dict[str, str] | None = None) -> list[dict[str, Any]]:
    out = []
    for f in manifest["files"]:
        if only is None or f["path"] in only:
            item = {"path": f["path"], "sha256": f["sha256"]}
            if supersedes and f["path"] in supersedes:
                item["supersedes"] = supersedes[f["path"]]
            out.append(item)
    return out


def intake(arc: Archive, prepared: Prepared) -> IntakeResult:
    case = prepared.case
    tri = triage(case, arc.settings)
    dl = deadlines.compute(case, case.get("category", "other"), arc.settings)
    with arc.writing():
        number = _allocate(arc, case["received_at"])
        period = store.period_of(case["received_at"])
        op = txn.new_op_id()
        stage = txn.staging_dir(arc.layout, op)
        (stage / casefile.INTAKE_FILE).write_bytes(prepared.raw)
        attachments = []
        if prepared.attachments:
            (stage / "attachments").mkdir()
        for spec, src in zip(case.get("attachments", []), prepared.attachments, strict=True):
            dest = stage / "attachments" / src.name
            shutil.copyfile(src, dest)
            attachments.append({"file": f"attachments/{src.name}", "title": spec.get("title"),
                                "source": spec["path"], "size": dest.stat().st_size,
                                "sha256": sha256_file(dest)})
        record = {
            "number": number,
            "case": case,
            "triage": tri.as_json(),
            "deadlines": dl,
            "attachments": attachments,
            "intake": {"source_name": Path(prepared.file).name, "sha256": sha256_bytes(prepared.raw),
                       "archived_at": audit.utc_now(), "actor": arc.actor},
        }
        (stage / casefile.CASE_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n",
                                                encoding="utf-8")
        documents = _render_intake_documents(arc, stage, record)
        manifest_sha = store.write_manifest(stage, number)
        fsync_tree(stage)
        month = arc.layout.month_dir(period.year, period.month)
        final = month / number
        manifest = store.read_manifest(stage)
        journal = txn.Journal(
            action="intake", number=number, record=str(final.relative_to(arc.layout.root)),
            manifest_sha256=manifest_sha, staging=str(stage.relative_to(arc.layout.root)), op=op,
            audit={"actor": arc.actor, "action": "intake", "number": number,
                   "files": _audit_files(stage, manifest),
                   "extra": {"manifest_sha256": manifest_sha, "source": prepared.file}})
        txn.begin(arc.layout, journal)
        month.mkdir(parents=True, exist_ok=True)
        os.rename(stage, final)
        fsync_dir(month)
        txn.commit(arc.layout, journal, arc.refresh)
    return IntakeResult(number, prepared.file, documents, tri.severity, dl["reply_due"] or "", list(tri.reasons))


def _render_intake_documents(arc: Archive, stage: Path, record: dict[str, Any]) -> list[str]:
    return []


# ---------------------------------------------------------------- reading

def show(arc: Archive, number: str) -> dict[str, Any]:
    view = casefile.load(store.find_record(arc.layout, number))
    return {
        "number": view.number,
        "status": view.status,
        "severity": view.severity,
        "category": view.category,
        "departments": view.departments,
        "triage_reasons": view.record["triage"]["reasons"],
        "case": view.case,
        "deadlines": view.record["deadlines"],
        "stages": view.stages,
        "stage_versions": view.stage_versions,
        "documents": view.documents,
        "attachments": view.record["attachments"],
        "retention_until": view.retention_until,
        "hold": view.hold,
        "path": str(view.path.relative_to(arc.layout.root)),
    }


def list_cases(arc: Archive, *, month: str | None = None, status: str | None = None,
               severity: str | None = None) -> list[dict[str, Any]]:
    return register.select(arc.layout.register, month=month, status=status, severity=severity)


def rebuild(arc: Archive) -> dict[str, int]:
    with arc.writing():
        views = (casefile.load(p) for p in store.record_dirs(arc.layout))
        count = register.rebuild(arc.layout.register, (register.row_of(v) for v in views))
    return {"register_rows": count}



__all__ = ["Archive", "ArchiveError", "IntakeResult", "Prepared", "init", "intake", "list_cases",
           "prepare", "rebuild", "show"]
