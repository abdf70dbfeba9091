"""Who may write privately to whom: a pure function of the room's setting and of both ends'
role in the room and standing at the school (guest, pupil, staff).

Children's safety first: what pupils write to each other privately is seen by nobody else, so
by default pupils and guests write privately only to hosts and presenters (the teacher and
whoever the teacher put in front of the class). Pupil ↔ pupil is a choice the school or the
host makes, and it stays pupil ↔ pupil when the host makes a pupil presenter. A guest (someone
from outside the school) never writes privately to a pupil, nor a pupil to a guest, whatever
role either holds and whatever the setting. A host can write to anyone, and anyone to a host
(about a broken microphone, say). See docs/chat.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rooms.model import Standing
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


@dataclass(frozen=True, slots=True)
class End:
    """One end of a private message: the role in the room and the standing at the school."""

    role: Role
    standing: Standing

    @property
    def key(self) -> str:
        """How the protocol names this kind of end in `private_to`: "pupil/presenter"."""
        return f"{self.standing.value}/{self.role.value}"


def may_write_privately(setting: PrivateChat, sender: End, recipient: End) -> bool:
    """Whether `sender` may send a private message to `recipient` under `setting`."""
    if Role.HOST in (sender.role, recipient.role):
        return True
    standings = {sender.standing, recipient.standing}
    if standings == {Standing.GUEST, Standing.PUPIL}:
        # Never, whatever role either holds: outsiders do not talk privately to children.
        return False
    if setting is PrivateChat.HOSTS:
        return False
    if standings == {Standing.PUPIL}:
        # Pupil ↔ pupil, a pupil the host made presenter included: the setting decides.
        return setting is PrivateChat.CLASSMATES
    if Role.PRESENTER in (sender.role, recipient.role):
        return True
    if Role.GUEST in (sender.role, recipient.role):
        # Guest ↔ guest, guest ↔ a teacher of the school sitting in as a participant.
        return False
    # Staff sitting in as participants, to each other or to pupils: as between pupils.
    return setting is PrivateChat.CLASSMATES


# Every standing and role someone can hold in a room: guests enter as guests and may be made
# presenters; signed-in people enter as participants; only the owner (staff) is host.
ENDS = [
    End(Role.HOST, Standing.STAFF),
    End(Role.PRESENTER, Standing.STAFF),
    End(Role.PARTICIPANT, Standing.STAFF),
    End(Role.PRESENTER, Standing.PUPIL),
    End(Role.PARTICIPANT, Standing.PUPIL),
    End(Role.PRESENTER, Standing.GUEST),
    End(Role.GUEST, Standing.GUEST),
]


def private_recipients(setting: PrivateChat) -> dict[str, list[str]]:
    """For each kind of end, the kinds it may write to privately (what the room shows)."""
    return {
        sender.key: [r.key for r in ENDS if may_write_privately(setting, sender, r)]
        for sender in ENDS
    }
