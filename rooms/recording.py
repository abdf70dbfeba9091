"""Recording a lesson: who may start and stop it, and everyone told. Pure.

The school decides whether lessons may be recorded and by whom (`RecordingRule`, set on the
room when it opens); the host's command changes the room's state, everyone gets `recording`
and the server starts or stops the recorder (`Recorder` effect). The server alone may stop a
recording for a reason of its own (the school's disk quota ran out).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rooms import checks
from rooms.commands import StartRecording, StopRecording
from rooms.model import Event, Everyone, Outcome, Participant, Recorder
from rooms.refusals import Reason, Refusal
from rooms.roles import Permission, Role

if TYPE_CHECKING:
    from rooms.room import Room


class RecordingRule(StrEnum):
    """Whether this school records lessons, and who may start a recording."""

    OFF = "off"  # lessons are never recorded
    HOSTS = "hosts"  # the room's host (the lesson's teacher)
    PRESENTERS = "presenters"  # hosts and the presenters they chose


@dataclass(slots=True)
class RecordingState:
    """The room's recording: the school's rule, and since when it runs (None: not recording)."""

    rule: RecordingRule = RecordingRule.OFF
    since: float | None = None
    by: str | None = None  # name of whoever started it
    stopped_because: str | None = None  # the last stop: stopped, quota, disk_full, error

    def public(self) -> dict[str, Any]:
        """The protocol's Recording object."""
        return {
            "on": self.since is not None,
            "since": self.since,
            "by": self.by,
            "allowed": self.rule is not RecordingRule.OFF,
            "rule": self.rule.value,
            "stopped_because": self.stopped_because,
        }


def may_record(rule: RecordingRule, participant: Participant) -> bool:
    """Whether this participant may start and stop a recording under the school's rule."""
    if rule is RecordingRule.OFF:
        return False
    if rule is RecordingRule.HOSTS:
        return participant.role is Role.HOST or participant.may(Permission.MODERATE)
    return participant.staff


def _told(room: Room) -> Event:
    return Event("recording", {"recording": room.recording.public()}, Everyone())


def start_recording(room: Room, cmd: StartRecording, now: float) -> Outcome | Refusal:
    """A host starts the recording (refused if the school does not allow it to them)."""
    who = checks.member(room, cmd.actor)
    if isinstance(who, Refusal):
        return who
    state = room.recording
    if not may_record(state.rule, who):
        return Refusal(Reason.NOT_PERMITTED)
    if state.since is not None:
        return Refusal(Reason.INVALID_STATE)
    state.since, state.by, state.stopped_because = now, who.name, None
    return Outcome(events=[_told(room)], effects=[Recorder(on=True)])


def stop_recording(room: Room, cmd: StopRecording) -> Outcome | Refusal:
    """A host stops it, or the server does (`by_server`, with its reason)."""
    state = room.recording
    if not cmd.by_server:
        who = checks.member(room, cmd.actor)
        if isinstance(who, Refusal):
            return who
        if not may_record(state.rule, who):
            return Refusal(Reason.NOT_PERMITTED)
    if state.since is None:
        return Refusal(Reason.INVALID_STATE)
    state.since = state.by = None
    state.stopped_because = cmd.reason
    return Outcome(events=[_told(room)], effects=[Recorder(on=False, reason=cmd.reason)])
