"""Settings in force: archive.toml takes effect only as applied by an audited `archive settings apply`.

Each applied version is kept as settings/archive.vN.toml (a journaled root file, so verify checks it against
its audit entry), and its audit entry holds the file's SHA-256 and a readable diff against the version before.
Write commands compare archive.toml with the last applied copy and refuse when they differ; verify compares
it with the last settings-apply entry of the audit log (a copy planted by hand is an unexpected file there).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from archive.settings import DEFAULT_TEXT, SETTINGS_FILE
from archive.store import txn
from archive.store.hashing import sha256_bytes
from archive.store.layout import Layout

ACTION = "settings-apply"
APPLY_COMMAND = "archive settings apply --reason R"
_COPY = re.compile(r"archive\.v([1-9][0-9]*)\.toml")


def copy_path(layout: Layout, version: int) -> Path:
    return layout.applied_settings / f"archive.v{version}.toml"


def last_applied(layout: Layout) -> tuple[int, Path] | None:
    """The newest applied copy and its version, if any was ever applied."""
    folder = layout.applied_settings
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _COPY.fullmatch(p.name))] \
        if folder.is_dir() else []
    return max(found, default=None)


def unapplied(layout: Layout, current: bytes) -> str | None:
    """Why ``current`` (archive.toml's bytes) is not in force, as the one line a write command refuses with;
    None when it is the last applied version."""
    last = last_applied(layout)
    if last is None:
        return (f"{SETTINGS_FILE} was never applied (this archive predates controlled settings); review it and "
                f"run `{APPLY_COMMAND}` to put it in force; write commands refuse until then")
    if last[1].read_bytes() != current:
        rel = last[1].relative_to(layout.root).as_posix()
        return (f"{SETTINGS_FILE} differs from the settings last applied ({rel}); see `archive settings show`, "
                f"then run `{APPLY_COMMAND}` to put it in force (or restore it); write commands refuse until then")
    return None


def diff(before: bytes | None, after: bytes, before_name: str) -> str:
    """A unified diff people can read in the audit log; a first version is compared with the defaults."""
    old = (before.decode("utf-8") if before is not None else DEFAULT_TEXT).splitlines(keepends=True)
    new = after.decode("utf-8").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, before_name, SETTINGS_FILE, n=1))


def pending_diff(layout: Layout, current: bytes) -> tuple[int | None, str]:
    last = last_applied(layout)
    if last is None:
        return None, diff(None, current, "(defaults)")
    return last[0], diff(last[1].read_bytes(), current, last[1].relative_to(layout.root).as_posix())


def record(layout: Layout, current: bytes, actor: str, reason: str) -> dict[str, Any] | None:
    """Apply ``current`` as the next version (caller holds the archive lock and validated the bytes);
    None when it is the last applied version already."""
    last = last_applied(layout)
    if last is not None and last[1].read_bytes() == current:
        return None
    version = last[0] + 1 if last else 1
    _, changes = pending_diff(layout, current)
    rel = copy_path(layout, version).relative_to(layout.root).as_posix()
    txn.add_files(layout, {rel: current},
                  txn.Entry(actor, ACTION, reason=reason,
                            extra={"settings_sha256": sha256_bytes(current), "settings_version": version,
                                   "diff": changes}))
    return {"version": version, "file": rel, "sha256": sha256_bytes(current), "diff": changes}
