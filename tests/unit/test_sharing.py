"""The shared document as room state: page, player, late joiners, who may share."""

from __future__ import annotations

from rooms.commands import SetPage, SetPlayer, SetPointer, SetRole, ShareDocument, StopSharing
from rooms.document import Document
from rooms.model import Everyone
from rooms.refusals import Reason
from rooms.roles import Role
from tests.unit.roomkit import NOW, names, ok, pupil, refused, room_with_host

DECK = Document(id="a" * 64, name="deck.pdf", kind="pdf", shown_as="pages", pages=3)
SONG = Document(id="b" * 64, name="song.mp3", kind="mp3", shown_as="player", duration_s=120.0)


def test_everyone_follows_the_presenters_page_and_a_late_joiner_opens_on_it() -> None:
    room = room_with_host()
    ok(room.apply(pupil("p", 2), NOW))
    shared = ok(room.apply(ShareDocument(actor="h", document=DECK), NOW))
    assert names(shared) == ["share_changed"]
    assert shared.events[0].audience == Everyone()
    assert shared.events[0].payload["share"]["page"] == 1
    moved = ok(room.apply(SetPage(actor="h", page=2), NOW + 1))
    assert [(e.name, e.payload, e.audience) for e in moved.events] == [
        ("page_changed", {"document": DECK.id, "page": 2}, Everyone())
    ]
    ok(room.apply(pupil("late", 3), NOW + 2))
    share = room.snapshot_for("late")["share"]
    assert share["page"] == 2 and share["document"]["id"] == DECK.id
    assert share["by"] == "h" and "player" not in share


def test_pages_outside_the_document_are_refused() -> None:
    room = room_with_host()
    ok(room.apply(ShareDocument(actor="h", document=DECK), NOW))
    for page in (0, 4, -1):
        assert refused(room.apply(SetPage(actor="h", page=page), NOW)).reason is Reason.NO_SUCH_PAGE
    assert room.share is not None and room.share.page == 1


def test_nothing_shared() -> None:
    room = room_with_host()
    assert refused(room.apply(SetPage(actor="h", page=1), NOW)).reason is Reason.NOTHING_SHARED
    assert refused(room.apply(StopSharing(actor="h"), NOW)).reason is Reason.NOTHING_SHARED
    assert room.snapshot_for("h")["share"] is None


def test_player_position_is_room_state() -> None:
    room = room_with_host()
    ok(room.apply(ShareDocument(actor="h", document=SONG), NOW))
    playing = ok(room.apply(SetPlayer(actor="h", playing=True, position_s=30.0), NOW + 5))
    assert playing.events[0].name == "player_changed"
    assert playing.events[0].payload == {
        "document": SONG.id,
        "playing": True,
        "position_s": 30.0,
        "at": NOW + 5,
    }
    ok(room.apply(pupil("late", 2), NOW + 9))
    # The late joiner plays from 30 s + (its clock - at): the room says when 30 s was true.
    assert room.snapshot_for("late")["share"]["player"] == {
        "playing": True,
        "position_s": 30.0,
        "at": NOW + 5,
    }
    beyond = room.apply(SetPlayer(actor="h", playing=True, position_s=121.0), NOW)
    assert refused(beyond).reason is Reason.NO_SUCH_PAGE
    assert refused(room.apply(SetPage(actor="h", page=1), NOW)).reason is Reason.NO_SUCH_PAGE


def test_player_commands_need_a_player() -> None:
    room = room_with_host()
    ok(room.apply(ShareDocument(actor="h", document=DECK), NOW))
    result = room.apply(SetPlayer(actor="h", playing=True, position_s=0), NOW)
    assert refused(result).reason is Reason.INVALID_STATE


def test_a_presenter_shares_a_pupil_may_not() -> None:
    room = room_with_host()
    ok(room.apply(pupil("p", 2), NOW))
    assert refused(room.apply(ShareDocument(actor="p", document=DECK), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
    ok(room.apply(SetRole(actor="h", target="p", role=Role.PRESENTER), NOW))
    ok(room.apply(ShareDocument(actor="p", document=DECK), NOW))
    stopped = ok(room.apply(StopSharing(actor="h"), NOW))
    assert stopped.events[0].payload == {"share": None}
    assert room.share is None


def test_the_pointer_is_on_the_page_or_nowhere_and_only_for_pages() -> None:
    room = room_with_host()
    ok(room.apply(pupil("p", 2), NOW))
    ok(room.apply(ShareDocument(actor="h", document=DECK), NOW))
    ok(room.apply(SetPage(actor="h", page=2), NOW))
    shown = ok(room.apply(SetPointer(actor="h", x=0.5, y=0.25), NOW))
    assert [(e.name, e.payload, e.audience) for e in shown.events] == [
        ("pointer", {"document": DECK.id, "page": 2, "x": 0.5, "y": 0.25}, Everyone())
    ]
    hidden = ok(room.apply(SetPointer(actor="h", x=None, y=None), NOW))
    assert hidden.events[0].payload["x"] is None
    for x, y in ((1.5, 0.5), (0.5, None), (-0.1, 0.2)):
        result = room.apply(SetPointer(actor="h", x=x, y=y), NOW)
        assert refused(result).reason is Reason.INVALID_PAYLOAD
    assert refused(room.apply(SetPointer(actor="p", x=0.1, y=0.1), NOW)).reason is (
        Reason.NOT_PERMITTED
    )
    ok(room.apply(ShareDocument(actor="h", document=SONG), NOW))
    result = room.apply(SetPointer(actor="h", x=0.1, y=0.1), NOW)
    assert refused(result).reason is Reason.INVALID_STATE
