"""Raised hands and the mic/camera rights a host grants, possibly for a while. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rooms import checks
from rooms.commands import GrantRights, LowerAllHands, LowerHand, RaiseHand, RevokeRights, Tick
from rooms.model import Event, Hand, One, Outcome, Participant, PermissionsChanged, Staff
from rooms.refusals import Reason, Refusal
from rooms.roles import Permission, Role

if TYPE_CHECKING:
    from rooms.room import Room

MIN_GRANT_SECONDS, MAX_GRANT_SECONDS = 10, 4 * 3600


def hand_events(room: Room, also: tuple[str, ...] = ()) -> list[Event]:
    """The queue of hands for hosts and presenters, and each raiser's own place in it."""
    queue = room.hand_queue()
    events = [Event("hands", {"queue": room.hands_public()}, Staff())]
    positions = {p.id: i for i, p in enumerate(queue, start=1)}
    for pid in dict.fromkeys([*positions, *also]):
        if pid in room.participants:
            events.append(Event("hand", {"position": positions.get(pid)}, One(pid)))
    return events


def raise_hand(room: Room, cmd: RaiseHand, now: float) -> Outcome | Refusal:
    """Ask for the mic and/or camera; raising again changes the request, not the place."""
    actor = checks.member(room, cmd.actor)
    if isinstance(actor, Refusal):
        return actor
    if not (cmd.speak or cmd.video):
        return Refusal(
            Reason.INVALID_PAYLOAD, "A raised hand asks for the mic, the camera or both."
        )
    if actor.hand is None:
        room.hand_seq += 1
        actor.hand = Hand(speak=cmd.speak, video=cmd.video, raised_at=now, seq=room.hand_seq)
    else:
        actor.hand = Hand(cmd.speak, cmd.video, actor.hand.raised_at, actor.hand.seq)
    return Outcome(events=hand_events(room))


def lower_hand(room: Room, cmd: LowerHand) -> Outcome | Refusal:
    """Lower one's own hand, or (a host) someone else's."""
    actor = checks.member(room, cmd.actor)
    if isinstance(actor, Refusal):
        return actor
    target = actor
    if cmd.target is not None and cmd.target != actor.id:
        if not actor.may(Permission.MODERATE):
            return Refusal(Reason.NOT_PERMITTED)
        found = checks.target(room, cmd.target)
        if isinstance(found, Refusal):
            return found
        target = found
    if target.hand is None:
        return Outcome()
    target.hand = None
    return Outcome(events=hand_events(room, also=(target.id,)))


def lower_all_hands(room: Room, cmd: LowerAllHands) -> Outcome | Refusal:
    """A host lowers every hand."""
    actor = checks.moderator(room, cmd.actor)
    if isinstance(actor, Refusal):
        return actor
    lowered = tuple(p.id for p in room.hand_queue())
    for pid in lowered:
        room.participants[pid].hand = None
    return Outcome(events=hand_events(room, also=lowered))


def grant_rights(room: Room, cmd: GrantRights, now: float) -> Outcome | Refusal:
    """A host grants mic and/or camera (optionally for a while); the hand comes down."""
    found = checks.moderator_and_target(room, cmd.actor, cmd.target)
    if isinstance(found, Refusal):
        return found
    _, target = found
    if target.role is Role.HOST:
        return Refusal(Reason.NOT_PERMITTED, "A host already has every right.")
    if not (cmd.speak or cmd.video):
        return Refusal(Reason.INVALID_PAYLOAD, "Grant the mic, the camera or both.")
    if cmd.seconds is not None and not MIN_GRANT_SECONDS <= cmd.seconds <= MAX_GRANT_SECONDS:
        return Refusal(
            Reason.INVALID_PAYLOAD,
            f"A timed grant lasts {MIN_GRANT_SECONDS} to {MAX_GRANT_SECONDS} seconds.",
        )
    rights = {Permission.SPEAK} if cmd.speak else set()
    if cmd.video:
        rights.add(Permission.VIDEO)
    target.granted = frozenset(rights)
    target.granted_until = None if cmd.seconds is None else now + cmd.seconds
    target.hand = None
    return Outcome(
        events=[checks.updated(target), *hand_events(room, also=(target.id,))],
        effects=[PermissionsChanged(target.id, target.permissions)],
    )


def revoke(room: Room, target: Participant) -> Outcome:
    """Take granted rights back (the media layer closes what they no longer allow)."""
    target.granted = frozenset()
    target.granted_until = None
    return Outcome(
        events=[checks.updated(target)], effects=[PermissionsChanged(target.id, target.permissions)]
    )


def revoke_rights(room: Room, cmd: RevokeRights) -> Outcome | Refusal:
    """A host takes granted mic and camera back."""
    found = checks.moderator_and_target(room, cmd.actor, cmd.target)
    if isinstance(found, Refusal):
        return found
    _, target = found
    return revoke(room, target) if target.granted else Outcome()


def tick(room: Room, _cmd: Tick, now: float) -> Outcome:
    """Timed grants whose time is up fall back."""
    outcome = Outcome()
    for participant in list(room.participants.values()):
        if participant.granted_until is not None and participant.granted_until <= now:
            expired = revoke(room, participant)
            outcome.events.extend(expired.events)
            outcome.effects.extend(expired.effects)
    return outcome
