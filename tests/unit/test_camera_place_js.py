"""web/src/camera_place.js: where the teacher's camera goes beside shared content, run by Node."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_quality_js import run, web_module

# The stage at 1366x768 with the side panel open (docs/web.md), 16 px to the rem.
DESKTOP = {"width": 1006, "height": 630, "gap": 6.4, "min": 128, "max": 256, "keep": 1366 * 768 / 2}


def place(**room: Any) -> dict[str, Any]:
    got: dict[str, Any] = run(
        f"""
import {{ placeCamera }} from {json.dumps(web_module("camera_place.js"))};
console.log(JSON.stringify(placeCamera({json.dumps(room)})));
"""
    )
    return got


def apart(got: dict[str, Any], room: dict[str, Any]) -> bool:
    """The camera's cell and the content's fit the stage side by side (or one over the other)."""
    cam, box = got["camera"], got["content"]
    if got["side"] == "right":
        return bool(box["width"] + room["gap"] + cam["width"] <= room["width"] + 0.5)
    return bool(box["height"] + room["gap"] + cam["height"] <= room["height"] + 0.5)


def test_a_4_3_slide_on_a_wide_stage_leaves_a_column_the_camera_takes() -> None:
    room = {**DESKTOP, "aspect": 4 / 3, "extra": 44}
    got = place(**room)
    assert got["side"] == "right" and apart(got, room)
    # The page keeps the whole height less its bar: the camera cost it nothing.
    assert got["picture"]["height"] == 630 - 44
    assert 128 <= got["camera"]["width"] <= 256


def test_a_16_9_screen_on_the_desktop_stage_gives_a_row_and_keeps_half_the_window() -> None:
    room = {**DESKTOP, "aspect": 16 / 9}
    got = place(**room)
    assert got["side"] == "below" and apart(got, room)
    assert got["camera"]["width"] >= 128
    assert got["content"]["width"] * got["content"]["height"] >= DESKTOP["keep"]


def test_beyond_the_free_band_the_content_keeps_half_the_window() -> None:
    room = {**DESKTOP, "aspect": 16 / 9}
    got = place(**room)
    box = got["content"]
    assert box["width"] * box["height"] >= DESKTOP["keep"]
    # A larger least camera would cost the content its half: the camera stays smaller.
    bigger = place(**{**room, "min": 200})
    box = bigger["content"]
    assert box["width"] * box["height"] >= DESKTOP["keep"] - 1006  # (rounding to whole px)
    assert bigger["camera"]["width"] < 200


def test_a_narrower_stage_gives_the_camera_the_band_the_content_leaves_free() -> None:
    # Chat in focus (926 px): the 16:9 screen is as wide as the stage; the band under it is
    # the camera's, the picture loses nothing.
    room = {**DESKTOP, "width": 926, "aspect": 16 / 9}
    got = place(**room)
    assert got["side"] == "below" and apart(got, room)
    assert got["picture"]["width"] == 926
    assert got["camera"]["width"] >= 128


def test_a_screen_on_an_upright_phone_packs_the_camera_under_the_picture() -> None:
    room = {"width": 390, "height": 700, "gap": 6.4, "min": 128, "max": 175, "keep": 390 * 844 / 2}
    got = place(**room, aspect=16 / 9)
    assert got["side"] == "below"
    assert got["picture"]["width"] == 390 and got["camera"]["width"] == 175
    # No band between the picture and the camera.
    assert got["content"]["height"] == got["picture"]["height"]


def test_a_wide_stage_without_a_camera_band_picks_the_larger_picture() -> None:
    # With the panel closed the 16:9 screen leaves a column: the camera sits right of it.
    room = {**DESKTOP, "width": 1350, "aspect": 16 / 9}
    got = place(**room)
    assert got["side"] == "right" and apart(got, room)
    assert got["picture"]["height"] == 630 and got["camera"]["width"] >= 200


def test_no_room_at_all_gives_none() -> None:
    assert place(**{**DESKTOP, "width": 10, "height": 10, "keep": 100_000, "aspect": 1}) is None
