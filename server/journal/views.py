"""Lessons as the API shows them: with class, teacher, period and week worked out in one go."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.refusals import Reason
from server.db.tables import Lesson, Period, SchoolClass, Teaching, User
from server.journal import models, school
from server.journal.weeks import day_of, monday_of, period_week, week_of

OPEN = "open"


class LessonError(Exception):
    """A lesson operation that cannot be done, as a typed reason and a sentence."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on a lesson: a teacher, or an administrator (who may act for any class)."""

    user_id: int
    admin: bool = False


# The server itself, e.g. finalising a lesson its teacher never ended.
SERVER = Actor(0, admin=True)


async def teaches(s: AsyncSession, teacher_id: int, class_id: int, subject_id: int | None) -> bool:
    """Whether the teaching table gives this teacher the class (and the subject, if one of the
    school's; a lesson with a typed subject needs the class only)."""
    query = select(Teaching.id).where(
        Teaching.teacher_id == teacher_id, Teaching.class_id == class_id
    )
    if subject_id is not None:
        query = query.where(Teaching.subject_id == subject_id)
    return await s.scalar(query.limit(1)) is not None


async def own_lesson(s: AsyncSession, lesson_id: int, actor: Actor) -> Lesson:
    """The lesson, if it exists and the actor may act on it: an administrator, or its teacher
    while the teaching table still gives them its class and subject."""
    lesson = await s.get(Lesson, lesson_id)
    if lesson is None:
        raise LessonError(Reason.UNKNOWN_LESSON, "There is no such lesson.")
    if actor.admin:
        return lesson
    if lesson.teacher_id != actor.user_id:
        raise LessonError(Reason.NOT_PERMITTED, "This is another teacher's lesson.")
    if not await teaches(s, actor.user_id, lesson.class_id, lesson.subject_id):
        raise LessonError(Reason.NOT_PERMITTED, "You do not teach this class this subject.")
    return lesson


async def _names(
    s: AsyncSession, model: type[User] | type[SchoolClass], ids: Iterable[int]
) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    name = User.display_name if model is User else SchoolClass.name
    rows = await s.execute(select(model.id, name).where(model.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows}


async def periods(s: AsyncSession) -> list[Period]:
    """Every period of every year, in time order."""
    return list(await s.scalars(select(Period).order_by(Period.starts_on)))


def period_on(
    all_periods: Sequence[Period], timestamp: float, settings: school.SchoolSettings
) -> Period | None:
    """The period a moment falls in."""
    day = day_of(timestamp, settings.zone)
    return next((p for p in all_periods if p.starts_on <= day <= p.ends_on), None)


async def lesson_views(
    s: AsyncSession, lessons: Sequence[Lesson], base_url: str
) -> list[models.Lesson]:
    """The API's Lesson objects for these rows (a handful of queries, however many lessons)."""
    settings = await school.load(s)
    all_periods = await periods(s)
    classes = await _names(s, SchoolClass, (lesson.class_id for lesson in lessons))
    teachers = await _names(s, User, (lesson.teacher_id for lesson in lessons))
    views = []
    for lesson in lessons:
        period = period_on(all_periods, lesson.starts_at, settings)
        room_url = (
            f"{base_url}/r/{lesson.room_id}"
            if lesson.room_id is not None and lesson.state == OPEN
            else None
        )
        views.append(
            models.Lesson(
                id=lesson.id,
                class_id=lesson.class_id,
                class_name=classes.get(lesson.class_id, ""),
                subject=lesson.subject,
                subject_id=lesson.subject_id,
                teacher_id=lesson.teacher_id,
                teacher_name=teachers.get(lesson.teacher_id, ""),
                starts_at=lesson.starts_at,
                ends_at=lesson.ends_at,
                topic=lesson.topic,
                topic_id=lesson.topic_id,
                room_id=lesson.room_id,
                invite_url=room_url,
                state=lesson.state,
                ended_at=lesson.ended_at,
                period=None if period is None else period.name,
                week=week_of(day_of(lesson.starts_at, settings.zone)),
            )
        )
    return views


async def lesson_view(s: AsyncSession, lesson: Lesson, base_url: str) -> models.Lesson:
    """The API's Lesson object for one row."""
    return (await lesson_views(s, [lesson], base_url))[0]


async def week_period(
    s: AsyncSession, week: str | None, settings: school.SchoolSettings
) -> tuple[Period | None, int | None]:
    """The first period with a day in an ISO week, and the week's number within it."""
    monday = None if week is None else monday_of(week)
    if monday is None:
        return None, None
    sunday = monday + timedelta(days=6)
    for period in await periods(s):
        if period.starts_on <= sunday and monday <= period.ends_on:
            return period, period_week(period.starts_on, max(monday, period.starts_on))
    return None, None
