"""The Whoosh index behind a small boundary: update, delete, search, similar, numbers. Nothing else in
the package imports whoosh, so another engine can stand here without touching callers."""

from __future__ import annotations

import os
import random
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh import query as wq
from whoosh import sorting
from whoosh.fields import BOOLEAN, ID, NUMERIC, STORED, TEXT, Schema

from .analysis import query_terms
from .highlight import snippets
from .query import Query, QueryError
from .whoosh_analyzer import analyzer

INDEX_NAME = "cases"
SCHEMA_VERSION = "1"
SIMILAR_FLOOR = 0.2
_SEPARATORS = re.compile(r"[-_./]")


def schema() -> Schema:
    text = analyzer()
    return Schema(
        number=ID(stored=True, unique=True, sortable=True),
        received=NUMERIC(int, bits=32, stored=True, sortable=True, signed=False),
        received_at=STORED(),
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
        stamp=ID(stored=True),
    )


@dataclass(frozen=True)
class Hit:
    number: str
    score: float
    highlights: list[str]
    received_at: str
    complainant: str
    product: str
    status: str

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _text_query(field: str, text: str) -> wq.Query:
    """A word or phrase as the index holds it: one term, or its terms adjacent and in order."""
    terms = query_terms(text)
    if not terms:
        raise QueryError(f"{text!r} has nothing to search for (no letters, digits or Chinese characters)")
    if len(terms) == 1:
        term = terms[0]
        # A lone CJK character is indexed inside bigrams (and alone at the end of a run).
        if len(term) == 1 and not term.isascii():
            return wq.Or([wq.Term(field, term), wq.Prefix(field, term)])
        parts = _SEPARATORS.split(term)
        if len(parts) > 1:
            # Part of a longer identifier (a file name, SN2026-0412-77 for SN2026-0412): its parts, all present.
            return wq.Or([wq.Term(field, term), wq.And([wq.Term(field, p) for p in parts if p])])
        return wq.Term(field, term)
    return wq.Phrase(field, terms)


def translate(q: Query) -> wq.Query:
    parts: list[wq.Query] = [_text_query("content", w) for w in q.words + q.phrases]
    for name, values in q.terms.items():
        for v in values:
            if name == "lot":
                parts.append(_text_query("lot", v))
            elif name == "hold":
                parts.append(wq.Term("hold", v == "true"))
            else:
                parts.append(wq.Term(name, v))
    for v in q.text_filters.get("customer", []):
        parts.append(wq.Or([_text_query("complainant", v), _text_query("organisation", v)]))
    if q.received:
        parts.append(wq.NumericRange("received", q.received[0], q.received[1]))
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _score(key: Any) -> float:
    """Whoosh reports the sort key as the score when sorting: ScoreFacet's part of it is -score."""
    if isinstance(key, tuple):
        return float(-[k for k in key if isinstance(k, float)][-1])
    return float(key or 0.0)


class SearchIndex:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _open(self, create: bool = False) -> Any:
        if windex.exists_in(str(self.folder), indexname=INDEX_NAME):
            return windex.open_dir(str(self.folder), indexname=INDEX_NAME)
        if not create:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        return windex.create_in(str(self.folder), schema(), indexname=INDEX_NAME)

    @property
    def exists(self) -> bool:
        return bool(windex.exists_in(str(self.folder), indexname=INDEX_NAME))

    def update(self, docs: Iterable[dict[str, Any]]) -> None:
        # Whoosh names new segments with the global `random` generator. A caller that seeded it (hypothesis
        # does, per example) would make two segments share a name and corrupt the index: reseed from the OS.
        random.seed(os.urandom(16))
        ix = self._open(create=True)
        writer = ix.writer(timeout=120)  # the archive lock already serialises writers; this is a backstop
        try:
            for doc in docs:
                writer.update_document(**doc)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def delete(self, number: str) -> None:
        ix = self._open()
        if ix is None:
            return
        writer = ix.writer(timeout=120)
        writer.delete_by_term("number", number)
        writer.commit()

    def rebuild(self, docs: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None) -> int:
        """A fresh index beside the old one, swapped in when complete."""
        fresh = self.folder.with_name(self.folder.name + ".rebuild")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        ix = windex.create_in(str(fresh), schema(), indexname=INDEX_NAME)
        writer = ix.writer(limitmb=256, procs=1)
        count = 0
        for doc in docs:
            writer.add_document(**doc)
            count += 1
            if progress:
                progress(count)
        writer.commit(optimize=True)
        old = self.folder.with_name(self.folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.folder.exists():
            self.folder.rename(old)
        fresh.rename(self.folder)
        shutil.rmtree(old, ignore_errors=True)
        return count

    def stamps(self) -> dict[str, str]:
        ix = self._open()
        if ix is None:
            return {}
        with ix.searcher() as s:
            return {f["number"]: f["stamp"] for f in s.all_stored_fields()}

    def search(self, q: Query, limit: int = 10, sort: str = "relevance") -> tuple[list[Hit], int]:
        ix = self._open()
        if ix is None:
            return [], 0
        wquery = translate(q)
        with ix.searcher() as s:
            # The case number breaks ties, so the order does not depend on how the index was segmented.
            if sort == "date":
                # The score facet changes no order (numbers are unique); it is there to report the score.
                facets = sorting.MultiFacet([sorting.FieldFacet("received", reverse=True),
                                             sorting.FieldFacet("number", reverse=True), sorting.ScoreFacet()])
            else:
                facets = sorting.MultiFacet([sorting.ScoreFacet(), sorting.FieldFacet("number")])
            results = s.search(wquery, limit=limit, sortedby=facets)
            total = len(results)
            hits = [self._hit(r, _score(r.score), q.literals()) for r in results]
        return hits, total

    def similar(self, number: str, limit: int = 5, before: str | None = None) -> list[Hit]:
        ix = self._open()
        if ix is None:
            return []
        with ix.searcher() as s:
            docnum = s.document_number(number=number)
            if docnum is None:
                return []
            terms = [t for t, _ in s.key_terms([docnum], "content", numterms=24)]
            if not terms:
                return []
            results = s.search(wq.Or([wq.Term("content", t) for t in terms]), limit=limit + 50)
            # The case matches its own key terms best; a case sharing only a few common words is not similar.
            floor = SIMILAR_FLOOR * max((r.score or 0.0 for r in results if r["number"] == number), default=0.0)
            hits = []
            for r in results:
                if r["number"] == number or (before is not None and r["received_at"] >= before):
                    continue
                if (r.score or 0.0) < floor:
                    break
                hits.append(self._hit(r, r.score or 0.0, []))
                if len(hits) == limit:
                    break
        return hits

    @staticmethod
    def _hit(r: Any, score: float, literals: list[str]) -> Hit:
        return Hit(r["number"], round(float(score), 4), snippets(r["content"], literals) if literals else [],
                   r["received_at"], r["complainant"], r["product"], r["status"])
