"""Media quality with Chromium publishers: congestion control, loss repair, delay estimate.

Everything runs in a network namespace with only `lo` up (see tests/e2e/netns.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Playwright

from bench.glass import SOURCE as NOISE_CANVAS
from tests.e2e.test_media import ENTER, harness_browsers, playwright

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
    """SABAQ_MEDIA_VIDEO_PLAYOUT_MAX_MS: the server offers the playout-delay extension, the
    pupil's Chromium agrees it, and with minimum 0 it hands each frame to the decoder as it
    completes instead of holding it to a render time (measured: 0.7 ms per frame against 5-60
    ms without, the same run's direct call 5-10 ms)."""
    monkeypatch.setenv("SABAQ_MEDIA_VIDEO_PLAYOUT_MAX_MS", "200")  # `sabaq serve` inherits it
    browsers = harness_browsers(playwright, chromium_path, demo_data, tmp_path, count=2)
    async with browsers as h:
        login, password = h.teacher
        sent: dict[str, Any] = await h.pages[0].evaluate(
            ENTER, {"login": login, "password": password, "roomId": None, "publish": ["camera"]}
        )
        login, password = h.pupils[0]
        await h.pages[1].evaluate(
            ENTER, {"login": login, "password": password, "roomId": sent["roomId"], "publish": []}
        )
        got: dict[str, Any] = await h.pages[1].evaluate(HELD, [150, 40_000])
        assert got["offered"] and got["agreed"], got
        assert got["decoded"] >= 150, got
        assert got["heldMs"] is not None and got["heldMs"] < 2.5, got
