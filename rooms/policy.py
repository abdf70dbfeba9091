"""Guest policy: who enters a room straight away, who waits, who is turned away."""

from __future__ import annotations

from enum import StrEnum


class GuestPolicy(StrEnum):
    """What happens to someone who is not expected in the room."""

    ASK_HOST = "ask_host"
    ALWAYS_ADMIT = "always_admit"
    ALWAYS_DENY = "always_deny"


class Admission(StrEnum):
    """The verdict on one join."""

    ALLOW = "allow"
    WAIT = "wait"
    DENY = "deny"


def admission(policy: GuestPolicy, *, expected: bool) -> Admission:
    """Decide a join: expected people (owner, pupils of the class) always enter.

    Modelled on BigBlueButton's guest policy: a pure function of policy and identity.
    """
    if expected:
        return Admission.ALLOW
    if policy is GuestPolicy.ALWAYS_ADMIT:
        return Admission.ALLOW
    if policy is GuestPolicy.ALWAYS_DENY:
        return Admission.DENY
    return Admission.WAIT
