"""State that lasts: a raised hand through a timed grant, and everything through a resume."""

from __future__ import annotations

from rooms.commands import (
    CreatePoll,
    GrantRights,
    Join,
    Leave,
    MuteChat,
    RaiseHand,
    SendChat,
    SetRole,
    Tick,
    Vote,
)
from rooms.model import Kind, LeaveReason, Staff
from rooms.polls import PollKind
from rooms.refusals import Reason
from rooms.resume import RESUME_GRACE_SECONDS
from rooms.roles import Permission, Role
from rooms.room import Room
from tests.unit.roomkit import NOW, guest, ok, pupil, refused, room_with_host, to


def classroom() -> Room:
    room = room_with_host()
    for actor, uid in (("a", 2), ("b", 3), ("c", 4)):
        ok(room.apply(pupil(actor, uid), NOW))
    return room


def queue(room: Room) -> list[str]:
    return [p.id for p in room.hand_queue()]


def drop(room: Room, actor: str, at: float = NOW) -> None:
    ok(room.apply(Leave(actor=actor, reason=LeaveReason.DISCONNECTED), at))


def test_a_hand_raised_during_a_timed_grant_outlives_its_expiry() -> None:
    room = classroom()
    ok(room.apply(RaiseHand(actor="a", speak=True, video=True), NOW))
    ok(room.apply(GrantRights(actor="h", target="a", speak=True, video=True, seconds=120), NOW))
    assert queue(room) == []  # the grant answered the hand
    ok(room.apply(RaiseHand(actor="b"), NOW + 1))
    ok(room.apply(RaiseHand(actor="a", speak=True, video=True), NOW + 2))  # asks again
    assert queue(room) == ["b", "a"]
    out = ok(room.apply(Tick(), NOW + 120))
    assert not room.participants["a"].may(Permission.SPEAK)
    assert not room.participants["a"].may(Permission.VIDEO)
    # The expiry takes only the rights: the new hand keeps its place.
    assert queue(room) == ["b", "a"]
    assert [e.name for e in out.events] == ["participant_updated"]
    assert room.snapshot_for("a")["hand"] == {"position": 2}
    # And a hand can be raised again after the expiry.
    ok(room.apply(RaiseHand(actor="c", video=True), NOW + 121))
    assert queue(room) == ["b", "a", "c"]


def test_resume_keeps_hand_place_rights_role_mute_and_poll_answers() -> None:
    room = classroom()
    ok(room.apply(SetRole(actor="h", target="c", role=Role.PRESENTER), NOW))
    ok(room.apply(RaiseHand(actor="a", speak=True), NOW))
    ok(room.apply(RaiseHand(actor="b", speak=True, video=True), NOW + 1))
    ok(room.apply(GrantRights(actor="h", target="a", speak=True, video=False, seconds=60), NOW))
    ok(room.apply(RaiseHand(actor="a", video=True), NOW + 2))
    ok(room.apply(MuteChat(actor="h", target="b", muted=True), NOW))
    poll = CreatePoll(actor="h", kind=PollKind.YES_NO, question="Ready?", launch=True)
    ok(room.apply(poll, NOW))
    ok(room.apply(Vote(actor="b", poll_id=1, choices=(0,)), NOW + 3))
    assert queue(room) == ["b", "a"]

    for actor in ("a", "b", "c"):
        drop(room, actor, NOW + 5)
    assert queue(room) == []
    ok(room.apply(pupil("a2", 2), NOW + 6))
    ok(room.apply(pupil("c2", 4), NOW + 6))
    out = ok(room.apply(pupil("b2", 3), NOW + 7))

    assert queue(room) == ["b2", "a2"]
    b2 = room.participants["b2"]
    assert b2.hand is not None and (b2.hand.speak, b2.hand.video) == (True, True)
    assert b2.chat_muted
    assert refused(room.apply(SendChat(actor="b2", text="hi"), NOW + 8)).reason is (
        Reason.CHAT_MUTED
    )
    a2 = room.participants["a2"]
    assert a2.may(Permission.SPEAK) and a2.granted_until == NOW + 60
    assert room.next_deadline() == NOW + 60
    assert room.participants["c2"].role is Role.PRESENTER
    state = next(e for e in to(out, "b2") if e.name == "room_state").payload
    assert state["hand"] == {"position": 1}
    assert state["polls"][0]["your_answer"] == {"choices": [0], "text": None}
    hands = next(e for e in out.events if e.name == "hands")
    assert hands.audience == Staff()
    assert [h["id"] for h in hands.payload["queue"]] == ["b2", "a2"]
    assert {"position": 2} in [e.payload for e in to(out, "a2") if e.name == "hand"]
    # The grant still runs out at its original deadline.
    ok(room.apply(Tick(), NOW + 60))
    assert not room.participants["a2"].may(Permission.SPEAK)


def test_a_replaced_connection_hands_its_state_to_the_new_one() -> None:
    room = classroom()
    ok(room.apply(RaiseHand(actor="a", video=True), NOW))
    out = ok(room.apply(pupil("a2", 2), NOW + 1))
    assert "replaced" in [e.name for e in to(out, "a")]
    assert queue(room) == ["a2"]


def test_what_is_not_kept() -> None:
    room = classroom()
    # A grant that ran out while away is not given back.
    ok(room.apply(GrantRights(actor="h", target="a", speak=True, video=True, seconds=10), NOW))
    drop(room, "a", NOW + 1)
    ok(room.apply(pupil("a2", 2), NOW + 20))
    assert not room.participants["a2"].may(Permission.SPEAK)
    # Leaving on purpose, or coming back too late, starts afresh.
    ok(room.apply(RaiseHand(actor="b"), NOW))
    ok(room.apply(Leave(actor="b"), NOW + 1))
    ok(room.apply(pupil("b2", 3), NOW + 2))
    assert room.participants["b2"].hand is None
    ok(room.apply(RaiseHand(actor="c"), NOW))
    drop(room, "c", NOW + 1)
    ok(room.apply(pupil("c2", 4), NOW + 2 + RESUME_GRACE_SECONDS))
    assert room.participants["c2"].hand is None
    assert room.held == {}


def test_a_guest_gets_state_back_only_with_the_resume_identity() -> None:
    room = classroom()
    # An admitted guest "g" (here: back once already) raises a hand and drops.
    ok(room.apply(Join(actor="g", name="Guest", kind=Kind.GUEST, resumes="g"), NOW))
    ok(room.apply(RaiseHand(actor="g"), NOW))
    drop(room, "g", NOW + 1)
    # The same name without the resume identity is a stranger: to the lobby, with nothing.
    ok(room.apply(guest("x", "Guest"), NOW + 2))
    assert "x" in room.lobby and queue(room) == []
    ok(room.apply(Join(actor="g2", name="Guest", kind=Kind.GUEST, resumes="g"), NOW + 3))
    assert queue(room) == ["g2"]
