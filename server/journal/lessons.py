"""Lessons of the built-in journal and the bridge that closes them into attendance records."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.attendance import Attendance, Departure, Presence, Rules, Status, assess
from rooms.refusals import Reason
from server.db.accounts import Store
from server.db.tables import (
    AttendanceRecord,
    ClassMember,
    Lesson,
    PresenceRecord,
    SchoolClass,
    User,
)
from server.journal import outbox
from server.journal.adapters import Delivered

SCHEDULED, OPEN, CLOSED = "scheduled", "open", "closed"
HOW = {
    "left": Departure.LEFT,
    "disconnected": Departure.DISCONNECTED,
    "removed": Departure.REMOVED,
}


class LessonError(Exception):
    """A lesson operation that cannot be done, as a typed reason and a sentence."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass(frozen=True, slots=True)
class Proposal:
    """One pupil's proposed attendance, as the teacher sees it before ending the lesson."""

    pupil_id: int
    name: str
    attendance: Attendance
    in_room_now: bool

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
        }


def lesson_public(lesson: Lesson, class_name: str) -> dict[str, Any]:
    """The protocol's Lesson object."""
    return {
        "id": lesson.id,
        "class_id": lesson.class_id,
        "class_name": class_name,
        "subject": lesson.subject,
        "starts_at": lesson.starts_at,
        "ends_at": lesson.ends_at,
        "topic": lesson.topic,
        "room_id": lesson.room_id,
        "state": lesson.state,
        "ended_at": lesson.ended_at,
    }


class Lessons:
    """Schedule, start and end lessons; end writes attendance to the outbox atomically."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: Store,
        destinations: tuple[str, ...],
        rules: Rules | None = None,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._destinations = destinations
        self.rules = rules or Rules()

    async def create(
        self,
        teacher_id: int,
        class_id: int,
        subject: str,
        starts_at: float,
        ends_at: float,
        topic: str | None,
    ) -> dict[str, Any]:
        """Put a lesson in the teacher's schedule."""
        if not await self._store.class_exists(class_id):
            raise LessonError(Reason.INVALID_PAYLOAD, "There is no class with that id.")
        if not 0 < ends_at - starts_at <= 6 * 3600:
            raise LessonError(
                Reason.INVALID_PAYLOAD, "A lesson ends after it starts, within 6 hours."
            )
        async with self._sessions() as s:
            lesson = Lesson(
                class_id=class_id,
                teacher_id=teacher_id,
                subject=subject,
                starts_at=starts_at,
                ends_at=ends_at,
                topic=topic,
                state=SCHEDULED,
            )
            s.add(lesson)
            await s.commit()
            return lesson_public(lesson, await self._class_name(s, class_id))

    async def _class_name(self, s: AsyncSession, class_id: int) -> str:
        return str(await s.scalar(select(SchoolClass.name).where(SchoolClass.id == class_id)))

    async def _own(self, s: AsyncSession, lesson_id: int, teacher_id: int) -> Lesson:
        lesson = await s.get(Lesson, lesson_id)
        if lesson is None:
            raise LessonError(Reason.UNKNOWN_LESSON, "There is no such lesson.")
        if lesson.teacher_id != teacher_id:
            raise LessonError(Reason.NOT_PERMITTED, "This is another teacher's lesson.")
        return lesson

    async def schedule(self, teacher_id: int) -> list[dict[str, Any]]:
        """The teacher's lessons in time order."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(Lesson, SchoolClass.name)
                .join(SchoolClass, SchoolClass.id == Lesson.class_id)
                .where(Lesson.teacher_id == teacher_id)
                .order_by(Lesson.starts_at)
            )
            return [lesson_public(lesson, name) for lesson, name in rows]

    async def start(self, lesson_id: int, teacher_id: int) -> tuple[dict[str, Any], str]:
        """Open the lesson's online room (once); returns the lesson and its room id."""
        async with self._sessions() as s:
            lesson = await self._own(s, lesson_id, teacher_id)
            if lesson.state == CLOSED:
                raise LessonError(Reason.INVALID_STATE, "This lesson has already ended.")
            name = await self._class_name(s, lesson.class_id)
            if lesson.room_id is None:
                room = await self._store.create_room(
                    f"{lesson.subject} — {name}"[:64], teacher_id, lesson.class_id, "ask_host"
                )
                lesson.room_id, lesson.state = room.id, OPEN
                await s.commit()
            return lesson_public(lesson, name), str(lesson.room_id)

    async def _pupils(self, s: AsyncSession, class_id: int) -> list[tuple[int, str]]:
        rows = await s.execute(
            select(User.id, User.display_name)
            .join(ClassMember, ClassMember.user_id == User.id)
            .where(ClassMember.class_id == class_id)
            .order_by(User.display_name)
        )
        return [(int(i), str(n)) for i, n in rows]

    async def _proposals(self, s: AsyncSession, lesson: Lesson, now: float) -> list[Proposal]:
        end = min(lesson.ends_at, lesson.ended_at or now)
        if end <= lesson.starts_at:
            raise LessonError(Reason.INVALID_STATE, "The lesson has not started yet.")
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
                assess(presences.get(pid, []), lesson.starts_at, end, self.rules),
                pid in in_room,
            )
            for pid, name in await self._pupils(s, lesson.class_id)
        ]

    async def proposal(self, lesson_id: int, teacher_id: int) -> list[dict[str, Any]]:
        """The attendance the bridge proposes now, including who is missing right now."""
        async with self._sessions() as s:
            lesson = await self._own(s, lesson_id, teacher_id)
            return [p.public() for p in await self._proposals(s, lesson, time.time())]

    async def end(
        self, lesson_id: int, teacher_id: int, corrections: dict[int, tuple[str | None, str | None]]
    ) -> int:
        """Close the lesson and queue its attendance for the journal(s), in one transaction."""
        now = time.time()
        async with self._sessions() as s:
            lesson = await self._own(s, lesson_id, teacher_id)
            if lesson.state == CLOSED:
                raise LessonError(Reason.INVALID_STATE, "This lesson has already ended.")
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
                }
                record.pop("in_room_now")
                for destination in self._destinations:
                    outbox.add(
                        s, f"{destination}:attendance:{lesson.id}:{p.pupil_id}", destination, record
                    )
            await s.commit()
            return len(proposals)

    async def finalise_overdue(self, now: float, grace_s: float = 15 * 60) -> list[int]:
        """End, as proposed, the open lessons whose teacher never pressed "End lesson"."""
        async with self._sessions() as s:
            overdue = list(
                await s.scalars(
                    select(Lesson).where(Lesson.state == OPEN, Lesson.ends_at + grace_s <= now)
                )
            )
        ended = []
        for lesson in overdue:
            try:
                await self.end(lesson.id, lesson.teacher_id, {})
                ended.append(lesson.id)
            except LessonError:
                continue  # ended meanwhile by its teacher
        return ended

    async def journal(self, lesson_id: int, teacher_id: int) -> dict[str, Any]:
        """The lesson as the journal shows it: the lesson and its attendance records."""
        async with self._sessions() as s:
            lesson = await self._own(s, lesson_id, teacher_id)
            rows = await s.execute(
                select(AttendanceRecord, User.display_name)
                .join(User, User.id == AttendanceRecord.pupil_id)
                .where(AttendanceRecord.lesson_id == lesson_id)
                .order_by(User.display_name)
            )
            return {
                "lesson": lesson_public(lesson, await self._class_name(s, lesson.class_id)),
                "attendance": [
                    {
                        "pupil_id": r.pupil_id,
                        "name": name,
                        "status": r.status,
                        "late": r.late,
                        "left_early": r.left_early,
                        "attended_min": round(r.attended_s / 60, 1),
                        "comment": r.comment,
                    }
                    for r, name in rows
                ],
            }


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
