"""bench.glass --paired: the two copies of each picture matched by the time in it."""

from __future__ import annotations

from typing import Any

from bench.glass import pair_frames


def frame(path: str, stamp: int, shown: float, received: float | None) -> dict[str, Any]:
    # truth: shown minus the picture's time (stamp in 0.1 ms units, as READER decodes it)
    return {
        "path": path,
        "stamp": stamp,
        "shown": shown,
        "receivedAt": received,
        "truth": shown - stamp / 10,
    }


def test_each_picture_is_compared_with_its_own_copy() -> None:
    frames = [
        # Sabaq's copies of pictures 1-4, one refresh (16.7 ms) behind the direct ones.
        *(frame("sabaq", 10_000 * i, 1000 * i + 50.0, 1000 * i + 20.0) for i in range(1, 5)),
        *(frame("direct", 10_000 * i, 1000 * i + 33.3, 1000 * i + 19.0) for i in range(1, 5)),
        # A picture only the direct call showed is no pair, and a second showing is not another.
        frame("direct", 55_000, 5533.3, 5519.0),
        frame("sabaq", 10_000, 1066.7, 1020.0),
    ]
    out = pair_frames(frames)
    assert out["frames"] == {"sabaq": 4, "direct": 5, "both": 4}
    assert out["shown_later_ms"] == {"p50": 16.7, "p95": 16.7}
    assert out["received_later_ms"] == {"p50": 1.0, "p95": 1.0}
    assert out["glass_to_glass_ms"]["p50"] == 50.0
    assert out["direct_ms"]["p50"] == 33.3


def test_a_copy_without_a_receive_time_is_left_out_of_the_receive_difference() -> None:
    frames = [
        frame("sabaq", 1, 100.0, None),
        frame("direct", 1, 100.0, 90.0),
        frame("sabaq", 2, 200.0, 191.0),
        frame("direct", 2, 200.0, 190.0),
        frame("sabaq", 3, 300.0, 291.0),
        frame("direct", 3, 300.0, 290.0),
    ]
    out = pair_frames(frames)
    assert out["received_later_ms"] == {"p50": 1.0, "p95": 1.0}
    assert out["shown_later_ms"] == {"p50": 0.0, "p95": 0.0}


def test_no_direct_copy_gives_no_difference() -> None:
    out = pair_frames([frame("sabaq", 1, 100.0, 90.0), frame("sabaq", 2, 133.0, 123.0)])
    assert out["frames"] == {"sabaq": 2, "direct": 0, "both": 0}
    assert out["shown_later_ms"] == {"p50": None, "p95": None}
