"""Controlled settings: putting an edited archive.toml in force (audited), and saying what is in force."""

from __future__ import annotations

from typing import Any

from archive import settings as settings_mod
from archive.errors import StateError
from archive.integrity import settings_applied
from archive.services.archive import Archive
from archive.store import txn
from archive.store.hashing import sha256_bytes


def apply(arc: Archive, reason: str) -> dict[str, Any]:
    """Record archive.toml as the next applied version (``changed``: false when it already was: nothing
    written)."""
    if not reason.strip():
        raise StateError("--reason must say why the settings change")
    with arc.writing(settings_pending_ok=True, derived_needed=False):
        with txn.before_commit(f"{arc.layout.settings.name} could not be read"):
            current = arc.layout.settings.read_bytes()
        settings_mod.from_bytes(current, arc.layout.settings)  # the bytes applied are the bytes checked
        made = settings_applied.record(arc.layout, current, arc.actor, reason.strip())
        if made is None:
            last = settings_applied.last_applied(arc.layout)
            return {"changed": False, "version": last[0] if last else None, "sha256": sha256_bytes(current)}
        return {"changed": True, **made}


def show(arc: Archive) -> dict[str, Any]:
    current = arc.settings_bytes or b""
    version, changes = settings_applied.pending_diff(arc.layout, current)
    applied = settings_applied.unapplied(arc.layout, current) is None
    return {"applied": applied, "version": version, "sha256": sha256_bytes(current),
            "diff": "" if applied else changes}
