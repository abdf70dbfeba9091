"""When to try a failed delivery again. Pure: the random source is passed in."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Exponential backoff from `first_s` to `cap_s`, with ±`jitter` so retries do not align.

    BigBlueButton's webhooks retry from 0.1 s to 60 s; we keep trying at the cap until
    `give_up_after_s` (a journal down for a school day still gets its records).
    """

    first_s: float = 0.1
    factor: float = 2.0
    cap_s: float = 60.0
    jitter: float = 0.1
    give_up_after_s: float = 24 * 3600

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Seconds to wait after the `attempts`-th failed try (1-based)."""
        base = min(self.cap_s, self.first_s * self.factor ** max(0, attempts - 1))
        return base * (1 + rng.uniform(-self.jitter, self.jitter))

    def gives_up(self, first_try_at: float, now: float) -> bool:
        """Whether a record failing since `first_try_at` goes to the dead-letter list."""
        return now - first_try_at >= self.give_up_after_s
