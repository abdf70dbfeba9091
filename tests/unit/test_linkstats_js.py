"""web/src/linkstats.js, run by Node: the host's view's figures, its order, notices and chart."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_quality_js import PAIR, run, web_module

MODULE = json.dumps(web_module("linkstats.js"))


def details(
    before: list[list[dict[str, Any]]],
    after: list[list[dict[str, Any]]],
    seconds: float,
    expect_video: bool,
) -> Any:
    return run(
        f"""
import {{ linkSnapshot, linkDetails }} from {MODULE};
const reports = (m) => m.map(
  (entries) => new Map(entries.map((s, i) => [String(i), {{id: s.id ?? String(i), ...s}}])));
const b = linkSnapshot(reports({json.dumps(before)}));
const a = linkSnapshot(reports({json.dumps(after)}));
console.log(JSON.stringify(linkDetails(b, a, {seconds}, {json.dumps(expect_video)})));
"""
    )


def video_in(received: int, frames: int, height: int, jitter: float) -> dict[str, Any]:
    return {
        "type": "inbound-rtp",
        "kind": "video",
        "id": "V",
        "bytesReceived": received,
        "framesDecoded": frames,
        "frameHeight": height,
        "jitter": jitter,
    }


def test_bitrates_jitter_and_the_picture_received() -> None:
    def up(sent: int) -> dict[str, Any]:
        return {"type": "outbound-rtp", "kind": "video", "id": "O", "bytesSent": sent}

    audio = {"type": "inbound-rtp", "kind": "audio", "id": "A", "bytesReceived": 0, "jitter": 0.012}
    before = [[PAIR, up(1_000_000)], [PAIR, video_in(500_000, 100, 480, 0.004), audio]]
    # 2 s later: 250 kB more sent (1000 kbit/s), 300 kB + 8 kB received (1232 kbit/s).
    after = [
        [PAIR, up(1_250_000)],
        [PAIR, video_in(800_000, 140, 360, 0.006), {**audio, "bytesReceived": 8_000}],
    ]
    assert details(before, after, 2.0, True) == {
        "jitter_ms": 12,
        "kbps_in": 1232,
        "kbps_out": 1000,
        "video_height": 360,
        "video": "ok",
    }


def test_video_expected_but_not_decoding_is_lost_and_unexpected_is_none() -> None:
    before = [[PAIR, video_in(500_000, 100, 480, 0.004)]]
    stuck = [[PAIR, video_in(500_000, 100, 480, 0.004)]]
    assert details(before, stuck, 2.0, True)["video"] == "lost"
    assert details(before, stuck, 2.0, True)["video_height"] == 0
    assert details(before, stuck, 2.0, False)["video"] == "none"
    # A rebuilt connection (counters from zero) is not negative bitrate.
    rebuilt = [[PAIR, video_in(1000, 5, 240, 0.001)]]
    got = details(before, rebuilt, 2.0, True)
    assert got["kbps_in"] == 0 and got["video"] == "lost"


def test_worst_first_notices_once_and_the_chart() -> None:
    out = run(
        f"""
import {{ worstFirst, connectionNews, sparkPoints }} from {MODULE};
const r = (level, delay, loss, video) => ({{ level, delay_ms: delay, loss_pct: loss, video }});
const rows = [
  {{ id: "quiet" }},
  {{ id: "good", reading: r("good", 30, 0, "ok") }},
  {{ id: "fair-slow", reading: r("fair", 300, 0, "ok") }},
  {{ id: "fair-fast", reading: r("fair", 210, 4, "ok") }},
  {{ id: "poor", reading: r("poor", 900, 1, "ok") }},
  {{ id: "lost", reading: r("good", 20, 0, "lost") }},
];
const order = worstFirst(rows).map((x) => x.id);
let said = {{ delay: false, video: false }};
const news = [];
let previous = null;
for (const q of [r("poor", 2100, 0, "ok"), r("poor", 2500, 0, "lost"), r("poor", 2400, 0, "lost"),
                 r("good", 40, 0, "ok"), r("poor", 2200, 0, "ok")]) {{
  const got = connectionNews(said, q, previous);
  said = got.said; previous = q;
  news.push(got.news);
}}
const now = 100_000;
const points = sparkPoints(
  [{{ at: now - 70_000, value: 999 }}, {{ at: now - 60_000, value: 100 }},
   {{ at: now, value: 50 }}],
  now, 240, 48, 200);
console.log(JSON.stringify({{ order, news, points }}));
"""
    )
    assert out["order"] == ["lost", "poor", "fair-slow", "fair-fast", "good", "quiet"]
    # 2 s passed: said once; lost video said at its second reading; both again after clearing.
    assert out["news"] == [["delay"], [], ["video"], [], ["delay"]]
    # The 70 s old sample is out of the minute; the scale's top is 200 ms.
    assert out["points"] == "0.0,24.0 240.0,36.0"


def test_the_layer_a_viewer_is_forwarded_in_words() -> None:
    """participant_quality.received (the server's) → which words the host's view says."""
    entries = [
        {"layer": 0, "layers": 2, "height": 240, "limit": "line", "paused": False},
        {"layer": 1, "layers": 2, "height": 480, "limit": "none", "paused": False},
        {"layer": 1, "layers": 3, "height": 360, "limit": "sender", "paused": False},
        {"layer": 0, "layers": 1, "height": 0, "limit": "none", "paused": False},
        {"layer": 0, "layers": 2, "height": 240, "limit": "line", "paused": True},
        {"layer": 7, "layers": 0, "height": -3, "limit": "?"},  # odd input is clamped
    ]
    got = run(
        f"""
import {{ layerWords }} from {MODULE};
console.log(JSON.stringify({json.dumps(entries)}.map(layerWords)));
"""
    )
    c = "connections."
    assert got == [
        {
            "name": c + "layer_low",
            "why": c + "layer_line",
            "height": 240,
            "paused": False,
            "limited": True,
        },
        {
            "name": c + "layer_high",
            "why": c + "layer_best",
            "height": 480,
            "paused": False,
            "limited": False,
        },
        {
            "name": c + "layer_middle",
            "why": c + "layer_sender",
            "height": 360,
            "paused": False,
            "limited": False,
        },
        {
            "name": c + "layer_only",
            "why": c + "layer_single",
            "height": 0,
            "paused": False,
            "limited": False,
        },
        {
            "name": c + "layer_low",
            "why": c + "layer_paused",
            "height": 240,
            "paused": True,
            "limited": False,
        },
        {
            "name": c + "layer_only",
            "why": c + "layer_single",
            "height": 0,
            "paused": False,
            "limited": False,
        },
    ]


def test_the_encoding_time_per_frame_of_each_outgoing_encoding() -> None:
    # The publisher's own figure, which the server needs to tell how early its capture stamps
    # run (media/clock.py StampCheck): per "MID/RID", over the frames encoded between readings.
    got = run(
        f"import {{ linkSnapshot, linkDetails }} from {MODULE};\n"
        "const out = (frames, h, l) => [new Map([\n"
        "  ['h', {type: 'outbound-rtp', kind: 'video', mid: '1', rid: 'h', bytesSent: 0,"
        "   framesEncoded: frames, totalEncodeTime: h}],\n"
        "  ['l', {type: 'outbound-rtp', kind: 'video', mid: '1', rid: 'l', bytesSent: 0,"
        "   framesEncoded: frames, totalEncodeTime: l}],\n"
        "  ['s', {type: 'outbound-rtp', kind: 'video', mid: '2', bytesSent: 0,"
        "   framesEncoded: 7, totalEncodeTime: 0.1}],\n"
        "  ['a', {type: 'outbound-rtp', kind: 'audio', mid: '0', bytesSent: 0}],\n"
        "])];\n"
        "const a = linkDetails(linkSnapshot(out(100, 1, 0.5)), linkSnapshot(out(160, 1.6, 0.68)),"
        " 2, false);\n"
        "const empty = linkSnapshot([new Map()]);\n"
        "const none = linkDetails(empty, empty, 2, false);\n"
        "console.log(JSON.stringify([a.encode_ms, 'encode_ms' in none]));\n"
    )
    # h: 600 ms over 60 frames; l: 180 ms over 60; the screen encoded nothing in between.
    assert got == [{"1/h": 10, "1/l": 3}, False]
