"""Server-side sessions: a random token in a cookie, the login and a CSRF token kept here, never in the cookie.

Sessions live in the serving process; restarting `archive serve` logs everybody out, which is the safe side.
A session ends after [web] session_minutes without a request, at logout, and when its user is disabled."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "archive_session"
# However active, a session lasts a working day at most; then the password is asked again.
MAX_SECONDS = 12 * 3600
# Every visitor without a cookie gets a session (the login form's CSRF token lives there): past this many
# not-logged-in sessions the oldest are dropped, so requests without cookies cannot fill the server's memory.
# Logged-in sessions are never dropped for it.
MAX_ANONYMOUS = 10_000


@dataclass
class Session:
    token: str
    csrf: str
    login: str | None = None  # None: not logged in (the login form's CSRF token lives here)
    started: float = 0.0
    seen: float = 0.0
    flash: list[str] = field(default_factory=list)

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(self.csrf.encode(), given.encode())


class Sessions:
    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.monotonic,
                 max_anonymous: int = MAX_ANONYMOUS) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.max_anonymous = max_anonymous
        self._by_token: dict[str, Session] = {}
        self._anonymous: OrderedDict[str, None] = OrderedDict()  # not-logged-in tokens, oldest first
        self._lock = threading.Lock()

    def new(self, login: str | None = None) -> Session:
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), login, now, now)
        with self._lock:
            self._expire(now)
            self._by_token[session.token] = session
            if login is None:
                self._anonymous[session.token] = None
                while len(self._anonymous) > self.max_anonymous:
                    oldest, _ = self._anonymous.popitem(last=False)
                    self._by_token.pop(oldest, None)
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None
            if now - session.seen > self.idle_seconds or now - session.started > MAX_SECONDS:
                del self._by_token[token]
                self._anonymous.pop(token, None)
                return None
            session.seen = now
            return session

    def drop(self, token: str) -> None:
        with self._lock:
            self._by_token.pop(token, None)
            self._anonymous.pop(token, None)

    def end_user(self, login: str) -> int:
        """Every session of a user (disabled, or removed from the users file) ends at once."""
        with self._lock:
            gone = [t for t, s in self._by_token.items() if s.login == login]
            for token in gone:
                del self._by_token[token]
                self._anonymous.pop(token, None)
        return len(gone)

    def _expire(self, now: float) -> None:
        stale = [t for t, s in self._by_token.items()
                 if now - s.seen > self.idle_seconds or now - s.started > MAX_SECONDS]
        for token in stale:
            del self._by_token[token]
            self._anonymous.pop(token, None)
