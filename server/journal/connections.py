"""Pupils' connections over their lessons, from what server/quality_log.py archived.

A lesson's room may have had several sessions (a restart longer than the handover, a room that
emptied and filled again): their rows are merged per pupil — times and disconnections added,
the mean loss weighted by readings, the median delay weighted by readings (an approximation:
the exact one needs the readings, which are not kept), the p95s as the largest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.tables import ConnectionQualityRecord, Lesson
from server.journal import models
from server.quality_log import verdict

STREAK = 3  # "poor in the last 3 lessons"
HISTORY = 10  # lessons shown on a pupil's page


def _merge(
    rows: Sequence[ConnectionQualityRecord], lesson: Lesson, name: str
) -> models.ConnectionLine:
    samples = sum(r.samples for r in rows)
    weight = samples or len(rows)

    def weighted(values: Iterable[tuple[float, int]]) -> float:
        return sum(v * (n if samples else 1) for v, n in values) / weight

    seconds = {
        "good": float(sum(r.good_s for r in rows)),
        "fair": float(sum(r.fair_s for r in rows)),
        "poor": float(sum(r.poor_s for r in rows)),
    }
    disconnections = sum(r.disconnections for r in rows)
    return models.ConnectionLine(
        pupil_id=int(rows[0].user_id or 0),
        name=name,
        lesson_id=lesson.id,
        subject=lesson.subject,
        starts_at=lesson.starts_at,
        samples=samples,
        delay_p50_ms=round(weighted((r.delay_p50_ms, r.samples) for r in rows)),
        delay_p95_ms=max(r.delay_p95_ms for r in rows),
        loss_pct=round(weighted((r.loss_pct, r.samples) for r in rows), 2),
        loss_p95_pct=max(r.loss_p95_pct for r in rows),
        good_s=int(seconds["good"]),
        fair_s=int(seconds["fair"]),
        poor_s=int(seconds["poor"]),
        video_lost_s=sum(r.video_lost_s for r in rows),
        disconnections=disconnections,
        verdict=rows[0].verdict if len(rows) == 1 else verdict(seconds, disconnections),
        poor_streak=0,
    )


async def lines(
    s: AsyncSession, pupils: dict[int, str], class_id: int, until: float, per_pupil: int
) -> dict[int, list[models.ConnectionLine]]:
    """Each pupil's lines of their class's lessons starting at or before `until`, newest
    first, at most `per_pupil` each, with the poor streak counted back from each line."""
    if not pupils:
        return {}
    found = await s.execute(
        select(ConnectionQualityRecord, Lesson)
        .join(Lesson, Lesson.room_id == ConnectionQualityRecord.room_id)
        .where(
            ConnectionQualityRecord.user_id.in_(list(pupils)),
            Lesson.class_id == class_id,
            Lesson.starts_at <= until,
        )
        .order_by(Lesson.starts_at.desc(), Lesson.id.desc())
    )
    grouped: dict[int, dict[int, tuple[Lesson, list[ConnectionQualityRecord]]]] = {}
    for row, lesson in found.tuples():
        by_lesson = grouped.setdefault(int(row.user_id or 0), {})
        by_lesson.setdefault(lesson.id, (lesson, []))[1].append(row)
    out: dict[int, list[models.ConnectionLine]] = {}
    for pupil_id, by_lesson in grouped.items():
        merged = [_merge(rows, lesson, pupils[pupil_id]) for lesson, rows in by_lesson.values()]
        # Newest first: a line's streak is itself plus the streak of the one before it.
        streak = 0
        for line in reversed(merged):
            streak = streak + 1 if line.verdict == "poor" else 0
            line.poor_streak = streak
        out[pupil_id] = merged[:per_pupil]
    return out


async def of_lesson(
    s: AsyncSession, lesson: Lesson, pupils: Sequence[tuple[int, str]]
) -> list[models.ConnectionLine]:
    """The lesson's line of each pupil who had one, worst streak first, then by name."""
    if lesson.room_id is None:
        return []
    found = await lines(s, dict(pupils), lesson.class_id, lesson.starts_at, HISTORY)
    mine = [line for ls in found.values() for line in ls if line.lesson_id == lesson.id]
    return sorted(mine, key=lambda line: (-line.poor_streak, line.name))


def poor_last(history: Sequence[models.ConnectionLine]) -> bool:
    """The latest STREAK lessons (with a line) were all poor."""
    return bool(history) and history[0].poor_streak >= STREAK
