"""Append-only, hash-chained audit log (audit/audit.jsonl). Callers append only under the archive lock."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive import clock
from archive.errors import AfterCommitError, StateError
from archive.store.atomic import write_synced
from archive.store.hashing import sha256_bytes

GENESIS = "0" * 64


class MirrorError(AfterCommitError):
    """The entry is in the log; its head did not reach the mirror."""


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def torn_tail(path: Path) -> bytes | None:
    """The bytes after the last newline: a line a process was writing when it died (never committed), or
    something put there by hand. Reading only: verify reports it, a writer drops it with an entry."""
    if not path.exists():
        return None
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        pos = size
        while pos > 0:
            step = min(4096, pos)
            pos -= step
            fh.seek(pos)
            block = fh.read(step)
            nl = block.rfind(b"\n")
            if nl >= 0:
                start = pos + nl + 1
                break
        else:
            start = 0
        if start == size:
            return None
        fh.seek(start)
        return fh.read()


def cut_torn_tail(path: Path) -> bytes | None:
    """Cut a torn tail off a chained log (the caller then appends an entry saying what was cut); returns the
    bytes cut, or None when the log ends with a whole line."""
    tail = torn_tail(path)
    if tail is None:
        return None
    with path.open("rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.truncate(size - len(tail))
        fh.flush()
        os.fsync(fh.fileno())
    return tail


def dropped(tail: bytes) -> dict[str, Any]:
    """What an entry recording a cut tail says of it: its size and SHA-256."""
    return {"dropped_bytes": len(tail), "dropped_sha256": sha256_bytes(tail)}


def drop_torn_tail(path: Path, actor: str, mirror: Path | None = None) -> dict[str, Any] | None:
    """Cut a torn tail and append an entry that says what was cut (its size and SHA-256), so nothing leaves
    the log unrecorded. Returns that entry, or None when the log ends with a whole line."""
    tail = cut_torn_tail(path)
    if tail is None:
        return None
    return append(path, actor=actor, action="audit-tail-dropped", number=None, files=[], mirror=mirror,
                  extra=dropped(tail))


def parse_entry(raw: bytes) -> dict[str, Any] | None:
    """An audit line as an entry, or None when it is not one (no object, no integer seq, no prev hash)."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entry, dict) or type(entry.get("seq")) is not int or not isinstance(entry.get("prev"), str):
        return None
    files = entry.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("path"), str)
                                              and isinstance(f.get("sha256"), str) for f in files):
        return None
    return entry


def check_last_line(path: Path) -> None:
    """Writers chain to the last line, so it must be an audit entry; a garbage line there stops every change
    before it starts. Lines further back are verify's to read (a full read on every write would not scale)."""
    line = last_line(path)
    if line is None or parse_entry(line) is not None:
        return
    with path.open("rb") as fh:
        number = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
    raise StateError(f"{path.parent.name}/{path.name} line {number} is not an audit entry; no change is made on "
                     "top of it (run `archive verify`, then restore the log from a copy)")


def last_line(path: Path) -> bytes | None:
    """The last whole line (a torn tail after it is not a line)."""
    if not path.exists():
        return None
    with path.open("rb") as fh:
        pos = fh.seek(0, os.SEEK_END)
        buf = b""
        started = False  # past the torn tail, if any: at the newline that ends the last whole line
        while pos > 0:
            step = min(8192, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
            if not started:
                nl = buf.rfind(b"\n")
                if nl < 0:
                    continue
                buf, started = buf[:nl], True
            nl = buf.rfind(b"\n")
            if nl >= 0:
                return buf[nl + 1:]
        return buf if started else None


def head(path: Path) -> Head:
    line = last_line(path)
    if line is None:
        return Head(0, GENESIS)
    entry = parse_entry(line)
    if entry is None:
        check_last_line(path)  # raises, naming the line
        raise AssertionError("unreachable")
    return Head(int(entry["seq"]), sha256_bytes(line))


def last_entry(path: Path) -> dict[str, Any] | None:
    line = last_line(path)
    return None if line is None else parse_entry(line)


def append(path: Path, *, actor: str, action: str, number: str | None, files: list[dict[str, Any]],
           reason: str | None = None, op: str | None = None, extra: dict[str, Any] | None = None,
           mirror: Path | None = None) -> dict[str, Any]:
    """Append one entry chained to the previous line; fsynced before returning. With ``mirror`` (a folder on
    another disk), the new head is appended there too (see `mirror_append`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if torn_tail(path) is not None:
        drop_torn_tail(path, actor, mirror)
    entry: dict[str, Any] = {"actor": actor, "action": action, "number": number, "files": files}
    if reason is not None:
        entry["reason"] = reason
    if op is not None:
        entry["op"] = op
    if extra:
        entry.update(extra)
    return chain(path, entry, mirror)


def chain(path: Path, fields: dict[str, Any], mirror: Path | None = None) -> dict[str, Any]:
    """Append ``fields`` as the next entry of a chained log (the audit log, the access register): its seq, its
    time, and prev, the SHA-256 of the last whole line; fsynced before returning. The caller holds the log's
    lock and has dropped any torn tail."""
    h = head(path)
    entry: dict[str, Any] = {**fields, "seq": h.seq + 1, "time": clock.utc_now(), "prev": h.hash}
    line = canonical(entry) + b"\n"
    write_synced(path, line, os.O_APPEND)
    if mirror is not None:
        mirror_append(mirror, entry["seq"], sha256_bytes(line[:-1]), entry["time"])
    return entry


@dataclass(frozen=True)
class Link:
    """One line of a chained log as verify reads it: its entry (None: unreadable) and its place in the chain."""

    line: int
    digest: str
    entry: dict[str, Any] | None
    seq_expected: int
    prev_matches: bool


def links(path: Path) -> Iterator[Link]:
    """Every whole line of a chained log, checked against the line before (an unreadable line is read past as
    if absent, so a line added is one finding and the lines after it still chain)."""
    prev_hash, expected = GENESIS, 1
    for i, raw in enumerate(read_lines(path), start=1):
        digest = sha256_bytes(raw)
        entry = parse_entry(raw)
        if entry is None:
            yield Link(i, digest, None, expected, True)
            continue
        yield Link(i, digest, entry, expected, entry.get("prev") == prev_hash)
        prev_hash, expected = digest, int(entry["seq"]) + 1


# ---------------------------------------------------------------- the mirror: heads kept outside the root

MIRROR_FILE = "audit-heads.jsonl"


def mirror_append(folder: Path, seq: int, digest: str, time: str) -> None:
    """One line per audit entry, {"seq", "hash", "time"}, in a folder on another disk (or write-once media):
    an entry edited, removed or added in the root without passing here no longer matches."""
    line = canonical({"seq": seq, "hash": digest, "time": time}) + b"\n"
    try:
        write_synced(folder / MIRROR_FILE, line, os.O_APPEND)
    except OSError as exc:
        raise MirrorError(f"audit seq {seq} was written, but not to the audit mirror {folder} "
                          f"({exc.strerror or exc}); `archive verify` reports the mirror behind until an "
                          f"administrator appends {line.decode().strip()} to {folder / MIRROR_FILE}") from None


def read_mirror(folder: Path) -> list[dict[str, Any]] | None:
    """The heads in the mirror (None when there is no mirror file); unreadable lines are skipped."""
    path = folder / MIRROR_FILE
    if not path.is_file():
        return None
    out = []
    for raw in path.read_bytes().splitlines():
        try:
            item = json.loads(raw)
            out.append({"seq": int(item["seq"]), "hash": str(item["hash"]), "time": str(item.get("time", ""))})
        except (ValueError, KeyError, TypeError):
            continue
    return out


def read_lines(path: Path) -> Iterator[bytes]:
    if not path.exists():
        return
    with path.open("rb") as fh:
        for raw in fh:
            if raw.endswith(b"\n"):
                yield raw[:-1]
