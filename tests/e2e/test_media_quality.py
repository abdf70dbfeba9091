"""Media quality with Chromium publishers: congestion control, loss repair, delay estimate.

Everything runs in a network namespace with only `lo` up (see tests/e2e/netns.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Playwright

from bench.glass import SOURCE as NOISE_CANVAS
from tests.e2e.test_media import ENTER, Harness, harness_browsers, playwright

pytestmark = pytest.mark.e2e
__all__ = ["playwright"]  # the fixture, shared with test_media.py

# Runs in the teacher's page: poll its publish connection's statistics until the send-side
# estimate and the encoder's target both reach `want` bit/s, or the deadline passes.
RAMPED = """
async ([want, deadlineMs]) => {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const out = {available: 0, target: 0};
    for (const pc of window.__pcs) {
      for (const s of (await pc.getStats()).values()) {
        // Summed over the camera's simulcast encodings: together they are what the browser sends.
        if (s.type === "outbound-rtp" && s.kind === "video") out.target += s.targetBitrate || 0;
        if (s.type === "candidate-pair" && s.nominated && s.availableOutgoingBitrate) {
          out.available = s.availableOutgoingBitrate;
        }
      }
    }
    if ((out.available >= want && out.target >= want) || Date.now() > until) return out;
    await new Promise((r) => setTimeout(r, 250));  // a condition polled until the deadline
  }
}
"""


async def teacher_then_pupil(h: Harness) -> None:
    """The teacher (page 0) enters a new room publishing the camera, the first pupil (page 1)
    enters it receiving only."""
    login, password = h.teacher
    sent: dict[str, Any] = await h.pages[0].evaluate(
        ENTER, {"login": login, "password": password, "roomId": None, "publish": ["camera"]}
    )
    login, password = h.pupils[0]
    await h.pages[1].evaluate(
        ENTER, {"login": login, "password": password, "roomId": sent["roomId"], "publish": []}
    )


@pytest.mark.timeout(120)
async def test_the_teachers_browser_is_let_use_the_line(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """Transport-wide feedback: Chromium's own estimator ramps a demanding picture (moving
    noise, 640x480) to its cap on loopback. Under our old REMB it stayed at 0.4-0.7 Mbit/s."""
    browsers = harness_browsers(
        playwright, chromium_path, demo_data, tmp_path, count=1, teacher_init=NOISE_CANVAS
    )
    async with browsers as h:
        login, password = h.teacher
        sent: dict[str, Any] = await h.pages[0].evaluate(
            ENTER, {"login": login, "password": password, "roomId": None, "publish": ["camera"]}
        )
        assert sent["publishing"] == [True]
        agreed = await h.pages[0].evaluate("window.sabaq.media.up.remoteDescription.sdp")
        assert "transport-cc" in agreed and "goog-remb" not in agreed
        got = await h.pages[0].evaluate(RAMPED, [1_500_000, 40_000])
        assert got["available"] >= 1_500_000 and got["target"] >= 1_500_000, got


# Runs in the pupil's page: wait for `frames` decoded video frames, then the jitter buffer's
# average hold per frame (ms) and what the two descriptions say of the playout-delay extension.
HELD = """
async ([frames, deadlineMs]) => {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const pc = window.sabaq.media.down;  // made at the server's first offer
    let video = null;
    if (pc) for (const s of (await pc.getStats()).values()) {
      if (s.type === "inbound-rtp" && s.kind === "video") video = s;
    }
    if ((video && video.framesDecoded >= frames) || Date.now() > until) {
      const uri = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
      return {
        decoded: video ? video.framesDecoded : 0,
        heldMs: video && video.jitterBufferEmittedCount
          ? 1000 * video.jitterBufferDelay / video.jitterBufferEmittedCount : null,
        offered: !!pc && pc.remoteDescription.sdp.includes(uri),
        agreed: !!pc && pc.localDescription.sdp.includes(uri),
      };
    }
    await new Promise((r) => setTimeout(r, 250));  // a condition polled until the deadline
  }
}
"""


@pytest.mark.timeout(120)
async def test_a_low_playout_delay_has_the_pupils_browser_show_frames_as_decoded(
    playwright: Playwright,
    chromium_path: Path,
    demo_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """By default (SABAQ_MEDIA_VIDEO_PLAYOUT_MAX_MS=200) the server offers the playout-delay
    extension, the pupil's Chromium agrees it, and on this steady line (minimum 0) it hands
    each frame to the decoder as it completes instead of holding it to a render time
    (measured: 0.7 ms per frame against 5-60 ms without, the same run's direct call 5-10 ms)."""
    monkeypatch.delenv("SABAQ_MEDIA_VIDEO_PLAYOUT_MAX_MS", raising=False)  # the default
    browsers = harness_browsers(playwright, chromium_path, demo_data, tmp_path, count=2)
    async with browsers as h:
        await teacher_then_pupil(h)
        got: dict[str, Any] = await h.pages[1].evaluate(HELD, [150, 40_000])
        assert got["offered"] and got["agreed"], got
        assert got["decoded"] >= 150, got
        assert got["heldMs"] is not None and got["heldMs"] < 2.5, got


# Runs in the teacher's page: the encoding time per frame of each outgoing encoding over 2 s,
# as its room page reports it (linkstats.js encode_ms), and the camera's MID.
ENCODE_TIMES = """
async () => {
  const h = await import("/__media_harness.js");
  const pc = window.sabaq.media.up;
  const snap = async () => h.linkSnapshot([await pc.getStats()]);
  const before = await snap();
  await new Promise((r) => setTimeout(r, 2000));  // the interval the page reads over
  const got = h.linkDetails(before, await snap(), 2, false);
  const camera = pc.getTransceivers().find((t) => t.sender.track?.kind === "video");
  const modes = {};
  for (const s of (await pc.getStats()).values()) {
    if (s.type === "outbound-rtp" && s.kind === "video") modes[s.rid || ""] = s.scalabilityMode;
  }
  return {encode: got.encode_ms || {}, mid: camera ? camera.mid : null, modes};
}
"""

# Runs in the pupil's page: show the received camera in a <video>, run the page's connection
# reading (QualityMonitor, as the room page does, asking `media_clock` before each dating), and
# return its readings, the lines it was given and one frame dated both ways.
READINGS = """
async ([count, deadlineMs]) => {
  const h = await import("/__media_harness.js");
  const {connection, media} = window.sabaq;
  const until = Date.now() + deadlineMs;
  while (!window.sabaq.tiles.some((t) => t.kind === "video") && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));  // polled until the deadline
  }
  const tile = window.sabaq.tiles.find((t) => t.kind === "video");
  const video = document.createElement("video");
  video.muted = true; video.autoplay = true; video.playsInline = true;
  video.srcObject = tile.stream;
  document.body.append(video);
  await video.play();
  const readings = [];
  let answers = 0;
  const monitor = new h.QualityMonitor(media, (r) => r && readings.push(r), () => {},
    () => true, () => connection.request("media_clock", {}).then((a) => {
      answers += 1;
      return a.capture;
    }));
  monitor.start();
  while ((readings.length < count || answers < 2) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));  // polled until the deadline
  }
  monitor.stop();
  const meta = await new Promise((ok) => video.requestVideoFrameCallback((_n, m) => ok(m)));
  const mid = media.down.getTransceivers().find((t) => t.receiver.track === tile.stream
    .getVideoTracks()[0]).mid;
  return {readings, answers, mid, lines: [...monitor.frames.lines.entries()],
    clock: monitor.frames.clock.length, rtp: meta.rtpTimestamp,
    shown: performance.timeOrigin + meta.expectedDisplayTime,
    chromium: typeof meta.captureTime === "number" ? meta.expectedDisplayTime - meta.captureTime
      : null};
}
"""


# A browser that refuses `scalabilityMode` in sendEncodings (older Chromium, other engines):
# addTransceiver throws with it, as theirs do, and counts how often.
REFUSES_SCALABILITY_MODE = """
(() => {
  const real = RTCPeerConnection.prototype.addTransceiver;
  window.__refused = 0;
  RTCPeerConnection.prototype.addTransceiver = function (track, init) {
    if (init && init.sendEncodings && init.sendEncodings.some((e) => "scalabilityMode" in e)) {
      window.__refused += 1;
      throw new DOMException("scalabilityMode is not supported", "OperationError");
    }
    return real.call(this, track, init);
  };
})();
"""


@pytest.mark.timeout(120)
async def test_a_browser_that_refuses_scalability_mode_still_sends_the_cameras_layers(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """web/src/media.js asks for L1T1 layers; where addTransceiver refuses the setting, the
    page adds the same layers without it instead of failing to publish the camera."""
    browsers = harness_browsers(
        playwright,
        chromium_path,
        demo_data,
        tmp_path,
        count=1,
        teacher_init=REFUSES_SCALABILITY_MODE,
    )
    async with browsers as h:
        login, password = h.teacher
        sent: dict[str, Any] = await h.pages[0].evaluate(
            ENTER, {"login": login, "password": password, "roomId": None, "publish": ["camera"]}
        )
        assert sent["publishing"] == [True], sent
        assert await h.pages[0].evaluate("window.__refused") == 1
        teacher: dict[str, Any] = await h.pages[0].evaluate(ENCODE_TIMES)
        # Both layers sent, in the browser's own temporal mode.
        assert set(teacher["modes"]) == {"l", "h"}, teacher


@pytest.mark.timeout(150)
async def test_the_pupils_page_dates_frames_on_the_servers_capture_time_line(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """The delay figure's parts as Chromium gives them (docs/media.md, "The estimate"): the
    teacher's page reads each simulcast encoding's encoding time by MID/RID (outbound-rtp's
    `mid` and `rid`, the keys the server maps to its layers), the pupil's page asks
    `media_clock` and is given its camera's line under the MID it receives it on, and a frame's
    `rtpTimestamp` on that line dates it (same clocks here: within a few frames of Chromium's
    own captureTime, whose error this replaces)."""
    browsers = harness_browsers(playwright, chromium_path, demo_data, tmp_path, count=2)
    async with browsers as h:
        await teacher_then_pupil(h)
        teacher: dict[str, Any] = await h.pages[0].evaluate(ENCODE_TIMES)
        mid = teacher["mid"]
        # The fake camera's 640x480 goes as two layers (web/src/media.js cameraLayers).
        assert set(teacher["encode"]) == {f"{mid}/l", f"{mid}/h"}, teacher
        assert all(0 < ms < 1000 for ms in teacher["encode"].values()), teacher
        # One temporal layer each, as a direct call (Chromium's simulcast default is L1T3).
        assert teacher["modes"] == {"l": "L1T1", "h": "L1T1"}, teacher
        got: dict[str, Any] = await h.pages[1].evaluate(READINGS, [3, 60_000])
        assert got["answers"] >= 2 and len(got["readings"]) >= 3, got
        lines = dict(got["lines"])
        assert list(lines) == [got["mid"]], got
        assert got["clock"] >= 1, got  # sender reports with a round trip: the clock offset
        line = lines[got["mid"]]
        ticks = (got["rtp"] - line["rtp"] + 2**31) % 2**32 - 2**31
        dated = got["shown"] - (line["ms"] + ticks / 90)
        # One host: the page's clock is the server's (offset well under a millisecond).
        assert 0 < dated < 1000, got
        assert got["chromium"] is not None and abs(dated - got["chromium"]) < 100, (dated, got)
        assert all(0 < r["delay_ms"] < 1000 for r in got["readings"]), got
