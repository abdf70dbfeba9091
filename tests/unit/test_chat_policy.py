"""Who may write privately to whom: every sender role, recipient role and setting."""

from __future__ import annotations

import pytest

from rooms.chat_policy import (
    DEFAULT_PRIVATE_CHAT,
    ENDS,
    End,
    PrivateChat,
    may_write_privately,
    private_recipients,
)
from rooms.commands import Admit, Join, SendChat, SetPrivateChat, SetRole
from rooms.model import Kind, Standing
from rooms.refusals import Reason
from rooms.roles import Role
from tests.unit.roomkit import NOW, guest, ok, pupil, refused, room_with_host

HOSTS, STAFF, CLASSMATES = PrivateChat.HOSTS, PrivateChat.STAFF, PrivateChat.CLASSMATES
ALL, BY_STAFF, NEVER = {HOSTS, STAFF, CLASSMATES}, {STAFF, CLASSMATES}, set[PrivateChat]()

# Every standing and role someone can have in a room (a guest is never host nor "participant",
# a pupil never host: the owner is the host), by short name.
PEOPLE: dict[str, End] = {
    "host": End(Role.HOST, Standing.STAFF),
    "teacher presenter": End(Role.PRESENTER, Standing.STAFF),
    "teacher sitting in": End(Role.PARTICIPANT, Standing.STAFF),
    "pupil presenter": End(Role.PRESENTER, Standing.PUPIL),
    "pupil": End(Role.PARTICIPANT, Standing.PUPIL),
    "guest presenter": End(Role.PRESENTER, Standing.GUEST),
    "guest": End(Role.GUEST, Standing.GUEST),
}

# {a, b}: the settings under which a may write to b and b to a (the rule is symmetric).
TABLE: dict[frozenset[str], set[PrivateChat]] = {
    frozenset({"host"}): ALL,
    frozenset({"host", "teacher presenter"}): ALL,
    frozenset({"host", "teacher sitting in"}): ALL,
    frozenset({"host", "pupil presenter"}): ALL,
    frozenset({"host", "pupil"}): ALL,
    frozenset({"host", "guest presenter"}): ALL,
    frozenset({"host", "guest"}): ALL,
    frozenset({"teacher presenter"}): BY_STAFF,
    frozenset({"teacher presenter", "teacher sitting in"}): BY_STAFF,
    frozenset({"teacher presenter", "pupil presenter"}): BY_STAFF,
    frozenset({"teacher presenter", "pupil"}): BY_STAFF,
    frozenset({"teacher presenter", "guest presenter"}): BY_STAFF,
    frozenset({"teacher presenter", "guest"}): BY_STAFF,
    frozenset({"teacher sitting in"}): {CLASSMATES},
    frozenset({"teacher sitting in", "pupil presenter"}): BY_STAFF,
    frozenset({"teacher sitting in", "pupil"}): {CLASSMATES},
    frozenset({"teacher sitting in", "guest presenter"}): BY_STAFF,
    frozenset({"teacher sitting in", "guest"}): NEVER,
    # A pupil the host puts in front of the class is still a pupil to the other pupils.
    frozenset({"pupil presenter"}): {CLASSMATES},
    frozenset({"pupil presenter", "pupil"}): {CLASSMATES},
    frozenset({"pupil presenter", "guest presenter"}): NEVER,
    frozenset({"pupil presenter", "guest"}): NEVER,
    frozenset({"pupil"}): {CLASSMATES},
    # Children do not talk privately to outsiders, whoever was made presenter.
    frozenset({"pupil", "guest presenter"}): NEVER,
    frozenset({"pupil", "guest"}): NEVER,
    frozenset({"guest presenter"}): BY_STAFF,
    frozenset({"guest presenter", "guest"}): BY_STAFF,
    frozenset({"guest"}): NEVER,
}


def allowed(sender: str, recipient: str) -> set[PrivateChat]:
    """The settings under which `sender` may write privately to `recipient` (the table)."""
    return TABLE[frozenset({sender, recipient})]


@pytest.mark.parametrize("setting", list(PrivateChat))
@pytest.mark.parametrize("recipient", list(PEOPLE))
@pytest.mark.parametrize("sender", list(PEOPLE))
def test_private_chat_table(setting: PrivateChat, sender: str, recipient: str) -> None:
    verdict = may_write_privately(setting, PEOPLE[sender], PEOPLE[recipient])
    assert verdict is (setting in allowed(sender, recipient))


def test_the_table_covers_every_pair_and_the_default_is_staff() -> None:
    assert set(TABLE) == {frozenset({a, b}) for a in PEOPLE for b in PEOPLE}
    assert DEFAULT_PRIVATE_CHAT is STAFF


@pytest.mark.parametrize("setting", list(PrivateChat))
def test_a_guest_never_reaches_a_pupil_whatever_the_roles(setting: PrivateChat) -> None:
    """Every standing and role, possible or not: guest ↔ pupil only through a host's role."""
    ends = [End(role, standing) for role in Role for standing in Standing]
    for a in ends:
        for b in ends:
            if {a.standing, b.standing} == {Standing.GUEST, Standing.PUPIL}:
                through_host = Role.HOST in (a.role, b.role)
                assert may_write_privately(setting, a, b) is through_host, (a, b)


def test_what_clients_are_told_follows_the_rule() -> None:
    assert sorted(ENDS, key=str) == sorted(PEOPLE.values(), key=str)
    told = private_recipients(STAFF)
    assert set(told) == {e.key for e in ENDS}
    assert told["pupil/participant"] == ["staff/host", "staff/presenter"]
    assert told["pupil/presenter"] == ["staff/host", "staff/presenter", "staff/participant"]
    assert told["guest/presenter"] == [
        "staff/host",
        "staff/presenter",
        "staff/participant",
        "guest/presenter",
        "guest/guest",
    ]
    assert "pupil/presenter" in private_recipients(CLASSMATES)["pupil/participant"]


def test_the_room_applies_the_policy_and_the_host_changes_it() -> None:
    room = room_with_host()
    ok(room.apply(pupil("a", 2), NOW))
    ok(room.apply(pupil("b", 3), NOW))
    ok(room.apply(pupil("c", 4), NOW))
    teacher = Join(actor="t", name="Colleague", kind=Kind.USER, user_id=5, staff=True)
    ok(room.apply(teacher, NOW))
    ok(room.apply(Join(actor="g", name="Guest", kind=Kind.GUEST, resumes="g"), NOW))
    ok(room.apply(guest("gp", "Visiting Speaker"), NOW))
    ok(room.apply(Admit(actor="h", target="gp"), NOW))
    ok(room.apply(Admit(actor="h", target="t"), NOW))  # not of the class: knocks like a guest
    for presenter in ("c", "t", "gp"):
        ok(room.apply(SetRole(actor="h", target=presenter, role=Role.PRESENTER), NOW))
    assert room.snapshot_for("a")["you"]["standing"] == "pupil"
    assert room.snapshot_for("t")["you"]["standing"] == "staff"
    assert room.snapshot_for("gp")["you"]["standing"] == "guest"
    assert room.snapshot_for("a")["chat"]["private_chat"] == "staff"
    assert room.snapshot_for("a")["chat"]["private_to"]["pupil/participant"] == [
        "staff/host",
        "staff/presenter",
    ]

    def refused_private(sender: str, recipient: str, at: float) -> None:
        result = room.apply(SendChat(actor=sender, text="psst", to=recipient), at)
        assert refused(result).reason is Reason.PRIVATE_NOT_ALLOWED, (sender, recipient)

    ok(room.apply(SendChat(actor="a", text="help", to="h"), NOW))
    ok(room.apply(SendChat(actor="a", text="question", to="t"), NOW))
    ok(room.apply(SendChat(actor="t", text="answer", to="a"), NOW))
    # A pupil made presenter is still a pupil to the others; a guest presenter an outsider.
    for sender, recipient in [("a", "b"), ("a", "c"), ("c", "a"), ("gp", "a"), ("a", "gp")]:
        refused_private(sender, recipient, NOW)
    refused_private("g", "a", NOW)
    assert refused(room.apply(SetPrivateChat(actor="a", setting=CLASSMATES), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
    out = ok(room.apply(SetPrivateChat(actor="h", setting=CLASSMATES), NOW))
    assert [e.name for e in out.events] == ["chat_settings"]
    assert out.events[0].payload["private_chat"] == "classmates"
    assert "pupil/participant" in out.events[0].payload["private_to"]["pupil/participant"]
    ok(room.apply(SendChat(actor="a", text="psst", to="b"), NOW + 1))
    ok(room.apply(SendChat(actor="c", text="psst", to="a"), NOW + 1))
    refused_private("g", "a", NOW + 1)
    refused_private("gp", "c", NOW + 1)
    ok(room.apply(SetPrivateChat(actor="h", setting=HOSTS), NOW))
    refused_private("a", "t", NOW + 2)
    ok(room.apply(SendChat(actor="g", text="no sound", to="h"), NOW + 2))
