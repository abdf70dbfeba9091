"""Lobby flows of the room state machine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rooms.commands import Admit, Deny, Join, Leave, Remove, SetGuestPolicy, SetRole
from rooms.model import Attach, Channel, Detach, Everyone, Kind, LeaveReason, Moderators, Record
from rooms.policy import GuestPolicy
from rooms.refusals import Reason
from rooms.roles import Role
from rooms.room import Room
from tests.unit.roomkit import NOW, guest, names, ok, pupil, refused, room_with_host, to


def test_owner_enters_as_host_and_sees_room_state() -> None:
    room = Room(id="r1", title="Algebra")
    out = ok(room.apply(Join(actor="h", name="T", kind=Kind.USER, user_id=1, owner=True), NOW))
    assert room.participants["h"].role is Role.HOST
    state = to(out, "h")[0]
    assert state.name == "room_state"
    assert state.payload["you"]["role"] == "host"
    assert out.effects[0] == Attach("h", frozenset(Channel))
    presence = out.effects[1]
    assert isinstance(presence, Record) and presence.kind == "presence"
    assert presence.data["event"] == "join" and presence.data["user_id"] == 1


def test_pupil_of_class_goes_straight_in() -> None:
    room = room_with_host()
    out = ok(room.apply(pupil("p", 7), NOW))
    assert "p" in room.participants and not room.lobby
    assert room.participants["p"].role is Role.PARTICIPANT
    assert names(out) == ["participant_joined", "room_state"]


def test_guest_knocks_then_is_denied() -> None:
    room = room_with_host()
    out = ok(room.apply(guest("g"), NOW))
    assert list(room.lobby) == ["g"] and "g" not in room.participants
    lobby = [e for e in out.events if e.name == "lobby"][0]
    assert lobby.audience == Moderators()
    assert lobby.payload["lobby"][0]["name"] == "Guest"
    assert to(out, "g")[0].payload == {"position": 1, "host_present": True}

    out = ok(room.apply(Deny(actor="h", target="g"), NOW + 1))
    assert not room.lobby and "g" not in room.participants
    assert to(out, "g")[0].payload == {"reason": "denied_by_host"}
    assert Detach("g") in out.effects


def test_guest_knocks_then_is_admitted() -> None:
    room = room_with_host()
    ok(room.apply(guest("g"), NOW))
    out = ok(room.apply(Admit(actor="h", target="g"), NOW + 5))
    assert room.participants["g"].role is Role.GUEST
    assert room.participants["g"].joined_at == NOW + 5
    assert [e.name for e in to(out, "g")] == ["admitted", "room_state"]
    joined = [e for e in out.events if e.name == "participant_joined"][0]
    assert joined.audience == Everyone() and joined.payload["participant"]["id"] == "g"
    assert Attach("g", frozenset({Channel.ROOM})) in out.effects
    assert [e.payload for e in out.events if e.name == "lobby"] == [{"lobby": []}]


def test_queue_positions_follow_arrival_and_update_when_one_leaves() -> None:
    room = room_with_host()
    for i, actor in enumerate(["a", "b", "c"]):
        ok(room.apply(guest(actor, f"G{i}"), NOW + i))
    out = ok(room.apply(Leave(actor="a"), NOW + 10))
    assert list(room.lobby) == ["b", "c"]
    assert to(out, "b")[0].payload["position"] == 1
    assert to(out, "c")[0].payload["position"] == 2
    lobby = [e for e in out.events if e.name == "lobby"][0]
    assert [k["id"] for k in lobby.payload["lobby"]] == ["b", "c"]
    assert Detach("a") in out.effects


def test_host_leaves_while_someone_waits_then_comes_back() -> None:
    room = room_with_host()
    ok(room.apply(guest("g"), NOW))
    out = ok(room.apply(Leave(actor="h"), NOW + 1))
    assert to(out, "g")[0].payload == {"position": 1, "host_present": False}
    assert list(room.lobby) == ["g"]
    out = ok(room.apply(Join(actor="h2", name="T", kind=Kind.USER, user_id=1, owner=True), NOW + 2))
    assert to(out, "g")[0].payload == {"position": 1, "host_present": True}
    state = [e for e in to(out, "h2") if e.name == "room_state"][0]
    assert [k["id"] for k in state.payload["lobby"]] == ["g"]


def test_non_moderators_do_not_see_the_lobby() -> None:
    room = room_with_host()
    ok(room.apply(guest("g"), NOW))
    out = ok(room.apply(pupil("p", 3), NOW))
    assert [e for e in to(out, "p") if e.name == "room_state"][0].payload["lobby"] == []


@pytest.mark.parametrize("policy", [GuestPolicy.ALWAYS_ADMIT, GuestPolicy.ALWAYS_DENY])
def test_policy_switched_while_people_wait(policy: GuestPolicy) -> None:
    room = room_with_host()
    ok(room.apply(guest("g1"), NOW))
    ok(room.apply(pupil("x", 9, expected=False), NOW))
    out = ok(room.apply(SetGuestPolicy(actor="h", policy=policy), NOW + 1))
    assert not room.lobby
    assert room.guest_policy is policy
    if policy is GuestPolicy.ALWAYS_ADMIT:
        assert set(room.participants) == {"h", "g1", "x"}
        assert room.participants["x"].role is Role.PARTICIPANT
        assert [e.name for e in to(out, "g1")] == ["admitted", "room_state"]
    else:
        assert set(room.participants) == {"h"}
        assert to(out, "g1")[0].payload == {"reason": "policy"}
        assert Detach("x") in out.effects


def test_policy_switched_to_ask_host_keeps_waiters_waiting() -> None:
    room = room_with_host()
    ok(room.apply(SetGuestPolicy(actor="h", policy=GuestPolicy.ASK_HOST), NOW))
    ok(room.apply(guest("g"), NOW))
    ok(room.apply(SetGuestPolicy(actor="h", policy=GuestPolicy.ASK_HOST), NOW))
    assert list(room.lobby) == ["g"]


def test_always_deny_refuses_guests_but_not_the_class() -> None:
    room = room_with_host()
    ok(room.apply(SetGuestPolicy(actor="h", policy=GuestPolicy.ALWAYS_DENY), NOW))
    assert refused(room.apply(guest("g"), NOW)).reason is Reason.DENIED
    assert "g" not in room.lobby
    ok(room.apply(pupil("p", 4), NOW))
    assert "p" in room.participants


def test_always_admit_lets_guests_straight_in() -> None:
    room = room_with_host()
    ok(room.apply(SetGuestPolicy(actor="h", policy=GuestPolicy.ALWAYS_ADMIT), NOW))
    ok(room.apply(guest("g"), NOW))
    assert room.participants["g"].role is Role.GUEST


def test_removed_pupil_must_knock_to_come_back() -> None:
    room = room_with_host()
    ok(room.apply(pupil("p", 4), NOW))
    out = ok(room.apply(Remove(actor="h", target="p"), NOW))
    assert [e.name for e in to(out, "p")] == ["removed"]
    left = [e for e in out.events if e.name == "participant_left"][0]
    assert left.payload == {"participant": "p", "reason": LeaveReason.REMOVED.value}
    ok(room.apply(pupil("p2", 4), NOW))
    assert "p2" in room.lobby


def test_presenter_and_back_restores_the_base_role() -> None:
    room = room_with_host()
    ok(room.apply(guest("g"), NOW))
    ok(room.apply(Admit(actor="h", target="g"), NOW))
    out = ok(room.apply(SetRole(actor="h", target="g", role=Role.PRESENTER), NOW))
    assert room.participants["g"].role is Role.PRESENTER
    assert out.events[0].payload["participant"]["role"] == "presenter"
    ok(room.apply(SetRole(actor="h", target="g", role=Role.PARTICIPANT), NOW))
    assert room.participants["g"].role.value == "guest"
    assert ok(room.apply(SetRole(actor="h", target="g", role=Role.PARTICIPANT), NOW)).events == []


def test_spoofed_role_claim_is_refused() -> None:
    room = room_with_host()
    cmd = Join(
        actor="p", name="P", kind=Kind.USER, user_id=5, expected=True, claimed_role=Role.HOST
    )
    assert refused(room.apply(cmd, NOW)).reason is Reason.NOT_PERMITTED
    assert "p" not in room.participants


def test_double_join_and_unknown_targets_are_refused() -> None:
    room = room_with_host()
    assert refused(room.apply(pupil("h", 2), NOW)).reason is Reason.ALREADY_JOINED
    assert refused(room.apply(Admit(actor="h", target="nobody"), NOW)).reason is (
        Reason.UNKNOWN_PARTICIPANT
    )
    assert refused(room.apply(Leave(actor="nobody"), NOW)).reason is Reason.NOT_JOINED


def test_room_full() -> None:
    room = Room(id="r", title="t", max_participants=2)
    ok(room.apply(Join(actor="h", name="T", kind=Kind.USER, user_id=1, owner=True), NOW))
    ok(room.apply(pupil("a", 2), NOW))
    assert refused(room.apply(pupil("b", 3), NOW)).reason is Reason.ROOM_FULL


def test_refusal_leaves_the_room_unchanged() -> None:
    room = room_with_host()
    ok(room.apply(guest("g"), NOW))
    ok(room.apply(pupil("p", 2), NOW))
    before = (dict(room.participants), dict(room.lobby), room.guest_policy)
    refused(room.apply(Admit(actor="p", target="g"), NOW))
    refused(room.apply(SetRole(actor="h", target="h", role=Role.PRESENTER), NOW))
    refused(room.apply(SetRole(actor="h", target="p", role=Role.HOST), NOW))
    assert (dict(room.participants), dict(room.lobby), room.guest_policy) == before


def test_presence_is_recorded_on_entry_and_exit_for_attendance() -> None:
    room = room_with_host()
    ok(room.apply(guest("g"), NOW))
    admitted = ok(room.apply(Admit(actor="h", target="g"), NOW + 60))
    left = ok(room.apply(Leave(actor="g", reason=LeaveReason.DISCONNECTED), NOW + 90))
    records = [e for o in (admitted, left) for e in o.effects if isinstance(e, Record)]
    assert [(r.data["event"], r.data["at"]) for r in records] == [
        ("join", NOW + 60),
        ("leave", NOW + 90),
    ]
    assert records[0].data["kind"] == "guest" and records[0].data["institution"] == "School 12"
    assert records[1].data["how"] == "disconnected"


def test_the_same_person_joining_again_replaces_their_earlier_join() -> None:
    room = room_with_host()
    ok(room.apply(pupil("p", 4), NOW))
    # A new connection (after a drop the server has not noticed, or a second window).
    out = ok(room.apply(pupil("p2", 4), NOW + 5))
    assert set(room.participants) == {"h", "p2"}
    assert [e.name for e in to(out, "p")] == ["replaced"]
    left = [e for e in out.events if e.name == "participant_left"][0]
    assert left.payload == {"participant": "p", "reason": "replaced"}
    assert Detach("p") in out.effects and Attach("p2", frozenset({Channel.ROOM})) in out.effects
    records = [e.data for e in out.effects if isinstance(e, Record)]
    assert [(r["event"], r["participant"]) for r in records] == [("leave", "p"), ("join", "p2")]
    # Others see one person leave and one come in; the room_state of the new join lists one.
    state = to(out, "p2")[-1].payload
    assert [p["name"] for p in state["participants"]].count("Pupil 4") == 1


def test_the_host_coming_back_on_a_new_connection_stays_host() -> None:
    room = room_with_host()
    out = ok(
        room.apply(Join(actor="h2", name="Teacher", kind=Kind.USER, user_id=1, owner=True), NOW)
    )
    assert set(room.participants) == {"h2"} and room.participants["h2"].role is Role.HOST
    assert [e.name for e in to(out, "h")] == ["replaced"]
    # A guest's own first join is their identity: two different guests never replace each other.
    ok(room.apply(SetGuestPolicy(actor="h2", policy=GuestPolicy.ALWAYS_ADMIT), NOW))
    ok(room.apply(guest("g1", "Same Name"), NOW))
    ok(room.apply(guest("g2", "Same Name"), NOW))
    assert {"g1", "g2"} <= set(room.participants)


def test_a_join_that_may_not_knock_enters_only_when_let_straight_in() -> None:
    # The room page's one-click try (knock=False): in when expected, else refused with nothing
    # left behind — no knock for the host, no denial.
    room = room_with_host()
    assert refused(room.apply(replace(pupil("s", 8, expected=False), knock=False), NOW)).reason is (
        Reason.NOT_EXPECTED
    )
    assert refused(room.apply(replace(guest("g"), knock=False), NOW)).reason is Reason.NOT_EXPECTED
    assert not room.lobby and set(room.participants) == {"h"}
    ok(room.apply(replace(pupil("p", 7), knock=False), NOW))
    assert "p" in room.participants
    # Where the policy lets everyone in, it is let in; where it turns guests away, it is
    # told to ask (the entry page then shows what asking gives).
    ok(room.apply(SetGuestPolicy(actor="h", policy=GuestPolicy.ALWAYS_DENY), NOW))
    assert refused(room.apply(replace(guest("g2"), knock=False), NOW)).reason is (
        Reason.NOT_EXPECTED
    )
    ok(room.apply(SetGuestPolicy(actor="h", policy=GuestPolicy.ALWAYS_ADMIT), NOW))
    ok(room.apply(replace(guest("g3"), knock=False), NOW))
    assert "g3" in room.participants
