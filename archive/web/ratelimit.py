"""Login tries counted per login and per address in a sliding window: a guesser is stopped whichever of the
two it varies. Successful logins do not clear the address count (one good account must not unlock guessing)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginLimiter:
    def __init__(self, attempts: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def attempt(self, login: str, address: str) -> float:
        """Check and count one login try in one step: tries sent at the same moment cannot all pass the check
        before any of them is counted (the password check between them takes a scrypt's time). Returns the
        seconds until another try is allowed; 0 means this try may go ahead, counted as failed until
        ``succeeded`` says otherwise."""
        now = self.clock()
        keys = (f"login:{login}", f"addr:{address}")
        with self._lock:
            waits = [self.window - (now - times[0]) for key in keys
                     if len(times := self._recent(key, now)) >= self.attempts]
            if waits:
                return max(waits)
            for key in keys:
                self._recent(key, now).append(now)
        return 0.0

    def succeeded(self, login: str, address: str) -> None:
        """The try was the right password: the login's count is cleared, and the address loses the one count
        this try added (its earlier failures stay: one good account must not unlock guessing others)."""
        with self._lock:
            self._failures.pop(f"login:{login}", None)
            times = self._failures.get(f"addr:{address}")
            if times:
                times.pop()
