"""Finding past complaints: the query language over the index, and cases like a given one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archive.derived.stores import index_guard

if TYPE_CHECKING:
    from archive.derived.stores import SearchEngine
    from archive.services.archive import Archive


def search(arc: Archive, text: str | list[str] | tuple[str, ...], limit: int = 10, sort: str = "relevance",
           engine: SearchEngine | None = None) -> dict[str, Any]:
    """``text`` is the query as one string or as several (a shell's arguments): the same answer either way.
    ``engine``: one kept open by a long-lived process (the web page), so its searcher is not opened anew."""
    from archive.search.query import parse

    query = parse(text)
    with index_guard():
        hits, total = (engine or arc.engine).search(query, limit=limit, sort=sort)
    return {"hits": [h.as_json() for h in hits], "total": total}


def similar(arc: Archive, number: str, limit: int = 5, earlier_only: bool = False) -> list[dict[str, Any]]:
    """Earlier (or all) complaints most like this one, each with the reasons it is similar (search/similarity.py:
    the same lot, part or order, the same customer written longer or shorter, the same product, like words)."""
    from archive.record import folders
    from archive.record import reader as casefile
    from archive.search.extract import TextLimits, document
    from archive.search.similarity import likeness

    view = casefile.load(folders.find_record(arc.layout, number))
    before = view.case["received_at"] if earlier_only else None
    written = document(view, TextLimits.of(arc.settings))["passages"]
    like = likeness(view.number, view.case, "\n".join(text for _label, text in written))
    with index_guard():
        return arc.engine.similar(like, limit, before)
