"""The Whoosh index behind a small boundary: update, delete, search, similar, numbers. Nothing else in
the package imports whoosh, so another engine can stand here without touching callers."""

from __future__ import annotations

import functools
import itertools
import os
import random
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.derived.stores import FORMAT_FILE, IndexDamaged, check_format, fresh_beside, swap_in
from archive.search import plan
from archive.search.engines.whoosh_analyzer import analyzer
from archive.search.engines.whoosh_startup import (
    BOOLEAN,
    ID,
    KEYWORD,
    NUMERIC,
    STORED,
    TEXT,
    MappedStorage,
    Schema,
    sorting,
)
from archive.search.engines.whoosh_startup import index as windex
from archive.search.engines.whoosh_startup import query as wq
from archive.search.hits import Hit, hit
from archive.search.query import Query

if TYPE_CHECKING:  # similarity is imported by similar(): `archive search` does without its patterns
    from archive.search.similarity import Clause, Likeness

INDEX_NAME = "cases"
TIE_MARGIN = 40
MERGE_EVERY = 10
# What analysis.tokens and schema() write. Raise it whenever either changes what a document becomes in the
# index; an index with another version (or none: written before versions) is refused, naming `archive rebuild`.
#   2: a CJK run's first character alone (12盒), CJK characters joined across a line break, the days field
#   3: traditional characters folded to simplified; the name_keys field (pinyin and initials of the names)
#   4: passages, the labelled text people wrote, stored for highlights
#   5: signers (signer:), and the keys `similar` compares: id_keys, customer_keys, customer_parts, product_key
#   6: days written without their year (11月18日) read in the year of receipt
FORMAT_VERSION = 6


def schema() -> Schema:
    text = analyzer()
    return Schema(
        number=ID(stored=True, unique=True, sortable=True),
        received=NUMERIC(int, bits=32, stored=True, sortable=True, signed=False),
        received_at=STORED(),
        received_day=ID(),  # YYYYMMDD and YYYYMM as terms: date filters become a few term lookups
        received_month=ID(),
        days=KEYWORD(),  # YYYYMMDD of every day received, acted on or mentioned: a plain date query
        channel=ID(stored=True),
        category=ID(stored=True),
        severity=ID(stored=True),
        status=ID(stored=True),
        complainant=TEXT(analyzer=text, stored=True),
        organisation=TEXT(analyzer=text, stored=True),
        product=TEXT(analyzer=text, stored=True),
        lot=TEXT(analyzer=text, stored=True),
        identifiers=TEXT(analyzer=text),
        departments=TEXT(analyzer=text),
        retention_until=ID(stored=True),
        hold=BOOLEAN(stored=True),
        content=TEXT(analyzer=text, stored=True),
        passages=STORED(),  # [label, text] pairs: highlights show these, never the content field's codes
        # 3- and 4-grams of the CJK text, and of the names, without positions: see analysis.grams.
        grams=KEYWORD(scorable=True),
        name_grams=KEYWORD(scorable=True),
        # The complainant's and organisation's names in pinyin and by initials (wangjianguo, wjg): customer:.
        name_keys=KEYWORD(lowercase=True),
        # Who signed or handled the case, whole and by pinyin and initials (fold.person_keys): signer:.
        signers=KEYWORD(),
        # Exact keys `similar` compares, stored so it can name which ones a hit shares (search/similarity.py).
        id_keys=KEYWORD(stored=True),
        customer_keys=KEYWORD(stored=True),
        customer_parts=KEYWORD(stored=True),
        product_key=KEYWORD(stored=True),
        stamp=ID(stored=True),
    )


class _Whoosh:
    """plan.Builder: the plan's shapes as Whoosh queries."""

    def term(self, field: str, value: str) -> wq.Query:
        return wq.Term(field, value)

    def flag(self, field: str, value: bool) -> wq.Query:
        return wq.Term(field, value)

    def prefix(self, field: str, value: str) -> wq.Query:
        return wq.Prefix(field, value)

    def phrase(self, field: str, terms: list[str]) -> wq.Query:
        return wq.Phrase(field, terms)

    def all(self, parts: list[wq.Query]) -> wq.Query:
        return wq.And(parts)

    def any(self, parts: list[wq.Query]) -> wq.Query:
        return wq.Or(parts)

    def constant(self, query: wq.Query, score: float) -> wq.Query:
        return wq.ConstantScoreQuery(query, score)

    def boost(self, query: wq.Query, factor: float) -> wq.Query:
        return query.with_boost(factor)

    def received(self, first: int, last: int) -> wq.Query:
        return _date_range(first, last)

    def retention(self, first: str, last: str) -> wq.Query:
        return wq.TermRange("retention_until", first, last)


def translate(q: Query) -> wq.Query:
    return plan.translate(q, _Whoosh())


def _score(key: Any) -> float:
    """Whoosh reports the sort key as the score when sorting: ScoreFacet's part of it is -score."""
    if isinstance(key, tuple):
        return float(-[k for k in key if isinstance(k, float)][-1])
    return float(key or 0.0)


def _top(results: Any, limit: int) -> list[Any]:
    """The ``limit`` best hits, equal scores in case-number order so the answer does not depend on how the index
    happens to be segmented. Numbers come from the number column (not each hit's stored fields), read only if
    hits tie within the ``limit``."""
    numbers = functools.cache(lambda: results.searcher.reader().column_reader("number"))
    top: list[Any] = []
    ranked = sorted((r for r in results), key=lambda r: -round(_score(r.score), 6))  # no len(): see _total
    for _, tied in itertools.groupby(ranked, key=lambda r: round(_score(r.score), 6)):
        group = list(tied)
        top += sorted(group, key=lambda r: numbers()[r.docnum]) if len(group) > 1 else group
        if len(top) >= limit:
            break
    return top[:limit]


def _total(s: Any, wquery: wq.Query, results: Any) -> int:
    """How many cases match. Whoosh counts by running the query again unscored (len(results)); the cases holding
    one term, the query a word of 2 to 4 characters becomes, are its document frequency when no document of the
    index is deleted (an update deletes the old version until segments merge)."""
    if isinstance(wquery, wq.Term) and not s.reader().has_deletions():
        return int(s.reader().doc_frequency(wquery.fieldname, wquery.text))
    return len(results)


def _date_range(lo: int, hi: int) -> wq.Query:
    """Whole months as month terms, the ragged ends as day terms (a numeric range is slow in Whoosh)."""
    import datetime as dt

    start = dt.date(lo // 10000, lo // 100 % 100, lo % 100)
    end = dt.date(hi // 10000, hi // 100 % 100, hi % 100)
    terms: list[wq.Query] = []
    day = start
    while day <= end:
        month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if day.day == 1 and month_end <= end:
            terms.append(wq.Term("received_month", f"{day:%Y%m}"))
            day = month_end + dt.timedelta(days=1)
        else:
            terms.append(wq.Term("received_day", f"{day:%Y%m%d}"))
            day += dt.timedelta(days=1)
    return terms[0] if len(terms) == 1 else wq.Or(terms)


def _write_format(folder: Path) -> None:
    (folder / FORMAT_FILE).write_text(f"{FORMAT_VERSION}\n", encoding="utf-8")


class SearchIndex:
    def __init__(self, folder: Path, *, required: bool = False) -> None:
        self.folder = folder
        self.required = required  # made at init: without its table of contents it is damaged, not empty
        self._cached: Any = None

    def _open(self, create: bool = False) -> Any:
        self.check()
        if windex.exists_in(str(self.folder), indexname=INDEX_NAME):
            return MappedStorage(self.folder).open_index(INDEX_NAME)  # read in place, not copied
        if self.required:
            raise IndexDamaged(f"the search index is missing ({self.folder.name}/ has no table of contents); "
                               "run `archive rebuild` to recreate it from the records")
        if not create:
            return None
        return self.create()

    def create(self) -> Any:
        self.folder.mkdir(parents=True, exist_ok=True)
        ix = windex.create_in(str(self.folder), schema(), indexname=INDEX_NAME)
        _write_format(self.folder)
        return ix

    def check(self) -> None:
        """An index of another engine (its FORMAT names it) or of an older format, or one written before formats
        were (a table of contents without FORMAT: version 1), is refused naming `archive rebuild`."""
        if (self.folder / FORMAT_FILE).exists() or windex.exists_in(str(self.folder), indexname=INDEX_NAME):
            check_format(self.folder, str(FORMAT_VERSION), "whoosh", missing="1")

    @property
    def exists(self) -> bool:
        return bool(windex.exists_in(str(self.folder), indexname=INDEX_NAME))

    @staticmethod
    def _with_grams(doc: dict[str, Any]) -> dict[str, Any]:
        day = str(doc["received"])
        return {**doc, **{name: " ".join(terms) for name, terms in plan.derived_terms(doc).items()},
                "received_day": day, "received_month": day[:6]}

    def update(self, docs: Iterable[dict[str, Any]]) -> None:
        # Whoosh names new segments with the global `random` generator. A caller that seeded it (hypothesis
        # does, per example) would make two segments share a name and corrupt the index: reseed from the OS.
        random.seed(os.urandom(16))
        ix = self._open(create=True)
        writer = ix.writer(timeout=120)  # the archive lock already serialises writers; this is a backstop
        try:
            for doc in docs:
                writer.update_document(**self._with_grams(doc))
        except BaseException:
            writer.cancel()
            raise
        # Whoosh merges small segments on every commit by default, which cost ~110 ms per intake at a few
        # hundred cases and grows; merging once MERGE_EVERY segments have piled up keeps searches quick too.
        writer.commit(merge=len(writer.segments) >= MERGE_EVERY)

    def delete(self, *numbers: str) -> None:
        ix = self._open()
        if ix is None or not numbers:
            return
        writer = ix.writer(timeout=120)
        for number in numbers:
            writer.delete_by_term("number", number)
        writer.commit(merge=False)

    def compact(self) -> None:
        """Merge every segment into one, so deleted documents leave no bytes behind (a destruction run)."""
        ix = self._open()
        if ix is not None:
            ix.optimize()

    def rebuild(self, docs: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None) -> int:
        """A fresh index beside the old one, swapped in when complete."""
        fresh = fresh_beside(self.folder)
        ix = windex.create_in(str(fresh), schema(), indexname=INDEX_NAME)
        writer = ix.writer(limitmb=256, procs=1)
        count = 0
        for doc in docs:
            writer.add_document(**self._with_grams(doc))
            count += 1
            if progress:
                progress(count)
        writer.commit(optimize=True)
        _write_format(fresh)
        swap_in(fresh, self.folder)
        return count

    def stamps(self) -> dict[str, str]:
        ix = self._open()
        if ix is None:
            return {}
        with ix.searcher() as s:
            return {f["number"]: f["stamp"] for f in s.all_stored_fields()}

    def _searcher(self) -> Any:
        """One searcher per SearchIndex, opened again when the index has changed. Not Whoosh's refresh(): it keeps
        the readers of unchanged segments with the deletions they had, so a replaced or deleted case would still
        be found by a long-lived process (the web page)."""
        if self._cached is not None and not self._cached.up_to_date():
            self._cached.close()
            self._cached = None
        if self._cached is None:
            ix = self._open()
            if ix is None:
                return None
            self._cached = ix.searcher()
        return self._cached

    def search(self, q: Query, limit: int = 10, sort: str = "relevance") -> tuple[list[Hit], int]:
        s = self._searcher()
        if s is None:
            return [], 0
        wquery = translate(q)
        if sort == "date":
            facets = sorting.MultiFacet([sorting.FieldFacet("received", reverse=True),
                                         sorting.FieldFacet("number", reverse=True), sorting.ScoreFacet()])
            results = s.search(wquery, limit=limit, sortedby=facets)
            found = list(results)
        else:
            # Top-N by score. Whoosh skips blocks that cannot make the top, then counts the matches by running
            # the query again unscored: scoring every match instead is ~15 % faster at 20,000 cases and ~25 %
            # slower at 100,000 (bench/search.py's queries), so Whoosh's way stays.
            results = s.search(wquery, limit=limit + TIE_MARGIN)
            found = _top(results, limit)
        hits = [self._hit(r, _score(r.score), q.literals()) for r in found]
        return hits, _total(s, wquery, results)

    def similar(self, like: Likeness, limit: int = 5, before: str | None = None) -> list[dict[str, Any]]:
        from archive.search.similarity import rank

        s = self._searcher()
        return [] if s is None else rank(like, _Lookup(s), limit, before)

    @staticmethod
    def _hit(r: Any, score: float, literals: list[str]) -> Hit:
        return hit(r, score, literals)


class _Lookup:
    """What similarity.rank asks of an index, answered by a Whoosh searcher."""

    def __init__(self, searcher: Any) -> None:
        self.s = searcher

    def doc_count(self) -> int:
        return int(self.s.doc_count())

    def doc_frequency(self, term: str) -> int:
        return int(self.s.doc_frequency("content", term))

    def best(self, clauses: Sequence[Clause], words: Sequence[str], boost: float, limit: int
             ) -> list[tuple[Hit, float, dict[str, str]]]:
        from archive.search.similarity import KEY_FIELDS

        query = plan.likeness(_Whoosh(), clauses, words, boost)
        if query is None:
            return []
        return [(hit(r, r.score or 0.0, []), float(r.score or 0.0), {f: r.get(f, "") for f in KEY_FIELDS})
                for r in self.s.search(query, limit=limit)]
