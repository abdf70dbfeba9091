"""web/src/stage.js: the one rule that decides what is on the stage, run by Node."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_quality_js import run, web_module

ROLES = {"T": "host", "P": "presenter", "A": "participant", "B": "participant"}


def tile(who: str, source: str, *, self: bool = False) -> dict[str, Any]:
    kind = "audio" if source == "mic" else "video"
    return {
        "key": f"{who}-{source}",
        "participantId": who,
        "source": source,
        "kind": kind,
        "self": self,
    }


def stage(layout: str, tiles: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    room = {"layout": layout, "tiles": tiles, "roles": ROLES, **more}
    got: dict[str, Any] = run(
        f"""
import {{ stageModel }} from {json.dumps(web_module("stage.js"))};
const room = {json.dumps(room)};
console.log(JSON.stringify(stageModel(room)));
"""
    )
    return got


CLASS = [tile("A", "camera"), tile("T", "camera"), tile("T", "mic"), tile("B", "camera")]
SHARED = [*CLASS, tile("T", "screen")]


def test_without_content_the_teachers_camera_is_the_stage() -> None:
    got = stage("lecture", CLASS)
    assert got["mode"] == "single" and got["content"] == "camera"
    assert got["main"] == ["T-camera"] and got["pip"] is None
    assert got["film"] == ["A-camera", "B-camera"] and got["audio"] == ["T-mic"]


def test_a_shared_screen_takes_the_stage_and_lecture_keeps_the_teacher_beside_it() -> None:
    got = stage("lecture", SHARED)
    assert got["main"] == ["T-screen"] and got["content"] == "screen"
    assert got["pip"] == "T-camera"
    assert got["film"] == ["A-camera", "B-camera"]


def test_sharing_shows_the_content_alone_and_every_camera_in_the_filmstrip() -> None:
    got = stage("sharing", SHARED)
    assert got["main"] == ["T-screen"] and got["pip"] is None
    assert got["film"] == ["A-camera", "T-camera", "B-camera"]


def test_discussion_is_an_equal_grid_with_the_speaker_highlighted() -> None:
    got = stage("discussion", CLASS, speaking=["B"])
    assert got["mode"] == "grid"
    assert got["main"] == ["A-camera", "T-camera", "B-camera"] and got["film"] == []
    assert got["highlight"] == "B-camera"
    # Content leads the grid.
    assert stage("discussion", SHARED)["main"][0] == "T-screen"


def test_chat_focus_keeps_the_lecture_stage() -> None:
    assert stage("chat_focus", SHARED) == stage("lecture", SHARED)


def test_a_speaking_presenter_comes_before_a_silent_host() -> None:
    tiles = [tile("T", "camera"), tile("P", "camera")]
    assert stage("lecture", tiles)["main"] == ["T-camera"]
    assert stage("lecture", tiles, speaking=["P"])["main"] == ["P-camera"]
    # A pupil speaking does not take the teacher's place.
    assert stage("lecture", [*tiles, tile("A", "camera")], speaking=["A"])["main"] == ["T-camera"]


def test_the_teacher_sees_their_own_camera_and_anothers_screen_first() -> None:
    mine = [tile("T", "camera", self=True), tile("T", "screen", self=True)]
    assert stage("lecture", mine[:1])["main"] == ["T-camera"]
    assert stage("lecture", mine)["main"] == ["T-screen"]
    got = stage("lecture", [*mine, tile("P", "screen")])
    assert got["main"] == ["P-screen"] and "T-screen" in got["film"]


def test_a_pinned_tile_is_the_viewers_stage_in_any_layout() -> None:
    for layout in ("lecture", "sharing", "discussion", "chat_focus"):
        got = stage(layout, SHARED, pinned="A-camera")
        assert got["main"] == ["A-camera"] and got["mode"] == "single", layout
        assert "A-camera" not in got["film"]
    # A pin whose tile went away is ignored.
    assert stage("lecture", CLASS, pinned="gone")["main"] == ["T-camera"]


def test_nobody_teaching_on_camera_shows_another_camera_or_nothing() -> None:
    assert stage("lecture", [tile("A", "camera"), tile("B", "camera")], speaking=["B"])["main"] == [
        "B-camera"
    ]
    assert stage("lecture", [tile("A", "camera", self=True)])["mode"] == "empty"
    assert stage("lecture", [tile("T", "mic")])["mode"] == "empty"


def test_a_shared_document_has_the_stage_slot() -> None:
    got = stage("lecture", SHARED, documentShared=True)
    assert got["content"] == "document" and got["main"] == []
    assert got["pip"] == "T-camera" and "T-screen" in got["film"]


def test_an_unknown_layout_is_read_as_lecture() -> None:
    assert stage("gallery", SHARED) == stage("lecture", SHARED)
