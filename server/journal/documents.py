"""Documents shared in a lesson's room, kept with the lesson (table lesson_documents)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.tables import Lesson, LessonDocument
from server.journal import models

OPEN = "open"


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


async def documents_of(s: AsyncSession, lesson_id: int) -> list[models.LessonDocument]:
    """A lesson's documents, first shared first."""
    rows = await s.scalars(
        select(LessonDocument)
        .where(LessonDocument.lesson_id == lesson_id)
        .order_by(LessonDocument.uploaded_at, LessonDocument.id)
    )
    return [
        models.LessonDocument(
            id=r.document_id,
            name=r.name,
            kind=r.kind,
            shown_as=r.shown_as,
            pages=r.pages,
            uploaded_by=r.uploaded_by,
            uploaded_at=r.uploaded_at,
        )
        for r in rows
    ]
