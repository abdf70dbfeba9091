"""web/src/document_state.js: pages, look-back, player position and pointer, run by Node."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_quality_js import run, web_module

SHARE = {"page": 3, "document": {"id": "d" * 64, "pages": 5, "widths": [1280, 640, 1920]}}


def call(expression: str) -> Any:
    return run(
        f"""
import * as doc from {json.dumps(web_module("document_state.js"))};
const share = {json.dumps(SHARE)};
console.log(JSON.stringify({expression}));
"""
    )


def test_srcset_offers_every_width_so_the_browser_picks_by_width_and_pixel_ratio() -> None:
    srcset = call('doc.pageSrcset("room 1", share.document, 2, "t+k")')
    urls = [part.rsplit(" ", 1) for part in srcset.split(", ")]
    assert [w for _, w in urls] == ["640w", "1280w", "1920w"]
    assert urls[0][0] == f"/api/rooms/room%201/documents/{'d' * 64}/2-640.webp?access=t%2Bk"


def test_the_presenter_moves_everyone_within_the_converted_pages() -> None:
    assert call("doc.step({page: 3, following: true}, share, 1, true)") == {
        "page": 4,
        "following": True,
        "send": 4,
    }
    # Only three pages converted so far: the presenter waits at page 3.
    assert call("doc.step({page: 3, following: true}, share, 1, true, 3)")["send"] is None
    first = {**SHARE, "page": 1}
    assert call(f"doc.step({{page: 1, following: true}}, {json.dumps(first)}, -1, true)") == {
        "page": 1,
        "following": True,
        "send": None,
    }


def test_a_pupil_looks_back_but_not_ahead_and_following_again_is_reaching_the_page() -> None:
    back = call("doc.step({page: 3, following: true}, share, -1, false)")
    assert back == {"page": 2, "following": False, "send": None}
    assert call("doc.shownPage({page: 2, following: false}, share)") == 2
    assert call("doc.step({page: 2, following: false}, share, 1, false)") == {
        "page": 3,
        "following": True,
        "send": None,
    }
    assert call("doc.step({page: 3, following: true}, share, 1, false)")["page"] == 3
    assert call("doc.shownPage({page: 2, following: true}, share)") == 3


def test_a_playing_players_position_runs_on_from_the_servers_moment() -> None:
    player = {"playing": True, "position_s": 30, "at": 1000}
    assert call(f"doc.playerPosition({json.dumps(player)}, 1004.5, 120)") == 34.5
    assert call(f"doc.playerPosition({json.dumps(player)}, 2000, 120)") == 120
    paused = {**player, "playing": False}
    assert call(f"doc.playerPosition({json.dumps(paused)}, 1004.5, 120)") == 30
    assert call("[doc.clock(75.9), doc.clock(3725)]") == ["1:15", "1:02:05"]


def test_the_pointer_is_a_fraction_of_the_page_and_nothing_outside_it() -> None:
    rect = {"left": 100, "top": 50, "width": 400, "height": 300}
    assert call(f"doc.pointerFraction(200, 200, {json.dumps(rect)})") == {"x": 0.25, "y": 0.5}
    assert call(f"doc.pointerFraction(99, 200, {json.dumps(rect)})") is None


def test_a_page_fits_the_stage_keeping_its_shape() -> None:
    assert call("doc.fitPage(1000, 500, 0.75)") == {"width": 666, "height": 499}
    assert call("doc.fitPage(400, 900, 0.5625)") == {"width": 400, "height": 225}
