"""web/src/quality.js's pure part, run by Node on statistics shaped as Chromium reports them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

WEB_SRC = Path(__file__).resolve().parents[2] / "web" / "src"


def web_module(name: str) -> str:
    """A web/src module's file URL, for Node's import."""
    return (WEB_SRC / name).as_uri()


# Two moments 2 s apart of a pupil's two connections (up: publishing; down: receiving), as
# RTCStatsReport entries: Map values with Chromium's field names.
PAIR = {"type": "candidate-pair", "nominated": True, "state": "succeeded"}
STALE_PAIR = {"type": "candidate-pair", "nominated": False, "state": "failed"}


def inbound(kind: str, received: int, lost: int, delay: float, emitted: int) -> dict[str, Any]:
    return {
        "type": "inbound-rtp",
        "kind": kind,
        "packetsReceived": received,
        "packetsLost": lost,
        "jitterBufferDelay": delay,
        "jitterBufferEmittedCount": emitted,
    }


def run(script: str) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: scripts/install installs Debian's nodejs")
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(out.stdout)


def readings(*moments: list[list[dict[str, Any]]]) -> list[Any]:
    """reading() between consecutive moments; each moment is a list of reports (entry lists)."""
    return list(
        run(
            f"""
import {{ snapshot, reading }} from {json.dumps(web_module("quality.js"))};
const moments = {json.dumps(moments)};
const snaps = moments.map((reports) => snapshot(reports.map(
  (entries) => new Map(entries.map((s, i) => [String(i), {{id: s.id ?? String(i), ...s}}])))));
const out = [];
for (let i = 1; i < snaps.length; i++) out.push(reading(snaps[i - 1], snaps[i]));
console.log(JSON.stringify(out));
"""
        )
    )


def test_a_clean_link_reads_good_with_half_the_round_trip_plus_the_buffer() -> None:
    up = [
        {**PAIR, "currentRoundTripTime": 0.030},
        {"type": "remote-inbound-rtp", "fractionLost": 0},
    ]
    first = [up, [{**PAIR, "currentRoundTripTime": 0.020}, inbound("video", 1000, 0, 3.0, 100)]]
    # 60 frames emitted after 2.4 s of summed holding: 40 ms each; audio held 20 ms a sample.
    second = [
        up,
        [
            {**PAIR, "currentRoundTripTime": 0.020},
            inbound("video", 1300, 0, 5.4, 160),
            inbound("audio", 100, 0, 960.0, 48_000),
        ],
    ]
    assert readings(first, second) == [
        {"level": "good", "delay_ms": 55, "rtt_ms": 30, "loss_pct": 0}
    ]


def test_loss_either_way_and_delay_set_the_level() -> None:
    down = [{**PAIR, "currentRoundTripTime": 0.010}, inbound("video", 1000, 10, 0, 0)]
    # 5 % lost on the way in (15 of 300) → fair; then the server reports 12 % of ours lost → poor.
    lossy_in = [{**PAIR, "currentRoundTripTime": 0.010}, inbound("video", 1285, 25, 0, 0)]
    lossy_out = [
        [
            {**PAIR, "currentRoundTripTime": 0.010},
            {"type": "remote-inbound-rtp", "fractionLost": 0.12},
        ],
        lossy_in,
    ]
    slow = [{**PAIR, "currentRoundTripTime": 0.500}, inbound("video", 1585, 25, 0, 0)]
    very_slow = [{**PAIR, "currentRoundTripTime": 0.950}, inbound("video", 1885, 25, 0, 0)]
    got = readings([down], [lossy_in], lossy_out, [slow], [very_slow])
    assert [(r["level"], r["loss_pct"], r["delay_ms"]) for r in got] == [
        ("fair", 5.0, 5),
        ("poor", 12.0, 5),
        ("fair", 0, 250),
        ("poor", 0, 475),
    ]


def test_no_connection_up_is_no_reading_and_a_new_connection_is_not_negative_loss() -> None:
    before = [[{**PAIR, "currentRoundTripTime": 0.010}, inbound("video", 5000, 400, 9.0, 900)]]
    # The page rebuilt its connection: counters start again from zero.
    rebuilt = [[{**PAIR, "currentRoundTripTime": 0.010}, inbound("video", 200, 0, 0.2, 10)]]
    down = [[STALE_PAIR, inbound("video", 210, 0, 0.2, 10)]]
    got = readings(before, rebuilt, down)
    assert got[0] == {"level": "good", "delay_ms": 5, "rtt_ms": 10, "loss_pct": 0}
    assert got[1] is None


def test_a_stream_that_goes_away_does_not_read_as_loss() -> None:
    # Someone stopped a camera: its stream leaves the report. Summed counters would read
    # 5 lost of 55 (9 %, "fair"); per stream it is 5 of 505.
    two = [
        [
            {**PAIR, "currentRoundTripTime": 0.010},
            inbound("video", 1000, 0, 0, 0) | {"id": "A"},
            inbound("video", 450, 0, 0, 0) | {"id": "B"},
        ]
    ]
    one = [[{**PAIR, "currentRoundTripTime": 0.010}, inbound("video", 1500, 5, 0, 0) | {"id": "A"}]]
    (got,) = readings(two, one)
    assert got == {"level": "good", "delay_ms": 5, "rtt_ms": 10, "loss_pct": 1}


def test_the_level_changes_when_two_readings_agree() -> None:
    levels = ["good", "fair", "good", "fair", "fair", "poor", "fair", "fair"]
    shown = run(
        f"""
import {{ LevelHold }} from {json.dumps(web_module("quality.js"))};
const hold = new LevelHold();
console.log(JSON.stringify({json.dumps(levels)}.map((level) => hold.update(level))));
"""
    )
    assert shown == ["good", "good", "good", "good", "fair", "fair", "fair", "fair"]
