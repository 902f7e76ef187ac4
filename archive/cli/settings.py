"""Controlled settings: archive.toml takes effect only through an audited `archive settings apply`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from archive.cli.app import main
from archive.cli.common import archive_command, emit

if TYPE_CHECKING:
    from archive.services.archive import Archive


@main.group()
def settings() -> None:
    """archive.toml under control: what is in force, and putting an edited file in force."""


def _applied_line(d: dict[str, Any]) -> str:
    if not d["changed"]:
        return f"archive.toml is unchanged since it was applied as version {d['version']}; nothing was written"
    return f"applied archive.toml as {d['file']} (sha256 {d['sha256'][:16]}…)" + (f"\n{d['diff']}" if d["diff"] else "")


@archive_command(settings, "apply", needs="settings")
@click.option("--reason", required=True, help="Why the settings change (kept in the audit log with the diff).")
def settings_apply(arc: Archive, reason: str, as_json: bool) -> None:
    """Put the edited archive.toml in force: audited with its hash and the diff against the last applied one."""
    from archive.services.settings import apply

    emit(as_json, apply(arc, reason), _applied_line)


def _show_text(d: dict[str, Any]) -> str:
    state = "in force" if d["applied"] else "NOT applied: write commands refuse it (archive settings apply --reason R)"
    head = f"archive.toml sha256 {d['sha256'][:16]}…: {state}; last applied version {d['version'] or '(none)'}"
    return head + (f"\n{d['diff']}" if d["diff"] else "")


@archive_command(settings, "show")
def settings_show(arc: Archive, as_json: bool) -> None:
    """Whether archive.toml is the applied version, and its diff against it."""
    from archive.services.settings import show

    emit(as_json, show(arc), _show_text)
