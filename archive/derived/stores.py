"""The derived stores behind small protocols, chosen in one place. Everything in them is rebuilt from the
record folders by `archive rebuild`; a damaged one is named with that command, never answered wrongly."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from archive.errors import ArchiveError
from archive.store.layout import Layout

if TYPE_CHECKING:
    from archive.search.query import Query
    from archive.search.similarity import Likeness
    from archive.settings import Settings


class Register(Protocol):
    """The complaint register (投诉登记台账): one row per live case."""

    @property
    def exists(self) -> bool: ...
    def create(self) -> None: ...
    def upsert(self, row: dict[str, Any]) -> None: ...
    def delete(self, number: str) -> None: ...
    def rebuild(self, rows: Iterable[dict[str, Any]]) -> int: ...
    def numbers(self) -> set[str]: ...
    def find(self, *, intake_sha256: str | None = None, duplicate_key: str | None = None) -> list[str]: ...
    def select(self, *, month: str | None = None, status: str | None = None,
               severity: str | None = None) -> list[dict[str, Any]]: ...


class SearchHit(Protocol):
    def as_json(self) -> dict[str, Any]: ...


class SearchEngine(Protocol):
    """The full-text index: one document per live case (search/extract.py makes it)."""

    @property
    def exists(self) -> bool: ...
    def create(self) -> None: ...
    def update(self, docs: Iterable[dict[str, Any]]) -> None: ...
    def delete(self, *numbers: str) -> None: ...
    def rebuild(self, docs: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None) -> int: ...
    def stamps(self) -> dict[str, str]: ...
    def compact(self) -> None: ...
    def search(self, q: Query, limit: int = 10, sort: str = "relevance") -> tuple[list[Any], int]: ...
    def similar(self, like: Likeness, limit: int = 5, before: str | None = None) -> list[dict[str, Any]]:
        """search/similarity.py: an engine answers its Lookup and leaves the ranking to similarity.rank."""
        ...


def open_register(layout: Layout, settings: Settings | None = None, *, required: bool = False) -> Register:
    """``required``: the store was made at init, so its absence is damage named with `archive rebuild`."""
    from archive.derived.register import SqliteRegister

    return SqliteRegister(layout.register, required=required)


def open_engine(layout: Layout, settings: Settings | None = None, *, required: bool = False) -> SearchEngine:
    from archive.search.engines.whoosh import SearchIndex

    return SearchIndex(layout.index, required=required)


class IndexDamaged(ArchiveError):
    """The full-text index cannot be read; it is derived, so `archive rebuild` recreates it."""


class IndexOutdated(IndexDamaged):
    """The index was written by an older analysis than this version searches with: its answers would be
    wrong without an error, so it is refused until `archive rebuild` writes it anew."""


@contextmanager
def index_guard() -> Iterator[None]:
    """Whoosh reports a damaged segment as whatever its reader trips on (EOFError, struct.error, zlib.error,
    KeyError…), so anything but our own errors is a damaged index here, named with its repair command."""
    try:
        yield
    except ArchiveError:
        raise
    except Exception as exc:
        raise IndexDamaged(f"the search index is damaged or unreadable ({type(exc).__name__}: {exc}); "
                           "run `archive rebuild` to recreate it from the records") from None
