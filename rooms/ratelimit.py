"""Token buckets: bursts are allowed, sustained floods are not (pure; time is passed in)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; time is passed in."""

    rate: float
    burst: float
    tokens: float = field(default=-1.0)
    updated: float = 0.0

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend `cost` tokens if there are enough."""
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True


class KeyedBuckets:
    """One bucket per key (e.g. per client address), forgetting idle keys."""

    def __init__(self, rate: float, burst: float, max_keys: int = 10_000) -> None:
        self._rate, self._burst, self._max = rate, burst, max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, now: float) -> bool:
        """Spend one token from this key's bucket."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max:
                # A full bucket is indistinguishable from a missing one: drop the idle ones.
                self._buckets = {
                    k: b
                    for k, b in self._buckets.items()
                    if b.tokens + (now - b.updated) * b.rate < b.burst
                }
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst)
        return bucket.take(now)
