"""QA's commands: intake, update, render, and reading cases and the register."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from archive import vocab
from archive.cli import text
from archive.cli.app import main
from archive.cli.common import MEANINGS, Coded, archive_command, credential, emit, emit_json, fail, optional_day, say

if TYPE_CHECKING:
    from archive.services.archive import Archive

SIGN_AS_HELP = "Sign the documents this command renders with this private key."


@archive_command(main, needs="write")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--allow-absolute", is_flag=True, help="Allow absolute attachment paths (batch imports).")
@click.option("--sign-as", "sign_as", type=click.Path(dir_okay=False, path_type=Path), help=SIGN_AS_HELP)
@click.option("--meaning", type=MEANINGS, default="drafted", show_default=True, help="Meaning of --sign-as.")
@click.option("--allow-duplicate", is_flag=True,
              help="Archive a file or complaint even when the same one was archived before.")
def intake(arc: Archive, files: tuple[Path, ...], allow_absolute: bool, sign_as: Path | None, meaning: str,
           allow_duplicate: bool, as_json: bool) -> None:
    """Validate, number and archive case files; each file is accepted or refused on its own, and each
    gets its own result (with --json: one entry per file, with its number or its error)."""
    from archive.errors import OutputError
    from archive.services.cases import IntakeFailure, IntakeResult, intake_files

    done: list[IntakeResult | IntakeFailure] = []
    lost: list[OutputError] = []  # stdout failed: the batch goes on, and says at the end what it archived

    def report(outcome: IntakeResult | IntakeFailure) -> None:
        done.append(outcome)
        if isinstance(outcome, IntakeFailure):
            verb = "refused" if outcome.refused else f"failed {outcome.file}:"
            click.echo(text.inert(f"archive: {verb} {outcome.error}"), err=True)
            return
        if outcome.calendar_unknown:
            click.echo(f"archive: {text.calendar_warning(outcome.number, outcome.calendar_unknown)}", err=True)
        if outcome.error:
            click.echo(text.inert(f"archive: {outcome.file}: {outcome.error}"), err=True)
        if not as_json and not lost:
            try:
                say(text.inert(text.intake_lines(outcome)))
            except OutputError as exc:
                lost.append(exc)

    cred = credential(arc, sign_as) if sign_as else None
    try:
        intake_files(arc, list(files), allow_absolute=allow_absolute, cred=cred, meaning=meaning, report=report,
                     allow_duplicate=allow_duplicate)
        if as_json:
            emit_json([r.as_json() for r in done])
        if lost:
            raise lost[0]
    except OutputError as exc:
        archived = [r.number for r in done if isinstance(r, IntakeResult)]
        raise OutputError(f"{exc}; archived: {', '.join(archived) or 'nothing'}"
                          + ("; `archive list` shows them" if archived else "")) from None
    codes = [r.exit_code for r in done if r.exit_code]
    if codes:
        sys.exit(max(codes))


@archive_command(main, "import", needs="write")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--pdf/--no-pdf", default=False, show_default=True,
              help="Make the PDFs now; by default they are made later, in batches, by `archive render --pdf`.")
@click.option("--allow-absolute", is_flag=True, help="Allow absolute attachment paths.")
@click.option("--allow-duplicate", is_flag=True,
              help="Archive a file or complaint even when the same one was archived before.")
def import_(arc: Archive, folder: Path, pdf: bool, allow_absolute: bool, allow_duplicate: bool,
            as_json: bool) -> None:
    """Take in every *.json case file under FOLDER (a tree, in path order) as one bulk intake: each case
    archived on its own, the index committed per batch; a summary of what was archived and each refused
    file with its reason (exit 2 if any was refused)."""
    from archive.services.cases import import_tree

    summary = import_tree(arc, folder, pdf=pdf, allow_absolute=allow_absolute, allow_duplicate=allow_duplicate,
                          progress=_progress_bar(enabled=not as_json))
    emit(as_json, summary.as_json(), lambda _d: text.inert(text.import_summary(summary)))
    if summary.exit_code:
        sys.exit(summary.exit_code)


def _progress_bar(*, enabled: bool, width: int = 30) -> Callable[[int, int], None]:
    """A bar on stderr, only on a terminal (a log or a pipe gets the summary alone)."""
    tty = enabled and sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if tty and total:
            filled = width * done // total
            click.echo(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", err=True, nl=done == total)

    return show


@archive_command(main)
@click.argument("number")
def show(arc: Archive, number: str, as_json: bool) -> None:
    """One case: the complaint, stages, documents, deadlines, retention."""
    from archive.services.cases import show as do_show

    emit(as_json, do_show(arc, number), functools.partial(text.show_text, zone=arc.settings.zone))


def _month(value: str | None) -> str | None:
    """The month as the register stores it; 2026年11月 is how the tables print it, so it is taken too."""
    from archive.errors import StateError  # what list_cases refuses a month with
    from archive.search.query import iso_date

    if value is None:
        return None
    month = iso_date(value)
    if not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        raise StateError(f"--month: {value!r} is not YYYY-MM or YYYY年M月 (2026-11, 2026年11月)")
    return month


@archive_command(main, "list")
@click.option("--month", metavar="YYYY-MM", help="Received in this month: 2026-11 or 2026年11月.")
@click.option("--status", type=Coded(vocab.STATUS))
@click.option("--severity", type=Coded(vocab.SEVERITY))
def list_(arc: Archive, month: str | None, status: str | None, severity: str | None, as_json: bool) -> None:
    """The complaint register (投诉登记台账), filtered."""
    from archive.services.cases import list_cases

    emit(as_json, list_cases(arc, month=_month(month), status=status, severity=severity), text.register_table)


@archive_command(main, needs="write")
@click.argument("number")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reason", help="Why: needed to correct a recorded stage, and with --reopen.")
@click.option("--reopen", is_flag=True, help="Reopen a closed case (needs --reason).")
@click.option("--sign-as", "sign_as", type=click.Path(dir_okay=False, path_type=Path), help=SIGN_AS_HELP)
@click.option("--meaning", type=MEANINGS, default="drafted", show_default=True, help="Meaning of --sign-as.")
def update(arc: Archive, number: str, file: Path, reason: str | None, reopen: bool, sign_as: Path | None,
           meaning: str, as_json: bool) -> None:
    """Add stages to a case: triage, investigation, CAPA, response, follow-up, closure."""
    from archive.rules.stages import prepare
    from archive.services.cases import update as do_update

    if reason is not None and not reason.strip():
        fail("--reason: must not be empty")
    prep = prepare(file)
    cred = credential(arc, sign_as) if sign_as else None
    result = do_update(arc, number, prep, reason=reason, reopen=reopen, cred=cred, meaning=meaning)
    emit(as_json, result.as_json(), text.update_lines)


@archive_command(main, needs="write")
@click.argument("numbers", metavar="NUMBER...", nargs=-1, required=True)
@click.option("--pdf", is_flag=True, help="Also make the PDF of each latest document that lacks one (several "
              "cases: 50 to a LibreOffice run).")
@click.option("--force", is_flag=True, help="Render every document again as a new version.")
@click.option("--form", "forms", multiple=True, metavar="ID",
              help="Only this form (repeatable), of either set: register-form, record-form, investigation-report, "
                   "capa-record, response-feedback, eightd-report, pcb-complaint (客户抱怨处理表).")
def render(arc: Archive, numbers: tuple[str, ...], pdf: bool, force: bool, forms: tuple[str, ...],
           as_json: bool) -> None:
    """Render cases' documents from the current template versions (new versions; nothing overwritten).
    Several numbers (with --json: a list, one entry per case) convert their PDFs in batches."""
    from archive.services.cases import render as do_render
    from archive.services.cases import render_many

    def lines(d: dict[str, Any]) -> str:
        return "\n".join(d["documents"]) or f"{d['number']}: documents are current"

    if len(numbers) == 1:
        made = do_render(arc, numbers[0], pdf=pdf, force=force, forms=list(forms) or None)
        emit(as_json, {"number": numbers[0], "documents": made}, lines)
        return
    results = render_many(arc, list(numbers), pdf=pdf, force=force, forms=list(forms) or None)
    emit(as_json, [{"number": n, "documents": made} for n, made in results.items()],
         lambda rows: "\n".join(lines(r) for r in rows))


@archive_command(main)
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Date to judge by (default: today in time.zone).")
def overdue(arc: Archive, as_of: str | None, as_json: bool) -> None:
    """Open cases past their reply, investigation or 8D deadline."""
    from archive.services.cases import overdue as do_overdue

    rows: list[dict[str, Any]] = do_overdue(arc, optional_day("--as-of", as_of))
    emit(as_json, rows, text.overdue_table)
