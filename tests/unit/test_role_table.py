"""Every command against every role: who may do what, checked as a table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rooms.chat_policy import PrivateChat
from rooms.commands import (
    Admit,
    AnswerKnocks,
    ClosePoll,
    Command,
    CreatePoll,
    DeleteChat,
    Deny,
    GrantRights,
    Join,
    LaunchPoll,
    Leave,
    LockChat,
    LowerAllHands,
    MuteChat,
    RaiseHand,
    Remove,
    RevokeRights,
    SendChat,
    SetGuestPolicy,
    SetLayout,
    SetPage,
    SetPointer,
    SetPrivateChat,
    SetRole,
    ShareDocument,
    StopSharing,
    Vote,
)
from rooms.document import Document
from rooms.layouts import Layout
from rooms.model import Kind, Outcome
from rooms.policy import GuestPolicy
from rooms.polls import PollKind
from rooms.refusals import Reason, Refusal
from rooms.roles import Role
from rooms.room import Room
from tests.unit.roomkit import NOW, guest, ok, pupil

DECK = Document(id="d" * 64, name="deck.pptx", kind="pptx", shown_as="pages", pages=3)
# Each command, built for an actor; targets: knocker "k", plain participant "t".
COMMANDS: dict[str, Callable[[str], Command]] = {
    "admit": lambda a: Admit(actor=a, target="k"),
    "deny": lambda a: Deny(actor=a, target="k"),
    "admit_all": lambda a: AnswerKnocks(actor=a, admit=True),
    "deny_all": lambda a: AnswerKnocks(actor=a, admit=False, targets=("k",)),
    "set_role": lambda a: SetRole(actor=a, target="t", role=Role.PRESENTER),
    "remove": lambda a: Remove(actor=a, target="t"),
    "set_guest_policy": lambda a: SetGuestPolicy(actor=a, policy=GuestPolicy.ALWAYS_ADMIT),
    "leave": lambda a: Leave(actor=a),
    "join_again": lambda a: Join(actor=a, name="again", kind=Kind.USER, user_id=99),
    "send_chat": lambda a: SendChat(actor=a, text="hello"),
    "delete_chat": lambda a: DeleteChat(actor=a, message_id=1),
    "mute_chat": lambda a: MuteChat(actor=a, target="t", muted=True),
    "lock_chat": lambda a: LockChat(actor=a, public=True),
    "set_private_chat": lambda a: SetPrivateChat(actor=a, setting=PrivateChat.CLASSMATES),
    "raise_hand": lambda a: RaiseHand(actor=a),
    "lower_all_hands": lambda a: LowerAllHands(actor=a),
    "grant_rights": lambda a: GrantRights(actor=a, target="t", speak=True, video=False),
    "revoke_rights": lambda a: RevokeRights(actor=a, target="t"),
    "create_poll": lambda a: CreatePoll(actor=a, kind=PollKind.YES_NO, question="Ready?"),
    "launch_poll": lambda a: LaunchPoll(actor=a, poll_id=1),
    "vote": lambda a: Vote(actor=a, poll_id=2, choices=(0,)),
    "close_poll": lambda a: ClosePoll(actor=a, poll_id=2),
    "set_layout": lambda a: SetLayout(actor=a, layout=Layout.SHARING),
    "share_document": lambda a: ShareDocument(actor=a, document=DECK),
    "set_page": lambda a: SetPage(actor=a, page=2),
    "set_pointer": lambda a: SetPointer(actor=a, x=0.5, y=0.25),
    "stop_sharing": lambda a: StopSharing(actor=a),
}

ALLOWED = None  # the command is accepted
NO = Reason.NOT_PERMITTED
HOST_ONLY = {Role.HOST: ALLOWED, Role.PRESENTER: NO, Role.PARTICIPANT: NO, Role.GUEST: NO}
STAFF_ONLY = {Role.HOST: ALLOWED, Role.PRESENTER: ALLOWED, Role.PARTICIPANT: NO, Role.GUEST: NO}
EVERYONE = dict.fromkeys(Role, ALLOWED)
TABLE: dict[str, dict[Role, Reason | None]] = {
    "send_chat": EVERYONE,
    "delete_chat": HOST_ONLY,
    "mute_chat": HOST_ONLY,
    "lock_chat": HOST_ONLY,
    "set_private_chat": HOST_ONLY,
    "raise_hand": EVERYONE,
    "lower_all_hands": HOST_ONLY,
    "grant_rights": HOST_ONLY,
    "revoke_rights": HOST_ONLY,
    "create_poll": STAFF_ONLY,
    "launch_poll": STAFF_ONLY,
    "vote": EVERYONE,
    "close_poll": STAFF_ONLY,
    "set_layout": HOST_ONLY,
    "share_document": STAFF_ONLY,
    "set_page": STAFF_ONLY,
    "set_pointer": STAFF_ONLY,
    "stop_sharing": STAFF_ONLY,
    "admit_all": HOST_ONLY,
    "deny_all": HOST_ONLY,
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
    ok(room.apply(SendChat(actor="h", text="message 1"), NOW))
    ok(room.apply(CreatePoll(actor="h", kind=PollKind.YES_NO, question="draft 1"), NOW))
    ok(room.apply(CreatePoll(actor="h", kind=PollKind.YES_NO, question="open 2", launch=True), NOW))
    ok(room.apply(ShareDocument(actor="h", document=DECK), NOW))
    if role is Role.HOST:
        # Another host (a second account of the owner's: the same account would replace `h`).
        ok(room.apply(Join(actor="a", name="Co", kind=Kind.USER, user_id=9, owner=True), NOW))
    elif role is Role.GUEST:
        ok(room.apply(guest("a"), NOW))
        ok(room.apply(Admit(actor="h", target="a"), NOW))
    else:
        ok(room.apply(pupil("a", 3), NOW))
        if role is Role.PRESENTER:
            ok(room.apply(SetRole(actor="h", target="a", role=Role.PRESENTER), NOW))
    assert room.participants["a"].role is role
    return room


def state_of(room: Room) -> object:
    """Everything a refused command must leave as it was."""
    return (
        {
            k: (p.role, p.name, p.granted, p.chat_muted, p.hand)
            for k, p in room.participants.items()
        },
        list(room.lobby),
        room.guest_policy,
        room.layout,
        room.chat.settings(),
        [(m.id, m.deleted) for m in room.chat.public_messages],
        {i: (p.state, p.published, dict(p.answers)) for i, p in room.polls.items()},
        room.share.public() if room.share else None,
    )


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_by_role(command: str, role: Role) -> None:
    room = room_with_actor(role)
    before = state_of(room)
    result = room.apply(COMMANDS[command]("a"), NOW + 1)
    expected = TABLE[command][role]
    if expected is ALLOWED:
        assert isinstance(result, Outcome), result
    else:
        assert isinstance(result, Refusal) and result.reason is expected, result
        assert state_of(room) == before


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
