"""What starting Whoosh costs a command: its imports, and opening the index. Both made cheap here.

Imports: Whoosh imports modules for features this package never uses, some of which load far more:
- whoosh.compat: urllib.request for `urlretrieve` (it loads http.client, email, ssl), html for `escape` (its
  entity tables);
- whoosh.reading: the cached_property package for one property (it imports asyncio);
- whoosh.query.terms: whoosh.lang.morph_en, English word-variation tables built at import (Variations queries);
- whoosh.analysis: whoosh.lang.porter, the Porter stemmer's patterns compiled at import (StemFilter);
- its file storage: tempfile and shutil (with bz2 and lzma) for the temporary and compound files of a writer;
- its hash tables: hashlib for md5, which loads OpenSSL (the interpreter's own _md5 gives the same hash).
While Whoosh's modules import, each stands in as a module whose functions load the real one when called; then
the stand-ins leave sys.modules, so any later `import urllib.request` gets the real module.

Opening: Whoosh maps a segment file and then copies each part it opens (the term index, the postings) into a
BytesIO, so a search at 20,000 cases read ~60 MB before looking up a word. MappedStorage hands Whoosh the
mapped bytes themselves, read in place.
"""

from __future__ import annotations

import functools
import importlib
import mmap
import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


# Module-level functions (not closures), so that an analyzer holding one (jieba's StemFilter holds `stem`)
# still pickles into an index's schema.
def _urlretrieve(*args: Any, **kwargs: Any) -> Any:
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)


def _variations(word: str) -> Any:
    from whoosh.lang.morph_en import variations

    return variations(word)


def _stem(word: str) -> Any:
    from whoosh.lang.porter import stem

    return stem(word)


def _escape(*args: Any, **kwargs: Any) -> Any:
    from html import escape

    return escape(*args, **kwargs)


def _copyfileobj(*args: Any, **kwargs: Any) -> Any:
    from shutil import copyfileobj

    return copyfileobj(*args, **kwargs)


def _gettempdir() -> Any:
    import tempfile

    return tempfile.gettempdir()


_STAND_INS: dict[str, dict[str, Any]] = {
    "urllib.request": {"urlretrieve": _urlretrieve},
    # The standard library's cached_property does what whoosh.reading asks of it (a value computed once).
    "cached_property": {"cached_property": functools.cached_property},
    "whoosh.lang.morph_en": {"variations": _variations},
    "whoosh.lang.porter": {"stem": _stem},
    "html": {"escape": _escape},  # html.entities' tables, for highlighting as HTML
    "tempfile": {"gettempdir": _gettempdir},  # shutil, bz2, lzma, for a RAM index's temporary files
    "shutil": {"copyfileobj": _copyfileobj},  # for a writer assembling a compound segment
}
try:
    # The term index hashes with md5: the interpreter's own, not hashlib's, which first loads OpenSSL.
    from _md5 import md5 as _builtin_md5  # type: ignore[import-not-found]
except ImportError:  # an interpreter built without it: hashlib as usual
    pass
else:
    _STAND_INS["hashlib"] = {"md5": _builtin_md5}


class _StandIn(types.ModuleType):
    """A module standing in for a real one: what Whoosh reaches for beyond the few functions above (a writer's
    tempfile.mkdtemp, a pool's shutil.rmtree) is taken from the real module, imported then, so a stand-in can
    make nothing fail, only defer an import."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        placed = sys.modules.get(self.__name__) is self
        if placed:
            del sys.modules[self.__name__]
        try:
            real = importlib.import_module(self.__name__)
        finally:
            if placed:
                sys.modules[self.__name__] = self
        return getattr(real, attr)


@contextmanager
def _standing_in() -> Iterator[None]:
    placed: dict[str, types.ModuleType] = {}
    for name, attributes in _STAND_INS.items():
        if name not in sys.modules:
            stand_in = _StandIn(name, "stands in while Whoosh imports (archive.search.engines.whoosh_startup)")
            stand_in.__dict__.update(attributes)
            placed[name] = sys.modules[name] = stand_in
    try:
        yield
    finally:
        for name, module in placed.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


with _standing_in():
    from whoosh import analysis, index, query, sorting
    from whoosh.codec import whoosh3  # noqa: F401  (what opening an index imports, under the stand-ins too)
    from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.structfile import BufferFile

__all__ = ["BOOLEAN", "ID", "KEYWORD", "NUMERIC", "STORED", "TEXT", "MappedStorage", "Schema", "analysis", "index",
           "query", "sorting"]


class _InPlace:
    """A file's read side (read, readline, seek, tell) over a memoryview, copying only what is read."""

    __slots__ = ("_pos", "_view")

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start, end = self._pos, len(self._view)
        if size is not None and size >= 0:
            end = min(end, start + size)
        self._pos = max(start, end)
        return self._view[start:end].tobytes()

    def readline(self, size: int | None = -1) -> bytes:
        start, end = self._pos, len(self._view)
        if size is not None and size >= 0:
            end = min(end, start + size)
        stop = start
        while stop < end:
            chunk = self._view[stop:min(end, stop + 4096)].tobytes()
            newline = chunk.find(b"\n")
            if newline >= 0:
                stop += newline + 1
                break
            stop += len(chunk)
        self._pos = stop
        return self._view[start:stop].tobytes()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: len(self._view)}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        pass  # the mapping is released with the last view of it


class _Mapped(BufferFile):  # type: ignore[misc]
    """A file of the index mapped into memory; its parts (a compound segment's files) are views of it."""

    def __init__(self, view: memoryview, name: str | None = None, onclose: Any = None) -> None:
        self._buf = view
        self._name = name
        self.file = _InPlace(view)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def subset(self, position: int, length: int, name: str | None = None) -> _Mapped:
        return _Mapped(self._buf[position:position + length], name=name or self._name)


class MappedStorage(FileStorage):  # type: ignore[misc]
    """An index folder whose files are read in place. Whoosh's own mapping is turned off (supports_mmap):
    a compound segment then asks its file for each part by ``subset``, which gives a view, not a copy."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder), supports_mmap=False)

    def open_file(self, name: str, **kwargs: Any) -> Any:
        with open(self._fpath(name), "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:  # nothing to map (mmap refuses an empty file)
                return super().open_file(name, **kwargs)
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        return _Mapped(memoryview(mapped), name=name, onclose=kwargs.get("onclose"))
