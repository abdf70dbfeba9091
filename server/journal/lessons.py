"""Lessons of the built-in journal and the bridge that closes them into attendance records."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.attendance import (
    Attendance,
    Departure,
    Presence,
    Status,
    assess,
    current_stretch,
    held_window,
)
from rooms.refusals import Reason
from server.db.accounts import Store
from server.db.tables import (
    AttendanceRecord,
    ClassMember,
    Lesson,
    PresenceRecord,
    SchoolClass,
    Subject,
    User,
)
from server.journal import connections, gradebook, models, outbox, school
from server.journal.adapters import Delivered
from server.journal.documents import documents_of
from server.journal.views import (
    SERVER,
    Actor,
    LessonError,
    lesson_view,
    lesson_views,
    own_lesson,
    teaches,
    week_period,
)
from server.journal.weeks import day_of, week_bounds

__all__ = ["CLOSED", "OPEN", "SCHEDULED", "BuiltinJournal", "LessonError", "Lessons"]

SCHEDULED, OPEN, CLOSED = "scheduled", "open", "closed"
HOW = {
    "left": Departure.LEFT,
    "disconnected": Departure.DISCONNECTED,
    "replaced": Departure.DISCONNECTED,  # back on a new connection: merged like a reconnect
    "removed": Departure.REMOVED,
    "ended": Departure.LEFT,  # the room closed when the lesson ended: nobody left early
}
# Closes a lesson's room for everyone: (room id, when it closes or None for now, the end instant).
RoomCloser = Callable[[str, float | None, float], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Proposal:
    """One pupil's proposed attendance (the verdict if the lesson ended now) and what is true
    now: in the room since when, or left when."""

    pupil_id: int
    name: str
    attendance: Attendance
    in_room_now: bool
    since: float | None = None
    left_at: float | None = None

    def public(self) -> dict[str, Any]:
        a = self.attendance
        return {
            "pupil_id": self.pupil_id,
            "name": self.name,
            "status": a.status.value,
            "late": a.late,
            "left_early": a.left_early,
            "attended_min": round(a.attended_s / 60, 1),
            "network_lost_min": round(a.network_lost_s / 60, 1),
            "in_room_now": self.in_room_now,
            "since": self.since,
            "left_at": self.left_at,
        }


class Lessons:
    """Schedule, start and end lessons; end writes attendance to the outbox atomically."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: Store,
        destinations: tuple[str, ...],
        base_url: str = "",
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._destinations = destinations
        self._base_url = base_url
        self._close_room: RoomCloser | None = None

    def close_rooms_with(self, closer: RoomCloser) -> None:
        """How an ended lesson's room is closed (the signalling layer, set at start-up)."""
        self._close_room = closer

    async def create(
        self,
        teacher_id: int,
        class_id: int,
        subject: str | int,
        starts_at: float,
        ends_at: float,
        topic: str | None,
    ) -> models.Lesson:
        """Put a lesson in the teacher's schedule; `subject` is a name or a subject's id."""
        if not await self._store.class_exists(class_id):
            raise LessonError(Reason.INVALID_PAYLOAD, "There is no class with that id.")
        if not 0 < ends_at - starts_at <= 6 * 3600:
            raise LessonError(
                Reason.INVALID_PAYLOAD, "A lesson ends after it starts, within 6 hours."
            )
        async with self._sessions() as s:
            if isinstance(subject, int):
                row = await s.get(Subject, subject)
                if row is None:
                    raise LessonError(Reason.UNKNOWN_SUBJECT, "There is no subject with that id.")
            else:  # a typed name that is one of the school's subjects is that subject
                row = await s.scalar(select(Subject).where(Subject.name == subject))
            subject_id = None if row is None else row.id
            subject = subject if row is None else row.name
            if not await teaches(s, teacher_id, class_id, subject_id):
                raise LessonError(
                    Reason.NOT_PERMITTED,
                    "The teaching table does not give this class and subject to the teacher.",
                )
            lesson = Lesson(
                class_id=class_id,
                teacher_id=teacher_id,
                subject=subject,
                subject_id=subject_id,
                starts_at=starts_at,
                ends_at=ends_at,
                topic=topic,
                state=SCHEDULED,
            )
            s.add(lesson)
            await s.commit()
            return await lesson_view(s, lesson, self._base_url)

    async def schedule(self, teacher_id: int, week: str | None = None) -> models.Schedule:
        """The teacher's lessons of one ISO week (every lesson without one), in time order."""
        async with self._sessions() as s:
            settings = await school.load(s)
            query = select(Lesson).where(Lesson.teacher_id == teacher_id)
            if week is not None:
                start, end = week_bounds(week, settings.zone)
                query = query.where(Lesson.starts_at >= start, Lesson.starts_at < end)
            lessons = list(await s.scalars(query.order_by(Lesson.starts_at, Lesson.id)))
            views = await lesson_views(s, lessons, self._base_url)
            period, number = await week_period(s, week, settings)
            return models.Schedule(
                week=week or "",
                period=None if period is None else period.name,
                week_number=number,
                lessons=views,
            )

    async def start(self, lesson_id: int, actor: Actor) -> tuple[models.Lesson, str]:
        """Open the lesson's online room (once); returns the lesson and its room id.

        The rule: a lesson may be started any time on its school day (in the school's time
        zone) until its scheduled end — schedules move within a day, and a room opened early
        lets the class gather. Not on an earlier day, not once its time is over.
        """
        now = time.time()
        async with self._sessions() as s:
            lesson = await own_lesson(s, lesson_id, actor)
            if lesson.state == CLOSED:
                raise LessonError(Reason.LESSON_CLOSED, "This lesson has already ended.")
            name = await self._class_name(s, lesson.class_id)
            if lesson.room_id is None:
                zone = (await school.load(s)).zone
                day = day_of(lesson.starts_at, zone)
                if day_of(now, zone) < day:
                    raise LessonError(
                        Reason.LESSON_NOT_TODAY,
                        f"This lesson is on {day.isoformat()}; it can be started that day.",
                    )
                if now >= lesson.ends_at:
                    raise LessonError(
                        Reason.LESSON_OVER, "This lesson's time is over; it can no longer start."
                    )
                # The lesson's teacher hosts its room, whoever (an administrator) opened it.
                room = await self._store.create_room(
                    f"{lesson.subject} — {name}"[:64],
                    lesson.teacher_id,
                    lesson.class_id,
                    "ask_host",
                )
                lesson.room_id, lesson.state, lesson.started_at = room.id, OPEN, now
                await s.commit()
            return await lesson_view(s, lesson, self._base_url), str(lesson.room_id)

    async def _class_name(self, s: AsyncSession, class_id: int) -> str:
        return str(await s.scalar(select(SchoolClass.name).where(SchoolClass.id == class_id)))

    async def _pupils(self, s: AsyncSession, class_id: int) -> list[tuple[int, str]]:
        rows = await s.execute(
            select(User.id, User.display_name)
            .join(ClassMember, ClassMember.user_id == User.id)
            .where(ClassMember.class_id == class_id)
            .order_by(User.display_name)
        )
        return [(int(i), str(n)) for i, n in rows]

    async def _proposals(self, s: AsyncSession, lesson: Lesson, now: float) -> list[Proposal]:
        """Each pupil's attendance if the lesson ended now (or as it ended), with what is true
        now: who is in the room since when, who left when."""
        rules = (await school.load(s)).rules
        start, end = held_window(
            lesson.starts_at, lesson.ends_at, lesson.started_at, lesson.ended_at or now
        )
        presences: dict[int, list[Presence]] = {}
        in_room: set[int] = set()
        if lesson.room_id is not None:
            for row in await s.scalars(
                select(PresenceRecord).where(PresenceRecord.room_id == lesson.room_id)
            ):
                if row.user_id is None:
                    continue  # guests never become pupils' records (they are in the guest log)
                if row.left_at is None:
                    in_room.add(row.user_id)
                presences.setdefault(row.user_id, []).append(
                    Presence(
                        row.joined_at,
                        row.left_at if row.left_at is not None else now,
                        HOW.get(row.how or "", Departure.STILL_IN),
                    )
                )
        return [
            Proposal(
                pid,
                name,
                assess(presences.get(pid, []), start, end, rules),
                pid in in_room,
                *current_stretch(presences.get(pid, []), rules.reconnect_grace_s),
            )
            for pid, name in await self._pupils(s, lesson.class_id)
        ]

    async def proposal(self, lesson_id: int, actor: Actor) -> list[dict[str, Any]]:
        """The attendance the bridge proposes now, including who is missing right now."""
        async with self._sessions() as s:
            lesson = await own_lesson(s, lesson_id, actor)
            proposals = await self._proposals(s, lesson, time.time())
            return [p.public() for p in proposals]

    async def end(
        self,
        lesson_id: int,
        actor: Actor,
        corrections: dict[int, tuple[str | None, str | None]],
        keep_open_s: float = 0,
    ) -> int:
        """Close the lesson and queue its attendance for the journal(s), in one transaction;
        then close its room for everyone, at once or after `keep_open_s` (a short Q&A).

        The attendance is computed up to this instant either way."""
        now = time.time()
        async with self._sessions() as s:
            lesson = await own_lesson(s, lesson_id, actor)
            if lesson.state == CLOSED:
                raise LessonError(Reason.LESSON_CLOSED, "This lesson has already ended.")
            if lesson.state != OPEN:  # never started: there is nothing to take attendance of
                raise LessonError(Reason.LESSON_NOT_STARTED, "Start the lesson first.")
            # Whatever the clock says: a teacher may always end what they started.
            lesson.ended_at = now
            proposals = await self._proposals(s, lesson, now)
            known = {p.pupil_id for p in proposals}
            unknown = set(corrections) - known
            if unknown:
                raise LessonError(
                    Reason.UNKNOWN_PUPIL, f"Not pupils of this class: {sorted(unknown)}."
                )
            lesson.state = CLOSED
            class_name = await self._class_name(s, lesson.class_id)
            settings = await school.load(s)
            for p in proposals:
                status, comment = corrections.get(p.pupil_id, (None, None))
                record = {
                    **p.public(),
                    "status": status or p.attendance.status.value,
                    "comment": comment,
                    "lesson_id": lesson.id,
                    "class_name": class_name,
                    "subject": lesson.subject,
                    "starts_at": lesson.starts_at,
                    "date": day_of(lesson.starts_at, settings.zone).isoformat(),
                }
                for live_only in ("in_room_now", "since", "left_at"):
                    record.pop(live_only)
                for destination in self._destinations:
                    outbox.add(
                        s, f"{destination}:attendance:{lesson.id}:{p.pupil_id}", destination, record
                    )
            await s.commit()
            room_id = lesson.room_id
        if room_id is not None and self._close_room is not None:
            try:
                await self._close_room(room_id, now + keep_open_s if keep_open_s > 0 else None, now)
            except Exception:  # the lesson has ended and its attendance is queued regardless
                logging.getLogger(__name__).exception("closing room %s failed", room_id)
        return len(proposals)

    async def finalise_overdue(self, now: float, grace_s: float | None = None) -> list[int]:
        """End, as proposed, the open lessons whose teacher never pressed "End lesson".

        The grace period is the school's (`finalise_grace_min`) unless given.
        """
        async with self._sessions() as s:
            if grace_s is None:
                grace_s = (await school.load(s)).finalise_grace_s
            overdue = list(
                await s.scalars(
                    select(Lesson).where(Lesson.state == OPEN, Lesson.ends_at + grace_s <= now)
                )
            )
        ended = []
        for lesson in overdue:
            try:
                await self.end(lesson.id, SERVER, {})
                ended.append(lesson.id)
            except LessonError:
                continue  # ended meanwhile by its teacher
        return ended

    async def journal(self, lesson_id: int, actor: Actor) -> models.LessonDetail:
        """The lesson as its page shows it: attendance, marks, assignments, pupils and plan."""
        async with self._sessions() as s:
            lesson = await own_lesson(s, lesson_id, actor)
            settings = await school.load(s)
            rows = await s.execute(
                select(AttendanceRecord, User.display_name)
                .join(User, User.id == AttendanceRecord.pupil_id)
                .where(AttendanceRecord.lesson_id == lesson_id)
                .order_by(User.display_name)
            )
            attendance = [
                models.AttendanceEntry(
                    pupil_id=r.pupil_id,
                    name=name,
                    status=r.status,
                    late=r.late,
                    left_early=r.left_early,
                    attended_min=round(r.attended_s / 60, 1),
                    comment=r.comment,
                )
                for r, name in rows
            ]
            pupils = await self._pupils(s, lesson.class_id)
            return models.LessonDetail(
                lesson=await lesson_view(s, lesson, self._base_url),
                attendance=attendance,
                marks=await gradebook.marks_of(s, [lesson.id]),
                assignments=await gradebook.assignments_of(s, [lesson.id]),
                pupils=[models.Pupil(id=i, name=n) for i, n in pupils],
                plan=await gradebook.plan_of(
                    s, lesson.teacher_id, lesson.class_id, lesson.subject_id
                ),
                mark_scale=models.MarkScale(mark_min=settings.mark_min, mark_max=settings.mark_max),
                guests=await self._guests(s, lesson, {i for i, _ in pupils}),
                documents=await documents_of(s, lesson.id),
                connections=await connections.of_lesson(s, lesson, pupils),
            )

    async def pupil_connections(self, pupil_id: int, actor: Actor) -> models.PupilConnections:
        """A pupil's connection over their latest lessons, for a teacher of their class."""
        async with self._sessions() as s:
            found = (
                await s.execute(
                    select(User.display_name, ClassMember.class_id, SchoolClass.name)
                    .join(ClassMember, ClassMember.user_id == User.id)
                    .join(SchoolClass, SchoolClass.id == ClassMember.class_id)
                    .where(User.id == pupil_id)
                )
            ).first()
            if found is None:
                raise LessonError(Reason.UNKNOWN_PUPIL, "There is no such pupil.")
            name, class_id, class_name = found
            if not actor.admin and not await teaches(s, actor.user_id, class_id, None):
                raise LessonError(Reason.NOT_PERMITTED, "You do not teach this pupil's class.")
            history = await connections.lines(
                s, {pupil_id: name}, class_id, float("inf"), connections.HISTORY
            )
            mine = history.get(pupil_id, [])
            return models.PupilConnections(
                pupil=models.Pupil(id=pupil_id, name=name),
                class_name=class_name,
                lessons=mine,
                poor_last_3=connections.poor_last(mine),
            )

    async def _guests(
        self, s: AsyncSession, lesson: Lesson, pupil_ids: set[int]
    ) -> list[models.GuestVisit]:
        """Everyone in the lesson's room but its teacher and its class, in order of arrival."""
        if lesson.room_id is None:
            return []
        rows = await s.scalars(
            select(PresenceRecord)
            .where(PresenceRecord.room_id == lesson.room_id)
            .order_by(PresenceRecord.joined_at, PresenceRecord.id)
        )
        class_and_teacher = pupil_ids | {lesson.teacher_id}
        return [
            models.GuestVisit(
                name=row.name,
                institution=row.institution,
                kind=row.kind,
                joined_at=row.joined_at,
                left_at=row.left_at,
            )
            for row in rows
            if row.user_id not in class_and_teacher  # guests (no user id) included
        ]


class BuiltinJournal:
    """The journal inside Sabaq: an attendance record per (lesson, pupil), written once."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def deliver(self, key: str, record: dict[str, Any]) -> Delivered:
        """Write or overwrite the record for its (lesson, pupil): idempotent by construction."""
        async with self._sessions() as s:
            row = await s.scalar(
                select(AttendanceRecord).where(
                    AttendanceRecord.lesson_id == record["lesson_id"],
                    AttendanceRecord.pupil_id == record["pupil_id"],
                )
            )
            if row is None:
                row = AttendanceRecord(lesson_id=record["lesson_id"], pupil_id=record["pupil_id"])
                s.add(row)
            row.status = Status(record["status"]).value
            row.late, row.left_early = bool(record["late"]), bool(record["left_early"])
            row.attended_s = float(record["attended_min"]) * 60
            row.network_lost_s = float(record["network_lost_min"]) * 60
            row.comment = record["comment"]
            await s.commit()
        return Delivered()


async def finalise_forever(lessons: Lessons, courier: outbox.Courier, every_s: float = 60) -> None:
    """Once a minute, end the lessons left open past their end plus the grace period."""
    while True:
        try:
            if await lessons.finalise_overdue(time.time()):
                courier.notify()
        except Exception:  # a database hiccup must not stop the finaliser for good
            logging.getLogger(__name__).exception("finalising overdue lessons failed")
        await asyncio.sleep(every_s)
