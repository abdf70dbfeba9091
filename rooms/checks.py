"""Shared checks of the classroom commands: who is asking, and may they. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rooms.model import Event, Everyone, Participant
from rooms.refusals import Reason, Refusal
from rooms.roles import Permission

if TYPE_CHECKING:
    from rooms.room import Room


def member(room: Room, actor: str) -> Participant | Refusal:
    participant = room.participants.get(actor)
    return Refusal(Reason.NOT_JOINED) if participant is None else participant


def moderator(room: Room, actor: str) -> Participant | Refusal:
    participant = member(room, actor)
    if isinstance(participant, Participant) and not participant.may(Permission.MODERATE):
        return Refusal(Reason.NOT_PERMITTED)
    return participant


def staff(room: Room, actor: str) -> Participant | Refusal:
    participant = member(room, actor)
    if isinstance(participant, Participant) and not participant.staff:
        return Refusal(Reason.NOT_PERMITTED, "Only hosts and presenters can do this.")
    return participant


def target(room: Room, target: str) -> Participant | Refusal:
    participant = room.participants.get(target)
    return Refusal(Reason.UNKNOWN_PARTICIPANT) if participant is None else participant


def updated(participant: Participant) -> Event:
    return Event("participant_updated", {"participant": participant.public()}, Everyone())


def text(raw: str, limit: int) -> str | Refusal:
    """Text as typed (never truncated); blank or over the limit is refused."""
    if not raw.strip():
        return Refusal(Reason.EMPTY)
    if len(raw) > limit:
        return Refusal(Reason.TOO_LONG, f"The text is longer than {limit} characters.")
    return raw


def moderator_and_target(
    room: Room, actor: str, target_id: str
) -> tuple[Participant, Participant] | Refusal:
    """A host acting on a participant of the room: both, or the refusal."""
    host = moderator(room, actor)
    if isinstance(host, Refusal):
        return host
    other = target(room, target_id)
    return other if isinstance(other, Refusal) else (host, other)
