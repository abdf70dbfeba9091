"""Validation of people's names and institutions, shared by every entry point."""

from __future__ import annotations

import unicodedata

from rooms.refusals import Reason, Refusal

MAX_NAME_LENGTH = 64


def clean_name(raw: object) -> str | Refusal:
    """Trim a display name; refuse empty, blank, over-long or control-character names."""
    if not isinstance(raw, str):
        return Refusal(Reason.INVALID_PAYLOAD, "A name must be text.")
    name = " ".join(raw.split())
    if not name:
        return Refusal(Reason.NAME_REQUIRED)
    if len(name) > MAX_NAME_LENGTH:
        return Refusal(Reason.NAME_TOO_LONG)
    # Control and format characters (e.g. RTL overrides) make names that lie about themselves.
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        return Refusal(Reason.INVALID_PAYLOAD, "A name must not contain control characters.")
    return name
