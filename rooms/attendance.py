"""Attendance from presence intervals: merging reconnects and applying the school's rules. Pure.

Input is what the room saw: when a pupil joined, when they left and why. Output is what the
journal needs: present or absent, late, left early, and the minutes attended, lost to network
drops, and away.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """The journal's attendance mark."""

    PRESENT = "present"
    ABSENT = "absent"


class Departure(StrEnum):
    """How a presence interval ended."""

    LEFT = "left"
    DISCONNECTED = "disconnected"
    REMOVED = "removed"
    STILL_IN = "still_in"


@dataclass(frozen=True, slots=True)
class Presence:
    """One stretch of time in the room (Unix seconds)."""

    joined: float
    left: float
    how: Departure = Departure.LEFT


@dataclass(frozen=True, slots=True)
class Rules:
    """A school's attendance rules; the defaults are the issue's sensible ones."""

    present_ratio: float = 0.5  # of the scheduled time
    late_after_s: float = 10 * 60  # first join later than this after the start
    reconnect_grace_s: float = 60  # a drop shorter than this is one interval
    left_early_margin_s: float = 5 * 60  # leaving earlier than this before the end

    def __post_init__(self) -> None:
        if not 0 < self.present_ratio <= 1:
            raise ValueError("present_ratio must be in (0, 1]")
        if min(self.late_after_s, self.reconnect_grace_s, self.left_early_margin_s) < 0:
            raise ValueError("durations must not be negative")


@dataclass(frozen=True, slots=True)
class Attendance:
    """One pupil's attendance of one lesson, as proposed to the teacher."""

    status: Status
    late: bool
    left_early: bool
    attended_s: float
    network_lost_s: float
    away_s: float
    first_join: float | None
    last_leave: float | None


def merge(
    presences: list[Presence], grace_s: float
) -> tuple[list[Presence], list[tuple[float, float]]]:
    """Join intervals separated by a network drop shorter than the grace period.

    Returns the merged intervals and the drops bridged (counted as attended, since the pupil was
    trying to be there, but reported apart).
    """
    merged: list[Presence] = []
    drops: list[tuple[float, float]] = []
    for p in sorted(presences, key=lambda p: (p.joined, p.left)):
        if merged:
            last = merged[-1]
            gap = p.joined - last.left
            if gap <= 0:  # overlapping joins (two tabs): one presence
                merged[-1] = Presence(
                    last.joined, max(last.left, p.left), p.how if p.left >= last.left else last.how
                )
                continue
            if last.how is Departure.DISCONNECTED and gap <= grace_s:
                drops.append((last.left, p.joined))
                merged[-1] = Presence(last.joined, p.left, p.how)
                continue
        merged.append(p)
    return merged, drops


def _clip(p: Presence, start: float, end: float) -> float:
    return max(0.0, min(p.left, end) - max(p.joined, start))


def assess(presences: list[Presence], start: float, end: float, rules: Rules) -> Attendance:
    """Apply the rules to one pupil's presences in a lesson scheduled from start to end."""
    if end <= start:
        raise ValueError("a lesson must end after it starts")
    merged, drops = merge(presences, rules.reconnect_grace_s)
    inside = [p for p in merged if _clip(p, start, end) > 0]
    if not inside:
        return Attendance(Status.ABSENT, False, False, 0.0, 0.0, end - start, None, None)
    attended = sum(_clip(p, start, end) for p in inside)
    lost = sum(max(0.0, min(b, end) - max(a, start)) for a, b in drops)
    first_join = inside[0].joined
    last = inside[-1]
    scheduled = end - start
    return Attendance(
        status=Status.PRESENT if attended >= rules.present_ratio * scheduled else Status.ABSENT,
        late=first_join > start + rules.late_after_s,
        left_early=last.how is not Departure.STILL_IN
        and last.left < end - rules.left_early_margin_s,
        attended_s=attended,
        network_lost_s=lost,
        away_s=max(0.0, scheduled - attended),
        first_join=first_join,
        last_leave=None if last.how is Departure.STILL_IN else last.left,
    )


def held_window(
    starts_at: float, ends_at: float, started_at: float | None, ended: float
) -> tuple[float, float]:
    """The stretch of time a lesson's attendance is assessed over, if it ends at `ended`.

    A lesson that reached its scheduled start is assessed over its scheduled time, up to End
    lesson (a room opened early for the class to gather makes nobody late). A lesson held wholly
    before its scheduled time (the teacher started it early and ended it before that time) is
    assessed over the time it was actually held (a second if it was started and ended at once,
    so there is always a window).
    """
    if ended > starts_at:
        return starts_at, min(ends_at, ended)
    start = started_at if started_at is not None and started_at < ended else ended
    return start, ended if ended > start else start + 1.0


def current_stretch(presences: list[Presence], grace_s: float) -> tuple[float | None, float | None]:
    """What is true now: since when the pupil is in the room, or when they last left.

    `(since, None)` while they are in (since the start of their current stretch, reconnects
    merged), `(None, left)` once they left, `(None, None)` if they never came.
    """
    merged, _ = merge(presences, grace_s)
    if not merged:
        return None, None
    last = merged[-1]
    if last.how is Departure.STILL_IN:
        return last.joined, None
    return None, last.left
