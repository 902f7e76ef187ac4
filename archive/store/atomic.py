"""Durable writes: temp file, fsync, rename, fsync of the folder. A reader sees old or new, never half."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive.errors import StorageError

# The temp file write_bytes makes beside its target: ".NAME.PID.tmp". Only names of this form are ever
# removed as leftovers of a killed writer, and no archived file may be named so.
TEMP_NAME = re.compile(r"\..+\.[0-9]+\.tmp")


@contextmanager
def before_commit(what: str) -> Iterator[None]:
    """A disk error while a change is prepared: the change never committed, so nothing was written.
    (Here rather than in txn, so that opening an archive to read it does not load the change protocol.)"""
    try:
        yield
    except OSError as exc:
        raise StorageError(f"{what}: nothing was written: {os_reason(exc)}") from None


def os_reason(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def is_temp_name(name: str) -> bool:
    return TEMP_NAME.fullmatch(name) is not None


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, data: bytes, flags: int, mode: int = 0o644) -> None:
    """Write ``data`` through a file opened with ``flags`` (exclusive, appending...) and fsync it before
    returning: the one place bytes reach the disk durably."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # TEMP_NAME
    write_synced(tmp, data, os.O_TRUNC)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_tree(top: Path) -> None:
    """fsync every file and folder under ``top`` so a following rename publishes durable content."""
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            fd = os.open(Path(dirpath) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))
