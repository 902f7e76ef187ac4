"""Failed logins counted per login and per address in a sliding window: a guesser is stopped whichever of the
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

    def blocked(self, login: str, address: str) -> float:
        """Seconds until another try is allowed (0: allowed now)."""
        now = self.clock()
        with self._lock:
            waits = [self.window - (now - times[0]) for key in (f"login:{login}", f"addr:{address}")
                     if len(times := self._recent(key, now)) >= self.attempts]
        return max(waits, default=0.0)

    def failed(self, login: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (f"login:{login}", f"addr:{address}"):
                self._recent(key, now).append(now)

    def succeeded(self, login: str) -> None:
        with self._lock:
            self._failures.pop(f"login:{login}", None)
