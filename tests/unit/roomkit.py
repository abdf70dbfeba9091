"""Helpers to build rooms and read outcomes in unit tests."""

from __future__ import annotations

from rooms.commands import Join
from rooms.model import Event, Kind, One, Outcome
from rooms.refusals import Refusal
from rooms.room import Room

NOW = 1_000.0


def ok(result: Outcome | Refusal) -> Outcome:
    """The outcome, failing the test on a refusal."""
    assert isinstance(result, Outcome), result
    return result


def refused(result: Outcome | Refusal) -> Refusal:
    """The refusal, failing the test on an accepted command."""
    assert isinstance(result, Refusal), result
    return result


def to(outcome: Outcome, participant_id: str) -> list[Event]:
    """Events addressed to one participant personally."""
    return [e for e in outcome.events if e.audience == One(participant_id)]


def names(outcome: Outcome) -> list[str]:
    """Event names in order."""
    return [e.name for e in outcome.events]


def room_with_host() -> Room:
    """A room with its owner in it as host `h`."""
    room = Room(id="r1", title="Algebra")
    ok(room.apply(Join(actor="h", name="Teacher", kind=Kind.USER, user_id=1, owner=True), NOW))
    return room


def guest(actor: str, name: str = "Guest") -> Join:
    """A guest's join command."""
    return Join(actor=actor, name=name, kind=Kind.GUEST, institution="School 12")


def pupil(actor: str, user_id: int, expected: bool = True) -> Join:
    """A signed-in pupil's join command."""
    return Join(
        actor=actor, name=f"Pupil {user_id}", kind=Kind.USER, user_id=user_id, expected=expected
    )
