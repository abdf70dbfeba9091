"""Sabaq's SFU: RTP-level forwarding on aiortc, never decoding or re-encoding media."""

from .interfaces import (
    SOURCES,
    Consumer,
    InvalidStateError,
    MediaRouter,
    NegotiationError,
    Producer,
    Source,
    Transport,
)
from .router import AiortcRouter
from .settings import IceServer, MediaSettings

__all__ = [
    "SOURCES",
    "AiortcRouter",
    "Consumer",
    "IceServer",
    "InvalidStateError",
    "MediaRouter",
    "MediaSettings",
    "NegotiationError",
    "Producer",
    "Source",
    "Transport",
]
