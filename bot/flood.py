"""A per-person flood limit: token buckets in memory only, keyed by the HMAC of the user id, never written anywhere.

Each person may send `burst` updates at once and `rate` more per second after that. The first update over the
limit earns one notice; the rest are dropped in silence until the bucket is full again (the person paused long
enough), when a new flood may earn a new notice. A full bucket is the same as no bucket, so full ones are evicted:
the dict only ever holds people who wrote in the last burst/rate seconds (and at most LIMIT of them).
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


class Verdict(enum.Enum):
    ALLOW = "allow"
    NOTICE = "notice"  # over the limit, and the person has not been told yet
    DROP = "drop"


@dataclass
class Bucket:
    tokens: float
    stamp: float
    noticed: bool = False


class FloodGate:
    """Token buckets by HMAC lookup key, least recently used first."""

    LIMIT = 100_000
    SWEEP_EVERY = 60.0

    def __init__(self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = float(burst)
        self.rate = rate
        self.clock = clock
        self._buckets: OrderedDict[bytes, Bucket] = OrderedDict()
        self._swept = clock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: bytes, *, can_notice: bool = True) -> Verdict:
        """Spend one token for an update; can_notice=False (nothing to answer with) keeps the notice for later."""
        now = self.clock()
        if now - self._swept >= self.SWEEP_EVERY:
            self.sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.LIMIT:
                self.sweep(now)
                while len(self._buckets) >= self.LIMIT:
                    self._buckets.popitem(last=False)
            bucket = self._buckets[key] = Bucket(self.burst, now)
        else:
            self._refill(bucket, now)
            self._buckets.move_to_end(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.ALLOW
        if bucket.noticed or not can_notice:
            return Verdict.DROP
        bucket.noticed = True
        return Verdict.NOTICE

    def _refill(self, bucket: Bucket, now: float) -> None:
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= self.burst:
            bucket.noticed = False

    def sweep(self, now: float) -> None:
        """Evict every bucket that has refilled: it holds nothing a new one would not."""
        self._swept = now
        full = [
            key
            for key, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.stamp) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
