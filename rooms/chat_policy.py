"""Who may write privately to whom: a pure function of the room's setting and two roles.

Children's safety first: what pupils write to each other privately is seen by nobody else, so
by default pupils and guests write privately only to hosts and presenters (the teacher and
whoever the teacher put in front of the class). Pupil ↔ pupil is a choice the school or the
host makes; a guest (someone from outside the school) never writes privately to a pupil, nor a
pupil to a guest, whatever the setting. A host can write to anyone, and anyone to a host (about
a broken microphone, say). See docs/chat.md.
"""

from __future__ import annotations

from enum import StrEnum

from rooms.roles import Role


class PrivateChat(StrEnum):
    """How far private messages reach in a room."""

    # Only to and from hosts.
    HOSTS = "hosts"
    # Pupils and guests to hosts and presenters, who may answer them (the default).
    STAFF = "staff"
    # As STAFF, and pupils to each other.
    CLASSMATES = "classmates"


DEFAULT_PRIVATE_CHAT = PrivateChat.STAFF
STAFF_ROLES = frozenset({Role.HOST, Role.PRESENTER})


def may_write_privately(setting: PrivateChat, sender: Role, recipient: Role) -> bool:
    """Whether someone in role `sender` may send a private message to someone in `recipient`."""
    if Role.HOST in (sender, recipient):
        return True
    if Role.GUEST in (sender, recipient) and Role.PRESENTER not in (sender, recipient):
        # Guest ↔ pupil and guest ↔ guest: never (outsiders do not talk privately to children).
        return False
    if setting is PrivateChat.HOSTS:
        return False
    if sender in STAFF_ROLES or recipient in STAFF_ROLES:
        return True
    # Pupil ↔ pupil is what is left.
    return setting is PrivateChat.CLASSMATES


def private_recipients(setting: PrivateChat) -> dict[str, list[str]]:
    """For each role, the roles it may write to privately (what the room shows its people)."""
    return {
        sender.value: [r.value for r in Role if may_write_privately(setting, sender, r)]
        for sender in Role
    }
