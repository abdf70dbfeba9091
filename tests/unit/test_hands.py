"""Raised hands, granted rights and their expiry."""

from __future__ import annotations

from rooms.commands import (
    GrantRights,
    LowerAllHands,
    LowerHand,
    RaiseHand,
    RevokeRights,
    SetRole,
    Tick,
)
from rooms.model import One, PermissionsChanged, Staff
from rooms.refusals import Reason
from rooms.roles import Permission, Role
from rooms.room import Room
from tests.unit.roomkit import NOW, ok, pupil, refused, room_with_host, to


def classroom() -> Room:
    room = room_with_host()
    for actor, uid in (("a", 2), ("b", 3), ("c", 4)):
        ok(room.apply(pupil(actor, uid), NOW))
    return room


def queue(room: Room) -> list[str]:
    return [p.id for p in room.hand_queue()]


def test_hands_queue_in_the_order_raised_and_only_staff_see_it() -> None:
    room = classroom()
    ok(room.apply(RaiseHand(actor="b", speak=True), NOW))
    out = ok(room.apply(RaiseHand(actor="a", speak=True, video=True), NOW + 1))
    assert queue(room) == ["b", "a"]
    hands = next(e for e in out.events if e.name == "hands")
    assert hands.audience == Staff()
    assert [(h["id"], h["position"], h["video"]) for h in hands.payload["queue"]] == [
        ("b", 1, False),
        ("a", 2, True),
    ]
    assert to(out, "a")[0].payload == {"position": 2}
    # Raising again changes the request, not the place.
    ok(room.apply(RaiseHand(actor="b", speak=False, video=True), NOW + 2))
    assert queue(room) == ["b", "a"]
    assert room.snapshot_for("c")["hands"] == []
    assert len(room.snapshot_for("h")["hands"]) == 2


def test_lowering_own_others_and_all() -> None:
    room = classroom()
    for i, actor in enumerate("abc"):
        ok(room.apply(RaiseHand(actor=actor), NOW + i))
    out = ok(room.apply(LowerHand(actor="a"), NOW))
    assert queue(room) == ["b", "c"]
    assert to(out, "a")[0].payload == {"position": None}
    assert to(out, "b")[0].payload == {"position": 1}
    assert refused(room.apply(LowerHand(actor="b", target="c"), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
    ok(room.apply(LowerHand(actor="h", target="c"), NOW))
    assert queue(room) == ["b"]
    ok(room.apply(RaiseHand(actor="a"), NOW))
    assert refused(room.apply(LowerAllHands(actor="b"), NOW)).reason is Reason.NOT_PERMITTED
    out = ok(room.apply(LowerAllHands(actor="h"), NOW))
    assert queue(room) == []
    assert {e.audience for e in out.events if e.name == "hand"} == {One("a"), One("b")}


def test_grant_lowers_the_hand_and_gives_mic() -> None:
    room = classroom()
    ok(room.apply(RaiseHand(actor="a", speak=True), NOW))
    assert not room.participants["a"].may(Permission.SPEAK)
    out = ok(room.apply(GrantRights(actor="h", target="a", speak=True, video=False), NOW))
    assert room.participants["a"].may(Permission.SPEAK)
    assert not room.participants["a"].may(Permission.VIDEO)
    assert queue(room) == []
    updated = next(e for e in out.events if e.name == "participant_updated")
    assert updated.payload["participant"]["mic"] is True
    assert updated.payload["participant"]["camera"] is False
    assert PermissionsChanged("a", room.participants["a"].permissions) in out.effects


def test_timed_grant_falls_back_on_tick() -> None:
    room = classroom()
    ok(room.apply(GrantRights(actor="h", target="a", speak=True, video=True, seconds=120), NOW))
    assert room.next_deadline() == NOW + 120
    assert ok(room.apply(Tick(), NOW + 119)).events == []
    assert room.participants["a"].may(Permission.VIDEO)
    out = ok(room.apply(Tick(), NOW + 120))
    assert not room.participants["a"].may(Permission.SPEAK)
    assert out.effects == [PermissionsChanged("a", frozenset({Permission.CHAT}))]
    assert room.next_deadline() is None


def test_revoke_and_grant_validation() -> None:
    room = classroom()
    ok(room.apply(GrantRights(actor="h", target="a", speak=True, video=False), NOW))
    out = ok(room.apply(RevokeRights(actor="h", target="a"), NOW))
    assert out.effects == [PermissionsChanged("a", frozenset({Permission.CHAT}))]
    assert ok(room.apply(RevokeRights(actor="h", target="a"), NOW)).events == []
    for bad in (
        GrantRights(actor="h", target="a", speak=False, video=False),
        GrantRights(actor="h", target="a", speak=True, video=False, seconds=1),
        GrantRights(actor="h", target="a", speak=True, video=False, seconds=10**6),
    ):
        assert refused(room.apply(bad, NOW)).reason is Reason.INVALID_PAYLOAD
    assert refused(room.apply(GrantRights("b", "a", True, False), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
    assert refused(room.apply(GrantRights("h", "h", True, False), NOW)).reason is (
        Reason.NOT_PERMITTED
    )


def test_presenter_sees_hands_after_promotion() -> None:
    room = classroom()
    ok(room.apply(RaiseHand(actor="a"), NOW))
    out = ok(room.apply(SetRole(actor="h", target="b", role=Role.PRESENTER), NOW))
    state = next(e for e in to(out, "b") if e.name == "room_state")
    assert [h["id"] for h in state.payload["hands"]] == ["a"]


def test_leaving_takes_the_hand_out_of_the_queue() -> None:
    from rooms.commands import Leave

    room = classroom()
    ok(room.apply(RaiseHand(actor="a"), NOW))
    out = ok(room.apply(Leave(actor="a"), NOW))
    hands = next(e for e in out.events if e.name == "hands")
    assert hands.payload == {"queue": []}
