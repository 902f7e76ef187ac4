"""Command line: parses, calls the library, prints. Heavy libraries are imported inside commands."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__

if TYPE_CHECKING:
    from .operations import Archive

F = TypeVar("F", bound=Callable[..., Any])


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 2) -> None:
    click.echo(f"archive: {message}", err=True)
    sys.exit(code)


def user_errors(fn: F) -> F:
    """Turn the library's typed errors into one line on stderr and the contract's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import ArchiveError

        try:
            return fn(*args, **kwargs)
        except ArchiveError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


def open_archive(ctx: click.Context, *, create: bool = True) -> Archive:
    from .operations import Archive

    return Archive.open(ctx.obj["root"], ctx.obj["actor"], create=create)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archive")
@click.option("--root", type=click.Path(file_okay=False), help="Archive root (else $ARCHIVE_ROOT, else .).")
@click.option("--actor", help="Who is acting, for the audit log (default: the OS user).")
@click.pass_context
def main(ctx: click.Context, root: str | None, actor: str | None) -> None:
    """Complaint records archive (SOP GL-004): intake, documents, signatures, search, retention."""
    ctx.ensure_object(dict)
    ctx.obj.update(root=root, actor=actor)


@main.command()
@click.pass_context
@user_errors
def init(ctx: click.Context) -> None:
    """Create the archive layout and archive.toml (idempotent)."""
    from .layout import Layout
    from .operations import init as do_init

    layout = Layout.resolve(ctx.obj["root"])
    created = do_init(layout)
    click.echo(f"archive root {layout.root}: " + (", ".join(created) if created else "already initialised"))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the accepted cases.")
@click.option("--allow-absolute", is_flag=True, help="Allow absolute attachment paths (batch imports).")
@click.pass_context
@user_errors
def intake(ctx: click.Context, files: tuple[Path, ...], as_json: bool, allow_absolute: bool) -> None:
    """Validate, number and archive case files; each file is accepted or refused on its own."""
    from .errors import InputError
    from .operations import intake as do_intake
    from .operations import prepare

    arc = open_archive(ctx)
    results, refused = [], 0
    for path in files:
        try:
            result = do_intake(arc, prepare(path, allow_absolute=allow_absolute))
        except InputError as exc:
            click.echo(f"archive: refused {exc}", err=True)
            refused += 1
            continue
        results.append(result)
        if not as_json:
            reasons = f"  重大投诉: {'; '.join(result.reasons)}" if result.reasons else ""
            click.echo(f"{result.number}  {path}  severity={result.severity}  reply by {result.reply_due}{reasons}")
            for doc in result.documents:
                click.echo(f"    {doc}")
    if as_json:
        emit_json([r.as_json() for r in results])
    if refused:
        sys.exit(2)


@main.command()
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def show(ctx: click.Context, number: str, as_json: bool) -> None:
    """One case: the complaint, stages, documents, deadlines, retention."""
    from .operations import show as do_show
    from .report import show_text

    data = do_show(open_archive(ctx, create=False), number)
    if as_json:
        emit_json(data)
    else:
        click.echo(show_text(data))


@main.command(name="list")
@click.option("--month", metavar="YYYY-MM")
@click.option("--status", type=click.Choice(["registered", "investigating", "answered", "following_up", "closed"]))
@click.option("--severity", type=click.Choice(["critical", "major", "minor"]))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def list_(ctx: click.Context, month: str | None, status: str | None, severity: str | None, as_json: bool) -> None:
    """The complaint register, filtered."""
    from .operations import list_cases
    from .report import register_table

    if month is not None and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        fail(f"--month: {month!r} is not YYYY-MM")
    rows = list_cases(open_archive(ctx, create=False), month=month, status=status, severity=severity)
    if as_json:
        emit_json(rows)
    else:
        click.echo(register_table(rows))


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def rebuild(ctx: click.Context, as_json: bool) -> None:
    """Recreate the register (and index) from the record folders."""
    from .operations import rebuild as do_rebuild

    counts = do_rebuild(open_archive(ctx))
    if as_json:
        emit_json(counts)
    else:
        click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))
