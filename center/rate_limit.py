"""Per-terminal token buckets: a terminal that floods the center is refused before its requests cost anything."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """`per_second` requests on average, bursts of up to `burst`; at most `tracked` terminals remembered
    (the least recently seen is forgotten first, which can only make it more lenient, never block anyone)."""

    per_second: float = 20.0
    burst: int = 60
    tracked: int = 100_000


UNLIMITED = RateLimit(per_second=1e12, burst=10**12)
"""For load generators and benches, which are one terminal sending as fast as it can."""


class TokenBuckets:
    """One bucket per key. Not thread-safe: each responder (one per worker thread) has its own."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Take one token from `key`'s bucket; False when it is empty."""
        now = self._clock()
        tokens, last = self._buckets.pop(key, (float(self._limit.burst), now))
        tokens = min(float(self._limit.burst), tokens + (now - last) * self._limit.per_second)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self._limit.tracked:
            self._buckets.popitem(last=False)
        return allowed
