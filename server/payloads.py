"""Socket.io payloads as strict pydantic models: wrong types or unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from rooms.chat_policy import PrivateChat
from rooms.layouts import Layout
from rooms.policy import GuestPolicy
from rooms.polls import PollKind
from rooms.roles import Role

ParticipantId = StrictStr


class Payload(BaseModel):
    """Base: strict types, no extra fields (a client never names itself)."""

    # Fields are StrictStr/StrictInt (no "1" → 1 coercion); enums accept their string values.
    model_config = ConfigDict(extra="forbid", frozen=True)


class JoinPayload(Payload):
    """`join`."""

    v: StrictInt
    room: StrictStr = Field(min_length=1, max_length=64)
    as_: Literal["user", "guest"] = Field(alias="as")
    name: StrictStr | None = Field(None, max_length=1000)
    institution: StrictStr | None = Field(None, max_length=1000)
    role: Role | None = None
    resume: StrictStr | None = Field(None, max_length=4096)
    # Open the subscribe side as soon as the join enters (what `media_start` would do), so the
    # first offer follows the join without another round trip. Ignored for a knocker.
    media: StrictBool = False
    # False: enter only if let straight in, else refused `not_expected` with no knock left.
    knock: StrictBool = True


class Empty(Payload):
    """`leave`."""


class Target(Payload):
    """`admit`, `deny`, `remove`."""

    participant: ParticipantId = Field(min_length=1, max_length=64)


class Knockers(Payload):
    """`admit_all`, `deny_all`: everyone waiting, or only these knockers."""

    participants: list[Annotated[ParticipantId, Field(min_length=1, max_length=64)]] | None = Field(
        None, min_length=1, max_length=1000
    )


class SetRolePayload(Payload):
    """`set_role`."""

    participant: ParticipantId = Field(min_length=1, max_length=64)
    role: Role


class SetGuestPolicyPayload(Payload):
    """`set_guest_policy`."""

    policy: GuestPolicy


class ChatSend(Payload):
    """`chat_send`: the text is checked by the room (length cap, blank)."""

    text: StrictStr = Field(max_length=10_000)
    to: ParticipantId | None = Field(None, min_length=1, max_length=64)


class ChatDelete(Payload):
    """`chat_delete`."""

    message: StrictInt = Field(ge=1)


class ChatMute(Payload):
    """`chat_mute`."""

    participant: ParticipantId = Field(min_length=1, max_length=64)
    muted: StrictBool


class ChatLock(Payload):
    """`chat_lock`: lock or unlock the public chat."""

    public: StrictBool


class ChatPrivate(Payload):
    """`chat_private`: who may write privately to whom in this room (rooms/chat_policy.py)."""

    setting: PrivateChat


class HandRaise(Payload):
    """`hand_raise`."""

    speak: StrictBool = True
    video: StrictBool = False


class HandLower(Payload):
    """`hand_lower`: one's own hand, or (a host) someone else's."""

    participant: ParticipantId | None = Field(None, min_length=1, max_length=64)


class RightsGrant(Payload):
    """`rights_grant`."""

    participant: ParticipantId = Field(min_length=1, max_length=64)
    speak: StrictBool
    video: StrictBool
    seconds: StrictInt | None = None


class PollCreate(Payload):
    """`poll_create`: lengths are checked by the room (typed errors, never truncated)."""

    kind: PollKind
    question: StrictStr = Field(max_length=10_000)
    options: list[StrictStr] = Field(default_factory=list, max_length=50)
    anonymous: StrictBool = True
    launch: StrictBool = False


class PollRef(Payload):
    """`poll_launch`, `poll_close`, `poll_publish`."""

    poll: StrictInt = Field(ge=1)


class PollVote(Payload):
    """`poll_vote`: option indexes, or a text for free-text polls."""

    poll: StrictInt = Field(ge=1)
    choices: list[StrictInt] = Field(default_factory=list, max_length=50)
    text: StrictStr | None = Field(None, max_length=10_000)


class LayoutSet(Payload):
    """`set_layout`."""

    layout: Layout


class DocumentRef(Payload):
    """`share_document`: a document uploaded to this room (its content id)."""

    document: StrictStr = Field(pattern=r"^[0-9a-f]{64}$")


class PagePayload(Payload):
    """`set_page`: 1-based."""

    page: StrictInt = Field(ge=1, le=100_000)


class PointerPayload(Payload):
    """`set_pointer`: where on the page, as fractions of its width and height; null hides it."""

    x: float | None = Field(ge=0, le=1, allow_inf_nan=False)
    y: float | None = Field(ge=0, le=1, allow_inf_nan=False)


class PlayerPayload(Payload):
    """`set_player`: play or pause at a position, in seconds."""

    playing: StrictBool
    position_s: float = Field(ge=0, le=86_400, allow_inf_nan=False)
