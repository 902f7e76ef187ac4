"""Append-only, hash-chained audit log (audit/audit.jsonl). Callers append only under the archive lock."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive import clock
from archive.store.atomic import write_synced
from archive.store.hashing import sha256_bytes

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def drop_torn_tail(path: Path) -> None:
    """A line without its newline was being written when a process died; it never committed."""
    with path.open("rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        pos = size
        while pos > 0:
            step = min(4096, pos)
            pos -= step
            fh.seek(pos)
            block = fh.read(step)
            nl = block.rfind(b"\n")
            if nl >= 0:
                fh.truncate(pos + nl + 1)
                break
        else:
            fh.truncate(0)
        fh.flush()
        os.fsync(fh.fileno())


def last_line(path: Path) -> bytes | None:
    if not path.exists():
        return None
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        pos = size
        buf = b""
        while pos > 0:
            step = min(8192, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
            stripped = buf.rstrip(b"\n")
            nl = stripped.rfind(b"\n")
            if nl >= 0:
                return stripped[nl + 1:]
        stripped = buf.rstrip(b"\n")
        return stripped or None


def head(path: Path) -> Head:
    line = last_line(path)
    if line is None:
        return Head(0, GENESIS)
    return Head(int(json.loads(line)["seq"]), sha256_bytes(line))


def last_entry(path: Path) -> dict[str, Any] | None:
    line = last_line(path)
    return None if line is None else dict(json.loads(line))


def append(path: Path, *, actor: str, action: str, number: str | None, files: list[dict[str, Any]],
           reason: str | None = None, op: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append one entry chained to the previous line; fsynced before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        drop_torn_tail(path)
    h = head(path)
    entry: dict[str, Any] = {"seq": h.seq + 1, "time": clock.utc_now(), "actor": actor, "action": action,
                             "number": number, "files": files, "prev": h.hash}
    if reason is not None:
        entry["reason"] = reason
    if op is not None:
        entry["op"] = op
    if extra:
        entry.update(extra)
    line = canonical(entry) + b"\n"
    write_synced(path, line, os.O_APPEND)
    return entry


def read_lines(path: Path) -> Iterator[bytes]:
    if not path.exists():
        return
    with path.open("rb") as fh:
        for raw in fh:
            if raw.endswith(b"\n"):
                yield raw[:-1]
