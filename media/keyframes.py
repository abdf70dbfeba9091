"""Pure keyframe-request coalescing: at most one request per window, never dropped."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class KeyframeCoalescer:
    """Decides when to send a keyframe request (PLI) to a producer.

    The first request goes out at once; any request inside the following window is held and one
    request is sent at the end of the window (dropping them measurably multiplied undecodable
    frames).
    """

    interval: float = 0.5
    last_sent: float | None = None
    pending: bool = False

    def request(self, now: float) -> float | None:
        """Register a request; return the delay after which to send (0 = now) or None if held."""
        if self.pending:
            return None
        if self.last_sent is None or now - self.last_sent >= self.interval:
            self.last_sent = now
            return 0.0
        self.pending = True
        return self.last_sent + self.interval - now

    def fire(self, now: float) -> bool:
        """Called when a held request's timer expires; True if a request must be sent."""
        if not self.pending:
            return False
        self.pending = False
        self.last_sent = now
        return True
