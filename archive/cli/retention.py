"""Retention runs: what is due, the destruction plan, legal holds, purge with a certificate."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.cli import text
from archive.cli.app import main
from archive.cli.common import archive_command, credential, emit, fail, open_archive, progress_printer

if TYPE_CHECKING:
    from archive.services.archive import Archive

KEY = click.Path(dir_okay=False, path_type=Path)


def _day(option: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date YYYY-MM-DD")
        raise  # unreachable: fail exits


@main.group()
def retention() -> None:
    """Retention: due cases, the destruction plan, certificates, recomputed dates."""


@archive_command(retention, "due")
@click.option("--as-of", "as_of", required=True, metavar="YYYY-MM-DD",
              help="Judge by this date: a case is due when its retention date is before it.")
def retention_due(arc: Archive, as_of: str, as_json: bool) -> None:
    """Closed, unheld cases past their retention date (open and held cases are never listed)."""
    from archive.services.retention import due

    emit(as_json, due(arc, _day("--as-of", as_of)), text.due_table)


@archive_command(retention, "schedule")
@click.option("--from", "start", metavar="YYYY-MM", help="First month of the plan.")
@click.option("--to", "end", metavar="YYYY-MM", help="Last month of the plan.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the plan as .docx or .xlsx (outside the archive root; an existing file "
                   "only with --force).")
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
def retention_schedule(arc: Archive, start: str | None, end: str | None, out: Path | None, force: bool,
                       as_json: bool) -> None:
    """The destruction plan (销毁计划): what falls due month by month, by category; held cases apart."""
    from archive.services.retention import schedule, write_schedule

    plan = schedule(arc, start, end)
    if out is not None:
        plan["file"] = str(write_schedule(arc, plan, out, force=force))
    emit(as_json, plan, text.schedule_text)


@archive_command(retention, "certificates")
def retention_certificates(arc: Archive, as_json: bool) -> None:
    """Destruction certificates (销毁证明), kept permanently under certificates/."""
    from archive.services.retention import certificates

    emit(as_json, certificates(arc), functools.partial(text.certificates_table, zone=arc.settings.zone))


@archive_command(retention, "recompute", needs="write")
@click.option("--reason", required=True, help="Why recorded dates move (kept in the audit log).")
def retention_recompute(arc: Archive, reason: str, as_json: bool) -> None:
    """Move recorded retention dates to today's rules; every date that moved is listed and audited."""
    from archive.services.retention import recompute

    emit(as_json, {"moved": recompute(arc, reason)}, text.moved_table)


@archive_command(main, "hold", needs="write")
@click.argument("number")
@click.option("--reason", required=True, help="Why the case is held (litigation, an inspection...).")
def hold(arc: Archive, number: str, reason: str, as_json: bool) -> None:
    """Place a legal hold (法律保全): no destruction while any hold is active; work on the case goes on."""
    from archive.services.retention import hold as do_hold

    emit(as_json, do_hold(arc, number, reason), lambda d: f"{d['number']}  法律保全 {d['hold']}")


@archive_command(main, "release", needs="write")
@click.argument("number")
@click.option("--hold", "hold_id", required=True, help="The hold to release, e.g. H1.")
@click.option("--reason", required=True, help="Why the hold ends.")
def release(arc: Archive, number: str, hold_id: str, reason: str, as_json: bool) -> None:
    """Release one legal hold; the case stays held while another is active."""
    from archive.services.retention import release as do_release

    emit(as_json, do_release(arc, number, hold_id, reason), text.release_line)


@archive_command(main, "holds")
def holds(arc: Archive, as_json: bool) -> None:
    """Active legal holds."""
    from archive.services.retention import holds as do_holds

    emit(as_json, do_holds(arc), functools.partial(text.holds_table, zone=arc.settings.zone))


@archive_command(main, "purge")
@click.argument("numbers", nargs=-1)
@click.option("--as-of", "as_of", required=True, metavar="YYYY-MM-DD",
              help="Destroy what is due on this date (with --execute not later than today; a dry run may look ahead).")
@click.option("--approved-by", "approved_by", required=True,
              help="The approver: exactly the registered name (or 'title name') of the --sign-as key's owner.")
@click.option("--execute", is_flag=True, help="Destroy for real; without it a dry run that writes nothing.")
@click.option("--sign-as", "sign_as", type=KEY, help="The approver's private key (signs the certificate, 批准).")
@click.option("--witness", type=KEY, help="The witness's private key (another person, 监销); passphrase from "
                                          "$ARCHIVE_WITNESS_PASSPHRASE or a prompt.")
def purge(arc: Archive, numbers: tuple[str, ...], as_of: str, approved_by: str, execute: bool, sign_as: Path | None,
          witness: Path | None, as_json: bool) -> None:
    """Destroy every due, unheld, verified case (or the NUMBERs given) under a plan the approver and witness
    sign, carried out by the acting archivist (执行人); one certificate. A case that fails verification is
    kept and named (exit 1). An unfinished run is finished first, as approved, and nothing else is done."""
    from archive.services.retention import purge as do_purge

    day = _day("--as-of", as_of)
    if execute:  # a dry run reads; destroying writes, so it needs a writable archive and a person
        arc = open_archive("write")
    approver = credential(arc, sign_as) if sign_as and execute else None
    witness_cred = (credential(arc, witness, env="ARCHIVE_WITNESS_PASSPHRASE", prompt="witness passphrase")
                    if witness and execute else None)
    result = do_purge(arc, day, approved_by, execute=execute, approver=approver, witness=witness_cred,
                      numbers=list(numbers), progress=progress_printer("destroying", enabled=not as_json))
    emit(as_json, result.as_json(), text.purge_text)
    if result.refused:  # a check found a problem: those cases were kept, and a script must notice
        sys.exit(1)
