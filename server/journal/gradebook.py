"""What a teacher writes into a lesson: its topic, marks with comments, and assignments."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.refusals import Reason
from server.db.tables import (
    AssignmentPupil,
    AssignmentRecord,
    AttendanceRecord,
    ClassMember,
    Lesson,
    MarkRecord,
    OutboxRecord,
    PlanTopic,
    SchoolClass,
    Subject,
    Teaching,
)
from server.journal import models, school
from server.journal.views import Actor, LessonError, lesson_view, own_lesson

CLOSED = "closed"


async def marks_of(s: AsyncSession, lesson_ids: Sequence[int]) -> list[models.Mark]:
    """The marks of these lessons, by pupil id."""
    rows = await s.scalars(
        select(MarkRecord).where(MarkRecord.lesson_id.in_(lesson_ids)).order_by(MarkRecord.pupil_id)
    )
    return [mark(r) for r in rows]


def mark(row: MarkRecord) -> models.Mark:
    """The API's Mark for a row."""
    return models.Mark(pupil_id=row.pupil_id, value=row.value, comment=row.comment, at=row.at)


async def assignments_of(s: AsyncSession, lesson_ids: Sequence[int]) -> list[models.Assignment]:
    """The assignments of these lessons, oldest first, with the pupils each is for."""
    rows = list(
        await s.scalars(
            select(AssignmentRecord)
            .where(AssignmentRecord.lesson_id.in_(lesson_ids))
            .order_by(AssignmentRecord.id)
        )
    )
    targets: dict[int, list[int]] = {}
    if rows:
        for aid, pid in await s.execute(
            select(AssignmentPupil.assignment_id, AssignmentPupil.pupil_id)
            .where(AssignmentPupil.assignment_id.in_([r.id for r in rows]))
            .order_by(AssignmentPupil.pupil_id)
        ):
            targets.setdefault(int(aid), []).append(int(pid))
    return [_assignment(r, None if r.for_all else targets.get(r.id, [])) for r in rows]


def _assignment(row: AssignmentRecord, pupil_ids: list[int] | None) -> models.Assignment:
    return models.Assignment(
        id=row.id,
        lesson_id=row.lesson_id,
        kind=models.Kind(row.kind),
        difficulty=models.Difficulty(row.difficulty),
        text=row.text,
        due_on=row.due_on,
        pupil_ids=pupil_ids,
    )


async def plan_of(
    s: AsyncSession, teacher_id: int, class_id: int, subject_id: int | None
) -> list[models.Topic]:
    """The thematic plan of a teacher for a class and subject, in order."""
    if subject_id is None:
        return []
    rows = await s.scalars(
        select(PlanTopic)
        .where(
            PlanTopic.teacher_id == teacher_id,
            PlanTopic.class_id == class_id,
            PlanTopic.subject_id == subject_id,
        )
        .order_by(PlanTopic.position)
    )
    return [models.Topic(id=t.id, position=t.position, title=t.title, hours=t.hours) for t in rows]


async def _class_pupils(s: AsyncSession, class_id: int) -> set[int]:
    return set(await s.scalars(select(ClassMember.user_id).where(ClassMember.class_id == class_id)))


async def recorded_status(s: AsyncSession, lesson_id: int, pupil_id: int) -> str | None:
    """The attendance the journal has, or has queued, for a pupil of a closed lesson."""
    status = await s.scalar(
        select(AttendanceRecord.status).where(
            AttendanceRecord.lesson_id == lesson_id, AttendanceRecord.pupil_id == pupil_id
        )
    )
    if status is not None:
        return str(status)
    # Not delivered yet: the outbox row written when the lesson closed says what will arrive.
    payload = await s.scalar(
        select(OutboxRecord.payload).where(
            OutboxRecord.key == f"builtin:attendance:{lesson_id}:{pupil_id}"
        )
    )
    return None if payload is None else str(json.loads(payload)["status"])


class Gradebook:
    """Topic, marks and assignments of a teacher's own lessons; thematic plans."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], base_url: str = "") -> None:
        self._sessions = sessions
        self._base_url = base_url

    async def set_topic(
        self, lesson_id: int, actor: Actor, topic_id: int | None, text: str | None
    ) -> models.Lesson:
        """Give the lesson a topic of its plan, or a typed one."""
        async with self._sessions() as s:
            lesson = await own_lesson(s, lesson_id, actor)
            if topic_id is not None:
                plan = {
                    t.id: t
                    for t in await plan_of(s, lesson.teacher_id, lesson.class_id, lesson.subject_id)
                }
                if topic_id not in plan:
                    raise LessonError(
                        Reason.UNKNOWN_TOPIC, "That topic is not in this lesson's thematic plan."
                    )
                lesson.topic_id, lesson.topic = topic_id, plan[topic_id].title
            else:
                lesson.topic_id, lesson.topic = None, text
            await s.commit()
            return await lesson_view(s, lesson, self._base_url)

    async def _pupil_of(self, s: AsyncSession, lesson: Lesson, pupil_id: int) -> None:
        if pupil_id not in await _class_pupils(s, lesson.class_id):
            raise LessonError(Reason.UNKNOWN_PUPIL, "That pupil is not in this lesson's class.")

    async def put_mark(
        self, lesson_id: int, actor: Actor, pupil_id: int, value: int, comment: str | None
    ) -> models.Mark:
        """Give (or replace) a pupil's mark for the lesson."""
        async with self._sessions() as s:
            lesson = await own_lesson(s, lesson_id, actor)
            await self._pupil_of(s, lesson, pupil_id)
            settings = await school.load(s)
            if not settings.mark_min <= value <= settings.mark_max:
                raise LessonError(
                    Reason.OUT_OF_RANGE,
                    f"A mark is from {settings.mark_min} to {settings.mark_max}.",
                )
            if lesson.state == CLOSED and await recorded_status(s, lesson_id, pupil_id) == "absent":
                raise LessonError(
                    Reason.PUPIL_ABSENT, "The journal has this pupil absent from this lesson."
                )
        # Two clicks at once may both find no mark: the loser of the insert updates instead.
        for _ in range(2):
            async with self._sessions() as s:
                row = await s.scalar(
                    select(MarkRecord).where(
                        MarkRecord.lesson_id == lesson_id, MarkRecord.pupil_id == pupil_id
                    )
                )
                if row is None:
                    row = MarkRecord(lesson_id=lesson_id, pupil_id=pupil_id)
                    s.add(row)
                row.value, row.comment, row.at = value, comment, time.time()
                try:
                    await s.commit()
                except IntegrityError:
                    continue
                return mark(row)
        raise LessonError(Reason.CHANGED_MEANWHILE, "The mark changed meanwhile; please try again.")

    async def delete_mark(self, lesson_id: int, actor: Actor, pupil_id: int) -> None:
        """Take a mark back (nothing happens if there was none)."""
        async with self._sessions() as s:
            lesson = await own_lesson(s, lesson_id, actor)
            await self._pupil_of(s, lesson, pupil_id)
            await s.execute(
                delete(MarkRecord).where(
                    MarkRecord.lesson_id == lesson_id, MarkRecord.pupil_id == pupil_id
                )
            )
            await s.commit()

    async def add_assignment(
        self, lesson_id: int, actor: Actor, body: models.AssignmentBody
    ) -> models.Assignment:
        """Set work for the whole class or for chosen pupils of it."""
        async with self._sessions() as s:
            lesson = await own_lesson(s, lesson_id, actor)
            chosen = None if body.pupil_ids is None else sorted(set(body.pupil_ids))
            if chosen is not None:
                strangers = set(chosen) - await _class_pupils(s, lesson.class_id)
                if strangers:
                    raise LessonError(
                        Reason.UNKNOWN_PUPIL, f"Not pupils of this class: {sorted(strangers)}."
                    )
            row = AssignmentRecord(
                lesson_id=lesson_id,
                kind=body.kind.value,
                difficulty=body.difficulty.value,
                text=body.text,
                due_on=body.due_on,
                for_all=chosen is None,
                created_at=time.time(),
            )
            s.add(row)
            await s.flush()
            s.add_all(AssignmentPupil(assignment_id=row.id, pupil_id=p) for p in chosen or [])
            await s.commit()
            return _assignment(row, chosen)

    async def delete_assignment(self, lesson_id: int, actor: Actor, assignment_id: int) -> None:
        """Withdraw an assignment of the lesson."""
        async with self._sessions() as s:
            await own_lesson(s, lesson_id, actor)
            row = await s.get(AssignmentRecord, assignment_id)
            if row is None or row.lesson_id != lesson_id:
                raise LessonError(Reason.UNKNOWN_ASSIGNMENT, "There is no such assignment.")
            await s.delete(row)
            await s.commit()

    async def _teaches(
        self, s: AsyncSession, teacher_id: int, class_id: int, subject_id: int
    ) -> None:
        if await s.get(SchoolClass, class_id) is None:
            raise LessonError(Reason.UNKNOWN_CLASS, "There is no class with that id.")
        if await s.get(Subject, subject_id) is None:
            raise LessonError(Reason.UNKNOWN_SUBJECT, "There is no subject with that id.")
        found = await s.scalar(
            select(Teaching.id).where(
                Teaching.teacher_id == teacher_id,
                Teaching.class_id == class_id,
                Teaching.subject_id == subject_id,
            )
        )
        if found is None:
            raise LessonError(Reason.NOT_PERMITTED, "You do not teach this subject to this class.")

    async def plan(self, teacher_id: int, class_id: int, subject_id: int) -> list[models.Topic]:
        """The teacher's thematic plan for a class and subject."""
        async with self._sessions() as s:
            await self._teaches(s, teacher_id, class_id, subject_id)
            return await plan_of(s, teacher_id, class_id, subject_id)

    async def save_plan(
        self, teacher_id: int, class_id: int, subject_id: int, topics: list[models.PlanTopicBody]
    ) -> list[models.Topic]:
        """Replace the plan; topics given with their id keep it (and the lessons that use it)."""
        async with self._sessions() as s:
            await self._teaches(s, teacher_id, class_id, subject_id)
            existing = {
                t.id: t
                for t in await s.scalars(
                    select(PlanTopic).where(
                        PlanTopic.teacher_id == teacher_id,
                        PlanTopic.class_id == class_id,
                        PlanTopic.subject_id == subject_id,
                    )
                )
            }
            kept = [t.id for t in topics if t.id is not None]
            strangers = set(kept) - set(existing)
            if strangers or len(kept) != len(set(kept)):
                raise LessonError(
                    Reason.UNKNOWN_TOPIC, "A topic id is not in this plan, or is given twice."
                )
            for gone in set(existing) - set(kept):
                await s.delete(existing[gone])
            for position, topic in enumerate(topics, start=1):
                row = existing[topic.id] if topic.id is not None else None
                if row is None:
                    row = PlanTopic(teacher_id=teacher_id, class_id=class_id, subject_id=subject_id)
                    s.add(row)
                row.position, row.title, row.hours = position, topic.title, topic.hours
            await s.commit()
            return await plan_of(s, teacher_id, class_id, subject_id)
