"""The relevance set (bench/relevance.py) meets the goal: recall@3 ≥ 0.95, 2-character words and phrases included."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import relevance


def test_our_analyzer_finds_every_kind_of_query_in_the_top_three(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    numbers = relevance.build(root)
    from archive.search.engines.whoosh import SearchIndex
    from archive.search.query import parse

    index = SearchIndex(root / "index")
    missed = []
    for kind, query, key in relevance.QUERIES:
        top = [h.number for h in index.search(parse(query), limit=3)[0]]
        if numbers[key] not in top:
            missed.append((kind, query))
    assert len(relevance.QUERIES) >= 40
    assert 1 - len(missed) / len(relevance.QUERIES) >= 0.95, missed
    assert not [m for m in missed if m[0] in ("2-char in run", "phrase")], missed
