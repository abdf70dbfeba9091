"""web/src/framedelay.js, run by Node: a frame's delay from requestVideoFrameCallback's metadata."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_quality_js import run, web_module

MODULE = json.dumps(web_module("framedelay.js"))


def call(expression: str) -> Any:
    return run(
        f"import {{ frameDelay, median }} from {MODULE};\n"
        f"console.log(JSON.stringify({expression}));\n"
    )


def test_a_frames_delay_is_display_time_minus_capture_time() -> None:
    assert call("frameDelay({expectedDisplayTime: 1034.5, captureTime: 1000})") == 34.5


def test_frames_without_a_plausible_capture_time_give_nothing() -> None:
    # No sender report yet (no captureTime), a zero one, or a capture "after" display.
    assert call("frameDelay({expectedDisplayTime: 1000})") is None
    assert call("frameDelay({expectedDisplayTime: 1000, captureTime: 0})") is None
    assert call("frameDelay({expectedDisplayTime: 1000, captureTime: 1005})") is None


def test_median_of_odd_even_and_empty_lists() -> None:
    assert call("[median([3, 1, 2]), median([4, 1, 3, 2]), median([])]") == [2, 2.5, None]
