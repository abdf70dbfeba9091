"""ISO weeks and school days in the school's time zone. Pure.

The journal counts weeks as ISO weeks (`2026-W47`, Monday to Sunday): every school system and
browser agrees on them, and a period's week number follows from its first week.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def week_of(day: date) -> str:
    """The ISO week a day belongs to, e.g. `2026-W47`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(week: str) -> date | None:
    """The Monday of an ISO week, or None if `week` is not a real one."""
    match = WEEK.match(week)
    if match is None:
        return None
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None


def day_of(timestamp: float, zone: ZoneInfo) -> date:
    """The school day a moment (Unix seconds) falls on."""
    return datetime.fromtimestamp(timestamp, zone).date()


def start_of(day: date, zone: ZoneInfo) -> float:
    """The first moment of a school day, as Unix seconds."""
    return datetime.combine(day, time(0), zone).timestamp()


def week_bounds(week: str, zone: ZoneInfo) -> tuple[float, float]:
    """[start, end) of an ISO week in the school's time zone, as Unix seconds."""
    monday = monday_of(week)
    if monday is None:
        raise ValueError(f"{week!r} is not an ISO week like 2026-W47")
    return start_of(monday, zone), start_of(monday + timedelta(days=7), zone)


def this_week(zone: ZoneInfo, now: float | None = None) -> str:
    """The current ISO week in the school's time zone."""
    moment = datetime.now(UTC) if now is None else datetime.fromtimestamp(now, UTC)
    return week_of(moment.astimezone(zone).date())


def period_week(period_start: date, day: date) -> int:
    """The week number of `day` within a period (its first ISO week is week 1)."""
    first = period_start - timedelta(days=period_start.weekday())
    return (day - first).days // 7 + 1
