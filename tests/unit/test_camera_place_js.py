"""web/src/camera_place.js: where the teacher's camera goes beside shared content, run by Node."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_quality_js import run, web_module

# The stage at 1366x768 with the side panel open (docs/web.md), 16 px to the rem; the camera
# at least 12.5 rem, the content's picture at least a third of the window (camera_fit.js).
DESKTOP = {"width": 1006, "height": 630, "gap": 6.4, "min": 200, "max": 256, "keep": 1366 * 768 / 3}


def area(box: dict[str, float]) -> float:
    return box["width"] * box["height"]


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
    assert 200 <= got["camera"]["width"] <= 256
    assert got["picture"]["height"] >= 0.95 * (630 - 44)  # the page lost little to it


def test_beside_a_16_9_screen_or_slide_the_camera_is_200_px_and_the_picture_a_third() -> None:
    # At 1366x768 with the side panel open the camera was 128 px wide (8 rem) beside a slide.
    for extra in (0, 44):  # a screen; a slide with its bar
        room = {**DESKTOP, "aspect": 16 / 9, "extra": extra}
        got = place(**room)
        assert apart(got, room), got
        assert got["camera"]["width"] >= 200, got
        assert area(got["picture"]) >= DESKTOP["keep"], got
        assert got["picture"]["width"] >= 1366 / 2, got  # half the window's width at least


def test_beyond_the_free_band_the_picture_keeps_a_third_of_the_window() -> None:
    room = {**DESKTOP, "aspect": 16 / 9}
    # A least camera too large for the stage: the camera gives way, the picture keeps its third.
    bigger = place(**{**room, "min": 400, "max": 400})
    assert area(bigger["picture"]) >= DESKTOP["keep"] - 1006  # (rounding to whole px)
    assert 200 <= bigger["camera"]["width"] < 400
    # A picture bound by the stage's width does not grow when the camera shrinks: the camera
    # keeps its size then (a phone's row under a screen).
    tall = {**room, "width": 390, "height": 700, "min": 175, "max": 175}
    assert place(**tall)["camera"]["width"] == 175


def test_a_narrower_stage_gives_the_camera_the_band_the_content_leaves_free() -> None:
    # Chat in focus (926 px): the camera goes under the 16:9 screen, at its least width, the
    # picture keeps its third.
    room = {**DESKTOP, "width": 926, "aspect": 16 / 9}
    got = place(**room)
    assert got["side"] == "below" and apart(got, room)
    assert got["camera"]["width"] >= 200
    assert area(got["picture"]) >= DESKTOP["keep"]


def test_a_screen_on_an_upright_phone_packs_the_camera_under_the_picture() -> None:
    room = {"width": 390, "height": 700, "gap": 6.4, "min": 175, "max": 175, "keep": 390 * 844 / 3}
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
