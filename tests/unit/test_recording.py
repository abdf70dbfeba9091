"""Recording a lesson as room state: the school's rule, who may start and stop, everyone told."""

from __future__ import annotations

import pytest

from rooms.commands import SetRole, StartRecording, StopRecording
from rooms.model import Everyone, Recorder
from rooms.recording import RecordingRule
from rooms.refusals import Reason
from rooms.roles import Role
from tests.unit.roomkit import NOW, names, ok, pupil, refused, room_with_host


def test_the_host_starts_and_stops_and_everyone_and_a_late_joiner_know() -> None:
    room = room_with_host()
    room.recording.rule = RecordingRule.HOSTS
    ok(room.apply(pupil("p", 2), NOW))
    started = ok(room.apply(StartRecording(actor="h"), NOW + 1))
    assert names(started) == ["recording"]
    assert started.events[0].audience == Everyone()
    assert started.events[0].payload["recording"]["on"] is True
    assert started.events[0].payload["recording"]["since"] == NOW + 1
    assert started.effects == [Recorder(on=True)]
    ok(room.apply(pupil("late", 3), NOW + 2))
    assert room.snapshot_for("late")["recording"]["on"] is True
    again = refused(room.apply(StartRecording(actor="h"), NOW + 3))
    assert again.reason is Reason.INVALID_STATE
    stopped = ok(room.apply(StopRecording(actor="h"), NOW + 4))
    assert stopped.effects == [Recorder(on=False, reason="stopped")]
    assert room.snapshot_for("p")["recording"]["on"] is False
    assert refused(room.apply(StopRecording(actor="h"), NOW + 5)).reason is Reason.INVALID_STATE


@pytest.mark.parametrize(
    ("rule", "host", "presenter", "pupil_"),
    [
        (RecordingRule.OFF, False, False, False),
        (RecordingRule.HOSTS, True, False, False),
        (RecordingRule.PRESENTERS, True, True, False),
    ],
)
def test_the_schools_rule_decides_who_may(
    rule: RecordingRule, host: bool, presenter: bool, pupil_: bool
) -> None:
    for actor, allowed in (("h", host), ("pr", presenter), ("p", pupil_)):
        room = room_with_host()
        room.recording.rule = rule
        ok(room.apply(pupil("pr", 2), NOW))
        ok(room.apply(SetRole(actor="h", target="pr", role=Role.PRESENTER), NOW))
        ok(room.apply(pupil("p", 3), NOW))
        result = room.apply(StartRecording(actor=actor), NOW)
        if allowed:
            assert names(ok(result)) == ["recording"], (rule, actor)
        else:
            assert refused(result).reason is Reason.NOT_PERMITTED, (rule, actor)
            assert room.recording.since is None


def test_the_server_stops_it_when_the_quota_runs_out_and_says_why() -> None:
    room = room_with_host()
    room.recording.rule = RecordingRule.HOSTS
    ok(room.apply(pupil("p", 2), NOW))
    ok(room.apply(StartRecording(actor="h"), NOW))
    # A pupil cannot stop it, whatever reason it gives.
    assert (
        refused(room.apply(StopRecording(actor="p", reason="quota"), NOW)).reason
        is Reason.NOT_PERMITTED
    )
    stopped = ok(room.apply(StopRecording(actor="", reason="quota", by_server=True), NOW + 1))
    assert stopped.events[0].payload["recording"] == {
        "on": False,
        "since": None,
        "by": None,
        "allowed": True,
        "rule": "hosts",
        "stopped_because": "quota",
    }
