"""Rate limits: a token bucket per connection, and a failed-join counter per address.

Both live in this process's memory only.  The address is used as a key for a
minute and never stored with anything else.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class SlidingCounter:
    """Counts events per key within a window; used for failed joins and errors."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        events = self._events.setdefault(key, deque())
        cutoff = self.clock() - self.window
        while events and events[0] < cutoff:
            events.popleft()
        return events

    def add(self, key: str) -> None:
        self._recent(key).append(self.clock())
        if len(self._events) > 100_000:  # bound memory under a flood of addresses
            self._events = {k: v for k, v in self._events.items() if v and self._recent(k)}

    def exceeded(self, key: str) -> bool:
        events = self._recent(key)
        if not events:
            self._events.pop(key, None)
        return len(events) >= self.limit
