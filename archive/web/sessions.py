"""Server-side sessions: a random token in a cookie, the login and a CSRF token kept here, never in the cookie.

Sessions live in the serving process; restarting `archive serve` logs everybody out, which is the safe side.
A session ends after [web] session_minutes without a request, at logout, and when its user is disabled."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "archive_session"
# However active, a session lasts a working day at most; then the password is asked again.
MAX_SECONDS = 12 * 3600


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
    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, login: str | None = None) -> Session:
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), login, now, now)
        with self._lock:
            self._expire(now)
            self._by_token[session.token] = session
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
                return None
            session.seen = now
            return session

    def drop(self, token: str) -> None:
        with self._lock:
            self._by_token.pop(token, None)

    def end_user(self, login: str) -> int:
        """Every session of a user (disabled, or removed from the users file) ends at once."""
        with self._lock:
            gone = [t for t, s in self._by_token.items() if s.login == login]
            for token in gone:
                del self._by_token[token]
        return len(gone)

    def _expire(self, now: float) -> None:
        stale = [t for t, s in self._by_token.items()
                 if now - s.seen > self.idle_seconds or now - s.started > MAX_SECONDS]
        for token in stale:
            del self._by_token[token]
