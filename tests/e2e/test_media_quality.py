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
