"""The `archive` command group; each family of commands lives in its own module and attaches here."""

from __future__ import annotations

import click

from archive import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archive")
@click.option("--root", type=click.Path(file_okay=False), help="Archive root (else $ARCHIVE_ROOT, else .).")
@click.option("--actor", help="Who is acting, for the audit log (default: the OS user).")
@click.pass_context
def main(ctx: click.Context, root: str | None, actor: str | None) -> None:
    """Complaint records archive (SOP GL-004): intake, documents, signatures, search, retention."""
    ctx.ensure_object(dict)
    ctx.obj.update(root=root, actor=actor)
