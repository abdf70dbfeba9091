"""Commands a room accepts; every one names its actor, set by the server."""

from __future__ import annotations

from dataclasses import dataclass

from rooms.chat_policy import PrivateChat
from rooms.document import Document
from rooms.layouts import Layout
from rooms.model import Kind, LeaveReason
from rooms.policy import GuestPolicy
from rooms.polls import PollKind
from rooms.roles import Role


@dataclass(frozen=True, slots=True)
class Join:
    """Someone arrives; `expected` means the owner or a pupil of the room's class."""

    actor: str
    name: str
    kind: Kind
    user_id: int | None = None
    institution: str | None = None
    owner: bool = False
    expected: bool = False
    claimed_role: Role | None = None
    # The identity of an earlier admitted join of the same person (a verified resume token).
    resumes: str | None = None
    # A signed-in teacher or administrator (not a pupil): decides who they may write to
    # privately (rooms/chat_policy.py). The owner is staff anyway.
    staff: bool = False
    # False: enter only if the room lets this person straight in; otherwise refuse
    # (`not_expected`) and leave no knock — the room page's one-click try, sent before it knows.
    knock: bool = True


@dataclass(frozen=True, slots=True)
class Leave:
    """A participant or a knocker goes away."""

    actor: str
    reason: LeaveReason = LeaveReason.LEFT


@dataclass(frozen=True, slots=True)
class Admit:
    """A host lets a knocker in."""

    actor: str
    target: str


@dataclass(frozen=True, slots=True)
class Deny:
    """A host turns a knocker away."""

    actor: str
    target: str


@dataclass(frozen=True, slots=True)
class AnswerKnocks:
    """A host lets in (or turns away) many knockers at once: all waiting, or those `targets`.

    One command, so a class arriving together does not run into the per-socket command rate.
    """

    actor: str
    admit: bool
    targets: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class SetRole:
    """A host moves someone into the presenters group or back."""

    actor: str
    target: str
    role: Role


@dataclass(frozen=True, slots=True)
class Remove:
    """A host sends a participant out of the room."""

    actor: str
    target: str


@dataclass(frozen=True, slots=True)
class SetGuestPolicy:
    """A host changes who may enter without asking."""

    actor: str
    policy: GuestPolicy


@dataclass(frozen=True, slots=True)
class SendChat:
    """A message to everyone (`to` None) or privately to one participant."""

    actor: str
    text: str
    to: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteChat:
    """A host deletes a message for everyone."""

    actor: str
    message_id: int


@dataclass(frozen=True, slots=True)
class MuteChat:
    """A host mutes or unmutes one participant's chat."""

    actor: str
    target: str
    muted: bool


@dataclass(frozen=True, slots=True)
class LockChat:
    """A host locks or unlocks the public chat for participants and guests."""

    actor: str
    public: bool


@dataclass(frozen=True, slots=True)
class SetPrivateChat:
    """A host changes who may write privately to whom (rooms/chat_policy.py)."""

    actor: str
    setting: PrivateChat


@dataclass(frozen=True, slots=True)
class RaiseHand:
    """Ask for the right to speak and/or show video."""

    actor: str
    speak: bool = True
    video: bool = False


@dataclass(frozen=True, slots=True)
class LowerHand:
    """Lower one's own hand, or (a host) someone else's."""

    actor: str
    target: str | None = None


@dataclass(frozen=True, slots=True)
class LowerAllHands:
    """A host lowers every hand."""

    actor: str


@dataclass(frozen=True, slots=True)
class GrantRights:
    """A host grants mic and/or camera, optionally for `seconds`."""

    actor: str
    target: str
    speak: bool
    video: bool
    seconds: int | None = None


@dataclass(frozen=True, slots=True)
class RevokeRights:
    """A host takes granted mic and camera rights back."""

    actor: str
    target: str


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passes: timed grants run out. Sent by the server at `Room.next_deadline()`."""

    actor: str = ""


@dataclass(frozen=True, slots=True)
class CreatePoll:
    """A host or presenter prepares a poll, and launches it at once if asked."""

    actor: str
    kind: PollKind
    question: str
    options: tuple[str, ...] = ()
    anonymous: bool = True
    launch: bool = False


@dataclass(frozen=True, slots=True)
class LaunchPoll:
    """Open a prepared poll for answers."""

    actor: str
    poll_id: int


@dataclass(frozen=True, slots=True)
class Vote:
    """Answer an open poll (again, to change the answer)."""

    actor: str
    poll_id: int
    choices: tuple[int, ...] = ()
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ClosePoll:
    """Stop taking answers."""

    actor: str
    poll_id: int


@dataclass(frozen=True, slots=True)
class PublishResults:
    """Show a closed poll's results to everyone."""

    actor: str
    poll_id: int


@dataclass(frozen=True, slots=True)
class SetLayout:
    """A host picks the layout everyone sees."""

    actor: str
    layout: Layout


@dataclass(frozen=True, slots=True)
class ShareDocument:
    """Someone with `share` puts a converted document on the stage (rooms/sharing.py)."""

    actor: str
    document: Document


@dataclass(frozen=True, slots=True)
class SetPage:
    """Move everyone to a page (1-based) of the shared document."""

    actor: str
    page: int


@dataclass(frozen=True, slots=True)
class SetPlayer:
    """Play/pause/seek the shared recording for everyone."""

    actor: str
    playing: bool
    position_s: float


@dataclass(frozen=True, slots=True)
class SetPointer:
    """The presenter points at a spot of the page (fractions of its width and height), or
    takes the pointer away (`x`, `y` None). Not kept: a pointer is only of the moment."""

    actor: str
    x: float | None
    y: float | None


@dataclass(frozen=True, slots=True)
class StopSharing:
    """Take the shared document off the stage."""

    actor: str


@dataclass(frozen=True, slots=True)
class CloseRoom:
    """The room's lesson ended: close the room now, or at `at` (a short after-lesson Q&A).

    Sent by the server (End lesson, or the finaliser), never by a participant.
    """

    actor: str = ""
    at: float | None = None
    reason: str = "lesson_ended"


@dataclass(frozen=True, slots=True)
class StartRecording:
    """A host starts recording the lesson (rooms/recording.py)."""

    actor: str


@dataclass(frozen=True, slots=True)
class StopRecording:
    """A host stops the recording; or the server (`by_server`) for `reason`, e.g. the quota."""

    actor: str
    reason: str = "stopped"
    by_server: bool = False


Command = (
    Join
    | Leave
    | Admit
    | Deny
    | AnswerKnocks
    | SetRole
    | Remove
    | SetGuestPolicy
    | SendChat
    | DeleteChat
    | MuteChat
    | LockChat
    | SetPrivateChat
    | RaiseHand
    | LowerHand
    | LowerAllHands
    | GrantRights
    | RevokeRights
    | Tick
    | CreatePoll
    | LaunchPoll
    | Vote
    | ClosePoll
    | PublishResults
    | SetLayout
    | ShareDocument
    | SetPage
    | SetPlayer
    | SetPointer
    | StopSharing
    | CloseRoom
    | StartRecording
    | StopRecording
)
