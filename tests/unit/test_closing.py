"""Closing a room when its lesson ends: everyone out at one instant, or after a short Q&A."""

from __future__ import annotations

from rooms.commands import CloseRoom, Tick
from rooms.model import Detach, Disconnect, Everyone, One, Record
from rooms.refusals import Reason
from tests.unit.roomkit import NOW, guest, names, ok, pupil, refused, room_with_host


def test_closing_sends_everyone_out_at_one_instant() -> None:
    room = room_with_host()
    ok(room.apply(pupil("p", 2), NOW))
    ok(room.apply(guest("k"), NOW))  # a knocker waiting in the lobby
    out = ok(room.apply(CloseRoom(), NOW + 60))
    closed = [e for e in out.events if e.name == "room_closed"]
    assert [e.audience for e in closed] == [Everyone(), One("k")]
    assert {e.payload["reason"] for e in closed} == {"lesson_ended"}
    leaves = [e.data for e in out.effects if isinstance(e, Record)]
    assert sorted(d["participant"] for d in leaves) == ["h", "p"]
    assert {(d["at"], d["how"]) for d in leaves} == {(NOW + 60, "ended")}
    detached = {e.participant_id for e in out.effects if isinstance(e, Detach)}
    dropped = {e.participant_id for e in out.effects if isinstance(e, Disconnect)}
    assert detached == dropped == {"h", "p", "k"}
    assert room.empty and room.closed
    # Nobody comes back into a closed room, and it is not closed twice.
    assert refused(room.apply(pupil("p2", 2), NOW + 61)).reason is Reason.ROOM_CLOSED
    assert refused(room.apply(CloseRoom(), NOW + 62)).reason is Reason.ROOM_CLOSED


def test_kept_open_it_closes_by_itself_at_its_time() -> None:
    room = room_with_host()
    ok(room.apply(pupil("p", 2), NOW))
    out = ok(room.apply(CloseRoom(at=NOW + 300), NOW))
    assert names(out) == ["room_closing"]
    assert out.events[0].payload == {"closes_at": NOW + 300, "reason": "lesson_ended"}
    assert room.next_deadline() == NOW + 300
    # Meanwhile the Q&A goes on: people may still come in, and learn when the room closes.
    entered = ok(room.apply(pupil("q", 3), NOW + 10))
    state = next(e for e in entered.events if e.name == "room_state")
    assert state.payload["room"]["closes_at"] == NOW + 300
    assert "room_closed" not in names(ok(room.apply(Tick(), NOW + 299)))
    out = ok(room.apply(Tick(), NOW + 300))
    assert names(out)[0] == "room_closed"
    assert room.closed and room.empty and room.next_deadline() is None


def test_a_closing_time_beyond_an_hour_is_refused() -> None:
    room = room_with_host()
    refusal = refused(room.apply(CloseRoom(at=NOW + 3601), NOW))
    assert refusal.reason is Reason.INVALID_PAYLOAD
    assert room.closes_at is None and not room.closed
