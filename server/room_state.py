"""A live room's state in Redis, so that the node taking a room over carries on (docs/scaling.md).

The room's whole state — roster and roles, the lobby and who was removed, hands and grants,
polls and votes, chat history and mutes, the shared document and page, the held states of
people who dropped — is one `rooms.room.Room` value. It is written to Redis as JSON behind
every change (coalesced: a burst of chat is one write), by one writer task per process so that
writes and deletions of a room reach Redis in the order they were made. pydantic's
`TypeAdapter` turns the room's dataclasses into JSON and back, checking every field's type on
the way in; the room logic (`rooms/`) knows nothing of it.

A room that empties normally is deleted: its next lesson starts afresh, as with one process.
A node that dies leaves its rooms' last state behind; the node that takes a room over reads it
(`load`) and the people still in it leave as after a dropped connection, at the moment the dead
node was last known alive, so their hands, rights and attendance come back when they resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from rooms.room import Room
from server.ownership import PREFIX, alive_key

log = logging.getLogger(__name__)

# A burst of changes (a class voting at once) becomes one write per this many seconds: a room
# of 300 with a long chat is ~6 ms of JSON, so a busy room costs ~2.5 % of a core.
COALESCE_S = 0.25
# After a failed write (Redis away), the next try.
RETRY_S = 1.0
# A room nobody came back to is forgotten after this (a dead node's rooms, a drained one's).
KEEP_MS = 2 * 3600 * 1000
ROOM = TypeAdapter(Room)


def state_key(room_id: str) -> str:
    """The Redis key of a room's saved state."""
    return f"{PREFIX}room:{room_id}:state"


@dataclass(frozen=True, slots=True)
class Write:
    """Write the room as it is when the writer gets to it."""


@dataclass(frozen=True, slots=True)
class Keep:
    """Write this copy (the room is no longer live here)."""

    room: bytes  # JSON
    session: str


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete the room's state."""


@dataclass(frozen=True, slots=True)
class Saved:
    """A room as its node last wrote it."""

    room: Room
    session: str
    at: float  # when the node serving it was last known alive (Unix seconds)


class RoomStates:
    """Writes live rooms behind their changes; reads one back on a takeover."""

    def __init__(self, redis: Redis, current: Callable[[str], tuple[Room, str] | None]) -> None:
        self.redis = redis
        # Room id → (room, session) while live here, else None: read when the write happens.
        self._current = current
        # Room id → what to do: write it as it is then, write this copy, or delete it.
        self._pending: dict[str, Write | Keep | Delete] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer: asyncio.Task[None] | None = None

    def changed(self, room_id: str) -> None:
        """The room changed: write it soon (as it is then)."""
        self._queue(room_id, Write())  # a new one: see the writer's check

    def keep(self, room_id: str, room: Room, session: str) -> None:
        """The room closes here but is to be taken up again (a drain): write it as it is now."""
        self._queue(room_id, Keep(ROOM.dump_json(room), session))

    def ended(self, room_id: str) -> None:
        """The room emptied for good: delete its state (after any write queued before)."""
        self._queue(room_id, Delete())

    def _queue(self, room_id: str, what: Write | Keep | Delete) -> None:
        self._pending[room_id] = what
        self._idle.clear()
        self._wake.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="room states")

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(COALESCE_S)
            while self._pending:
                room_id, what = next(iter(self._pending.items()))
                try:
                    await self._write(room_id, what)
                except (RedisError, OSError) as exc:
                    log.warning("room %s: state not saved (%s); trying again", room_id, exc)
                    await asyncio.sleep(RETRY_S)
                    continue
                if self._pending.get(room_id) is what:  # unless it changed meanwhile
                    del self._pending[room_id]
            self._idle.set()

    async def _write(self, room_id: str, what: Write | Keep | Delete) -> None:
        if isinstance(what, Delete):
            await self.redis.delete(state_key(room_id), alive_key(room_id))
            return
        if isinstance(what, Keep):
            data, session = what.room, what.session
        else:
            current = self._current(room_id)
            if current is None:  # closed meanwhile: its own delete or keep follows
                return
            data, session = ROOM.dump_json(current[0]), current[1]
        key = state_key(room_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"room": data, "session": session, "at": repr(time.time())})
            pipe.pexpire(key, KEEP_MS)
            await pipe.execute()

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything queued is written (shutdown, drain), at most `timeout` s."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        if self._pending:
            log.error("%d rooms' state not saved before shutdown", len(self._pending))

    async def close(self) -> None:
        """Flush, then stop the writer."""
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def load(self, room_id: str, now: float) -> Saved | None:
        """The room's saved state, if any (a takeover or a restart); None if none or unreadable."""
        data, session, written = await self.redis.hmget(  # type: ignore[misc]  # sync|async
            state_key(room_id), ["room", "session", "at"]
        )
        alive = await self.redis.get(alive_key(room_id))
        if data is None or session is None:
            return None
        try:
            room = ROOM.validate_json(data)
            written_at = float(written) if written is not None else 0.0
        except (ValueError, ValidationError) as exc:
            log.error("room %s: saved state unreadable, starting afresh: %s", room_id, exc)
            return None
        # The node was alive at its last heartbeat and at its last write, whichever came later.
        at = max(int(alive) / 1000 if alive is not None else 0.0, written_at)
        text = session.decode() if isinstance(session, bytes) else str(session)
        return Saved(room, text, min(at or now, now))
