"""The end of a room: closing it for everyone when its lesson ends, now or after a short Q&A."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rooms.commands import CloseRoom
from rooms.model import Detach, Disconnect, Event, Everyone, LeaveReason, One, Outcome, Record
from rooms.refusals import Reason, Refusal

if TYPE_CHECKING:
    from rooms.room import Room

# Longest after-lesson Q&A a teacher may keep the room open for.
MAX_KEEP_OPEN_S = 60 * 60


def close_room(room: Room, cmd: CloseRoom, now: float) -> Outcome | Refusal:
    """Close the room now, or announce that it closes by itself at `cmd.at`."""
    if room.closed:
        return Refusal(Reason.ROOM_CLOSED)
    if cmd.at is not None and cmd.at > now:
        if cmd.at - now > MAX_KEEP_OPEN_S:
            return Refusal(Reason.INVALID_PAYLOAD, "A room stays open at most an hour.")
        room.closes_at = cmd.at
        room.close_reason = cmd.reason
        payload = {"closes_at": cmd.at, "reason": cmd.reason}
        return Outcome(events=[Event("room_closing", payload, Everyone())])
    return shut(room, cmd.reason, now)


def shut(room: Room, reason: str, now: float) -> Outcome:
    """Everyone out at the same instant: one event each, their presence closed, sockets closed.

    The `room_closed` event goes out before any Detach, so every participant and knocker hears
    why the room went away before their connection is closed.
    """
    payload = {"reason": reason}
    events = [Event("room_closed", payload, Everyone())]
    events += [Event("room_closed", payload, One(knock_id)) for knock_id in room.lobby]
    effects: list[Detach | Disconnect | Record] = []
    for pid in [*room.participants, *room.lobby]:
        if pid in room.participants:
            leave = {
                "event": "leave",
                "at": now,
                "participant": pid,
                "how": LeaveReason.ENDED.value,
            }
            effects.append(Record("presence", leave))
        effects += [Detach(pid), Disconnect(pid)]
    room.participants.clear()
    room.lobby.clear()
    room.held.clear()  # nobody comes back to a closed room, so nothing is kept for them
    room.closed = True
    room.closes_at = None
    return Outcome(events=events, effects=list(effects))


def due(room: Room, now: float) -> bool:
    """Whether an announced closing time has come."""
    return room.closes_at is not None and room.closes_at <= now
