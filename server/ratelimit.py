"""Rate limits: token buckets per sender, a failed-join counter per address,
and caps on open connections per address.

All live in this process's memory only.  The address is used as a key while
its connections are open (or for a minute, for failed joins) and never
stored with anything else.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
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


class CommandBuckets:
    """One token bucket per sender that outlives its connections.

    Keyed by the participant's pseudonym (or the facilitator's room and
    device), so reconnecting does not refill the bucket: a fresh bucket per
    connection let one token send 6,526 commands a second by reconnecting.
    At most ``max_keys`` buckets are kept; the one used longest ago goes
    first (it has had the longest to refill anyway).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, self.clock)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take()

    def __len__(self) -> int:
        return len(self._buckets)


class ConnectionCaps:
    """Open websocket connections per client address: all of them, and those
    that have not (yet) joined a room.

    The cap on connections that have not joined stops one address from
    holding sockets open without a purpose (each waits up to
    ``JOIN_TIMEOUT_SECONDS``); the cap on all of them is generous, because a
    hall's phones may share one address behind NAT.
    """

    def __init__(self, max_per_client: int, max_unjoined_per_client: int) -> None:
        self.max_per_client = max_per_client
        self.max_unjoined_per_client = max_unjoined_per_client
        self._open: dict[str, int] = {}
        self._unjoined: dict[str, int] = {}

    def admit(self, key: str) -> bool:
        """Count a new connection in, unless the address is at one of its caps."""
        if self._open.get(key, 0) >= self.max_per_client:
            return False
        if self._unjoined.get(key, 0) >= self.max_unjoined_per_client:
            return False
        self._open[key] = self._open.get(key, 0) + 1
        self._unjoined[key] = self._unjoined.get(key, 0) + 1
        return True

    def joined(self, key: str) -> None:
        _decrement(self._unjoined, key)

    def release(self, key: str, *, joined: bool) -> None:
        """An admitted connection ended (``joined``: after ``joined`` was called)."""
        _decrement(self._open, key)
        if not joined:
            _decrement(self._unjoined, key)

    def counts(self, key: str) -> tuple[int, int]:
        """(open, not joined) connections of an address."""
        return self._open.get(key, 0), self._unjoined.get(key, 0)


def _decrement(counts: dict[str, int], key: str) -> None:
    left = counts.get(key, 0) - 1
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)
