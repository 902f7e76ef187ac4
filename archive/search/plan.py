"""How a query meets the index, for every engine alike: the terms a case's document carries besides its text
fields, and the query (query.Query) over them, built through a small Builder each engine implements. Both engines
answer the same query the same way because both are handed the same plan."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from archive.search.analysis import (
    covering_grams,
    grams,
    is_single_cjk_run,
    normalise,
    query_terms,
    searchable,
)
from archive.search.fold import latin_key, name_keys
from archive.search.query import Query, QueryError

if TYPE_CHECKING:
    from archive.search.similarity import Clause

Q = TypeVar("Q")
_SEPARATORS = re.compile(r"[-_./]")


class Builder(Protocol[Q]):
    """An engine's own query objects for the few shapes a plan uses."""

    def term(self, field: str, value: str) -> Q: ...
    def flag(self, field: str, value: bool) -> Q: ...
    def prefix(self, field: str, value: str) -> Q: ...
    def phrase(self, field: str, terms: list[str]) -> Q: ...
    def all(self, parts: list[Q]) -> Q: ...
    def any(self, parts: list[Q]) -> Q: ...
    def constant(self, query: Q, score: float) -> Q: ...
    def boost(self, query: Q, factor: float) -> Q: ...
    def received(self, first: int, last: int) -> Q: ...  # YYYYMMDD, inclusive
    def retention(self, first: str, last: str) -> Q: ...  # ISO dates, inclusive


def derived_terms(doc: dict[str, Any]) -> dict[str, list[str]]:
    """What a document is found by besides its text fields: the days it names, the 3- and 4-grams of its text and
    of its names (one term lookup for a 3–4 character Chinese word, see analysis.grams), and the names' pinyin and
    initials (customer:wjg)."""
    day = str(doc["received"])
    return {"days": sorted(set(doc.get("days", day).split()) | {day}),
            "grams": sorted(grams(doc["content"])),
            "name_grams": sorted(grams(doc["complainant"] + "\n" + doc["organisation"])),
            "name_keys": sorted(name_keys(doc["complainant"]) | name_keys(doc["organisation"]))}


def text_query(b: Builder[Q], field: str, text: str, gram_field: str | None = None) -> Q:
    """A word or phrase as the index holds it: one term, or its terms adjacent and in order."""
    if gram_field and is_single_cjk_run(text):
        run = searchable(text).strip()
        if 3 <= len(run) <= 4:
            return b.term(gram_field, run)
        if len(run) > 4:
            return b.all([b.term(gram_field, g) for g in covering_grams(run)])
    terms = query_terms(text)
    if not terms:
        raise QueryError(f"{text!r} has nothing to search for (no letters, digits or Chinese characters)")
    if len(terms) == 1:
        term = terms[0]
        # A lone CJK character is indexed inside bigrams (and alone at the end of a run).
        if len(term) == 1 and not term.isascii():
            return b.any([b.term(field, term), b.prefix(field, term)])
        parts = _SEPARATORS.split(term)
        if len(parts) > 1:
            # Part of a longer identifier (a file name, SN2026-0412-77 for SN2026-0412): its parts, all present.
            return b.any([b.term(field, term), b.all([b.term(field, p) for p in parts if p])])
        return b.term(field, term)
    return b.phrase(field, terms)


def scored(q: Query) -> bool:
    """Whether the query ranks its hits: filters alone admit cases with one equal score."""
    return bool(q.words or q.phrases or q.days)


def translate(q: Query, b: Builder[Q]) -> Q:
    """Words rank the hits (BM25); filters only admit them, so they are not scored."""
    parts: list[Q] = [text_query(b, "content", w, "grams") for w in q.words + q.phrases]
    parts += [b.term("days", d) for d in q.days]
    filters: list[Q] = []
    for name, values in q.terms.items():
        for v in values:
            if name == "lot":
                filters.append(text_query(b, "lot", v))
            elif name == "hold":
                filters.append(b.flag("hold", v == "true"))
            elif name == "signer":
                filters.append(b.term("signers", v))
            else:
                filters.append(b.term(name, v))
    for v in q.text_filters.get("customer", []):
        if is_single_cjk_run(v) and len(normalise(v).strip()) > 2:
            filters.append(text_query(b, "complainant", v, "name_grams"))
        else:
            either = [text_query(b, "complainant", v), text_query(b, "organisation", v)]
            if (key := latin_key(v)) is not None:
                either.append(b.term("name_keys", key))
            filters.append(b.any(either))
    if q.received:
        filters.append(b.received(*q.received))
    if q.retention:
        filters.append(b.retention(*q.retention))
    parts += [b.constant(f, 0.0 if parts else 1.0) for f in filters]
    return parts[0] if len(parts) == 1 else b.all(parts)


def likeness(b: Builder[Q], clauses: Sequence[Clause], words: Sequence[str], boost: float) -> Q | None:
    """similarity.Lookup.best's query: each clause's weight, as a constant, when a document holds any of its
    (field, term); and ``boost`` times the BM25 score of its content for each of ``words``. None: nothing to ask."""
    parts = [b.constant(b.any([b.term(f, t) for f, t in c.terms]), c.weight) for c in clauses]
    parts += [b.boost(b.term("content", w), boost) for w in words]
    return b.any(parts) if parts else None
