"""Poll and layout commands: prepare, launch, answer, close, publish; pick a layout. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rooms import checks
from rooms.commands import ClosePoll, CreatePoll, LaunchPoll, PublishResults, SetLayout, Vote
from rooms.model import Event, Everyone, Outcome, Record, Staff
from rooms.polls import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_POLLS,
    MAX_QUESTION,
    MAX_TEXT_ANSWER,
    MIN_OPTIONS,
    Answer,
    Poll,
    PollKind,
    PollState,
    options_for,
)
from rooms.refusals import Reason, Refusal

if TYPE_CHECKING:
    from rooms.room import Room


def _poll_for_staff(poll: Poll) -> Event:
    return Event("poll_updated", {"poll": poll.for_staff()}, Staff())


def create_poll(room: Room, cmd: CreatePoll) -> Outcome | Refusal:
    """A host or presenter prepares a poll (and launches it if asked)."""
    actor = checks.staff(room, cmd.actor)
    if isinstance(actor, Refusal):
        return actor
    if len(room.polls) >= MAX_POLLS:
        return Refusal(Reason.INVALID_STATE, f"A room holds at most {MAX_POLLS} polls.")
    question = checks.text(cmd.question, MAX_QUESTION)
    if isinstance(question, Refusal):
        return question
    if cmd.kind in (PollKind.YES_NO, PollKind.TEXT):
        if cmd.options:
            return Refusal(Reason.INVALID_PAYLOAD, "This kind of poll takes no options.")
    elif not MIN_OPTIONS <= len(cmd.options) <= MAX_OPTIONS:
        return Refusal(
            Reason.INVALID_PAYLOAD, f"A poll has {MIN_OPTIONS} to {MAX_OPTIONS} options."
        )
    for option in cmd.options:
        checked = checks.text(option, MAX_OPTION)
        if isinstance(checked, Refusal):
            return checked
    room.next_poll_id += 1
    poll = Poll(
        id=room.next_poll_id,
        kind=cmd.kind,
        question=question,
        options=options_for(cmd.kind, list(cmd.options)),
        anonymous=cmd.anonymous,
        created_by=actor.id,
    )
    room.polls[poll.id] = poll
    outcome = Outcome(events=[_poll_for_staff(poll)])
    if cmd.launch:
        launched = launch_poll(room, LaunchPoll(actor=cmd.actor, poll_id=poll.id))
        assert isinstance(launched, Outcome)
        outcome.events.extend(launched.events)
    return outcome


def _staff_poll(
    room: Room, actor_id: str, poll_id: int, state: PollState, wrong_state: Refusal
) -> Poll | Refusal:
    """The poll a host or presenter acts on, if it is in the state the command needs."""
    actor = checks.staff(room, actor_id)
    if isinstance(actor, Refusal):
        return actor
    poll = room.polls.get(poll_id)
    if poll is None:
        return Refusal(Reason.UNKNOWN_POLL)
    return poll if poll.state is state else wrong_state


def _tell(name: str, poll: Poll) -> list[Event]:
    """Everyone hears of the poll (without live results); staff get the live results."""
    return [Event(name, {"poll": poll.public()}, Everyone()), _poll_for_staff(poll)]


def launch_poll(room: Room, cmd: LaunchPoll) -> Outcome | Refusal:
    """Open a prepared poll for answers."""
    poll = _staff_poll(
        room,
        cmd.actor,
        cmd.poll_id,
        PollState.DRAFT,
        Refusal(Reason.INVALID_STATE, "Only a prepared poll can be launched."),
    )
    if isinstance(poll, Refusal):
        return poll
    poll.state = PollState.OPEN
    return Outcome(events=_tell("poll_opened", poll))


def vote(room: Room, cmd: Vote) -> Outcome | Refusal:
    """Answer an open poll; answering again replaces the answer."""
    voter = checks.member(room, cmd.actor)
    if isinstance(voter, Refusal):
        return voter
    poll = room.polls.get(cmd.poll_id)
    if poll is None or poll.state is PollState.DRAFT:
        return Refusal(Reason.UNKNOWN_POLL)
    if poll.state is not PollState.OPEN:
        return Refusal(Reason.POLL_NOT_OPEN)
    if poll.kind is PollKind.TEXT:
        if cmd.choices or cmd.text is None:
            return Refusal(Reason.INVALID_CHOICE, "This poll takes a text answer.")
        text = checks.text(cmd.text, MAX_TEXT_ANSWER)
        if isinstance(text, Refusal):
            return text
        answer = Answer(voter.name, text=text)
    else:
        choices = cmd.choices
        if cmd.text is not None or not choices or len(set(choices)) != len(choices):
            return Refusal(Reason.INVALID_CHOICE)
        if poll.kind is not PollKind.MULTIPLE and len(choices) != 1:
            return Refusal(Reason.INVALID_CHOICE, "Choose exactly one option.")
        if any(not 0 <= c < len(poll.options) for c in choices):
            return Refusal(Reason.INVALID_CHOICE, "There is no such option.")
        answer = Answer(voter.name, choices=tuple(sorted(choices)))
    poll.answers[voter.identity] = answer
    return Outcome(events=[_poll_for_staff(poll)])


def close_poll(room: Room, cmd: ClosePoll) -> Outcome | Refusal:
    """Stop taking answers; the results are kept with the lesson."""
    poll = _staff_poll(room, cmd.actor, cmd.poll_id, PollState.OPEN, Refusal(Reason.POLL_NOT_OPEN))
    if isinstance(poll, Refusal):
        return poll
    poll.state = PollState.CLOSED
    return Outcome(events=_tell("poll_closed", poll), effects=[Record("poll", poll.for_staff())])


def publish_results(room: Room, cmd: PublishResults) -> Outcome | Refusal:
    """Show a closed poll's results to everyone (never the names)."""
    poll = _staff_poll(
        room,
        cmd.actor,
        cmd.poll_id,
        PollState.CLOSED,
        Refusal(Reason.INVALID_STATE, "Close the poll before publishing its results."),
    )
    if isinstance(poll, Refusal):
        return poll
    poll.published = True
    return Outcome(events=_tell("poll_results", poll), effects=[Record("poll", poll.for_staff())])


def set_layout(room: Room, cmd: SetLayout) -> Outcome | Refusal:
    """A host switches everyone's layout."""
    actor = checks.moderator(room, cmd.actor)
    if isinstance(actor, Refusal):
        return actor
    room.layout = cmd.layout
    return Outcome(events=[Event("layout_changed", {"layout": cmd.layout.value}, Everyone())])
