"""The one change protocol: every write to the archive is one journaled change of one of four kinds.

    publish   a record folder built under .work/ is renamed into records/   commit point: its manifest
    record    files added to a published record (stages, documents, ...)    commit point: the new manifest
    files     new or replaced files outside any record (keys, checkpoints,   commit point: every file has
              templates, certificates, users)                                the journal's hash
    destroy   a record folder removed, a tombstone left in its place         commit point: the tombstone

The journal (.journal.json) is written before anything else. A process killed before the commit point
is rolled back by the next writer (`recover`); after it, rolled forward: the audit entry is appended and
the derived stores (register, index) refreshed. Only one process writes at a time (the archive lock).

Two appends stand beside the four kinds: log_event (an audit entry for an act that changes no file) and
record_access (an entry of the access register, 查阅登记, under its own lock).

Failures are typed: before the commit point, "nothing was written"; after it, the change stands and the
error says what is left (an audit entry the next command appends, or a derived store for `archive rebuild`).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archive.errors import AfterCommitError, StateError, StorageError
from archive.record.grammar import CHANGEABLE, supersedes
from archive.store import audit
from archive.store.atomic import before_commit as before_commit  # where it always was, for the services
from archive.store.atomic import fsync_dir, fsync_tree, is_temp_name, write_bytes
from archive.store.atomic import os_reason as _os_reason
from archive.store.hashing import sha256_bytes, sha256_file
from archive.store.layout import Layout
from archive.store.manifest import MANIFEST, listed, manifest_bytes, read_manifest

Refresh = Callable[[str], None]
KINDS = ("publish", "record", "files", "destroy")


@dataclass(frozen=True)
class Entry:
    """Who did what, for the change's audit entry; the protocol adds the files and their hashes."""

    actor: str
    action: str
    number: str | None = None
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Journal:
    kind: str
    action: str
    number: str
    record: str = ""  # the record folder, relative to the root (publish, record, destroy)
    commit_sha256: str = ""  # publish/record: the manifest that commits; destroy: the tombstone
    audit: dict[str, Any] = field(default_factory=dict)  # keyword arguments of audit.append, less op
    staging: str | None = None  # publish: the folder built; destroy: where the record waits to be removed
    tombstone: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)  # files: {"path", "sha256", "backup"}
    op: str = field(default_factory=lambda: uuid.uuid4().hex)


def new_op_id() -> str:
    return uuid.uuid4().hex


def staging_dir(layout: Layout, op: str) -> Path:
    path = layout.work / op
    with before_commit(f"a staging folder under {layout.work.name}/"):
        path.mkdir(parents=True)
    return path


def _begin(layout: Layout, journal: Journal) -> None:
    data = json.dumps(asdict(journal), ensure_ascii=False, sort_keys=True).encode("utf-8")
    write_bytes(layout.journal, data)


def _audit_fields(entry: Entry, files: list[dict[str, Any]]) -> dict[str, Any]:
    return {"actor": entry.actor, "action": entry.action, "number": entry.number, "files": files,
            "reason": entry.reason, "extra": entry.extra}


def _finish(layout: Layout, journal: Journal, refresh: Refresh) -> dict[str, Any]:
    """After the commit point: the audit entry, then the derived stores. The change stands whatever fails."""
    what = f"{journal.action} of {_subject(journal)}"
    mirror_failed = None
    try:
        entry = audit.append(layout.audit_log, op=journal.op, mirror=layout.audit_mirror, **journal.audit)
    except audit.MirrorError as exc:  # the entry is in the log: the change is whole, only the mirror lags
        mirror_failed, entry = exc, audit.last_entry(layout.audit_log) or {}
    except OSError as exc:
        raise AfterCommitError(f"{what} committed, but its audit entry could not be written "
                               f"({_os_reason(exc)}); the next archive command writes it") from None
    try:
        if journal.kind != "files":
            _refresh(journal, refresh)
    finally:
        # The journal covers the derived stores too, so a kill here still completes the register row; a
        # refresh that failed is left to `archive rebuild` rather than retried by every later command.
        layout.journal.unlink()
    if mirror_failed is not None:
        raise AfterCommitError(f"{what} committed and audited, but {mirror_failed}")
    return entry


def _after_commit(layout: Layout, journal: Journal, exc: OSError, refresh: Refresh) -> AfterCommitError:
    """A disk error once the commit point was passed: the change stands, so the message must say so (never
    "nothing was written"). Recovery rolls it forward now if the disk lets it, else the next writer does."""
    what = f"{journal.action} of {_subject(journal)}"
    try:
        recover(layout, refresh)
        then = "its audit entry was written"
    except (OSError, StateError, AfterCommitError):
        then = "the next archive command finishes it (audit entry, register, index)"
    return AfterCommitError(f"{what} committed, but the disk reported an error after the commit point "
                            f"({_os_reason(exc)}); {then}; run `archive verify` to check the archive")


def _subject(j: Journal) -> str:
    return j.number or (str(j.files[0]["path"]) if j.files else j.record)


def _refresh(journal: Journal, refresh: Refresh) -> None:
    try:
        refresh(journal.number)
    except Exception as exc:  # derived stores are rebuilt from the records; the user must learn the number
        reason = _os_reason(exc) if isinstance(exc, OSError) else str(exc) or type(exc).__name__
        raise AfterCommitError(f"case {journal.number}: {journal.action} committed and audited, but the register "
                               f"or index was not updated ({reason}); run `archive rebuild`") from None


# ---------------------------------------------------------------- the four kinds

def publish(layout: Layout, staging: Path, final: Path, number: str, entry: Entry, refresh: Refresh) -> dict[str, Any]:
    """Rename a fully built, fsynced record folder into place."""
    with before_commit(f"case {number}"):
        manifest = read_manifest(staging)
        data = (staging / MANIFEST).read_bytes()
        files = [{"path": f["path"], "sha256": f["sha256"]} for f in manifest["files"]]
        journal = Journal(kind="publish", action=entry.action, number=number,
                          record=final.relative_to(layout.root).as_posix(), commit_sha256=sha256_bytes(data),
                          staging=staging.relative_to(layout.root).as_posix(),
                          audit=_audit_fields(entry, files) | {"extra": {"manifest_sha256": sha256_bytes(data),
                                                                         **entry.extra}})
        fsync_tree(staging)
        _begin(layout, journal)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, final)
    try:
        fsync_dir(final.parent)
    except OSError as exc:  # the rename was the commit point: the case is published
        raise _after_commit(layout, journal, exc, refresh) from None
    return _finish(layout, journal, refresh)


def change_record(layout: Layout, record: Path, number: str, entry: Entry, write: Callable[[], None],
                  refresh: Refresh) -> dict[str, Any]:
    """Add files to a published record; the rewritten manifest is the commit point."""
    rel = record.relative_to(layout.root).as_posix()
    journal = Journal(kind="record", action=entry.action, number=number, record=rel)
    with before_commit(f"case {number}"):
        previous = read_manifest(record)["files"]
        _begin(layout, journal)
        try:
            write()
        except BaseException:
            recover(layout, refresh)  # manifest not replaced yet: this rolls the change back
            raise
        data = manifest_bytes(record, number, previous)
        before = {f["path"] for f in previous}
        after = json.loads(data)["files"]
        present = before | {f["path"] for f in after}
        files = [{"path": f["path"], "sha256": f["sha256"],
                  **({"supersedes": s} if (s := supersedes(f["path"], present)) else {})}
                 for f in after if f["path"] not in before]
        journal.commit_sha256 = sha256_bytes(data)
        journal.audit = _audit_fields(entry, files) | {"extra": {"manifest_sha256": journal.commit_sha256,
                                                                 **entry.extra}}
        try:
            _begin(layout, journal)
            write_bytes(record / MANIFEST, data)
        except OSError as exc:
            if _committed(layout, journal):
                raise _after_commit(layout, journal, exc, refresh) from None
            recover(layout, refresh)
            raise
    return _finish(layout, journal, refresh)


def add_files(layout: Layout, files: dict[str, bytes], entry: Entry, *, replace: frozenset[str] = frozenset()
              ) -> dict[str, Any]:
    """New files outside any record (and, for paths in ``replace``, new contents of existing ones)."""
    op = new_op_id()
    what = entry.action
    with before_commit(what):
        specs: list[dict[str, Any]] = []
        for rel, data in files.items():
            path = layout.root / rel
            backup = None
            if path.exists():
                if rel not in replace:
                    raise StateError(f"{rel} already exists")
                backup = f"{layout.work.name}/{op}/backup/{len(specs)}"
                write_bytes(layout.root / backup, path.read_bytes())
            specs.append({"path": rel, "sha256": sha256_bytes(data), "backup": backup})
        journal = Journal(kind="files", action=entry.action, number=entry.number or "", files=specs, op=op,
                          audit=_audit_fields(entry, [{"path": s["path"], "sha256": s["sha256"]} for s in specs]))
        _begin(layout, journal)
        try:
            for rel, data in files.items():
                write_bytes(layout.root / rel, data)
        except OSError as exc:
            if _committed(layout, journal):
                raise _after_commit(layout, journal, exc, lambda _n: None) from None
            recover(layout, lambda _n: None)
            raise
    try:
        return _finish(layout, journal, lambda _n: None)
    finally:
        shutil.rmtree(layout.work / op, ignore_errors=True)  # the backups of replaced files


def destroy(layout: Layout, record: Path, number: str, tombstone: Path, tombstone_data: bytes, entry: Entry,
            refresh: Refresh, forget: Refresh | None = None) -> dict[str, Any]:
    """Remove a record folder and leave its tombstone. The folder is first moved aside (reversible); the
    tombstone commits; only then are the files removed. ``forget`` drops the case from the derived stores
    once the journal is open and before the folder moves, so a kill at any point never leaves a destroyed
    case findable; a change rolled back gives them the case again (``refresh``)."""
    op = new_op_id()
    with before_commit(f"case {number}"):
        if tombstone.exists():
            raise StateError(f"{tombstone.relative_to(layout.root)} already exists")
        (layout.work / op).mkdir(parents=True)
        trash = layout.work / op / "record"
        manifest_sha = sha256_file(record / MANIFEST) if (record / MANIFEST).is_file() else None
        journal = Journal(kind="destroy", action=entry.action, number=number,
                          record=record.relative_to(layout.root).as_posix(), commit_sha256=sha256_bytes(tombstone_data),
                          staging=trash.relative_to(layout.root).as_posix(),
                          tombstone=tombstone.relative_to(layout.root).as_posix(), op=op,
                          audit=_audit_fields(entry, [{"path": tombstone.relative_to(layout.root).as_posix(),
                                                       "sha256": sha256_bytes(tombstone_data)}])
                          | {"extra": {"manifest_sha256": manifest_sha, **entry.extra}})
        _begin(layout, journal)
        try:
            if forget is not None:
                forget(number)
            os.rename(record, trash)
            fsync_dir(record.parent)
            write_bytes(tombstone, tombstone_data)
        except BaseException as exc:
            if isinstance(exc, OSError) and _committed(layout, journal):
                raise _after_commit(layout, journal, exc, refresh) from None
            recover(layout, refresh)
            raise
    shutil.rmtree(layout.work / op, ignore_errors=True)
    return _finish(layout, journal, refresh)


def log_event(layout: Layout, entry: Entry, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An act that changes no file under the root but must be on the record (an export handed to an
    inspector): one audit entry. ``files`` names what left the archive, with hashes."""
    with before_commit(entry.action):
        return audit.append(layout.audit_log, mirror=layout.audit_mirror, **_audit_fields(entry, files or []))


def record_access(layout: Layout, *, login: str, name: str, role: str, address: str, action: str,
                  number: str | None = None, path: str | None = None, query: str | None = None,
                  detail: str | None = None) -> dict[str, Any]:
    """One entry of the access register (查阅登记), written before the page or file it records is sent. Under
    the register's own lock, never the archive lock: a view does not wait for a long change. Fsynced before
    returning; any failure is a StorageError, and the web refuses the request rather than serve it unrecorded."""
    from archive.store import access
    from archive.store.locking import exclusive

    fields = {"login": login, "name": name, "role": role, "address": address, "action": action, "number": number,
              "path": path, "query": query, "detail": detail}
    try:
        layout.audit_dir.mkdir(parents=True, exist_ok=True)
        with exclusive(layout.access_lock):
            return access.append(layout.access_log, fields)
    except OSError as exc:
        raise StorageError(f"查阅登记 could not be written ({_os_reason(exc)}); the request is refused") from None
    except (StorageError, StateError) as exc:
        raise StorageError(f"查阅登记 could not be written ({exc}); the request is refused") from None


# ---------------------------------------------------------------- recovery

def _committed(layout: Layout, j: Journal) -> bool:
    def matches(rel: str, digest: str) -> bool:
        path = layout.root / rel
        return path.is_file() and sha256_file(path) == digest

    if j.kind == "files":
        return all(matches(f["path"], f["sha256"]) for f in j.files)
    if j.kind == "destroy":
        return j.tombstone is not None and matches(j.tombstone, j.commit_sha256)
    return bool(j.commit_sha256) and matches(f"{j.record}/{MANIFEST}", j.commit_sha256)


def _roll_back(layout: Layout, j: Journal) -> None:
    record = layout.root / j.record
    if j.kind == "record" and (record / MANIFEST).is_file():
        _remove_unlisted(record)
    elif j.kind == "files":
        for f in j.files:
            path = layout.root / f["path"]
            if f["backup"]:
                if (layout.root / f["backup"]).is_file():
                    write_bytes(path, (layout.root / f["backup"]).read_bytes())
            else:
                path.unlink(missing_ok=True)
    elif j.kind == "destroy" and j.staging and (layout.root / j.staging).is_dir() and not record.exists():
        os.rename(layout.root / j.staging, record)
        fsync_dir(record.parent)
    # publish: the staging folder under .work/ is all there is, and the sweep below removes it.


def recover(layout: Layout, refresh: Refresh, actor: str | None = None) -> str | None:
    """Finish or undo a change a dead process left behind. Returns what was done, for the caller to say.
    With ``actor`` (a writer starting its command), a torn audit tail is dropped by an entry in their name
    that records what was dropped; without, it is left for the next writer."""
    outcome = None
    if actor is not None:
        audit.drop_torn_tail(layout.audit_log, actor, layout.audit_mirror)
    touched = list(layout.outside_records())
    if layout.journal.exists():
        try:
            raw = json.loads(layout.journal.read_text(encoding="utf-8"))
            j = Journal(**raw)
        except (ValueError, TypeError):
            # A journal is written atomically, so an unreadable one is not ours to interpret.
            raise StateError(f"{layout.journal}: unreadable journal; inspect it by hand") from None
        subject = _subject(j)
        touched += _folders_of(layout, j)
        if _committed(layout, j):
            if j.kind == "destroy":
                shutil.rmtree(layout.root / j.record, ignore_errors=True)
            last = audit.last_entry(layout.audit_log) if layout.audit_log.exists() else None
            if last is None or last.get("op") != j.op:
                audit.append(layout.audit_log, op=j.op, mirror=layout.audit_mirror, **j.audit)
            outcome = f"finished interrupted {j.action} of {subject}"
            if j.kind != "files":
                try:
                    _refresh(j, refresh)
                except AfterCommitError as exc:  # the records are whole; a stale derived store must not block
                    outcome += f"; {exc}"
            layout.journal.unlink()
        else:
            _roll_back(layout, j)
            outcome = f"rolled back interrupted {j.action} of {subject}"
            if j.kind == "destroy":  # its derived entries may have gone before the commit point: back they come
                try:
                    _refresh(j, refresh)
                except AfterCommitError as exc:
                    outcome += f"; {exc}"
            layout.journal.unlink()
    if layout.work.exists():
        # Nothing under .work is referenced once no journal is open: staging folders of dead writers.
        for child in layout.work.iterdir():
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
    remove_temp_files(touched)
    return outcome


def _folders_of(layout: Layout, j: Journal) -> list[Path]:
    """Where the journaled change wrote beside its targets (so where its killed writer's temp files are)."""
    out = [(layout.root / f["path"]).parent for f in j.files]
    if j.record:
        record = layout.root / j.record
        out.append(record.parent)
        if record.is_dir():
            out += [record, *(p for p in record.rglob("*") if p.is_dir())]
    if j.tombstone:
        out.append((layout.root / j.tombstone).parent)
    return out


def remove_temp_files(folders: list[Path]) -> list[Path]:
    """Remove write_bytes temp files (".NAME.PID.tmp", nothing else) directly in ``folders``. Run under the
    lock before a change, so no live writer owns them. Returns what was removed."""
    removed = []
    for folder in dict.fromkeys(folders):
        try:
            names = [p for p in folder.iterdir() if p.is_file() and is_temp_name(p.name)]
        except OSError:
            continue
        for p in names:
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def _remove_unlisted(record: Path) -> None:
    """Undo an uncommitted change to a published record: its new files are those the manifest lacks."""
    known = listed(record)
    for folder in CHANGEABLE:
        for path in sorted((record / folder).rglob("*")) if (record / folder).is_dir() else ():
            rel = path.relative_to(record).as_posix()
            if path.is_file() and rel not in known:
                path.unlink()
