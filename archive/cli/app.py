"""The `archive` command group; each family of commands lives in its own module and attaches here."""

from __future__ import annotations

import importlib

import click

from archive import __version__

# The module (archive/cli/NAME.py) that defines each command. `archive search` imports archive.cli.search
# alone, not every family and what they import; `archive --help` lists them all from here.
COMMANDS = {
    "intake": "cases", "import": "cases", "show": "cases", "list": "cases", "update": "cases",
    "render": "cases", "overdue": "cases",
    "dossier": "dossier",
    "keys": "integrity", "sign": "integrity", "seal": "integrity", "verify": "integrity",
    "init": "maintenance", "rebuild": "maintenance", "templates": "maintenance",
    "retention": "retention", "hold": "retention", "release": "retention", "holds": "retention",
    "purge": "retention",
    "search": "search", "similar": "search", "index": "search",
    "settings": "settings",
    "report": "reports", "export": "reports",
    "users": "users", "access-log": "users", "serve": "serve",
}


class _Families(click.Group):
    """Imports a command's module when the command is asked for by name."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"archive.cli.{COMMANDS[cmd_name]}")
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Families, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archive")
@click.option("--root", type=click.Path(file_okay=False), help="Archive root (else $ARCHIVE_ROOT, else .).")
@click.option("--actor", help="Who is acting, for the audit log (default: the OS user).")
@click.pass_context
def main(ctx: click.Context, root: str | None, actor: str | None) -> None:
    """Complaint records archive (SOP GL-004): intake, documents, signatures, search, retention."""
    ctx.ensure_object(dict)
    ctx.obj.update(root=root, actor=actor)
