"""A pupil's diary: the week of their own class, filled from the journal, never written here."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.tables import (
    AttendanceRecord,
    ClassMember,
    Lesson,
    MarkRecord,
    SchoolClass,
    User,
)
from server.journal import models, school
from server.journal.documents import CLOSED, documents_of_lessons
from server.journal.gradebook import assignments_of, mark
from server.journal.views import OPEN, week_period
from server.journal.weeks import day_of, week_bounds


class Diaries:
    """Reads a pupil's week; the pupil is the only one whose marks and work it shows."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        base_url: str = "",
        recordings: Path | None = None,
    ) -> None:
        self._sessions = sessions
        self._base_url = base_url
        # data/recordings (server/recordings.py): a lesson whose room has a folder there was
        # recorded, and its replay is offered once the lesson ended.
        self._recordings = recordings

    def _replay_url(self, lesson: Lesson) -> str | None:
        if self._recordings is None or lesson.state != CLOSED or lesson.room_id is None:
            return None
        folder = self._recordings / lesson.room_id
        if not folder.is_dir() or not any(folder.iterdir()):
            return None
        return f"{self._base_url}/replay/lessons/{lesson.id}"

    async def week(self, pupil_id: int, week: str) -> models.Diary:
        """The pupil's lessons of one ISO week, day by day."""
        async with self._sessions() as s:
            settings = await school.load(s)
            start, end = week_bounds(week, settings.zone)
            class_ids = list(
                await s.scalars(select(ClassMember.class_id).where(ClassMember.user_id == pupil_id))
            )
            class_names = list(
                await s.scalars(
                    select(SchoolClass.name)
                    .where(SchoolClass.id.in_(class_ids))
                    .order_by(SchoolClass.name)
                )
            )
            rows = list(
                await s.execute(
                    select(Lesson, User.display_name)
                    .join(User, User.id == Lesson.teacher_id)
                    .where(
                        Lesson.class_id.in_(class_ids),
                        Lesson.starts_at >= start,
                        Lesson.starts_at < end,
                    )
                    .order_by(Lesson.starts_at, Lesson.id)
                )
            )
            lesson_ids = [lesson.id for lesson, _ in rows]
            marks = {
                row.lesson_id: mark(row)
                for row in await s.scalars(
                    select(MarkRecord).where(
                        MarkRecord.pupil_id == pupil_id, MarkRecord.lesson_id.in_(lesson_ids)
                    )
                )
            }
            work = [
                a
                for a in await assignments_of(s, lesson_ids)
                if a.kind is models.Kind.HOMEWORK
                and (a.pupil_ids is None or pupil_id in a.pupil_ids)
            ]
            attendance = {
                int(lid): str(status)
                for lid, status in await s.execute(
                    select(AttendanceRecord.lesson_id, AttendanceRecord.status).where(
                        AttendanceRecord.pupil_id == pupil_id,
                        AttendanceRecord.lesson_id.in_(lesson_ids),
                    )
                )
            }
            documents = await documents_of_lessons(
                s, [lesson.id for lesson, _ in rows if lesson.state == CLOSED]
            )
            period, number = await week_period(s, week, settings)
            # Open rooms whichever week is shown: a lesson going on now is one click away.
            open_rows = list(
                await s.execute(
                    select(Lesson, User.display_name)
                    .join(User, User.id == Lesson.teacher_id)
                    .where(
                        Lesson.class_id.in_(class_ids),
                        Lesson.state == OPEN,
                        Lesson.room_id.is_not(None),
                    )
                    .order_by(Lesson.starts_at, Lesson.id)
                )
            )
        open_now = [
            models.DiaryLesson(
                lesson_id=lesson.id,
                starts_at=lesson.starts_at,
                ends_at=lesson.ends_at,
                subject=lesson.subject,
                teacher=teacher,
                topic=lesson.topic,
                room_url=f"{self._base_url}/r/{lesson.room_id}",
                homework=[],
                mark=None,
                attendance=None,
            )
            for lesson, teacher in open_rows
        ]
        days: dict[str, list[models.DiaryLesson]] = {}
        for lesson, teacher in rows:
            open_room = lesson.state == OPEN and lesson.room_id is not None
            entry = models.DiaryLesson(
                lesson_id=lesson.id,
                starts_at=lesson.starts_at,
                ends_at=lesson.ends_at,
                subject=lesson.subject,
                teacher=teacher,
                topic=lesson.topic,
                room_url=f"{self._base_url}/r/{lesson.room_id}" if open_room else None,
                homework=[a for a in work if a.lesson_id == lesson.id],
                mark=marks.get(lesson.id),
                attendance=attendance.get(lesson.id),
                documents=documents.get(lesson.id, []),
                replay_url=self._replay_url(lesson),
            )
            days.setdefault(day_of(lesson.starts_at, settings.zone).isoformat(), []).append(entry)
        return models.Diary(
            week=week,
            period=None if period is None else period.name,
            week_number=number,
            class_name=", ".join(class_names) or None,
            today=day_of(time.time(), settings.zone),
            open_now=open_now,
            days=[
                models.DiaryDay.model_validate({"date": day, "lessons": lessons})
                for day, lessons in days.items()
            ],
        )
