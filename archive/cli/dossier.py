"""`archive dossier`: the inspector's export, and `archive dossier check DIR`, which verifies one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from archive.cli.app import main
from archive.cli.common import JSON_HELP, emit, open_archive, progress_printer, user_errors


class _DossierCommand(click.Command):
    """`dossier NUMBER... --out DIR` exports; `dossier check DIR` checks: the first word decides, so both
    forms of the contract stand on one command name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] == "check":
            ctx.meta["dossier.check"] = True
            return check_command.parse_args(ctx, args[1:])
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.meta.get("dossier.check"):
            return _check(**ctx.params)
        return super().invoke(ctx)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "NUMBER... | --query QUERY --out DIR [OPTIONS]")
        formatter.write_usage(ctx.command_path, "check DIR [--json]", prefix="       ")


@user_errors
def _check(directory: str, as_json: bool) -> None:
    from archive.errors import NotFound
    from archive.export.check import check

    folder = Path(directory)
    if not folder.is_dir():
        raise NotFound(f"{directory}: no such dossier folder")
    report = check(folder)
    emit(as_json, report.as_json() if as_json else report, _check_text)
    if not report.ok:
        sys.exit(1)


def _check_text(report: Any) -> str:
    lines = [f.line() for f in report.findings]
    lines.append(f"checked {report.cases} case(s), {report.signatures} signature(s): "
                 + ("no findings" if report.ok else f"{len(report.findings)} finding(s)"))
    return "\n".join(lines)


@click.command("check")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def check_command(directory: str, as_json: bool) -> None:
    """Verify a dossier with nothing but DIR; exit 1 on any finding (the parameters of `dossier check`)."""
    _check(directory, as_json)


@main.command("dossier", cls=_DossierCommand)
@click.argument("numbers", nargs=-1, metavar="NUMBER...")
@click.option("--query", help="Select by the search language, e.g. 'lot:B2026080315' or 'received:2026-11'.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="A new or empty folder outside the archive root: it receives dossier.pdf and bag/.")
@click.option("--include-versions", is_flag=True, help="Also print every earlier version of each document.")
@click.option("--sign-as", "sign_as", type=click.Path(dir_okay=False, path_type=Path), metavar="KEY",
              help="Sign the PDF with this signer's private key file.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@user_errors
def dossier(numbers: tuple[str, ...], query: str | None, out: Path, include_versions: bool, sign_as: Path | None,
            as_json: bool) -> None:
    """Export cases for an inspector: one bookmarked PDF and a BagIt bag of the electronic originals.

    `archive dossier check DIR` verifies such a folder with nothing but its contents."""
    from archive.services.dossier import export

    arc = open_archive("write")
    cred = None
    if sign_as is not None:
        from archive.cli.common import credential

        cred = credential(arc, sign_as)
        arc.acting_as(cred.signer.name, cred.signer.title, cred.signer.id,
                      "the dossier's PDF signature is its key owner's act")
    result = export(arc, list(numbers), query, out, include_versions=include_versions, signer=cred,
                    progress=progress_printer("dossier", enabled=not as_json, after=0.0))
    emit(as_json, result, lambda r: f"dossier of {len(r['cases'])} case(s): {r['pdf']} and {r['bag']}")

