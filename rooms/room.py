"""The room state machine: commands in (with the time), events and effects out. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rooms import chat_commands, closing, hands, lobby, poll_commands, sharing
from rooms import recording as recording_commands
from rooms.chat import Chat
from rooms.commands import (
    Admit,
    AnswerKnocks,
    ClosePoll,
    CloseRoom,
    Command,
    CreatePoll,
    DeleteChat,
    Deny,
    GrantRights,
    Join,
    LaunchPoll,
    Leave,
    LockChat,
    LowerAllHands,
    LowerHand,
    MuteChat,
    PublishResults,
    RaiseHand,
    Remove,
    RevokeRights,
    SendChat,
    SetGuestPolicy,
    SetLayout,
    SetPage,
    SetPlayer,
    SetPointer,
    SetPrivateChat,
    SetRole,
    ShareDocument,
    StartRecording,
    StopRecording,
    StopSharing,
    Tick,
    Vote,
)
from rooms.layouts import Layout
from rooms.model import (
    Attach,
    Detach,
    Event,
    Everyone,
    Knock,
    LeaveReason,
    Moderators,
    One,
    Outcome,
    Participant,
    PermissionsChanged,
    Record,
    base_role,
    standing_of,
)
from rooms.policy import Admission, GuestPolicy, admission
from rooms.polls import Poll, PollState
from rooms.recording import RecordingState
from rooms.refusals import Reason, Refusal
from rooms.resume import Held, hold, prune, restore
from rooms.roles import ASSIGNABLE_ROLES, Permission, Role
from rooms.sharing import Share

PROTOCOL_VERSION = 1


@dataclass
class Room:
    """One live room: who is in, who waits, and the rules between them.

    `apply` either refuses a command (the room is left exactly as it was) or changes the room
    and returns what to tell whom and what the I/O shell must do.
    """

    id: str
    title: str
    guest_policy: GuestPolicy = GuestPolicy.ASK_HOST
    max_participants: int = 500
    participants: dict[str, Participant] = field(default_factory=dict)
    lobby: dict[str, Knock] = field(default_factory=dict)
    # People a host removed (by identity: user, or guest's first join) knock again instead of
    # walking back in.
    removed: set[str] = field(default_factory=set)
    layout: Layout = Layout.LECTURE
    # The document on the stage and its page / player position (rooms/sharing.py).
    share: Share | None = None
    chat: Chat = field(default_factory=Chat)
    polls: dict[int, Poll] = field(default_factory=dict)
    next_poll_id: int = 0
    hand_seq: int = 0
    # Hand, rights and role of people whose connection dropped, by identity (rooms/resume.py).
    held: dict[str, Held] = field(default_factory=dict)
    # The lesson ended but the teacher kept the room open for questions until this time.
    closes_at: float | None = None
    close_reason: str = "lesson_ended"
    # Closed for good: everyone was sent out and nobody may enter any more.
    closed: bool = False
    # The school's recording rule and whether the lesson is being recorded (rooms/recording.py).
    recording: RecordingState = field(default_factory=RecordingState)

    # -- queries ---------------------------------------------------------------------------

    @property
    def host_present(self) -> bool:
        """Whether someone who can admit knockers is in the room."""
        return any(p.may(Permission.MODERATE) for p in self.participants.values())

    @property
    def empty(self) -> bool:
        """Nobody in the room and nobody waiting."""
        return not self.participants and not self.lobby

    def hand_queue(self) -> list[Participant]:
        """Participants with a raised hand, first raised first."""
        raised = [p for p in self.participants.values() if p.hand is not None]
        return sorted(raised, key=lambda p: p.hand.seq if p.hand else 0)

    def hands_public(self) -> list[dict[str, Any]]:
        """The queue of raised hands as hosts and presenters see it."""
        return [
            {
                "id": p.id,
                "name": p.name,
                "speak": p.hand.speak,
                "video": p.hand.video,
                "position": i,
            }
            for i, p in enumerate(self.hand_queue(), start=1)
            if p.hand is not None
        ]

    def next_deadline(self) -> float | None:
        """When the next timed grant runs out or the room closes (the server sends `Tick` then)."""
        deadlines = [p.granted_until for p in self.participants.values() if p.granted_until]
        if self.closes_at is not None:
            deadlines.append(self.closes_at)
        return min(deadlines, default=None)

    def snapshot_for(self, participant_id: str) -> dict[str, Any]:
        """The `room_state` payload one participant sees."""
        you = self.participants[participant_id]
        lobby = [k.public() for k in self.lobby.values()] if you.may(Permission.MODERATE) else []
        if you.staff:
            polls = [p.for_staff() for p in self.polls.values()]
        else:
            polls = [p.public() for p in self.polls.values() if p.state is not PollState.DRAFT]
        for poll in polls:  # so a reloaded page shows what this person already answered
            poll["your_answer"] = self.polls[poll["id"]].answer_of(you.identity)
        queue = self.hand_queue()
        position = next((i for i, p in enumerate(queue, 1) if p.id == participant_id), None)
        return {
            "v": PROTOCOL_VERSION,
            "room": {
                "id": self.id,
                "title": self.title,
                "guest_policy": self.guest_policy.value,
                "layout": self.layout.value,
                "closes_at": self.closes_at,
            },
            "you": you.public(),
            "participants": [p.public() for p in self.participants.values()],
            "lobby": lobby,
            "chat": {"messages": self.chat.history_for(you.identity), **self.chat.settings()},
            "polls": polls,
            "hands": self.hands_public() if you.staff else [],
            "hand": {"position": position},
            "share": self.share.public() if self.share is not None else None,
            "recording": self.recording.public(),
        }

    # -- the one entry point ---------------------------------------------------------------

    def apply(self, command: Command, now: float) -> Outcome | Refusal:
        """Run one command at time `now`."""
        match command:
            case Join():
                return self._join(command, now)
            case Leave():
                return self._leave(command, now)
            case Admit():
                return self._admit(command, now)
            case Deny():
                return self._deny(command)
            case AnswerKnocks():
                return lobby.answer_knocks(self, command, now)
            case SetRole():
                return self._set_role(command)
            case Remove():
                return self._remove(command, now)
            case SetGuestPolicy():
                return self._set_guest_policy(command, now)
            case SendChat():
                return chat_commands.send_chat(self, command, now)
            case DeleteChat():
                return chat_commands.delete_chat(self, command)
            case MuteChat():
                return chat_commands.mute_chat(self, command)
            case LockChat():
                return chat_commands.lock_chat(self, command)
            case SetPrivateChat():
                return chat_commands.set_private_chat(self, command)
            case RaiseHand():
                return hands.raise_hand(self, command, now)
            case LowerHand():
                return hands.lower_hand(self, command)
            case LowerAllHands():
                return hands.lower_all_hands(self, command)
            case GrantRights():
                return hands.grant_rights(self, command, now)
            case RevokeRights():
                return hands.revoke_rights(self, command)
            case Tick():
                return self._tick(command, now)
            case CloseRoom():
                return closing.close_room(self, command, now)
            case CreatePoll():
                return poll_commands.create_poll(self, command)
            case LaunchPoll():
                return poll_commands.launch_poll(self, command)
            case Vote():
                return poll_commands.vote(self, command)
            case ClosePoll():
                return poll_commands.close_poll(self, command)
            case PublishResults():
                return poll_commands.publish_results(self, command)
            case SetLayout():
                return poll_commands.set_layout(self, command)
            case ShareDocument():
                return sharing.share_document(self, command, now)
            case SetPage():
                return sharing.set_page(self, command)
            case SetPlayer():
                return sharing.set_player(self, command, now)
            case SetPointer():
                return sharing.set_pointer(self, command)
            case StopSharing():
                return sharing.stop_sharing(self, command)
            case StartRecording():
                return recording_commands.start_recording(self, command, now)
            case StopRecording():
                return recording_commands.stop_recording(self, command)

    # -- commands --------------------------------------------------------------------------

    def _join(self, cmd: Join, now: float) -> Outcome | Refusal:
        if self.closed:
            return Refusal(Reason.ROOM_CLOSED)
        if cmd.actor in self.participants or cmd.actor in self.lobby:
            return Refusal(Reason.ALREADY_JOINED)
        role = Role.HOST if cmd.owner else base_role(cmd.kind)
        if cmd.claimed_role is not None and cmd.claimed_role is not role:
            return Refusal(Reason.NOT_PERMITTED, f"You cannot enter as {cmd.claimed_role.value}.")
        if len(self.participants) + len(self.lobby) >= self.max_participants:
            return Refusal(Reason.ROOM_FULL)
        identity = f"u{cmd.user_id}" if cmd.user_id is not None else cmd.resumes
        expected = cmd.owner or (
            (cmd.expected or cmd.resumes is not None) and identity not in self.removed
        )
        verdict = admission(self.guest_policy, expected=expected)
        if verdict is not Admission.ALLOW and not cmd.knock:
            return Refusal(Reason.NOT_EXPECTED)
        if verdict is Admission.DENY:
            return Refusal(Reason.DENIED)
        knock = Knock(
            id=cmd.actor,
            name=cmd.name,
            kind=cmd.kind,
            since=now,
            user_id=cmd.user_id,
            institution=cmd.institution,
            origin=cmd.resumes,
            standing=standing_of(cmd.kind, staff=cmd.staff or cmd.owner),
        )
        if verdict is Admission.WAIT:
            self.lobby[cmd.actor] = knock
            return Outcome(events=self.lobby_events())
        participant = knock.admit(now)
        participant.role = role
        stale = next(
            (p for p in self.participants.values() if p.identity == participant.identity), None
        )
        if stale is None:
            return self.enter(participant)
        # One person is one participant: otherwise a pupil back from a network drop shows twice
        # (and keeps their frozen media) until the old connection's ping timeout.
        left = self._exit(stale.id, LeaveReason.REPLACED, now)
        left.events.insert(0, Event("replaced", {}, One(stale.id)))
        entered = self.enter(participant)
        return Outcome(
            events=[*left.events, *entered.events], effects=[*left.effects, *entered.effects]
        )

    def _leave(self, cmd: Leave, now: float) -> Outcome | Refusal:
        if cmd.actor in self.lobby:
            del self.lobby[cmd.actor]
            return Outcome(events=self.lobby_events(), effects=[Detach(cmd.actor)])
        if cmd.actor not in self.participants:
            return Refusal(Reason.NOT_JOINED)
        return self._exit(cmd.actor, cmd.reason, now)

    def _admit(self, cmd: Admit, now: float) -> Outcome | Refusal:
        refusal = self._check_moderator(cmd.actor)
        if refusal is not None:
            return refusal
        knock = self.lobby.pop(cmd.target, None)
        if knock is None:
            return Refusal(Reason.UNKNOWN_PARTICIPANT)
        outcome = self.enter(knock.admit(now))
        outcome.events[0:0] = [Event("admitted", {}, One(knock.id))]
        outcome.events.extend(self.lobby_events())
        return outcome

    def _deny(self, cmd: Deny) -> Outcome | Refusal:
        refusal = self._check_moderator(cmd.actor)
        if refusal is not None:
            return refusal
        if cmd.target not in self.lobby:
            return Refusal(Reason.UNKNOWN_PARTICIPANT)
        del self.lobby[cmd.target]
        events = [Event("denied", {"reason": "denied_by_host"}, One(cmd.target))]
        return Outcome(events=events + self.lobby_events(), effects=[Detach(cmd.target)])

    def _set_role(self, cmd: SetRole) -> Outcome | Refusal:
        refusal = self._check_moderator(cmd.actor)
        if refusal is not None:
            return refusal
        if cmd.role not in ASSIGNABLE_ROLES:
            return Refusal(Reason.INVALID_ROLE)
        target = self.participants.get(cmd.target)
        if target is None:
            return Refusal(Reason.UNKNOWN_PARTICIPANT)
        if target.role is Role.HOST:
            return Refusal(Reason.NOT_PERMITTED, "A host's role cannot be changed.")
        new_role = target.base_role if cmd.role is Role.PARTICIPANT else cmd.role
        if new_role is target.role:
            return Outcome()
        target.role = new_role
        # Presenters see the hands and the polls' live results: send them the current state.
        return Outcome(
            events=[
                Event("participant_updated", {"participant": target.public()}, Everyone()),
                Event("room_state", self.snapshot_for(target.id), One(target.id)),
            ],
            effects=[
                Attach(target.id, target.channels),
                PermissionsChanged(target.id, target.permissions),
            ],
        )

    def _remove(self, cmd: Remove, now: float) -> Outcome | Refusal:
        refusal = self._check_moderator(cmd.actor)
        if refusal is not None:
            return refusal
        target = self.participants.get(cmd.target)
        if target is None:
            return Refusal(Reason.UNKNOWN_PARTICIPANT)
        if target.role is Role.HOST:
            return Refusal(Reason.NOT_PERMITTED, "A host cannot be removed.")
        self.removed.add(target.identity)
        outcome = self._exit(target.id, LeaveReason.REMOVED, now)
        outcome.events.insert(0, Event("removed", {}, One(target.id)))
        return outcome

    def _set_guest_policy(self, cmd: SetGuestPolicy, now: float) -> Outcome | Refusal:
        refusal = self._check_moderator(cmd.actor)
        if refusal is not None:
            return refusal
        self.guest_policy = cmd.policy
        outcome = Outcome(
            events=[Event("policy_changed", {"guest_policy": cmd.policy.value}, Everyone())]
        )
        if cmd.policy is GuestPolicy.ASK_HOST or not self.lobby:
            return outcome
        waiting, self.lobby = list(self.lobby.values()), {}
        for knock in waiting:
            if cmd.policy is GuestPolicy.ALWAYS_ADMIT:
                entered = self.enter(knock.admit(now))
                outcome.events.append(Event("admitted", {}, One(knock.id)))
                outcome.events.extend(entered.events)
                outcome.effects.extend(entered.effects)
            else:
                outcome.events.append(Event("denied", {"reason": "policy"}, One(knock.id)))
                outcome.effects.append(Detach(knock.id))
        outcome.events.extend(self.lobby_events())
        return outcome

    def _tick(self, cmd: Tick, now: float) -> Outcome:
        """Time passes: timed grants fall back, and a room kept open after its lesson closes."""
        if self.closes_at is not None and closing.due(self, now):
            # At the announced time (the timer fires a moment after it): the same for everyone.
            return closing.shut(self, self.close_reason, self.closes_at)
        return hands.tick(self, cmd, now)

    # -- helpers ---------------------------------------------------------------------------

    def _check_moderator(self, actor: str) -> Refusal | None:
        participant = self.participants.get(actor)
        if participant is None:
            return Refusal(Reason.NOT_JOINED)
        if not participant.may(Permission.MODERATE):
            return Refusal(Reason.NOT_PERMITTED)
        return None

    def enter(self, participant: Participant) -> Outcome:
        """Put a participant in the room and tell everyone (also used by rooms/lobby.py)."""
        host_was_present = self.host_present
        participant.chat_muted = participant.identity in self.chat.muted
        prune(self.held, participant.joined_at)
        held = self.held.pop(participant.identity, None)
        if held is not None:  # back after a dropped connection: as they were
            restore(participant, held, participant.joined_at)
        self.participants[participant.id] = participant
        events = [
            Event("participant_joined", {"participant": participant.public()}, Everyone()),
            Event("room_state", self.snapshot_for(participant.id), One(participant.id)),
        ]
        if participant.may(Permission.MODERATE) and not host_was_present:
            events.extend(self._waiting_events())
        if participant.hand is not None:  # the queue gets the returning hand back in its place
            events.extend(hands.hand_events(self))
        # Presence is kept for attendance (signed-in pupils) and the guest log (guests).
        presence = Record(
            "presence",
            {
                "event": "join",
                "at": participant.joined_at,
                "participant": participant.id,
                "identity": participant.identity,
                "user_id": participant.user_id,
                "name": participant.name,
                "kind": participant.kind.value,
                "institution": participant.institution,
            },
        )
        return Outcome(
            events=events, effects=[Attach(participant.id, participant.channels), presence]
        )

    def _exit(self, participant_id: str, reason: LeaveReason, now: float) -> Outcome:
        """Take a participant out of the room and tell everyone."""
        gone = self.participants.pop(participant_id)
        had_hand = gone.hand is not None
        if reason in (LeaveReason.DISCONNECTED, LeaveReason.REPLACED):
            # Not a goodbye: the same person is (about to be) back and keeps their state.
            self.held[gone.identity] = hold(gone, now)
        events = [
            Event(
                "participant_left",
                {"participant": participant_id, "reason": reason.value},
                Everyone(),
            )
        ]
        if not self.host_present:
            events.extend(self._waiting_events())
        if had_hand:
            events.extend(hands.hand_events(self))
        presence = Record(
            "presence",
            {"event": "leave", "at": now, "participant": participant_id, "how": reason.value},
        )
        return Outcome(events=events, effects=[Detach(participant_id), presence])

    def lobby_events(self) -> list[Event]:
        """The lobby for the hosts, and each knocker's place in it."""
        lobby = [k.public() for k in self.lobby.values()]
        return [Event("lobby", {"lobby": lobby}, Moderators()), *self._waiting_events()]

    def _waiting_events(self) -> list[Event]:
        present = self.host_present
        return [
            Event("waiting", {"position": position, "host_present": present}, One(knock_id))
            for position, knock_id in enumerate(self.lobby, start=1)
        ]
