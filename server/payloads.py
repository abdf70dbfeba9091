"""Socket.io payloads as strict pydantic models: wrong types or unknown fields are refused."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from rooms.policy import GuestPolicy
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


class Empty(Payload):
    """`leave`."""


class Target(Payload):
    """`admit`, `deny`, `remove`."""

    participant: ParticipantId = Field(min_length=1, max_length=64)


class SetRolePayload(Payload):
    """`set_role`."""

    participant: ParticipantId = Field(min_length=1, max_length=64)
    role: Role


class SetGuestPolicyPayload(Payload):
    """`set_guest_policy`."""

    policy: GuestPolicy
