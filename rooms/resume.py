"""What a participant keeps across a dropped connection: hand, rights and role. Pure.

A socket that drops takes its participant out of the room (the others must not see a frozen
person), but the pupil is usually back within seconds. What the room knew about them is held by
identity for a grace period and given back when the same person enters again. Chat mutes and
poll answers are kept by identity anyway (rooms/chat.py, rooms/polls.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from rooms.model import Hand, Participant
from rooms.roles import Permission, Role

# How long a dropped participant's state waits for them: reconnecting (socket.io's back-off,
# a phone between networks) takes seconds; a minute covers it without keeping stale hands.
RESUME_GRACE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Held:
    """The state of a participant whose connection dropped, kept for their return."""

    at: float
    role: Role
    hand: Hand | None
    granted: frozenset[Permission]
    granted_until: float | None


def hold(participant: Participant, now: float) -> Held:
    """Take what is worth keeping from a participant who is leaving without saying so."""
    return Held(
        at=now,
        role=participant.role,
        hand=participant.hand,
        granted=participant.granted,
        granted_until=participant.granted_until,
    )


def restore(participant: Participant, held: Held, now: float) -> None:
    """Give a returning participant what they had (a timed grant only if still running)."""
    # Only the presenters group is given back: host comes from ownership, never from memory.
    if held.role is Role.PRESENTER and participant.role is participant.base_role:
        participant.role = Role.PRESENTER
    participant.hand = held.hand
    if held.granted and (held.granted_until is None or held.granted_until > now):
        participant.granted = held.granted
        participant.granted_until = held.granted_until


def prune(held: dict[str, Held], now: float, grace: float = RESUME_GRACE_SECONDS) -> None:
    """Forget held states whose owner did not come back in time."""
    for identity in [i for i, h in held.items() if now - h.at > grace]:
        del held[identity]
