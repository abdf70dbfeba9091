"""The rooms that are live in this process, loaded from the store on first join."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from rooms.chat_policy import DEFAULT_PRIVATE_CHAT, PrivateChat
from rooms.policy import GuestPolicy
from rooms.recording import RecordingRule
from rooms.room import Room
from server.db.accounts import Store, StoredRoom


@dataclass
class LiveRoom:
    """A room's live state beside the durable facts it was opened from."""

    room: Room
    record: StoredRoom
    # One opening of the room (a lesson); chat and polls are kept per session.
    session: str = field(default_factory=lambda: secrets.token_hex(8))


class LiveRooms:
    """Opens rooms on demand and forgets them when the last person leaves."""

    def __init__(
        self, store: Store, max_room_size: int, handed_over: dict[str, str] | None = None
    ) -> None:
        self._store = store
        self._max = max_room_size
        self._live: dict[str, LiveRoom] = {}
        # Sessions of rooms a draining process closed (server/handover.py), taken on reopening.
        self._handed_over = dict(handed_over or {})

    async def open(self, room_id: str, saved: tuple[Room, str] | None = None) -> LiveRoom | None:
        """The live room, opened from the store if needed; None if no such room exists.

        `saved` (room, session) is what another node (or this one, before a restart) kept of
        the room in Redis (server/room_state.py): the room carries on from there.
        """
        live = self._live.get(room_id)
        if live is not None:
            return live
        record = await self._store.room(room_id)
        if record is None:
            return None
        # Another join may have opened it while we awaited the store: keep the first one.
        live = self._live.get(room_id)
        if live is None and saved is not None:
            room, kept_session = saved
            room.max_participants = self._max  # this node's setting, not the old one's
            if room.recording.since is not None:
                # Its recorder died with the old node; the files it left end there.
                room.recording.since = room.recording.by = None
                room.recording.stopped_because = "error"
            live = LiveRoom(room, record, kept_session)
            self._live[room_id] = live
        if live is None:
            room = Room(
                id=record.id,
                title=record.title,
                guest_policy=GuestPolicy(record.guest_policy),
                max_participants=self._max,
                closed=record.closed,  # its lesson ended: a join is refused with room_closed
            )
            room.chat.private = PrivateChat(record.private_chat or DEFAULT_PRIVATE_CHAT)
            room.recording.rule = RecordingRule(record.recording)
            session = self._handed_over.pop(room_id, None)
            live = LiveRoom(room, record) if session is None else LiveRoom(room, record, session)
            self._live[room_id] = live
        return live

    def sessions(self) -> dict[str, str]:
        """Room id → session of every live room."""
        return {room_id: live.session for room_id, live in self._live.items()}

    def get(self, room_id: str) -> LiveRoom | None:
        """The live room, if open."""
        return self._live.get(room_id)

    def close_if_empty(self, room_id: str) -> None:
        """Forget a room nobody is in or waiting for."""
        live = self._live.get(room_id)
        if live is not None and live.room.empty:
            del self._live[room_id]

    def __len__(self) -> int:
        return len(self._live)

    def values(self) -> list[LiveRoom]:
        """Every live room (a copy: callers may await while reading it)."""
        return list(self._live.values())
