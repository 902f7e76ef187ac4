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


@main.command()
@click.argument("number")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reason", help="Why: needed to correct a recorded stage, and with --reopen.")
@click.option("--reopen", is_flag=True, help="Reopen a closed case (needs --reason).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def update(ctx: click.Context, number: str, file: Path, reason: str | None, reopen: bool, as_json: bool) -> None:
    """Add stages to a case: triage, investigation, CAPA, response, follow-up, closure."""
    from .operations import update as do_update
    from .stages import prepare

    if reason is not None and not reason.strip():
        fail("--reason: must not be empty")
    prep = prepare(file)
    result = do_update(open_archive(ctx, create=False), number, prep, reason=reason, reopen=reopen)
    if as_json:
        emit_json(result.as_json())
        return
    click.echo(f"{result.number}  {', '.join(result.stages)}  → status {result.status}"
               + (f", retention until {result.retention_until}" if result.retention_until else ""))
    for doc in result.documents:
        click.echo(f"    {doc}")


@main.command()
@click.argument("number")
@click.option("--pdf", is_flag=True, help="Also make the PDF of each latest document that lacks one.")
@click.option("--force", is_flag=True, help="Render every document again as a new version.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def render(ctx: click.Context, number: str, pdf: bool, force: bool, as_json: bool) -> None:
    """Render a case's documents from the current template versions (new versions; nothing overwritten)."""
    from .operations import render as do_render

    made = do_render(open_archive(ctx, create=False), number, pdf=pdf, force=force)
    if as_json:
        emit_json({"number": number, "documents": made})
    else:
        click.echo("\n".join(made) if made else f"{number}: documents are current")


@main.command()
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Date to judge by (default: today in time.zone).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def overdue(ctx: click.Context, as_of: str | None, as_json: bool) -> None:
    """Open cases past their reply, investigation or 8D deadline."""
    import datetime as dt

    from .operations import overdue as do_overdue
    from .report import overdue_table

    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of: {as_of!r} is not a date YYYY-MM-DD")
    rows = do_overdue(open_archive(ctx, create=False), day)
    if as_json:
        emit_json(rows)
    else:
        click.echo(overdue_table(rows))


@main.group()
def templates() -> None:
    """The controlled template register."""


@templates.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def templates_list(ctx: click.Context, as_json: bool) -> None:
    """Every registered template version, with its hash check."""
    from .operations import template_versions
    from .report import table

    rows = template_versions(open_archive(ctx.find_root(), create=False))
    if as_json:
        emit_json(rows)
    else:
        click.echo(table(["id", "文件编号", "标题", "版本", "生效日期", "文件", "校验"],
                         [[r["id"], r["document_number"], r["title"], r["version"], r["effective_date"],
                           r["file"], "ok" if r["intact"] else "已改动!"] for r in rows]))


@templates.command(name="register")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "template_id", required=True)
@click.option("--version", required=True)
@click.option("--title", help="Form title (needed for a new template id).")
@click.option("--effective", metavar="YYYY-MM-DD", help="Effective date (default: today).")
@click.pass_context
@user_errors
def templates_register(ctx: click.Context, file: Path, template_id: str, version: str, title: str | None,
                       effective: str | None) -> None:
    """Register FILE as a new version of a template; earlier versions stay."""
    from .operations import register_template

    t = register_template(open_archive(ctx.find_root(), create=False), file, template_id, version, title, effective)
    click.echo(f"registered {t.id} v{t.version} ({t.file}, sha256 {t.sha256[:16]}…)")
