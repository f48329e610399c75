"""Requests per API key: an in-memory token bucket.

Each key has a bucket of ``per_minute`` tokens that refills continuously at ``per_minute / 60``
tokens a second; a request takes one token or is refused with the time until the next token
(the ``Retry-After`` the API answers with). A bucket allows a burst of a whole minute's worth and
then the steady rate, which suits an agent that syncs once a day and a person pressing "order".

The buckets live in the process: behind several worker processes each one limits on its own,
so the effective limit is that many times higher. One process is the reference deployment.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

# Buckets that are full again carry no information; past this many keys they are dropped.
_PRUNE_ABOVE = 10_000


class TokenBucketLimiter:
    """Thread-safe: FastAPI runs sync endpoints and dependencies in a thread pool."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 when the request may go ahead, else seconds to wait."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > _PRUNE_ABOVE:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def retry_after(self, wait: float) -> str:
        """``Retry-After`` in whole seconds, never 0 (a client would retry at once)."""
        return str(max(1, math.ceil(wait)))

    def _prune(self, now: float) -> None:
        full = [
            k for k, (tokens, at) in self._buckets.items() if tokens + (now - at) * self.rate >= self.capacity
        ]
        for key in full:
            del self._buckets[key]
