"""The people in a room and in its lobby, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rooms.roles import Permission, Role, permissions_of


class Channel(StrEnum):
    """Broadcast groups of a room: everyone, hosts, hosts and presenters."""

    ROOM = "room"
    MODERATORS = "mods"
    STAFF = "staff"


class Kind(StrEnum):
    """How someone came in: with an account, or as a guest who only gave a name."""

    USER = "user"
    GUEST = "guest"


class Standing(StrEnum):
    """Who someone is at the school, whatever role the room gives them (rooms/chat_policy.py).

    A guest gave only a name; a pupil is a signed-in pupil (of this class or another: a child
    either way); staff are signed-in teachers and administrators. The server decides it from the
    account; a signed-in person it knows nothing more about counts as a pupil, the safe side.
    """

    GUEST = "guest"
    PUPIL = "pupil"
    STAFF = "staff"


def standing_of(kind: Kind, *, staff: bool) -> Standing:
    """The standing of someone who came in as `kind`, with a staff account or not."""
    if kind is Kind.GUEST:
        return Standing.GUEST
    return Standing.STAFF if staff else Standing.PUPIL


def base_role(kind: Kind) -> Role:
    """The role someone has without being made presenter or host."""
    return Role.GUEST if kind is Kind.GUEST else Role.PARTICIPANT


class LeaveReason(StrEnum):
    """Why someone is no longer in the room."""

    LEFT = "left"
    REMOVED = "removed"
    DISCONNECTED = "disconnected"
    # The same person joined again (a new connection after a network drop the server had not
    # noticed yet, or a second window): the newer join takes over.
    REPLACED = "replaced"
    # The room closed because its lesson ended: everyone leaves at the same instant.
    ENDED = "ended"


@dataclass(slots=True)
class Participant:
    """One join of one person; `id` is opaque and chosen by the server."""

    id: str
    name: str
    kind: Kind
    role: Role
    joined_at: float
    user_id: int | None = None
    institution: str | None = None
    # Rights a host granted on top of the role (mic, camera), possibly until a deadline.
    granted: frozenset[Permission] = frozenset()
    granted_until: float | None = None
    chat_muted: bool = False
    hand: Hand | None = None
    # A guest who came back with a resume token keeps the identity of the first join.
    origin: str | None = None
    standing: Standing = Standing.PUPIL

    @property
    def identity(self) -> str:
        """The person behind this join: stable across reconnects."""
        if self.user_id is not None:
            return f"u{self.user_id}"
        return self.origin or self.id

    @property
    def staff(self) -> bool:
        """Hosts and presenters: they see raised hands and run polls."""
        return self.role in (Role.HOST, Role.PRESENTER)

    @property
    def channels(self) -> frozenset[Channel]:
        """Which broadcasts this participant receives."""
        channels = {Channel.ROOM}
        if self.may(Permission.MODERATE):
            channels.add(Channel.MODERATORS)
        if self.staff:
            channels.add(Channel.STAFF)
        return frozenset(channels)

    @property
    def base_role(self) -> Role:
        """The role someone returns to when taken out of the presenters group."""
        return base_role(self.kind)

    @property
    def permissions(self) -> frozenset[Permission]:
        """What this participant may do now."""
        return permissions_of(self.role) | self.granted

    def may(self, permission: Permission) -> bool:
        """Whether the participant holds a permission."""
        return permission in self.permissions

    def public(self) -> dict[str, Any]:
        """The protocol's Participant object."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "kind": self.kind.value,
            "standing": self.standing.value,
            "institution": self.institution,
            "mic": self.may(Permission.SPEAK),
            "camera": self.may(Permission.VIDEO),
            "granted_until": self.granted_until if self.granted else None,
            "chat_muted": self.chat_muted,
        }


@dataclass(slots=True)
class Hand:
    """A raised hand: what it asks for, and when it went up (queue order)."""

    speak: bool
    video: bool
    raised_at: float
    seq: int


@dataclass(slots=True)
class Knock:
    """Someone waiting in the lobby to be let in."""

    id: str
    name: str
    kind: Kind
    since: float
    user_id: int | None = None
    institution: str | None = None
    origin: str | None = None
    standing: Standing = Standing.PUPIL

    def public(self) -> dict[str, Any]:
        """The protocol's Knock object."""
        return {
            "id": self.id,
            "name": self.name,
            "institution": self.institution,
            "kind": self.kind.value,
            "since": self.since,
        }

    def admit(self, now: float) -> Participant:
        """The participant this knocker becomes once admitted."""
        return Participant(
            id=self.id,
            name=self.name,
            kind=self.kind,
            role=base_role(self.kind),
            joined_at=now,
            user_id=self.user_id,
            institution=self.institution,
            origin=self.origin,
            standing=self.standing,
        )


@dataclass(frozen=True, slots=True)
class Everyone:
    """Every admitted participant of the room."""


@dataclass(frozen=True, slots=True)
class Moderators:
    """Every admitted participant who may moderate (hosts)."""


@dataclass(frozen=True, slots=True)
class Staff:
    """Every admitted host and presenter."""


@dataclass(frozen=True, slots=True)
class One:
    """A single participant or knocker."""

    participant_id: str


Audience = Everyone | Moderators | Staff | One


@dataclass(frozen=True, slots=True)
class Event:
    """Something to tell an audience; `name` and `payload` are the protocol's."""

    name: str
    payload: dict[str, Any]
    audience: Audience


@dataclass(frozen=True, slots=True)
class Attach:
    """Deliver exactly these broadcast channels to this participant from now on."""

    participant_id: str
    channels: frozenset[Channel]


@dataclass(frozen=True, slots=True)
class Detach:
    """Stop delivering room events to this participant or knocker."""

    participant_id: str


@dataclass(frozen=True, slots=True)
class PermissionsChanged:
    """The participant's rights changed: media it may no longer produce must stop."""

    participant_id: str
    permissions: frozenset[Permission]


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close this participant's (or knocker's) connection: the room is gone for them."""

    participant_id: str


@dataclass(frozen=True, slots=True)
class Record:
    """Keep something with the lesson: a public chat message, a deletion, a poll's results."""

    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Recorder:
    """Start or stop the lesson's recorder (rooms/recording.py)."""

    on: bool
    reason: str = "stopped"


Effect = Attach | Detach | PermissionsChanged | Record | Disconnect | Recorder


@dataclass(slots=True)
class Outcome:
    """What an accepted command produced: events to send, then effects to run."""

    events: list[Event] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
