"""What the serving process keeps between requests: the root, sessions, the login limiter, one reading archive
(its register and index stay open: a search does not reopen the index) and the users file, each read again
when the file under it changed."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from archive.web.ratelimit import LoginLimiter
from archive.web.sessions import Sessions

if TYPE_CHECKING:
    from archive.accounts.users import User
    from archive.derived.stores import SearchEngine
    from archive.services.archive import Archive
    from archive.store.layout import Layout


def stamp(path: Path) -> tuple[int, int] | None:
    """A file's modification time and size: what a cache compares to know the file changed."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


@dataclass
class Web:
    root: Path
    sessions: Sessions
    limiter: LoginLimiter
    _reader: Archive | None = None
    _reader_stamp: tuple[int, int] | None = None
    _users: dict[str, User] = field(default_factory=dict)
    _users_stamp: tuple[int, int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _engine: SearchEngine | None = None
    _engine_of: Archive | None = None
    # Whoosh's searcher is not known to be thread-safe: the web's searches take turns on the one engine.
    search_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, root: Path) -> Web:
        from archive.services.archive import Archive

        arc = Archive.open(root)
        s = arc.settings
        web = cls(root, Sessions(s.web_session_minutes * 60), LoginLimiter(s.web_login_attempts,
                                                                            s.web_login_window_minutes * 60))
        web._reader, web._reader_stamp = arc, stamp(arc.layout.settings)
        return web

    @property
    def layout(self) -> Layout:
        return self.reader().layout

    def reader(self) -> Archive:
        """The archive for reading, opened again after `archive settings apply` changed archive.toml."""
        from archive.services.archive import Archive

        with self._lock:
            seen = stamp(self.root / "archive.toml")
            if self._reader is None or seen != self._reader_stamp:
                self._reader, self._reader_stamp = Archive.open(self.root), seen
            return self._reader

    def engine(self) -> SearchEngine:
        """The reader's search engine, kept between requests (its searcher reopens only when the index changed);
        search with it under ``search_lock``."""
        arc = self.reader()
        with self._lock:
            if self._engine is None or self._engine_of is not arc:
                self._engine, self._engine_of = arc.engine, arc
            return self._engine

    def user(self, login: str) -> User | None:
        from archive.accounts import users

        layout = self.layout
        with self._lock:
            seen = stamp(layout.users)
            if seen != self._users_stamp:
                self._users, self._users_stamp = users.load(layout), seen
            return self._users.get(login)
