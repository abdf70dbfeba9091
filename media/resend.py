"""Pure per-viewer budget for retransmissions: what a viewer's NACKs may cost its link.

Measured before (`bench.glass --limit-kbps 300`, docs/media.md "Limited viewer"): a viewer on a
300 kbit/s line NACKed nearly everything, again each round trip (1-3 ms on loopback), and the
server resent every packet each time: 12-18x the packets forwarded, so no keyframe ever
arrived whole. Here a packet is resent to a viewer at most once per `hold_ms` (a viewer asks
again each round trip; 30 ms still repairs a lost retransmission in time), and resending
spends a byte budget that fills at `share` of what is forwarded to that viewer: repair stays a
fraction of the stream, never a multiple of it. No clock, no I/O: times and counters passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ResendGate:
    """Decides whether one NACKed packet is resent to one viewer now."""

    hold_ms: float = 30.0
    share: float = 0.5
    burst_bytes: float = 40_000.0
    tokens: float = 40_000.0
    _forwarded: int | None = None
    _last: dict[int, float] = field(default_factory=dict)  # consumer seq → when resent (ms)

    def allow(self, seq: int, size: int, now_ms: float, forwarded_octets: int) -> bool:
        """True if packet `seq` of `size` bytes may be resent now; `forwarded_octets` is the
        viewer's forwarded byte count so far (it refills the budget)."""
        if self._forwarded is not None:
            gained = self.share * max(0, forwarded_octets - self._forwarded)
            self.tokens = min(self.burst_bytes, self.tokens + gained)
        self._forwarded = forwarded_octets
        last = self._last.get(seq)
        if last is not None and now_ms - last < self.hold_ms:
            return False
        if size > self.tokens:
            return False
        self.tokens -= size
        if len(self._last) >= 1024:
            # Bounded: forget what is past its hold (a NACK that old is a new request).
            self._last = {s: t for s, t in self._last.items() if now_ms - t < self.hold_ms}
        self._last[seq] = now_ms
        return True
