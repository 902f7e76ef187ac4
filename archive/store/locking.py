"""The archive's single writer lock: every change to records, audit log and register happens under it."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive.errors import StorageError


@contextmanager
def shared_if_present(lock_path: Path) -> Iterator[None]:
    """For a reader that must not see a change half-made: waits for a writer, creates nothing (no lock file
    yet means no writer has run; a read-only copy has no writer to wait for)."""
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Block until this process holds the lock; the kernel drops it if the process dies."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StorageError(f"{lock_path.parent}: cannot take the archive lock ({exc.strerror}); "
                           "nothing was written") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
