"""Finding past complaints: the query language over the index, and cases like a given one."""

from __future__ import annotations

from typing import Any

from archive.derived.stores import index_guard
from archive.record import folders
from archive.record import reader as casefile
from archive.services.archive import Archive


def search(arc: Archive, text: str, limit: int = 10, sort: str = "relevance") -> dict[str, Any]:
    from archive.search.query import parse

    query = parse(text)
    with index_guard():
        hits, total = arc.engine.search(query, limit=limit, sort=sort)
    return {"hits": [h.as_json() for h in hits], "total": total}


def similar(arc: Archive, number: str, limit: int = 5, earlier_only: bool = False) -> list[dict[str, Any]]:
    view = casefile.load(folders.find_record(arc.layout, number))
    before = view.case["received_at"] if earlier_only else None
    with index_guard():
        return [h.as_json() for h in arc.engine.similar(number, limit, before)]
