"""Setting up and keeping the archive: init, rebuild, and the controlled template register."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.cli import text
from archive.cli.app import main
from archive.cli.common import archive_command, emit, progress_printer

if TYPE_CHECKING:
    from archive.services.archive import Archive
    from archive.store.layout import Layout


@archive_command(main, needs="root", json_output=False)
@click.option("--org", "org", metavar="NAME", help="The organisation printed on every form (archive.toml "
              "[organisation] name), in force from the first case.")
def init(layout: Layout, org: str | None) -> None:
    """Create the archive layout and archive.toml (idempotent)."""
    from archive.services.archive import init as do_init
    from archive.settings import EXAMPLE_ORGANISATION, load

    created = do_init(layout, click.get_current_context().find_root().obj["actor"], org)
    click.echo(f"archive root {layout.root}: " + (", ".join(created) if created else "already initialised"))
    if load(layout.root).organisation == EXAMPLE_ORGANISATION:
        click.echo(f"archive: warning: the example organisation {EXAMPLE_ORGANISATION} heads every form; name yours "
                   "with `archive init --org NAME` on a new archive, or edit [organisation] name in archive.toml and "
                   "run `archive settings apply --reason R`", err=True)


@archive_command(main, needs="write")
def rebuild(arc: Archive, as_json: bool) -> None:
    """Recreate the register and the full-text index from the record folders."""
    from archive.services.maintenance import rebuild as do_rebuild

    counts = do_rebuild(arc, progress_printer("indexing", enabled=not as_json, after=0.0))
    emit(as_json, counts, lambda c: ", ".join(f"{k}: {v}" for k, v in c.items()))


@main.group()
def templates() -> None:
    """The controlled template register."""


@archive_command(templates, "list")
def templates_list(arc: Archive, as_json: bool) -> None:
    """Every registered template version, with its hash check."""
    from archive.services.maintenance import template_versions

    emit(as_json, template_versions(arc), text.templates_table)


@archive_command(templates, "register", needs="write", json_output=False)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "template_id", required=True, help="Template id, e.g. record-form.")
@click.option("--version", required=True, help="The new version, e.g. 2.")
@click.option("--title", help="Form title (needed for a new template id).")
@click.option("--effective", metavar="YYYY-MM-DD", help="Effective date (default: today).")
def templates_register(arc: Archive, file: Path, template_id: str, version: str, title: str | None,
                       effective: str | None) -> None:
    """Register FILE as a new version of a template; earlier versions stay."""
    from archive.services.maintenance import register_template

    t = register_template(arc, file, template_id, version, title, effective)
    click.echo(f"registered {t.id} v{t.version} ({t.file}, sha256 {t.sha256[:16]}…)")
