"""Admit all / Deny all: one host command for everyone waiting, or for the ones named."""

from __future__ import annotations

from rooms.commands import AnswerKnocks, Join, SetRole
from rooms.model import Attach, Detach, Kind
from rooms.refusals import Reason
from rooms.roles import Role
from rooms.room import Room
from tests.unit.roomkit import NOW, guest, names, ok, pupil, refused, room_with_host, to


def knocking(room: Room, count: int) -> list[str]:
    """`count` guests knock, k0 first; their ids in queue order."""
    ids = [f"k{i}" for i in range(count)]
    for i, knock_id in enumerate(ids):
        ok(room.apply(guest(knock_id, f"Guest {i}"), NOW + i))
    return ids


def test_admit_all_lets_everyone_waiting_in_with_one_lobby_update() -> None:
    room = room_with_host()
    ids = knocking(room, 100)
    out = ok(room.apply(AnswerKnocks(actor="h", admit=True), NOW + 200))
    assert room.lobby == {}
    assert [p for p in room.participants if p != "h"] == ids  # in queue order
    for knock_id in ids:
        assert [e.name for e in to(out, knock_id)] == ["admitted", "room_state"]
    assert names(out).count("participant_joined") == 100
    assert names(out).count("lobby") == 1 and names(out)[-1] == "lobby"
    assert out.events[-1].payload == {"lobby": []}
    assert {e.participant_id for e in out.effects if isinstance(e, Attach)} == set(ids)


def test_a_list_admits_only_those_still_waiting() -> None:
    room = room_with_host()
    ids = knocking(room, 5)
    # k9 never knocked and k1 is named twice: neither is an error (another host may have
    # answered someone a moment earlier, or they went away).
    out = ok(room.apply(AnswerKnocks(actor="h", admit=True, targets=("k3", "k1", "k9", "k1")), NOW))
    assert sorted(room.participants) == ["h", "k1", "k3"]
    assert list(room.lobby) == ["k0", "k2", "k4"]
    lobby = [e for e in out.events if e.name == "lobby"][0].payload["lobby"]
    assert [k["id"] for k in lobby] == ["k0", "k2", "k4"]
    # The ones still waiting hear their new place in the queue.
    assert [e.payload["position"] for e in out.events if e.name == "waiting"] == [1, 2, 3]
    assert [to(out, k)[0].name for k in ("k1", "k3")] == ["admitted", "admitted"]
    assert ids[0] in room.lobby


def test_deny_all_turns_everyone_away() -> None:
    room = room_with_host()
    ids = knocking(room, 3)
    out = ok(room.apply(AnswerKnocks(actor="h", admit=False), NOW))
    assert room.lobby == {} and list(room.participants) == ["h"]
    for knock_id in ids:
        assert to(out, knock_id)[0].payload == {"reason": "denied_by_host"}
    assert [e for e in out.effects if isinstance(e, Detach)] == [Detach(k) for k in ids]


def test_only_a_host_answers_knocks() -> None:
    room = room_with_host()
    ok(room.apply(pupil("p", 2), NOW))
    ok(room.apply(SetRole(actor="h", target="p", role=Role.PRESENTER), NOW))
    knocking(room, 2)
    for admit in (True, False):
        denied = refused(room.apply(AnswerKnocks(actor="p", admit=admit), NOW))
        assert denied.reason is Reason.NOT_PERMITTED
        # A knocker cannot let themselves (or their friends) in.
        assert refused(room.apply(AnswerKnocks(actor="k0", admit=admit), NOW)).reason is (
            Reason.NOT_JOINED
        )
    assert list(room.lobby) == ["k0", "k1"]


def test_the_room_size_cap_holds() -> None:
    # Knockers count towards the cap when they knock: a full room turns the next one away.
    room = room_with_host()
    room.max_participants = 4
    knocking(room, 3)
    assert refused(room.apply(guest("late"), NOW)).reason is Reason.ROOM_FULL
    ok(room.apply(AnswerKnocks(actor="h", admit=True), NOW))
    assert len(room.participants) == 4 and room.lobby == {}
    # If the cap was lowered meanwhile, the first in the queue get in and the rest keep waiting.
    room = room_with_host()
    knocking(room, 5)
    room.max_participants = 3
    ok(room.apply(AnswerKnocks(actor="h", admit=True), NOW))
    assert sorted(room.participants) == ["h", "k0", "k1"]
    assert list(room.lobby) == ["k2", "k3", "k4"]
    assert refused(room.apply(AnswerKnocks(actor="h", admit=True), NOW)).reason is (
        Reason.ROOM_FULL
    )
    assert list(room.lobby) == ["k2", "k3", "k4"]  # a refusal leaves the room as it was
    # Turning them away is always possible.
    ok(room.apply(AnswerKnocks(actor="h", admit=False), NOW))
    assert room.lobby == {}


def test_an_empty_lobby_is_nothing_to_do() -> None:
    room = room_with_host()
    out = ok(room.apply(AnswerKnocks(actor="h", admit=True), NOW))
    assert names(out) == ["lobby"]
    signed_in = Join(actor="u", name="Teacher 2", kind=Kind.USER, user_id=7)
    ok(room.apply(signed_in, NOW))  # not of the class: knocks
    ok(room.apply(AnswerKnocks(actor="h", admit=True, targets=("u",)), NOW))
    assert "u" in room.participants
