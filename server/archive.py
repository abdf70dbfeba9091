"""What a lesson keeps: public chat and poll results, written as the room produces them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.model import Record
from server.db.tables import ChatRecord, ConnectionQualityRecord, PollRecord, PresenceRecord

log = logging.getLogger(__name__)


class Archive:
    """Stores `Record` effects in order; a failed write is logged and never breaks the room."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], linger_s: float = 0.1) -> None:
        self._sessions = sessions
        self._linger_s = linger_s
        self._queue: asyncio.Queue[tuple[str, str, Record]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    def enqueue(self, session: str, room_id: str, effect: Record) -> None:
        """Keep a record, written by one background writer in the order given."""
        self._queue.put_nowait((session, room_id, effect))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all(), name="archive writer")

    async def _write_all(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # Linger a moment: a steady chat (10 messages/s in a big class) then costs one
            # transaction per tenth of a second instead of one per message.
            await asyncio.sleep(self._linger_s)
            while not self._queue.empty() and len(batch) < 200:
                batch.append(self._queue.get_nowait())
            await self._write_batch(batch)
            for _ in batch:
                self._queue.task_done()

    async def _write_batch(self, batch: list[tuple[str, str, Record]]) -> None:
        """One transaction for everything queued meanwhile (a busy chat writes far less often);
        if it fails, each record is tried on its own so one bad record loses no others."""
        try:
            async with self._sessions() as s:
                for session, room_id, effect in batch:
                    await self._write(s, session, room_id, effect)
                await s.commit()
        except Exception:
            for session, room_id, effect in batch:
                await self.record(session, room_id, effect)

    async def flush(self) -> None:
        """Wait until everything queued is written."""
        await self._queue.join()

    async def close(self) -> None:
        """Write what is queued, then stop the writer."""
        if self._writer is not None:
            await self.flush()
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    async def record(self, session: str, room_id: str, effect: Record) -> None:
        """Keep one record of a live room session."""
        try:
            async with self._sessions() as s:
                await self._write(s, session, room_id, effect)
                await s.commit()
        except Exception:  # the lesson goes on even if the disk is full: say so loudly
            log.exception("room %s: could not keep %s", room_id, effect.kind)

    async def _write(self, s: AsyncSession, session: str, room_id: str, effect: Record) -> None:
        data = effect.data
        if effect.kind == "chat_message":
            s.add(
                ChatRecord(
                    room_id=room_id,
                    session=session,
                    message_id=data["id"],
                    sender_name=data["from"]["name"],
                    sender_role=data["from"]["role"],
                    text=data["text"],
                    at=data["at"],
                    deleted=False,
                )
            )
        elif effect.kind == "chat_deleted":
            await s.execute(
                update(ChatRecord)
                .where(ChatRecord.session == session, ChatRecord.message_id == data["id"])
                .values(deleted=True)
            )
        elif effect.kind == "poll":
            existing = await s.scalar(
                select(PollRecord).where(
                    PollRecord.session == session, PollRecord.poll_id == data["id"]
                )
            )
            if existing is None:
                existing = PollRecord(room_id=room_id, session=session, poll_id=data["id"])
                s.add(existing)
            existing.data = json.dumps(data, ensure_ascii=False)
            existing.at = time.time()
        elif effect.kind == "presence" and data["event"] == "join":
            s.add(
                PresenceRecord(
                    room_id=room_id,
                    session=session,
                    participant_id=data["participant"],
                    identity=data["identity"],
                    user_id=data["user_id"],
                    name=data["name"],
                    kind=data["kind"],
                    institution=data["institution"],
                    joined_at=data["at"],
                )
            )
        elif effect.kind == "presence":
            await s.execute(
                update(PresenceRecord)
                .where(
                    PresenceRecord.session == session,
                    PresenceRecord.participant_id == data["participant"],
                )
                .values(left_at=data["at"], how=data["how"])
            )
        elif effect.kind == "quality":
            # The person's figures so far replace their row of this session: the last leave
            # writes the final ones (server/quality_log.py).
            row = await s.scalar(
                select(ConnectionQualityRecord).where(
                    ConnectionQualityRecord.session == session,
                    ConnectionQualityRecord.identity == data["identity"],
                )
            )
            if row is None:
                row = ConnectionQualityRecord(
                    room_id=room_id, session=session, identity=data["identity"]
                )
                s.add(row)
            for name, value in data.items():
                if name != "identity":
                    setattr(row, name, value)
        else:
            raise ValueError(f"unknown record kind {effect.kind!r}")

    async def chat(self, room_id: str) -> list[ChatRecord]:
        """The room's public chat, oldest first, deleted messages left out."""
        await self.flush()  # what was said a moment ago belongs in the answer
        async with self._sessions() as s:
            rows = await s.scalars(
                select(ChatRecord)
                .where(ChatRecord.room_id == room_id, ChatRecord.deleted.is_(False))
                .order_by(ChatRecord.at, ChatRecord.id)
            )
            return list(rows)

    async def polls(self, room_id: str) -> list[dict[str, Any]]:
        """The room's polls with their results, oldest first."""
        await self.flush()  # what was said a moment ago belongs in the answer
        async with self._sessions() as s:
            rows = await s.scalars(
                select(PollRecord).where(PollRecord.room_id == room_id).order_by(PollRecord.at)
            )
            return [json.loads(r.data) for r in rows]

    async def presence(self, room_id: str) -> list[PresenceRecord]:
        """Every stretch of time anyone spent in the room, in order of arrival."""
        await self.flush()  # what was said a moment ago belongs in the answer
        async with self._sessions() as s:
            rows = await s.scalars(
                select(PresenceRecord)
                .where(PresenceRecord.room_id == room_id)
                .order_by(PresenceRecord.joined_at, PresenceRecord.id)
            )
            return list(rows)
