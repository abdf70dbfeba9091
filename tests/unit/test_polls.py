"""Polls in the room core."""

from __future__ import annotations

import pytest

from rooms.commands import ClosePoll, CreatePoll, LaunchPoll, PublishResults, SetLayout, Vote
from rooms.layouts import Layout
from rooms.model import Everyone, Record, Staff
from rooms.polls import PollKind
from rooms.refusals import Reason
from rooms.room import Room
from tests.unit.roomkit import NOW, guest, ok, pupil, refused, room_with_host


def classroom() -> Room:
    room = room_with_host()
    ok(room.apply(pupil("a", 2), NOW))
    ok(room.apply(pupil("b", 3), NOW))
    return room


def poll_id(room: Room) -> int:
    return max(room.polls)


def test_prepared_then_launched_then_answered_closed_published() -> None:
    room = classroom()
    out = ok(
        room.apply(
            CreatePoll(actor="h", kind=PollKind.SINGLE, question="2+2?", options=("3", "4")), NOW
        )
    )
    assert [e.audience for e in out.events] == [Staff()]  # a draft is not shown to pupils
    pid = poll_id(room)
    assert room.snapshot_for("a")["polls"] == []
    assert refused(room.apply(Vote(actor="a", poll_id=pid, choices=(1,)), NOW)).reason is (
        Reason.UNKNOWN_POLL
    )
    out = ok(room.apply(LaunchPoll(actor="h", poll_id=pid), NOW))
    opened = next(e for e in out.events if e.name == "poll_opened")
    assert opened.audience == Everyone() and "results" not in opened.payload["poll"]

    ok(room.apply(Vote(actor="a", poll_id=pid, choices=(0,)), NOW))
    ok(room.apply(Vote(actor="a", poll_id=pid, choices=(1,)), NOW))  # changed answer
    out = ok(room.apply(Vote(actor="b", poll_id=pid, choices=(1,)), NOW))
    live = out.events[0]
    assert live.audience == Staff()
    assert live.payload["poll"]["results"]["counts"] == [0, 2]

    out = ok(room.apply(ClosePoll(actor="h", poll_id=pid), NOW))
    assert any(isinstance(e, Record) and e.kind == "poll" for e in out.effects)
    assert refused(room.apply(Vote(actor="a", poll_id=pid, choices=(0,)), NOW)).reason is (
        Reason.POLL_NOT_OPEN
    )
    out = ok(room.apply(PublishResults(actor="h", poll_id=pid), NOW))
    published = next(e for e in out.events if e.name == "poll_results")
    assert published.audience == Everyone()
    assert published.payload["poll"]["results"]["counts"] == [0, 2]
    assert "named" not in published.payload["poll"]["results"]


def test_named_poll_shows_names_to_staff_only() -> None:
    room = classroom()
    ok(room.apply(CreatePoll("h", PollKind.YES_NO, "Ready?", anonymous=False, launch=True), NOW))
    pid = poll_id(room)
    out = ok(room.apply(Vote(actor="a", poll_id=pid, choices=(0,)), NOW))
    assert out.events[0].payload["poll"]["results"]["named"] == [
        {"name": "Pupil 2", "choices": [0], "text": None}
    ]
    assert room.snapshot_for("a")["polls"][0].get("results") is None


def test_multiple_and_text_polls() -> None:
    room = classroom()
    ok(room.apply(CreatePoll("h", PollKind.MULTIPLE, "Pick", ("x", "y", "z"), launch=True), NOW))
    multi = poll_id(room)
    ok(room.apply(Vote("a", multi, choices=(0, 2)), NOW))
    assert room.polls[multi].counts() == [1, 0, 1]
    assert refused(room.apply(Vote("a", multi, choices=(0, 0)), NOW)).reason is (
        Reason.INVALID_CHOICE
    )
    ok(room.apply(CreatePoll("h", PollKind.TEXT, "Why?", launch=True), NOW))
    text = poll_id(room)
    ok(room.apply(Vote("b", text, text="because"), NOW))
    assert room.polls[text].results(with_names=False)["texts"] == ["because"]
    assert refused(room.apply(Vote("b", text, text="x" * 1001), NOW)).reason is Reason.TOO_LONG
    assert refused(room.apply(Vote("b", text, choices=(0,)), NOW)).reason is (Reason.INVALID_CHOICE)


@pytest.mark.parametrize(
    ("kind", "question", "options", "reason"),
    [
        (PollKind.SINGLE, "", ("a", "b"), Reason.EMPTY),
        (PollKind.SINGLE, "q" * 501, ("a", "b"), Reason.TOO_LONG),
        (PollKind.SINGLE, "q", ("a",), Reason.INVALID_PAYLOAD),
        (PollKind.SINGLE, "q", tuple("abcdefghijk"), Reason.INVALID_PAYLOAD),
        (PollKind.SINGLE, "q", ("a", "b" * 201), Reason.TOO_LONG),
        (PollKind.YES_NO, "q", ("a", "b"), Reason.INVALID_PAYLOAD),
    ],
)
def test_poll_limits(
    kind: PollKind, question: str, options: tuple[str, ...], reason: Reason
) -> None:
    room = classroom()
    assert refused(room.apply(CreatePoll("h", kind, question, options), NOW)).reason is reason
    assert room.polls == {}


def test_single_choice_out_of_range_and_unknown_poll() -> None:
    room = classroom()
    ok(room.apply(CreatePoll("h", PollKind.SINGLE, "q", ("a", "b"), launch=True), NOW))
    pid = poll_id(room)
    for choices in ((2,), (-1,), (0, 1), ()):
        assert refused(room.apply(Vote("a", pid, choices=choices), NOW)).reason is (
            Reason.INVALID_CHOICE
        )
    assert refused(room.apply(Vote("a", 999, choices=(0,)), NOW)).reason is Reason.UNKNOWN_POLL
    assert refused(room.apply(PublishResults("h", pid), NOW)).reason is Reason.INVALID_STATE
    assert refused(room.apply(LaunchPoll("h", pid), NOW)).reason is Reason.INVALID_STATE


def test_guests_answer_polls_and_pupils_cannot_create_them() -> None:
    room = classroom()
    from rooms.commands import Admit

    ok(room.apply(guest("g"), NOW))
    ok(room.apply(Admit("h", "g"), NOW))
    assert refused(room.apply(CreatePoll("a", PollKind.YES_NO, "q"), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
    ok(room.apply(CreatePoll("h", PollKind.YES_NO, "q", launch=True), NOW))
    ok(room.apply(Vote("g", poll_id(room), choices=(1,)), NOW))


def test_layout_switch_reaches_everyone_and_late_joiners() -> None:
    room = classroom()
    assert refused(room.apply(SetLayout("a", Layout.DISCUSSION), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
    out = ok(room.apply(SetLayout("h", Layout.DISCUSSION), NOW))
    assert out.events[0].payload == {"layout": "discussion"}
    ok(room.apply(pupil("late", 9), NOW))
    assert room.snapshot_for("late")["room"]["layout"] == "discussion"


def test_a_rejoining_voter_sees_their_own_answer() -> None:
    room = classroom()
    ok(room.apply(CreatePoll("h", PollKind.MULTIPLE, "Pick", ("x", "y", "z"), launch=True), NOW))
    ok(room.apply(Vote("a", poll_id(room), choices=(2, 0)), NOW))
    ok(room.apply(pupil("a-again", 2), NOW))  # pupil 2 on a new connection
    assert room.snapshot_for("a-again")["polls"][0]["your_answer"] == {
        "choices": [0, 2],
        "text": None,
    }
    assert room.snapshot_for("b")["polls"][0]["your_answer"] is None
