"""Answer a query string from the index: parse, search, shape the result for the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive.search.engines.whoosh import SearchIndex
from archive.search.query import parse


def search(index_dir: Path, text: str, limit: int = 10, sort: str = "relevance") -> dict[str, Any]:
    hits, total = SearchIndex(index_dir).search(parse(text), limit=limit, sort=sort)
    return {"hits": [h.as_json() for h in hits], "total": total}
