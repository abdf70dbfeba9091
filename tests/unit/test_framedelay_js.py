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


def correction(reports: str) -> Any:
    return run(
        f"import {{ clockCorrection }} from {MODULE};\n"
        f"console.log(JSON.stringify(clockCorrection({reports})));\n"
    )


def test_the_clock_correction_is_half_the_round_trip_minus_the_one_way_time() -> None:
    # Chromium put the sender's clock at arrival - rtt/2; with clocks that agree the report
    # really took oneWay, so delays read rtt/2 - oneWay too long: the median over reports.
    reports = "[{rttMs: 10, oneWayMs: 1}, {rttMs: 8, oneWayMs: 0}, {rttMs: 30, oneWayMs: 3}]"
    assert correction(reports) == 4
    assert correction("[]") == 0


def test_reports_from_a_clock_that_disagrees_are_not_used() -> None:
    # Arrived "before" it was sent, or after more than a round trip: the clocks differ.
    assert correction("[{rttMs: 10, oneWayMs: -5}, {rttMs: 10, oneWayMs: 40}]") == 0
    assert correction("[{rttMs: 10, oneWayMs: -5}, {rttMs: 10, oneWayMs: 2}]") == 3


def test_a_sender_report_reads_as_its_one_way_time_and_round_trip() -> None:
    got = run(
        f"import {{ senderReports }} from {MODULE};\n"
        "const stats = [\n"
        "  {type: 'remote-outbound-rtp', kind: 'video', id: 'v', timestamp: 1003.5,"
        "   remoteTimestamp: 1000, roundTripTime: 0.012},\n"
        "  {type: 'remote-outbound-rtp', kind: 'audio', id: 'a', timestamp: 1, remoteTimestamp: 0,"
        "   roundTripTime: 0.01},\n"
        "  {type: 'remote-outbound-rtp', kind: 'video', id: 'w', timestamp: 5,"
        "   remoteTimestamp: 1},\n"
        "];\n"
        "console.log(JSON.stringify([...senderReports(stats)]));\n"
    )
    assert got == [["v", {"sent": 1000, "rttMs": 12, "oneWayMs": 3.5}]]


def test_the_frames_delay_is_taken_less_the_correction() -> None:
    got = run(
        f"import {{ FrameDelays }} from {MODULE};\n"
        "const d = new FrameDelays(() => true);\n"
        "d.scan = () => {};\n"
        "d.recent = [50, 52, 48];\n"
        "d.readReports([{type: 'remote-outbound-rtp', kind: 'video', id: 'v', timestamp: 1001,"
        " remoteTimestamp: 1000, roundTripTime: 0.02}]);\n"
        "d.readReports([{type: 'remote-outbound-rtp', kind: 'video', id: 'v', timestamp: 1001,"
        " remoteTimestamp: 1000, roundTripTime: 0.04}]);\n"  # the same report again: not twice
        "console.log(JSON.stringify([d.take(), d.reports.length]));\n"
    )
    assert got == [41, 1]
