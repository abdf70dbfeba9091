"""Documents shared in a lesson's room, kept with the lesson (table lesson_documents)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.refusals import Reason
from server.db.accounts import Account
from server.db.tables import ClassMember, Lesson, LessonDocument
from server.journal import models
from server.journal.views import Actor, LessonError, own_lesson

OPEN = "open"
CLOSED = "closed"


async def attach_to_lesson(
    sessions: async_sessionmaker[AsyncSession], room_id: str, document: dict[str, Any]
) -> int | None:
    """Keep a document with the lesson open in this room now; its id, or None (no lesson)."""
    async with sessions() as s, s.begin():
        lesson_id = await s.scalar(
            select(Lesson.id).where(Lesson.room_id == room_id, Lesson.state == OPEN)
        )
        if lesson_id is None:  # a room without a lesson (a meeting): nothing to keep it with
            return None
        known = await s.scalar(
            select(LessonDocument.id).where(
                LessonDocument.lesson_id == lesson_id,
                LessonDocument.document_id == document["id"],
            )
        )
        if known is None:
            s.add(
                LessonDocument(
                    lesson_id=lesson_id,
                    document_id=document["id"],
                    name=str(document["name"])[:200],
                    kind=document["kind"],
                    shown_as=document["shown_as"],
                    pages=document.get("pages"),
                    uploaded_by=str(document["by"])[:64],
                    uploaded_at=time.time(),
                )
            )
        return int(lesson_id)


def document_url(lesson_id: int, document_id: str, kind: str) -> str:
    """Where a lesson's document opens after the lesson: the original, or an FLV's MP4."""
    file = "video.mp4" if kind == "flv" else "original"
    return f"/api/lessons/{lesson_id}/documents/{document_id}/{file}"


async def documents_of(s: AsyncSession, lesson_id: int) -> list[models.LessonDocument]:
    """A lesson's documents, first shared first."""
    found = await documents_of_lessons(s, [lesson_id])
    return found.get(lesson_id, [])


async def documents_of_lessons(
    s: AsyncSession, lesson_ids: list[int]
) -> dict[int, list[models.LessonDocument]]:
    """The documents of several lessons (a diary's week) in one query, first shared first."""
    if not lesson_ids:
        return {}
    rows = await s.scalars(
        select(LessonDocument)
        .where(LessonDocument.lesson_id.in_(lesson_ids))
        .order_by(LessonDocument.uploaded_at, LessonDocument.id)
    )
    found: dict[int, list[models.LessonDocument]] = {}
    for r in rows:
        found.setdefault(r.lesson_id, []).append(
            models.LessonDocument(
                id=r.document_id,
                name=r.name,
                kind=r.kind,
                shown_as=r.shown_as,
                pages=r.pages,
                uploaded_by=r.uploaded_by,
                uploaded_at=r.uploaded_at,
                url=document_url(r.lesson_id, r.document_id, r.kind),
            )
        )
    return found


class Withheld(Exception):
    """A lesson's document this account may not have, as a typed reason and a sentence."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


async def lesson_after(s: AsyncSession, lesson_id: int, account: Account, early: str) -> Lesson:
    """The lesson, if this account may have what was kept of it (documents, recordings): its
    teacher (while the teaching table gives them the class) and administrators always; the
    pupils of its class once it ended (`early`: the sentence before). Raises Withheld."""
    lesson = await s.get(Lesson, lesson_id)
    if lesson is None:
        raise Withheld(Reason.UNKNOWN_LESSON, "There is no such lesson.")
    if account.kind == "pupil":
        member = await s.scalar(
            select(ClassMember.id).where(
                ClassMember.class_id == lesson.class_id, ClassMember.user_id == account.id
            )
        )
        if member is None:
            raise Withheld(Reason.NOT_PERMITTED, "This lesson is another class's.")
        if lesson.state != CLOSED:
            raise Withheld(Reason.NOT_PERMITTED, early)
    elif account.kind in ("teacher", "admin"):
        try:
            await own_lesson(s, lesson_id, Actor(account.id, admin=account.kind == "admin"))
        except LessonError as refused:
            raise Withheld(refused.reason, refused.message) from None
    else:
        raise Withheld(Reason.NOT_PERMITTED, "Only the lesson's class and teachers may see this.")
    return lesson


async def lesson_document(
    s: AsyncSession, lesson_id: int, document_id: str, account: Account
) -> LessonDocument:
    """The lesson's copy of a document, for those who may have it after the room is gone.

    Its teacher (while the teaching table gives them the class) and administrators always; the
    pupils of its class once the lesson has ended (the school's asynchronous format: during
    the lesson they see it in the room).
    """
    await lesson_after(
        s, lesson_id, account, "The lesson's documents open for its class after the lesson."
    )
    row = await s.scalar(
        select(LessonDocument).where(
            LessonDocument.lesson_id == lesson_id, LessonDocument.document_id == document_id
        )
    )
    if row is None:
        raise Withheld(Reason.UNKNOWN_DOCUMENT, "The lesson has no such document.")
    return row
