"""Files a command writes for the user outside the archive (a plan, an export, a private key).

Such a file is written whole (temp file in the same folder, fsync, then a link or rename: a reader or a
kill never leaves half a file under the name), never over an existing file unless the user said --force,
and never anywhere inside the archive root, whatever symbolic links the path goes through: an output
file that landed in the root would replace evidence (a certificate, a record's form) behind the log.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from archive.errors import InputError, StorageError
from archive.store.atomic import fsync_dir, write_synced


def target(out: Path, root: Path, *, force: bool = False, option: str = "--out") -> Path:
    """The resolved path ``out`` will be written at, after every check; nothing is written here."""
    where = out.absolute()
    resolved = where.resolve()  # every symbolic link followed, the file's own included
    try:
        resolved.relative_to(root.resolve())
    except ValueError:
        pass
    else:
        raise InputError("command line", option, f"{out}: inside the archive root {root}; "
                                                 "write output files elsewhere")
    if resolved.is_dir():
        raise InputError("command line", option, f"{out}: is a folder; name a file")
    if not resolved.parent.is_dir():
        raise InputError("command line", option, f"{out}: folder {resolved.parent} does not exist")
    if not force and (resolved.exists() or where.is_symlink()):
        raise InputError("command line", option, f"{out}: file exists; --force replaces it")
    return resolved


def write(path: Path, data: bytes, *, force: bool = False, mode: int = 0o644) -> None:
    """Write ``data`` at ``path`` (from :func:`target`) whole. Without ``force`` an existing file, even one
    that appeared since the check, is never replaced."""
    write_with(path, lambda tmp: write_synced(tmp, data, os.O_EXCL, mode), force=force)


def write_with(path: Path, produce: Callable[[Path], None], *, force: bool = False) -> None:
    """Like :func:`write`, for a file too large to hold in memory: ``produce`` writes it at the temp path it
    is given (a streamed export), then it is synced and put under its name the same way."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        produce(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and exclusive: fails if the name exists
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    raise InputError("command line", "--out", f"{path}: file exists; --force replaces it") from None
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                if path.exists():  # a file system without hard links: the small window is accepted
                    raise InputError("command line", "--out", f"{path}: file exists; --force replaces it") from None
                os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        raise StorageError(f"{path}: not written: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
