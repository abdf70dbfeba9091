"""bench.glass --limit-kbps: the functions that turn the pages' readings into its figures."""

from __future__ import annotations

import json

import pytest

from bench._shaper import Line, parse_queue_stats
from bench._viewer_stats import (
    counters_grew,
    longest_gap_ms,
    parse_counters,
    publisher_summary,
    viewer_summary,
)


def test_the_longest_gap_counts_the_windows_edges() -> None:
    every_33 = [100 + 33.0 * i for i in range(10)]  # shown 100 … 397, then nothing
    assert longest_gap_ms(every_33, 0, 1000) == 603.0  # 397 → the window's end
    assert longest_gap_ms([], 0, 1000) == 1000.0  # nothing shown: one gap, the window
    assert longest_gap_ms([500.0], 0, 1000) == 500.0
    # Frames outside the window are not part of it, and order does not matter.
    assert longest_gap_ms([-50.0, 600.0, 300.0, 1200.0], 0, 1000) == 400.0


def sample(at: float, **video: float) -> dict[str, object]:
    return {"at": at, "port": 5000, "video": video or None}


def test_a_viewers_window_is_summed_from_its_first_and_last_reading() -> None:
    samples = [
        sample(1000),  # nothing received yet: counters count from zero
        sample(2000, framesDecoded=20, frameHeight=240, bytesReceived=40_000, freezeCount=1),
        sample(
            3000,
            framesDecoded=50,
            frameHeight=480,
            bytesReceived=250_000,
            freezeCount=2,
            totalFreezesDuration=0.75,
            packetsLost=7,
            nackCount=3,
            pliCount=2,
            firCount=1,
        ),
    ]
    shown = [1500.0 + 100 * i for i in range(10)]  # 1500 … 2400, then frozen until 3000
    out = viewer_summary(samples, shown, [30.0, 40.0, 50.0])
    assert out["frame_height"] == {"median": 360.0, "last": 480, "min": 240}
    assert out["decoded_fps"] == 25.0  # 50 frames in 2 s
    assert out["shown_fps"] == 5.0
    assert out["freezes"] == 2 and out["freezes_s"] == 0.75
    assert out["longest_gap_ms"] == 600.0  # 2400 → 3000
    assert out["kbps"] == 1000  # 250 kB in 2 s
    assert out["packets_lost"] == 7 and out["nacks_sent"] == 3
    assert out["keyframe_requests_sent"] == 3
    assert out["glass_to_glass_ms"] == {"p50": 40.0, "p95": 49.0}
    assert out["frames_with_stamp"] == 3


def test_a_window_needs_two_readings_that_advance() -> None:
    with pytest.raises(ValueError):
        viewer_summary([sample(0)], [], [])
    with pytest.raises(ValueError):
        viewer_summary([sample(5), sample(5)], [], [])


def test_the_publisher_is_read_per_encoding_lowest_first() -> None:
    before = {
        "at": 0,
        "encodings": [
            {"rid": "f", "bytesSent": 1_000_000, "frameHeight": 480, "keyFramesEncoded": 4},
            {"rid": "q", "bytesSent": 100_000, "frameHeight": 120, "keyFramesEncoded": 4},
        ],
    }
    after = {
        "at": 4000,
        "encodings": [
            {
                "rid": "f",
                "bytesSent": 1_750_000,
                "frameHeight": 480,
                "keyFramesEncoded": 6,
                "targetBitrate": 1_500_000,
            },
            {"rid": "q", "bytesSent": 150_000, "frameHeight": 120, "keyFramesEncoded": 6},
            {"rid": "h", "bytesSent": 100_000, "frameHeight": 240, "keyFramesEncoded": 1},
        ],
    }
    out = publisher_summary(before, after)
    assert [layer["rid"] for layer in out["layers"]] == ["q", "h", "f"]
    assert [layer["kbps"] for layer in out["layers"]] == [100, 200, 1500]
    assert out["layers"][2]["target_kbps"] == 1500
    assert out["kbps"] == 1800 and out["keyframes"] == 5
    # Without simulcast: one encoding without a RID.
    one = publisher_summary(
        {"at": 0, "encodings": [{"rid": None, "bytesSent": 0}]},
        {
            "at": 1000,
            "encodings": [
                {
                    "rid": None,
                    "bytesSent": 125_000,
                    "frameHeight": 480,
                    "framesEncoded": 25,
                    "qualityLimitationReason": "cpu",
                }
            ],
        },
    )
    assert one["layers"] == [
        {
            "rid": None,
            "frame_height": 480,
            "kbps": 1000,
            "target_kbps": 0,
            "keyframes": 0,
            "fps": 25.0,
            "limited_by": "cpu",
        }
    ]


METRICS = """# HELP sabaq_media_nacks_received_total NACK packets received from viewers
# TYPE sabaq_media_nacks_received_total counter
sabaq_media_nacks_received_total {nacks}
sabaq_media_layer_switches_total {switches}
sabaq_participants{{state="in_room"}} 3.0
sabaq_rooms 1.0
"""


def test_server_counters_are_read_from_the_metrics_text_and_differenced() -> None:
    before = parse_counters(METRICS.format(nacks="10.0", switches="0.0"))
    after = parse_counters(METRICS.format(nacks="765.0", switches="2.0"))
    assert before == {
        "sabaq_media_nacks_received_total": 10.0,
        "sabaq_media_layer_switches_total": 0.0,
        "sabaq_rooms": 1.0,
    }
    assert counters_grew(before, after, "sabaq_media_") == {
        "nacks_received": 755,
        "layer_switches": 2,
    }


def test_the_lines_queue_is_found_in_tcs_json() -> None:
    shown = [
        {
            "kind": "htb",
            "handle": "1:",
            "root": True,
            "bytes": 99,
            "packets": 9,
            "drops": 0,
            "backlog": 0,
        },
        {
            "kind": "bfifo",
            "handle": "10:",
            "parent": "1:10",
            "options": {"limit": 7500},
            "bytes": 151524,
            "packets": 122,
            "drops": 503,
            "backlog": 2484,
            "qlen": 2,
        },
    ]
    stats = parse_queue_stats(json.dumps(shown))
    assert stats is not None
    assert (stats.sent_bytes, stats.sent_packets, stats.dropped_packets, stats.backlog_bytes) == (
        151524,
        122,
        503,
        2484,
    )
    assert parse_queue_stats(json.dumps(shown[:1])) is None  # no line set
    assert parse_queue_stats("") is None


def test_the_queue_holds_its_time_at_the_lines_rate_but_never_less_than_two_packets() -> None:
    assert Line(kbps=300, queue_ms=200).queue_bytes() == 7500  # 37.5 kB/s for 0.2 s
    assert Line(kbps=1000, queue_ms=1000).queue_bytes() == 125_000
    assert Line(kbps=30, queue_ms=10).queue_bytes() == 2 * 1514
