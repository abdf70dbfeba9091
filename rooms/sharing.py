"""The shared document: which one, which page, the player's position. Pure.

The server checks that a document exists and belongs to the room before it builds a
`ShareDocument`; the room decides who may share and keeps everyone, late joiners included,
on the same page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rooms import checks
from rooms.commands import SetPage, SetPlayer, SetPointer, ShareDocument, StopSharing
from rooms.document import Document
from rooms.model import Event, Everyone, Outcome, Participant
from rooms.refusals import Reason, Refusal
from rooms.roles import Permission

if TYPE_CHECKING:
    from rooms.room import Room


@dataclass(slots=True)
class Share:
    """The document on the stage and where the presenter is in it."""

    document: Document
    by: str
    page: int = 1
    playing: bool = False
    position_s: float = 0.0
    position_at: float = 0.0  # when `position_s` was true; a playing player moves on from it

    def public(self) -> dict[str, Any]:
        """The protocol's Share object."""
        d = self.document
        share: dict[str, Any] = {
            "document": {
                "id": d.id,
                "name": d.name,
                "kind": d.kind,
                "shown_as": d.shown_as,
                "pages": d.pages,
                "duration_s": d.duration_s,
                "widths": list(d.widths),
                "aspect": d.aspect,
                "video": d.video,
            },
            "by": self.by,
            "page": self.page,
        }
        if d.shown_as == "player":
            share["player"] = {
                "playing": self.playing,
                "position_s": self.position_s,
                "at": self.position_at,
            }
        return share


def _sharer(room: Room, actor: str) -> Participant | Refusal:
    participant = checks.member(room, actor)
    if isinstance(participant, Participant) and not participant.may(Permission.SHARE):
        return Refusal(Reason.NOT_PERMITTED)
    return participant


def _current(room: Room, actor: str) -> Share | Refusal:
    who = _sharer(room, actor)
    if isinstance(who, Refusal):
        return who
    return Refusal(Reason.NOTHING_SHARED) if room.share is None else room.share


def _told(room: Room, name: str) -> Outcome:
    share = room.share.public() if room.share is not None else None
    return Outcome(events=[Event(name, {"share": share}, Everyone())])


def share_document(room: Room, cmd: ShareDocument, now: float) -> Outcome | Refusal:
    """Put a document on the stage for everyone, at its first page (replaces the last one)."""
    who = _sharer(room, cmd.actor)
    if isinstance(who, Refusal):
        return who
    room.share = Share(document=cmd.document, by=cmd.actor, position_at=now)
    return _told(room, "share_changed")


def set_page(room: Room, cmd: SetPage) -> Outcome | Refusal:
    """Move everyone to a page of the shared document."""
    share = _current(room, cmd.actor)
    if isinstance(share, Refusal):
        return share
    if share.document.shown_as != "pages" or not 1 <= cmd.page <= share.document.pages:
        return Refusal(Reason.NO_SUCH_PAGE)
    share.page = cmd.page
    return Outcome(
        events=[
            Event("page_changed", {"document": share.document.id, "page": cmd.page}, Everyone())
        ]
    )


def set_player(room: Room, cmd: SetPlayer, now: float) -> Outcome | Refusal:
    """Play, pause or seek the shared player for everyone."""
    share = _current(room, cmd.actor)
    if isinstance(share, Refusal):
        return share
    if share.document.shown_as != "player":
        return Refusal(Reason.INVALID_STATE, "The shared document has no player.")
    duration = share.document.duration_s
    if cmd.position_s < 0 or (duration is not None and cmd.position_s > duration):
        return Refusal(Reason.NO_SUCH_PAGE, "That position is outside the recording.")
    share.playing, share.position_s, share.position_at = cmd.playing, cmd.position_s, now
    player = share.public()["player"]
    return Outcome(
        events=[Event("player_changed", {"document": share.document.id, **player}, Everyone())]
    )


def set_pointer(room: Room, cmd: SetPointer) -> Outcome | Refusal:
    """Show everyone where the presenter points on the current page (or nowhere)."""
    share = _current(room, cmd.actor)
    if isinstance(share, Refusal):
        return share
    if share.document.shown_as != "pages":
        return Refusal(Reason.INVALID_STATE, "Only a page can be pointed at.")
    if (cmd.x is None) != (cmd.y is None):
        return Refusal(Reason.INVALID_PAYLOAD, "A pointer needs both x and y, or neither.")
    if cmd.x is not None and cmd.y is not None and not (0 <= cmd.x <= 1 and 0 <= cmd.y <= 1):
        return Refusal(Reason.INVALID_PAYLOAD, "The pointer must be on the page (0 to 1).")
    payload = {"document": share.document.id, "page": share.page, "x": cmd.x, "y": cmd.y}
    return Outcome(events=[Event("pointer", payload, Everyone())])


def stop_sharing(room: Room, cmd: StopSharing) -> Outcome | Refusal:
    """Take the document off the stage."""
    share = _current(room, cmd.actor)
    if isinstance(share, Refusal):
        return share
    room.share = None
    return _told(room, "share_changed")
