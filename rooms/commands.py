"""Commands a room accepts; every one names its actor, set by the server."""

from __future__ import annotations

from dataclasses import dataclass

from rooms.model import Kind, LeaveReason
from rooms.policy import GuestPolicy
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


Command = Join | Leave | Admit | Deny | SetRole | Remove | SetGuestPolicy
