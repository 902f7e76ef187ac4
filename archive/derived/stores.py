"""The derived stores behind small protocols, chosen in one place. Everything in them is rebuilt from the
record folders by `archive rebuild`; a damaged one is named with that command, never answered wrongly."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
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
    def stream(self, *, received_from: str | None = None, received_to: str | None = None,
               status: str | None = None) -> Iterator[dict[str, Any]]: ...
    def select(self, *, month: str | None = None, status: str | None = None, severity: str | None = None,
               category: str | None = None, sort: str = "number", descending: bool = False,
               offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]: ...
    def count(self, *, month: str | None = None, status: str | None = None, severity: str | None = None,
              category: str | None = None) -> int: ...


class SearchHit(Protocol):
    def as_json(self) -> dict[str, Any]: ...


class SearchEngine(Protocol):
    """The full-text index: one document per live case (search/extract.py makes it)."""

    @property
    def exists(self) -> bool: ...
    def create(self) -> None: ...
    def check(self) -> None: ...  # IndexOutdated for another engine's index or an older format, before any write
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
    """The engine archive.toml [search] engine names; each module imports its engine only when chosen."""
    if settings is not None and settings.search_engine == "tantivy":
        from archive.search.engines.tantivy import SearchIndex as TantivyIndex

        return TantivyIndex(layout.index, required=required)
    from archive.search.engines.whoosh import SearchIndex

    return SearchIndex(layout.index, required=required)


class IndexDamaged(ArchiveError):
    """The full-text index cannot be read; it is derived, so `archive rebuild` recreates it."""


class IndexOutdated(IndexDamaged):
    """The index was written by an older analysis than this version searches with: its answers would be
    wrong without an error, so it is refused until `archive rebuild` writes it anew."""


FORMAT_FILE = "FORMAT"


def check_format(folder: Path, expected: str, engine: str, missing: str | None = None) -> None:
    """Refuse an index this engine cannot answer from: its FORMAT file names the engine and the version of the
    analysis that wrote it ("tantivy 1"; Whoosh's are bare numbers, "5", as they were before there was a second
    engine). ``missing``: the version an index without the file has (None: it is damaged)."""
    try:
        found = (folder / FORMAT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if missing is None:
            raise IndexDamaged(f"the search index has no {FORMAT_FILE} file; run `archive rebuild` to recreate it "
                               "from the records") from None
        found = missing
    except OSError as exc:
        raise IndexDamaged(f"the search index's format cannot be read ({exc.strerror or exc}); "
                           "run `archive rebuild` to recreate it from the records") from None
    if found == expected:
        return
    built, _, version = found.rpartition(" ")
    built = built or "whoosh"
    if built != engine:
        raise IndexOutdated(f"the search index was built by {built} and archive.toml [search] engine is {engine}; "
                            f"run `archive rebuild` to build the {engine} index")
    reads = expected.rpartition(" ")[2]
    age = "a newer" if version.isdigit() and reads.isdigit() and int(version) > int(reads) else "an older"
    raise IndexOutdated(f"the search index is of {age} format (version {version}; this version of archive "
                        f"reads {reads}); run `archive rebuild` to recreate it")


def fresh_beside(folder: Path) -> Path:
    """An empty folder beside ``folder`` for an index rebuilt whole; swap_in puts it in place when complete."""
    import shutil  # a rebuild's only: a search does without it (tests/test_startup.py)

    fresh = folder.with_name(folder.name + ".rebuild")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    return fresh


def swap_in(fresh: Path, folder: Path) -> None:
    """``fresh`` takes the place of ``folder``: renames, so a reader sees the old index or the new, never half."""
    import shutil

    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    fresh.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


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
