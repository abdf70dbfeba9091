"""A converted document as the room knows it: plain values, set by the server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Document:
    """What the room needs to know of a converted document (server/documents)."""

    id: str
    name: str
    kind: str
    shown_as: str  # pages | player | listing
    pages: int = 0
    duration_s: float | None = None
    # Page images come in these widths (the client picks by its width and pixel ratio) ...
    widths: tuple[int, ...] = ()
    # ... and the first page's height / width, so the stage keeps its place before it loads.
    aspect: float | None = None
    # A video (an FLV's conversion) rather than sound: the player shows a picture.
    video: bool = False
