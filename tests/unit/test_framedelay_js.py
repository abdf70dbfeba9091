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
    # Without the server's capture-time lines (an older server): Chromium's captureTime less
    # the correction, as before.
    got = run(
        f"import {{ FrameDelays }} from {MODULE};\n"
        "const d = new FrameDelays(() => true);\n"
        "d.scan = () => {};\n"
        "for (const c of [950, 948, 952]) d.note(null, {expectedDisplayTime: 1000,"
        " captureTime: c, rtpTimestamp: 5});\n"
        "d.readReports([{type: 'remote-outbound-rtp', kind: 'video', id: 'v', timestamp: 1001,"
        " remoteTimestamp: 1000, roundTripTime: 0.02}]);\n"
        "d.readReports([{type: 'remote-outbound-rtp', kind: 'video', id: 'v', timestamp: 1001,"
        " remoteTimestamp: 1000, roundTripTime: 0.04}]);\n"  # the same report again: not twice
        "console.log(JSON.stringify([d.take(), d.reports.length]));\n"
    )
    assert got == [41, 1]


def test_rtp_timestamps_differ_across_the_wrap() -> None:
    got = call_with("tsDiff", "[tsDiff(5, 2 ** 32 - 5), tsDiff(2 ** 32 - 5, 5), tsDiff(90, 0)]")
    assert got == [10, -10, 90]


def call_with(name: str, expression: str) -> Any:
    return run(f"import {{ {name} }} from {MODULE};\nconsole.log(JSON.stringify({expression}));\n")


def test_the_clock_offset_is_the_quickest_report_less_half_the_quickest_round_trip() -> None:
    # Page clock 100 ms ahead of the server's; one-way times 0.4-20 ms, round trips 1-25 ms
    # (processing at both ends only ever adds): the minimum of each, not a median or a pair.
    reports = (
        "[{rttMs: 25, oneWayMs: 120}, {rttMs: 1, oneWayMs: 112}, {rttMs: 9, oneWayMs: 100.4},"
        " {rttMs: 3, oneWayMs: 101}]"
    )
    assert call_with("clockOffset", f"clockOffset({reports})") == 99.9
    # No report, or none with a round trip: unknown (the caller falls back).
    assert call_with("clockOffset", "clockOffset([])") is None
    assert call_with("clockOffset", "clockOffset([{rttMs: NaN, oneWayMs: 1}])") is None


def test_a_frame_is_dated_by_its_rtp_timestamp_on_the_servers_line() -> None:
    # The line: RTP 1000 was captured at 5000 ms (server clock). A frame 2700 ticks (30 ms)
    # later, shown at 5080 on a page whose clock is 10 ms ahead: 5080 - 10 - 5030 = 40.
    line = "{rtp: 1000, ms: 5000}"
    assert call_with("lineDelay", f"lineDelay(5080, 3700, {line}, 10)") == 40
    # Across the wrap of the 32-bit timestamp.
    wrap = "{rtp: 2 ** 32 - 900, ms: 5000}"
    assert call_with("lineDelay", f"lineDelay(5080, 1800, {wrap}, 10)") == 40
    # Shown before it was captured, or a minute late: not a delay.
    assert call_with("lineDelay", f"lineDelay(5000, 3700, {line}, 10)") is None
    assert call_with("lineDelay", f"lineDelay(70000, 3700, {line}, 0)") is None


def test_the_servers_lines_are_read_leaving_out_anything_malformed() -> None:
    got = call_with(
        "captureLines",
        "[...captureLines({'0': [1000, 5000.5], '1': [-1, 5], '2': [1, 'x'], '3': [1],"
        " '4': [2 ** 32, 5], '5': [3, 0]}), ...captureLines(null), ...captureLines('x')]",
    )
    assert got == [["0", {"rtp": 1000, "ms": 5000.5}]]


def test_frames_are_dated_by_the_servers_line_where_it_is_known() -> None:
    # Two videos: MID 0 has a line, MID 1 not (yet). Chromium's captureTime for MID 0 reads
    # 60 ms (its estimate), the line says 40: the line wins; MID 1 keeps Chromium's figure
    # less the correction. One report, 0.5 ms one way, 1 ms round trip: the page's clock is
    # the server's (offset 0.5 - 1/2 = 0), and Chromium's correction is 1/2 - 0.5 = 0.
    got = run(
        f"import {{ FrameDelays }} from {MODULE};\n"
        "const d = new FrameDelays(() => true);\n"
        "d.scan = () => {};\n"
        "d.readReports([{type: 'remote-outbound-rtp', kind: 'video', id: 'v', timestamp: 1000.5,"
        " remoteTimestamp: 1000, roundTripTime: 0.001}]);\n"
        "d.setLines({'0': [1000, performance.timeOrigin + 500]});\n"
        "for (const [mid, ts] of [['0', 1000], ['0', 3700], ['0', 6400], ['1', 1]])\n"
        "  d.note(mid, {expectedDisplayTime: 540 + (ts === 1 ? 0 : (ts - 1000) / 90),"
        " captureTime: 480 + (ts === 1 ? 0 : (ts - 1000) / 90), rtpTimestamp: ts});\n"
        "const first = d.take();\n"
        "d.note('1', {expectedDisplayTime: 600, captureTime: 530, rtpTimestamp: 9});\n"
        "console.log(JSON.stringify([first, d.take(), d.take()]));\n"
    )
    # MID 0: 540 - 0 - 500 = 40 for each frame; MID 1: 60: the median of [40, 40, 40, 60] is
    # 40. Then MID 1 alone: 70. Then nothing shown: null.
    assert got == [40, 70, None]
