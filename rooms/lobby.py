"""Answering many knockers in one command: Admit all / Deny all. Pure.

A class arriving together is 30 to 100 knocks within seconds; one click per person is slow for
the teacher and runs into the per-socket command rate. The host answers everyone waiting (or the
ones ticked) in one command; each knocker hears their own answer, the hosts get one lobby update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rooms import checks
from rooms.commands import AnswerKnocks
from rooms.model import Detach, Event, One, Outcome
from rooms.refusals import Reason, Refusal

if TYPE_CHECKING:
    from rooms.room import Room


def chosen(room: Room, targets: tuple[str, ...] | None) -> list[str]:
    """The knockers an answer is for, in queue order; ones no longer waiting are left out
    (they went away, or another host answered them a moment earlier)."""
    if targets is None:
        return list(room.lobby)
    wanted = set(targets)
    return [knock_id for knock_id in room.lobby if knock_id in wanted]


def answer_knocks(room: Room, cmd: AnswerKnocks, now: float) -> Outcome | Refusal:
    """Admit (as many as the room holds, first come first) or deny the chosen knockers."""
    actor = checks.moderator(room, cmd.actor)
    if isinstance(actor, Refusal):
        return actor
    knock_ids = chosen(room, cmd.targets)
    outcome = Outcome()
    if cmd.admit:
        # Knockers count towards the size cap when they knock, so this is a guard for a cap
        # lowered in between: whoever does not fit keeps waiting, in their place.
        room_left = room.max_participants - len(room.participants)
        if knock_ids and room_left <= 0:
            return Refusal(Reason.ROOM_FULL)
        for knock_id in knock_ids[:room_left]:
            knock = room.lobby.pop(knock_id)
            entered = room.enter(knock.admit(now))
            outcome.events.append(Event("admitted", {}, One(knock_id)))
            outcome.events.extend(entered.events)
            outcome.effects.extend(entered.effects)
    else:
        for knock_id in knock_ids:
            del room.lobby[knock_id]
            outcome.events.append(Event("denied", {"reason": "denied_by_host"}, One(knock_id)))
            outcome.effects.append(Detach(knock_id))
    outcome.events.extend(room.lobby_events())
    return outcome
