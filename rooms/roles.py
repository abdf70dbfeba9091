"""Roles and the permissions each one carries."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a participant is in a room; the server sets it, never the client."""

    HOST = "host"
    PRESENTER = "presenter"
    PARTICIPANT = "participant"
    GUEST = "guest"


class Permission(StrEnum):
    """One right inside a room."""

    SPEAK = "speak"
    VIDEO = "video"
    SHARE = "share"
    CHAT = "chat"
    MODERATE = "moderate"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.HOST: frozenset(Permission),
    Role.PRESENTER: frozenset(
        {Permission.SPEAK, Permission.VIDEO, Permission.SHARE, Permission.CHAT}
    ),
    # Pupils and guests start silent, as teachers expect: mic and camera come by raised hand.
    Role.PARTICIPANT: frozenset({Permission.CHAT}),
    Role.GUEST: frozenset({Permission.CHAT}),
}

# The roles a host may hand out with set_role; host itself is the room owner's only.
ASSIGNABLE_ROLES: frozenset[Role] = frozenset({Role.PRESENTER, Role.PARTICIPANT})


def permissions_of(role: Role) -> frozenset[Permission]:
    """The permissions a role grants."""
    return ROLE_PERMISSIONS[role]
