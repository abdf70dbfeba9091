"""Each person's connection over a lesson, kept with it: median and p95 delay, loss, time in
each quality level, time without video, disconnections (issue 14, docs/journal.md).

The pages' readings (`media_quality`, every 2 s) are summed up here in memory per room session
and person (an identity, so a pupil who drops out and comes back is one line); at each of their
leaves — left, removed, disconnected, or the lesson's end, which leaves everyone — the summary
so far goes to the Archive's single ordered writer as a `quality` record, which replaces that
person's row of that session. The last leave writes the final figures; one row per session and
person, never two, whatever the number of leaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rooms.model import LeaveReason, Record

if TYPE_CHECKING:
    from server.media_signalling import MediaQuality

# A reading stands for the time since the one before, up to this long: a page that stopped
# reporting (media off, tab asleep) is not counted as hours of one level.
MAX_READING_S = 10.0
FIRST_READING_S = 2.0  # the page's own interval (web/src/quality.js SAMPLE_MS)
# Samples kept per person for the percentiles: 4 hours at one per 2 s. Beyond, every other
# one is dropped and only every second new one is kept (the percentiles stay representative).
MAX_SAMPLES = 7200
LEVELS = ("good", "fair", "poor")


def percentile(values: list[int] | list[float], p: float) -> float:
    """The p-th percentile (0-100) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least the first
    return float(ordered[int(rank) - 1])


def verdict(seconds: dict[str, float], disconnections: int) -> str:
    """A lesson's line in one word: poor when a fifth of its measured time was poor, or it
    dropped out three times or more; fair when a fifth was fair or poor; else good."""
    total = sum(seconds.values())
    if disconnections >= 3:
        return "poor"
    if total <= 0:
        return "good" if disconnections == 0 else "fair"
    if seconds.get("poor", 0) / total >= 0.2:
        return "poor"
    if (seconds.get("poor", 0) + seconds.get("fair", 0)) / total >= 0.2:
        return "fair"
    return "good"


@dataclass(slots=True)
class Summary:
    """One person's readings in one room session."""

    identity: str
    user_id: int | None
    name: str
    delays: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    stride: int = 1  # keep every stride-th reading (see MAX_SAMPLES)
    skipped: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0.0))
    video_lost_s: float = 0.0
    disconnections: int = 0
    last_at: float | None = None
    first_at: float | None = None

    def add(self, q: MediaQuality, now: float) -> None:
        """One accepted reading at `now` (monotonic seconds)."""
        span = FIRST_READING_S if self.last_at is None else min(MAX_READING_S, now - self.last_at)
        self.last_at = now
        self.seconds[q.level] += span
        if q.video == "lost":
            self.video_lost_s += span
        self.skipped += 1
        if self.skipped < self.stride:
            return
        self.skipped = 0
        self.delays.append(q.delay_ms)
        self.losses.append(q.loss_pct)
        if len(self.delays) >= MAX_SAMPLES:
            self.delays, self.losses = self.delays[::2], self.losses[::2]
            self.stride *= 2

    def record(self, at: float) -> Record:
        """The row as it stands, for the Archive."""
        return Record(
            "quality",
            {
                "identity": self.identity,
                "user_id": self.user_id,
                "name": self.name,
                "samples": len(self.delays),
                "delay_p50_ms": round(percentile(self.delays, 50)),
                "delay_p95_ms": round(percentile(self.delays, 95)),
                "loss_pct": round(sum(self.losses) / len(self.losses), 2) if self.losses else 0.0,
                "loss_p95_pct": percentile(self.losses, 95),
                "good_s": round(self.seconds["good"]),
                "fair_s": round(self.seconds["fair"]),
                "poor_s": round(self.seconds["poor"]),
                "video_lost_s": round(self.video_lost_s),
                "disconnections": self.disconnections,
                "verdict": verdict(self.seconds, self.disconnections),
                "at": at,
            },
        )


class QualityLog:
    """Summaries of the live room sessions of this process, by session and identity."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sessions: dict[str, dict[str, Summary]] = {}
        self._who: dict[str, dict[str, str]] = {}  # session → participant id → identity

    def reading(self, session: str, participant_id: str, q: MediaQuality) -> None:
        """A participant's accepted reading."""
        identity = self._who.get(session, {}).get(participant_id)
        summary = self._sessions.get(session, {}).get(identity or "")
        if summary is not None:
            summary.add(q, self._clock())

    def presence(self, session: str, effect: Record) -> Record | None:
        """Follow a presence record; a leave answers with the person's quality record (when
        their page reported anything or they dropped out), to be archived after it."""
        data: dict[str, Any] = effect.data
        people = self._sessions.setdefault(session, {})
        who = self._who.setdefault(session, {})
        if data["event"] == "join":
            identity = data["identity"]
            who[data["participant"]] = identity
            if identity not in people:
                people[identity] = Summary(identity, data["user_id"], data["name"])
            return None
        identity = who.pop(data["participant"], None)
        summary = people.get(identity or "")
        if summary is None:
            return None
        summary.last_at = None  # time away is no level: the next join's first reading starts anew
        if data["how"] == LeaveReason.DISCONNECTED.value:
            summary.disconnections += 1
        if not summary.delays and summary.disconnections == 0:
            return None  # no media and no drop-out: nothing to keep
        return summary.record(data["at"])

    def forget(self, session: str) -> None:
        """The room session is over in this process (its room was closed and forgotten)."""
        self._sessions.pop(session, None)
        self._who.pop(session, None)
