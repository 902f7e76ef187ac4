"""The archivist's commands: search, similar cases, and the index's health."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from archive.cli import text
from archive.cli.app import main
from archive.cli.common import archive_command, emit

if TYPE_CHECKING:
    from archive.services.archive import Archive


@archive_command(main)
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000), help="Hits to show.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True,
              help="Order of the hits.")
def search(arc: Archive, query: tuple[str, ...], limit: int, sort: str, as_json: bool) -> None:
    """Full-text search. Words (split on spaces) must all occur; "a phrase", “a phrase” or 「a phrase」 must
    occur as written; a date alone (2026-11-03) finds the cases received, acted on or mentioning that day.

    Filters: lot:B2026080315 matches the case's product lot field only (a lot named only in the text is found
    by the plain query B2026080315, the case with that lot ranked first); severity: status: category:
    channel: take the code or the Chinese label (status:已结案, severity:重要); customer:华东 (or a name
    in pinyin or by its initials: customer:wangjianguo, customer:wjg); signer:张丽, signer:zhangli or
    signer:zl: a person who signed one of the case's documents (起草/审核/批准), received it, or is named as
    handling one of its steps (调查人, 答复人, 核准人...), matched by the whole name; received:2026-11,
    received:2026年11月 or received:2026-01..2026-06; retention:2029 or retention:..2029-12 (closed cases
    kept until then); hold:true."""
    from archive.services.search import search as do_search

    emit(as_json, do_search(arc, query, limit=limit, sort=sort), text.search_hits)


@archive_command(main)
@click.argument("number")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100), help="Cases to show.")
def similar(arc: Archive, number: str, limit: int, as_json: bool) -> None:
    """Complaints most like this one (SOP: consider similar complaints): the same lot, part or order number
    (in the product fields or written in the text), the same customer (also when one writes the name longer:
    江南市第二人民医院 / 江南市第二人民医院药剂科), the same product, then like words. Each hit names its
    reasons."""
    from archive.services.search import similar as do_similar

    emit(as_json, do_similar(arc, number, limit), text.similar_hits)


@main.group(name="index")
def index_group() -> None:
    """The full-text index."""


@archive_command(index_group, "check")
def index_check(arc: Archive, as_json: bool) -> None:
    """Report cases missing from the index or indexed from an older state; exit 1 if any."""
    from archive.services.maintenance import index_check as do_check

    report = do_check(arc)
    emit(as_json, report, text.index_report)
    if any(report.values()):
        sys.exit(1)
