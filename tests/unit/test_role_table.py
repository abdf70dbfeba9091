"""Every command against every role: who may do what, checked as a table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rooms.commands import Admit, Command, Deny, Join, Leave, Remove, SetGuestPolicy, SetRole
from rooms.model import Kind, Outcome
from rooms.policy import GuestPolicy
from rooms.refusals import Reason, Refusal
from rooms.roles import Role
from rooms.room import Room
from tests.unit.roomkit import NOW, guest, ok, pupil

# Each command, built for an actor; targets: knocker "k", plain participant "t".
COMMANDS: dict[str, Callable[[str], Command]] = {
    "admit": lambda a: Admit(actor=a, target="k"),
    "deny": lambda a: Deny(actor=a, target="k"),
    "set_role": lambda a: SetRole(actor=a, target="t", role=Role.PRESENTER),
    "remove": lambda a: Remove(actor=a, target="t"),
    "set_guest_policy": lambda a: SetGuestPolicy(actor=a, policy=GuestPolicy.ALWAYS_ADMIT),
    "leave": lambda a: Leave(actor=a),
    "join_again": lambda a: Join(actor=a, name="again", kind=Kind.USER, user_id=99),
}

ALLOWED = None  # the command is accepted
TABLE: dict[str, dict[Role, Reason | None]] = {
    "admit": {
        Role.HOST: ALLOWED,
        Role.PRESENTER: Reason.NOT_PERMITTED,
        Role.PARTICIPANT: Reason.NOT_PERMITTED,
        Role.GUEST: Reason.NOT_PERMITTED,
    },
    "deny": {
        Role.HOST: ALLOWED,
        Role.PRESENTER: Reason.NOT_PERMITTED,
        Role.PARTICIPANT: Reason.NOT_PERMITTED,
        Role.GUEST: Reason.NOT_PERMITTED,
    },
    "set_role": {
        Role.HOST: ALLOWED,
        Role.PRESENTER: Reason.NOT_PERMITTED,
        Role.PARTICIPANT: Reason.NOT_PERMITTED,
        Role.GUEST: Reason.NOT_PERMITTED,
    },
    "remove": {
        Role.HOST: ALLOWED,
        Role.PRESENTER: Reason.NOT_PERMITTED,
        Role.PARTICIPANT: Reason.NOT_PERMITTED,
        Role.GUEST: Reason.NOT_PERMITTED,
    },
    "set_guest_policy": {
        Role.HOST: ALLOWED,
        Role.PRESENTER: Reason.NOT_PERMITTED,
        Role.PARTICIPANT: Reason.NOT_PERMITTED,
        Role.GUEST: Reason.NOT_PERMITTED,
    },
    "leave": {
        Role.HOST: ALLOWED,
        Role.PRESENTER: ALLOWED,
        Role.PARTICIPANT: ALLOWED,
        Role.GUEST: ALLOWED,
    },
    "join_again": {
        Role.HOST: Reason.ALREADY_JOINED,
        Role.PRESENTER: Reason.ALREADY_JOINED,
        Role.PARTICIPANT: Reason.ALREADY_JOINED,
        Role.GUEST: Reason.ALREADY_JOINED,
    },
}


def test_table_covers_every_command_and_role() -> None:
    assert set(TABLE) == set(COMMANDS)
    assert all(set(row) == set(Role) for row in TABLE.values())


def room_with_actor(role: Role) -> Room:
    """Host `h`, participant `t`, knocker `k`, and actor `a` holding `role`."""
    room = Room(id="r", title="t")
    ok(room.apply(Join(actor="h", name="Host", kind=Kind.USER, user_id=1, owner=True), NOW))
    ok(room.apply(pupil("t", 2), NOW))
    ok(room.apply(guest("k"), NOW))
    if role is Role.HOST:
        ok(room.apply(Join(actor="a", name="Co", kind=Kind.USER, user_id=1, owner=True), NOW))
    elif role is Role.GUEST:
        ok(room.apply(guest("a"), NOW))
        ok(room.apply(Admit(actor="h", target="a"), NOW))
    else:
        ok(room.apply(pupil("a", 3), NOW))
        if role is Role.PRESENTER:
            ok(room.apply(SetRole(actor="h", target="a", role=Role.PRESENTER), NOW))
    assert room.participants["a"].role is role
    return room


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_by_role(command: str, role: Role) -> None:
    room = room_with_actor(role)
    before = (
        {k: (p.role, p.name) for k, p in room.participants.items()},
        list(room.lobby),
        room.guest_policy,
    )
    result = room.apply(COMMANDS[command]("a"), NOW + 1)
    expected = TABLE[command][role]
    if expected is ALLOWED:
        assert isinstance(result, Outcome), result
    else:
        assert isinstance(result, Refusal) and result.reason is expected, result
        after = (
            {k: (p.role, p.name) for k, p in room.participants.items()},
            list(room.lobby),
            room.guest_policy,
        )
        assert after == before


@pytest.mark.parametrize("command", ["admit", "deny", "set_role", "remove", "set_guest_policy"])
def test_commands_before_joining_are_refused(command: str) -> None:
    room = Room(id="r", title="t")
    ok(room.apply(Join(actor="h", name="Host", kind=Kind.USER, user_id=1, owner=True), NOW))
    result = room.apply(COMMANDS[command]("stranger"), NOW)
    assert isinstance(result, Refusal) and result.reason is Reason.NOT_JOINED


def test_host_cannot_be_demoted_or_removed_by_another_host() -> None:
    room = room_with_actor(Role.HOST)
    demote = SetRole(actor="a", target="h", role=Role.PARTICIPANT)
    for cmd in (demote, Remove(actor="a", target="h")):
        result = room.apply(cmd, NOW)
        assert isinstance(result, Refusal) and result.reason is Reason.NOT_PERMITTED
    assert room.participants["h"].role is Role.HOST
