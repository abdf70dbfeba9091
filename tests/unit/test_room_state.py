"""A room's whole state survives the trip through JSON (server/room_state.py) unchanged."""

from __future__ import annotations

import json

from rooms.chat import MAX_KEPT_MESSAGES
from rooms.commands import (
    CreatePoll,
    GrantRights,
    Join,
    Leave,
    RaiseHand,
    SendChat,
    SetRole,
    Vote,
)
from rooms.model import Kind, LeaveReason, Outcome
from rooms.polls import PollKind
from rooms.roles import Role
from rooms.room import Room
from server.room_state import ROOM

NOW = 1_800_000_000.0


def ok(room: Room, command: object, at: float = NOW) -> None:
    assert isinstance(room.apply(command, at), Outcome)  # type: ignore[arg-type]


def busy_room() -> Room:
    room = Room(id="r", title="Algebra")
    ok(room, Join(actor="h", name="Teacher", kind=Kind.USER, user_id=1, owner=True, expected=True))
    for n, pid in enumerate(("a", "b", "c"), start=2):
        ok(room, Join(actor=pid, name=f"Pupil {pid}", kind=Kind.USER, user_id=n, expected=True))
    ok(room, Join(actor="g", name="Guest", kind=Kind.GUEST, institution="School 12"))  # knocks
    ok(room, SendChat(actor="a", text="hello"))
    ok(room, RaiseHand(actor="a", speak=True))
    ok(room, RaiseHand(actor="b", speak=True, video=True))
    ok(room, GrantRights(actor="h", target="b", speak=True, video=False, seconds=120))
    ok(room, SetRole(actor="h", target="c", role=Role.PRESENTER))
    ok(room, CreatePoll(actor="h", kind=PollKind.YES_NO, question="Ready?", launch=True))
    ok(room, Vote(actor="a", poll_id=next(iter(room.polls)), choices=(0,)))
    ok(room, Leave(actor="c", reason=LeaveReason.DISCONNECTED), NOW + 1)  # held for return
    return room


def test_a_busy_room_comes_back_equal_from_json() -> None:
    room = busy_room()
    assert room.lobby and room.held and room.polls and room.hand_queue()
    text = json.dumps(ROOM.dump_python(room, mode="json"))
    back = ROOM.validate_python(json.loads(text))
    assert back == room
    assert back.chat.public_messages.maxlen == MAX_KEPT_MESSAGES
    # And it goes on as the original would: the held presenter comes back a presenter.
    ok(back, Join(actor="c2", name="Pupil c", kind=Kind.USER, user_id=4, expected=True), NOW + 2)
    assert back.participants["c2"].role is Role.PRESENTER
