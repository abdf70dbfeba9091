"""Pure loss repair towards a publisher: which lost packets to ask for (NACK), when to ask again,
and when to give up and ask for a keyframe instead. No clock, no I/O: `now` is passed in (ms).

A lost *tail* (a frame's last packets, the marker among them) leaves no gap until the next
frame's first packet comes: a frame interval later, 100 ms and more when the publisher's
encoder skips frames, and at 5 % loss that was where the 200-233 ms gaps of `bench.glass`
came from. So a newest packet without the marker that nothing follows within `tail_ms` has
the number after it asked for once (`tail_probe`); a publisher that has not sent it yet
ignores the request.

The old rule asked only when a new gap appeared: a lost NACK or a lost retransmission left the
hole for good, and the viewers froze until their own keyframe requests got through (0.5-1.9 s
at 5 % loss). Here every hole is asked for again after `retry_ms` (at least 1.5 round trips,
measured from the repairs themselves), and a hole still open after `give_up_ms` is dropped in
favour of one keyframe request: a frame that late would only hold the viewers' jitter buffers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_MOD = 1 << 16
_HALF = 1 << 15
# A viewer that NACKed within this long gets its last packet resent when the stream goes quiet
# (AiortcConsumer.probe_tail): its link is losing packets now. With none that recent, the
# producer's tail watch stops at each frame's end (AiortcProducer._tail_tick).
TAIL_PROBE_AFTER_NACK_MS = 10_000.0
# How far back a hole is tracked, in packets (more would be history the publisher lost too).
WINDOW = 512


@dataclass(slots=True)
class _Hole:
    first_ms: float
    sent_ms: float
    tries: int


@dataclass(slots=True)
class RepairSchedule:
    """Holes in one RTP stream and the NACK schedule for them."""

    min_retry_ms: float = 5.0
    give_up_ms: float = 150.0
    # Time-bounded by give_up_ms: at the floor of retry_ms, up to 30 asks fit in it.
    max_tries: int = 30
    # Longer than Chromium's pacer leaves between two packets of one frame (about 2 ms at its
    # 2.5x pacing rate), far shorter than the 33-100 ms between frames.
    tail_ms: float = 10.0
    highest: int | None = None
    # Whether the newest packet ended a frame (RTP marker), when it came, the last number
    # asked for by tail_probe (asked once), and the newest packet whose quiet spell was
    # reported by quiet_spell (once per spell).
    newest_marker: bool = True
    newest_ms: float = 0.0
    probed: int | None = None
    quiet_at: int | None = None
    holes: dict[int, _Hole] = field(default_factory=dict)
    rtt_ms: float | None = None  # smoothed, from first-try repairs (unambiguous)
    repaired: int = 0
    given_up: int = 0

    @property
    def retry_ms(self) -> float:
        """How long to wait for a repair before asking again."""
        if self.rtt_ms is None:
            return self.min_retry_ms
        return max(self.min_retry_ms, 1.5 * self.rtt_ms)

    def received(self, seq: int, now: float, marker: bool = True) -> list[int]:
        """A packet arrived (original or repaired; `marker`: its RTP marker bit); returns the
        new holes to NACK now."""
        if self.highest is None:
            self.highest = seq
            self.newest_marker, self.newest_ms = marker, now
            return []
        ahead = (seq - self.highest) % _MOD
        if ahead == 0:
            return []
        if ahead >= _HALF:  # older than the highest: a repair or a late packet
            hole = self.holes.pop(seq, None)
            if hole is not None:
                self.repaired += 1
                if hole.tries == 1:
                    sample = now - hole.sent_ms
                    self.rtt_ms = (
                        sample if self.rtt_ms is None else 0.875 * self.rtt_ms + 0.125 * sample
                    )
            return []
        new = [(self.highest + k) % _MOD for k in range(1, min(ahead, WINDOW))]
        self.highest = seq
        self.newest_marker, self.newest_ms = marker, now
        for missing in new:
            self.holes[missing] = _Hole(now, now, 1)
        self._trim()
        return new

    def ask(self, seq: int, now: float) -> bool:
        """A viewer asks for a packet we do not hold: True if a NACK should go now.

        A known hole is asked for again unless it was asked for less than `retry_ms` ago; a
        number we never saw as missing (behind the highest, inside the window) becomes a hole.
        """
        if self.highest is None:
            return False
        behind = (self.highest - seq) % _MOD
        if behind == 0 or behind >= WINDOW:
            return False
        hole = self.holes.get(seq)
        if hole is None:
            self.holes[seq] = _Hole(now, now, 1)
            return True
        if now - hole.sent_ms < self.retry_ms or hole.tries >= self.max_tries:
            return False
        hole.sent_ms, hole.tries = now, hole.tries + 1
        return True

    def quiet_spell(self, now: float) -> bool:
        """True once per quiet spell: nothing came for `tail_ms` since the newest packet, and
        this is the first call to say so since that packet came."""
        if self.highest is None or now - self.newest_ms < self.tail_ms:
            return False
        if self.quiet_at == self.highest:
            return False
        self.quiet_at = self.highest
        return True

    def tail_probe(self, now: float) -> int | None:
        """The number after the newest packet if that packet did not end its frame and nothing
        came for `tail_ms` (its frame's tail may be lost); each number is asked for once."""
        if self.highest is None or self.newest_marker or now - self.newest_ms < self.tail_ms:
            return None
        after = (self.highest + 1) % _MOD
        if after == self.probed:
            return None
        self.probed = after
        return after

    def due(self, now: float) -> tuple[list[int], bool]:
        """(holes to NACK again now, whether to ask for a keyframe): holes open longer than
        `give_up_ms` (or asked for `max_tries` times) are dropped and cost one keyframe."""
        again: list[int] = []
        give_up = False
        retry = self.retry_ms
        for seq, hole in list(self.holes.items()):
            if now - hole.first_ms >= self.give_up_ms or (
                hole.tries >= self.max_tries and now - hole.sent_ms >= retry
            ):
                del self.holes[seq]
                self.given_up += 1
                give_up = True
            elif now - hole.sent_ms >= retry:
                hole.sent_ms, hole.tries = now, hole.tries + 1
                again.append(seq)
        return again, give_up

    def next_due(self) -> float | None:
        """When `due` next has something to do (ms), None if there is no hole."""
        if not self.holes:
            return None
        retry = self.retry_ms
        return min(
            min(h.sent_ms + retry, h.first_ms + self.give_up_ms) for h in self.holes.values()
        )

    def _trim(self) -> None:
        if len(self.holes) <= WINDOW or self.highest is None:
            return
        highest = self.highest
        for seq in [s for s in self.holes if (highest - s) % _MOD >= WINDOW]:
            del self.holes[seq]
