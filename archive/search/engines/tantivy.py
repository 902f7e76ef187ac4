"""The tantivy index, for large archives, behind the same boundary as Whoosh's (derived/stores.SearchEngine).

tantivy (Rust) is handed the package's own analysis as pre-tokenized text: it holds exactly the terms and positions
Whoosh holds (analysis.tokens, plan.derived_terms) and answers the same plan (plan.translate), so a query finds
the same cases with either engine; only its speed differs. Nothing else in the package imports tantivy, and this
module is imported only when archive.toml chooses it.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tantivy

from archive.derived.stores import FORMAT_FILE, IndexDamaged, check_format, fresh_beside, swap_in
from archive.search import plan
from archive.search.analysis import tokens
from archive.search.hits import Hit, best_first, hit
from archive.search.query import Query

if TYPE_CHECKING:
    from archive.search.similarity import Clause, Likeness

# The engine and the version of what a document becomes in it (schema() and _document()). Raise the number
# whenever either changes; an index of another engine or version is refused, naming `archive rebuild`.
FORMAT = "tantivy 2"  # 2: days written without their year (11月18日), as Whoosh format 6
TIE_MARGIN = 40
# Bytes of memory the writer fills before it writes a segment: one intake's few documents, or a whole rebuild.
WRITER_HEAP = 20_000_000
REBUILD_HEAP = 200_000_000
OPEN_ATTEMPTS = 3
WRITER_WAIT = 120.0  # seconds; the archive lock already serialises writers, this is a backstop
# What a hit shows, stored apart from the rest of the document, so a hit decodes only these (and the keys
# `similar` names its reasons by: similarity.KEY_FIELDS, imported only where needed, as searching needs none).
SHOWN = ("number", "received_at", "complainant", "product", "status", "passages", "stamp")
_LOCKS = (".tantivy-meta.lock", ".tantivy-writer.lock")


def schema() -> tantivy.Schema:
    """Every text field is pre-tokenized by analysis.tokens ("raw" is only the name tantivy records)."""
    from archive.search.similarity import KEY_FIELDS

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("number", fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("received", indexed=True, fast=True)  # YYYYMMDD: received: is a range, --sort date
    sb.add_unsigned_field("retention", indexed=True, fast=True)  # YYYYMMDD, 0 while open
    sb.add_boolean_field("hold", indexed=True)
    # Exact terms: customer: by pinyin (name_keys), signer: (signers), what `similar` compares (KEY_FIELDS).
    for name in ("channel", "category", "severity", "status", "name_keys", "signers", *KEY_FIELDS):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in ("content", "lot", "complainant", "organisation"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="position")
    for name in ("days", "grams", "name_grams"):  # scored, without positions (see analysis.grams)
        sb.add_text_field(name, tokenizer_name="raw", index_option="freq")
    sb.add_bytes_field("shown", stored=True)
    sb.add_bytes_field("source", stored=True)  # the rest of the document: compact() rewrites the index from it
    return sb.build()


def _analysed(text: str) -> tantivy.PreTokenizedString:
    return tantivy.PreTokenizedString("", [tantivy.Token(t.text, t.pos, t.start, t.end) for t in tokens(text)])


def _listed(terms: list[str]) -> tantivy.PreTokenizedString:
    return tantivy.PreTokenizedString("", [tantivy.Token(t, i, 0, 0) for i, t in enumerate(terms)])


def _document(doc: dict[str, Any]) -> tantivy.Document:
    from archive.search.similarity import KEY_FIELDS

    d = tantivy.Document()
    d.add_text("number", doc["number"])
    d.add_unsigned("received", int(doc["received"]))
    d.add_unsigned("retention", int(doc["retention_until"].replace("-", "") or 0))
    d.add_boolean("hold", bool(doc["hold"]))
    for name in ("channel", "category", "severity", "status"):
        d.add_text(name, doc[name])
    for name in ("content", "lot", "complainant", "organisation"):
        d.add_pre_tokenized_text(name, _analysed(doc[name]))
    for name, terms in plan.derived_terms(doc).items():
        d.add_pre_tokenized_text(name, _listed(terms))
    for name in ("signers", *KEY_FIELDS):
        d.add_pre_tokenized_text(name, _listed(doc.get(name, "").split()))
    shown = (*SHOWN, *KEY_FIELDS)
    d.add_bytes("shown", json.dumps({k: doc.get(k, "") for k in shown}, ensure_ascii=False).encode("utf-8"))
    d.add_bytes("source", json.dumps({k: v for k, v in doc.items() if k not in shown},
                                     ensure_ascii=False).encode("utf-8"))
    return d


class _Tantivy:
    """plan.Builder: the plan's shapes as tantivy queries."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema

    def term(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value)

    def flag(self, field: str, value: bool) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value)

    def prefix(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.regex_query(self.schema, field, re.escape(value) + ".*")

    def phrase(self, field: str, terms: list[str]) -> tantivy.Query:
        return tantivy.Query.phrase_query(self.schema, field, list(terms))

    def all(self, parts: list[tantivy.Query]) -> tantivy.Query:
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])

    def any(self, parts: list[tantivy.Query]) -> tantivy.Query:
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, p) for p in parts])

    def constant(self, query: tantivy.Query, score: float) -> tantivy.Query:
        return tantivy.Query.const_score_query(query, score)

    def boost(self, query: tantivy.Query, factor: float) -> tantivy.Query:
        return tantivy.Query.boost_query(query, factor)

    def received(self, first: int, last: int) -> tantivy.Query:
        return tantivy.Query.range_query(self.schema, "received", tantivy.FieldType.Unsigned, first, last)

    def retention(self, first: str, last: str) -> tantivy.Query:
        return tantivy.Query.range_query(self.schema, "retention", tantivy.FieldType.Unsigned,
                                         int(first.replace("-", "")), int(last.replace("-", "")))


def _total(result: tantivy.SearchResult) -> int:
    """How many documents matched (the binding's stubs do not declare the attribute its results carry)."""
    return int(getattr(result, "count", 0) or 0)


def _stored(doc: tantivy.Document, field: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(doc.get_first(field) or b"{}")
    return value


def _damaged(exc: BaseException) -> IndexDamaged:
    return IndexDamaged(f"the search index is damaged or unreadable ({type(exc).__name__}: {exc}); "
                        "run `archive rebuild` to recreate it from the records")


class SearchIndex:
    def __init__(self, folder: Path, *, required: bool = False) -> None:
        self.folder = folder
        self.required = required  # made at init: without its meta.json it is damaged, not empty
        self._ix: tantivy.Index | None = None
        self._seen: tuple[int, int, int] | None = None

    @property
    def exists(self) -> bool:
        return (self.folder / "meta.json").is_file()

    def check(self) -> None:
        if self.exists or (self.folder / FORMAT_FILE).exists():
            check_format(self.folder, FORMAT, "tantivy")

    def create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tantivy.Index(schema(), path=str(self.folder), reuse=False)
        (self.folder / FORMAT_FILE).write_text(FORMAT + "\n", encoding="utf-8")

    def _index(self, create: bool = False) -> tantivy.Index | None:
        """The index as last committed; opened again only when a commit has changed it since (meta.json)."""
        self.check()
        if not self.exists:
            if self.required:
                raise IndexDamaged(f"the search index is missing ({self.folder.name}/ has no meta.json); "
                                   "run `archive rebuild` to recreate it from the records")
            if not create:
                return None
            self.create()
        attempts = OPEN_ATTEMPTS
        while True:
            try:
                st = (self.folder / "meta.json").stat()
                seen = (st.st_ino, st.st_mtime_ns, st.st_size)
                if self._ix is None or seen != self._seen:
                    self._ix = tantivy.Index.open(str(self._readable()))
                    self._ix.config_reader("manual")
                    self._seen = seen
                return self._ix
            except (OSError, ValueError) as exc:
                # A writer's commit may remove the files of the segments it merged between our reading
                # meta.json and opening them: the next attempt reads the new meta.json.
                attempts -= 1
                if not attempts:
                    raise _damaged(exc) from None
                time.sleep(0.05)

    def _readable(self) -> Path:
        """tantivy locks a file in the index folder to read it. A copy on read-only media (a backup, an
        inspector's copy) is read through links from a temporary folder of our own: reading never writes."""
        lock = self.folder / _LOCKS[0]
        if os.access(lock, os.W_OK) and not os.statvfs(self.folder).f_flag & os.ST_RDONLY:
            return self.folder
        import shutil
        import tempfile
        import weakref

        shadow = Path(tempfile.mkdtemp(prefix="archive-index-"))
        weakref.finalize(self, shutil.rmtree, shadow, ignore_errors=True)
        for f in self.folder.iterdir():
            if f.name not in _LOCKS:
                (shadow / f.name).symlink_to(f.resolve())
        return shadow

    def _writer(self, ix: tantivy.Index, heap: int) -> tantivy.IndexWriter:
        deadline = time.monotonic() + WRITER_WAIT
        while True:
            try:
                return ix.writer(heap_size=heap, num_threads=1)
            except ValueError as exc:
                if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # another writer (a process outside the archive lock) holds the index

    def _commit(self, ix: tantivy.Index, change: Callable[[tantivy.IndexWriter], None]) -> None:
        writer = self._writer(ix, WRITER_HEAP)
        try:
            change(writer)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        writer.wait_merging_threads()  # merges finish (and old files go) before this process may exit

    def update(self, docs: Iterable[dict[str, Any]]) -> None:
        ix = self._index(create=True)
        assert ix is not None

        def add(writer: tantivy.IndexWriter) -> None:
            for doc in docs:
                writer.delete_documents_by_term("number", doc["number"])
                writer.add_document(_document(doc))

        self._commit(ix, add)

    def delete(self, *numbers: str) -> None:
        ix = self._index()
        if ix is None or not numbers:
            return

        def remove(writer: tantivy.IndexWriter) -> None:
            for number in numbers:
                writer.delete_documents_by_term("number", number)

        self._commit(ix, remove)

    def compact(self) -> None:
        """Rewrite the index without its deleted documents, so they leave no bytes behind (a destruction run).
        tantivy keeps a deleted document in its segment until a merge; this binding cannot ask for one, so the
        index is written anew from its own stored documents."""
        ix = self._index()
        if ix is None:
            return
        meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
        if not any(s.get("deletes") for s in meta.get("segments", [])):
            return
        searcher = ix.searcher()
        self.rebuild(self._documents(searcher, [a for _s, a in self._everything(searcher)]))

    def rebuild(self, docs: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None) -> int:
        """A fresh index beside the old one, swapped in when complete."""
        fresh = fresh_beside(self.folder)
        ix = tantivy.Index(schema(), path=str(fresh), reuse=False)
        writer = ix.writer(heap_size=REBUILD_HEAP, num_threads=1)
        count = 0
        for doc in docs:
            writer.add_document(_document(doc))
            count += 1
            if progress:
                progress(count)
        writer.commit()
        writer.wait_merging_threads()
        (fresh / FORMAT_FILE).write_text(FORMAT + "\n", encoding="utf-8")
        swap_in(fresh, self.folder)
        self._ix = None
        return count

    @staticmethod
    def _everything(searcher: tantivy.Searcher) -> list[tuple[Any, tantivy.DocAddress]]:
        return searcher.search(tantivy.Query.all_query(), max(1, searcher.num_docs), count=False).hits

    @staticmethod
    def _shown(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> dict[str, Any]:
        return _stored(searcher.doc(address), "shown")

    @staticmethod
    def _documents(searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> Iterator[dict[str, Any]]:
        for address in addresses:
            stored = searcher.doc(address)
            yield {**_stored(stored, "source"), **_stored(stored, "shown")}

    def stamps(self) -> dict[str, str]:
        ix = self._index()
        if ix is None:
            return {}
        searcher = ix.searcher()
        shown = (self._shown(searcher, a) for _s, a in self._everything(searcher))
        return {f["number"]: f["stamp"] for f in shown}

    def search(self, q: Query, limit: int = 10, sort: str = "relevance") -> tuple[list[Hit], int]:
        ix = self._index()
        if ix is None:
            return [], 0
        b = _Tantivy(ix.schema)
        query = plan.translate(q, b)
        searcher = ix.searcher()
        if sort == "date":
            found, total = self._by_date(searcher, query, b, limit)
        elif plan.scored(q):
            found, total = self._by_score(searcher, query, limit)
        else:
            # Filters alone give every case one score: the first cases by number, exactly, from the number column.
            result = searcher.search(query, limit, order_by_field="number", order=tantivy.Order.Asc)
            score = searcher.search(query, 1, count=False).hits[0][0] if result.hits else 0.0
            found, total = [(score, self._shown(searcher, a)) for _n, a in result.hits], _total(result)
        literals = q.literals()
        return [hit(shown, score, literals) for score, shown in found], total

    def _by_score(self, searcher: tantivy.Searcher, query: tantivy.Query, limit: int
                  ) -> tuple[list[tuple[float, dict[str, Any]]], int]:
        result = searcher.search(query, limit + TIE_MARGIN)
        hits = result.hits
        if len(hits) > limit:  # beyond the limit, only scores equal to the last one kept can still come in
            last = round(hits[limit - 1][0], 6)
            hits = [h for h in hits if round(h[0], 6) >= last]
        found = [(float(score), self._shown(searcher, a)) for score, a in hits]
        found.sort(key=lambda f: best_first(f[0], f[1]["number"]))
        return found[:limit], _total(result)

    def _by_date(self, searcher: tantivy.Searcher, query: tantivy.Query, b: _Tantivy, limit: int
                 ) -> tuple[list[tuple[float, dict[str, Any]]], int]:
        """Newest first, a day's cases by number, newest number first. The last day that makes the page is asked
        again for its highest numbers, so the page does not depend on how the index is segmented."""
        result = searcher.search(query, limit, order_by_field="received", order=tantivy.Order.Desc)
        if not result.hits:
            return [], _total(result)
        last_day = result.hits[-1][0]
        newer = [(day, self._shown(searcher, a), a) for day, a in result.hits if day > last_day]
        newer.sort(key=lambda f: (f[0], f[1]["number"]), reverse=True)
        on_last = searcher.search(b.all([query, b.constant(b.received(last_day, last_day), 0.0)]),
                                  len(result.hits) - len(newer), order_by_field="number", order=tantivy.Order.Desc)
        page = [(shown, a) for _day, shown, a in newer] + [(self._shown(searcher, a), a) for _n, a in on_last.hits]
        # Each hit still reports its relevance, as the score column of a date-sorted list.
        numbers = [shown["number"] for shown, _a in page]
        scored = searcher.search(b.all([query, b.constant(tantivy.Query.term_set_query(b.schema, "number", numbers),
                                                          0.0)]), len(numbers), count=False).hits
        scores = {(a.segment_ord, a.doc): float(s) for s, a in scored}
        return [(scores.get((a.segment_ord, a.doc), 0.0), shown) for shown, a in page], _total(result)

    def similar(self, like: Likeness, limit: int = 5, before: str | None = None) -> list[dict[str, Any]]:
        from archive.search.similarity import rank

        ix = self._index()
        return [] if ix is None else rank(like, _Lookup(ix.searcher(), _Tantivy(ix.schema)), limit, before)


class _Lookup:
    """What similarity.rank asks of an index, answered by a tantivy searcher."""

    def __init__(self, searcher: tantivy.Searcher, b: _Tantivy) -> None:
        self.s = searcher
        self.b = b

    def doc_count(self) -> int:
        return int(self.s.num_docs)

    def doc_frequency(self, term: str) -> int:
        return int(self.s.doc_freq("content", term))

    def best(self, clauses: Sequence[Clause], words: Sequence[str], boost: float, limit: int
             ) -> list[tuple[Hit, float, dict[str, str]]]:
        from archive.search.similarity import KEY_FIELDS

        query = plan.likeness(self.b, clauses, words, boost)
        if query is None:
            return []
        found = [(float(score), SearchIndex._shown(self.s, a)) for score, a in self.s.search(query, limit).hits]
        return [(hit(shown, score, []), score, {f: shown.get(f, "") for f in KEY_FIELDS}) for score, shown in found]
