"""Who may write privately to whom: every sender role, recipient role and setting."""

from __future__ import annotations

import pytest

from rooms.chat_policy import DEFAULT_PRIVATE_CHAT, PrivateChat, may_write_privately
from rooms.commands import Join, SendChat, SetPrivateChat, SetRole
from rooms.model import Kind
from rooms.refusals import Reason
from rooms.roles import Role
from tests.unit.roomkit import NOW, ok, pupil, refused, room_with_host

H, P, U, G = Role.HOST, Role.PRESENTER, Role.PARTICIPANT, Role.GUEST
HOSTS, STAFF, CLASSMATES = PrivateChat.HOSTS, PrivateChat.STAFF, PrivateChat.CLASSMATES

# (sender, recipient): the settings under which the message may go. U is a pupil.
TABLE: dict[tuple[Role, Role], set[PrivateChat]] = {
    (H, H): {HOSTS, STAFF, CLASSMATES},
    (H, P): {HOSTS, STAFF, CLASSMATES},
    (H, U): {HOSTS, STAFF, CLASSMATES},
    (H, G): {HOSTS, STAFF, CLASSMATES},
    (P, H): {HOSTS, STAFF, CLASSMATES},
    (P, P): {STAFF, CLASSMATES},
    (P, U): {STAFF, CLASSMATES},
    (P, G): {STAFF, CLASSMATES},
    (U, H): {HOSTS, STAFF, CLASSMATES},
    (U, P): {STAFF, CLASSMATES},
    (U, U): {CLASSMATES},
    (U, G): set(),  # never: children do not talk privately to outsiders
    (G, H): {HOSTS, STAFF, CLASSMATES},
    (G, P): {STAFF, CLASSMATES},
    (G, U): set(),  # never
    (G, G): set(),
}


@pytest.mark.parametrize("setting", list(PrivateChat))
@pytest.mark.parametrize(("sender", "recipient"), list(TABLE))
def test_private_chat_table(setting: PrivateChat, sender: Role, recipient: Role) -> None:
    assert may_write_privately(setting, sender, recipient) is (setting in TABLE[sender, recipient])


def test_the_table_covers_every_pair_and_the_default_is_staff() -> None:
    assert set(TABLE) == {(s, r) for s in Role for r in Role}
    assert DEFAULT_PRIVATE_CHAT is STAFF


def test_the_room_applies_the_policy_and_the_host_changes_it() -> None:
    room = room_with_host()
    ok(room.apply(pupil("a", 2), NOW))
    ok(room.apply(pupil("b", 3), NOW))
    ok(room.apply(pupil("c", 4), NOW))
    ok(room.apply(Join(actor="g", name="Guest", kind=Kind.GUEST, resumes="g"), NOW))
    ok(room.apply(SetRole(actor="h", target="c", role=Role.PRESENTER), NOW))
    assert room.snapshot_for("a")["chat"]["private_chat"] == "staff"
    assert room.snapshot_for("a")["chat"]["private_to"]["participant"] == ["host", "presenter"]
    ok(room.apply(SendChat(actor="a", text="help", to="h"), NOW))
    ok(room.apply(SendChat(actor="a", text="question", to="c"), NOW))
    ok(room.apply(SendChat(actor="c", text="answer", to="a"), NOW))
    denied = refused(room.apply(SendChat(actor="a", text="psst", to="b"), NOW))
    assert denied.reason is Reason.PRIVATE_NOT_ALLOWED
    assert refused(room.apply(SendChat(actor="g", text="hi", to="a"), NOW)).reason is (
        Reason.PRIVATE_NOT_ALLOWED
    )
    assert refused(room.apply(SetPrivateChat(actor="a", setting=CLASSMATES), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
    out = ok(room.apply(SetPrivateChat(actor="h", setting=CLASSMATES), NOW))
    assert [e.name for e in out.events] == ["chat_settings"]
    assert out.events[0].payload["private_chat"] == "classmates"
    assert "participant" in out.events[0].payload["private_to"]["participant"]
    ok(room.apply(SendChat(actor="a", text="psst", to="b"), NOW + 1))
    assert refused(room.apply(SendChat(actor="g", text="hi", to="a"), NOW + 1)).reason is (
        Reason.PRIVATE_NOT_ALLOWED
    )
    ok(room.apply(SetPrivateChat(actor="h", setting=HOSTS), NOW))
    assert refused(room.apply(SendChat(actor="a", text="q", to="c"), NOW + 2)).reason is (
        Reason.PRIVATE_NOT_ALLOWED
    )
    ok(room.apply(SendChat(actor="g", text="no sound", to="h"), NOW + 2))
