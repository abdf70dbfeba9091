"""web/src/media.js starts a side over when the server closes that whole connection.

Chromium to Chromium through the SFU in a network namespace, as in test_media.py. Each page
closes one of its own peer connections behind MediaSession's back (as a crashed or suspended
connection would end): the server closes its end, sends `media_closed` with the transport and
`connection_lost`, and media.js must bring the media back by itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Playwright

from tests.e2e.test_media import ENTER, harness_pages, playwright

pytestmark = pytest.mark.e2e
__all__ = ["playwright"]  # the fixture, shared with test_media.py

# Runs in a page: close one of the session's peer connections and keep it for comparison.
CLOSE = """
(side) => {
  const pc = window.sabaq.media[side];
  window.__closed = pc;
  pc.close();
  return pc.connectionState;
}
"""

# Runs in the pupil's page: wait for tiles whose ids are not in `old` and whose tracks decoded
# video frames and audio samples, on a subscribe connection that is not the closed one.
FRESH_MEDIA = """
async ({old, deadlineMs}) => {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const media = window.sabaq.media;
    const out = {video: 0, audio: 0, tiles: window.sabaq.tiles.map((t) => t.id),
      sameConnection: media.down === window.__closed, errors: window.sabaq.errors};
    const fresh = window.sabaq.tiles.filter((t) => !old.includes(t.id));
    const tracks = new Set(fresh.map((t) => t.track.id));
    if (media.down && media.down.connectionState !== "closed" && fresh.length === 2) {
      for (const s of (await media.down.getStats()).values()) {
        if (s.type !== "inbound-rtp" || !tracks.has(s.trackIdentifier)) continue;
        if (s.kind === "video") out.video += s.framesDecoded || 0;
        if (s.kind === "audio") out.audio += s.totalSamplesReceived || 0;
      }
    }
    if ((out.video > 0 && out.audio > 0) || Date.now() > until) return out;
    await new Promise((r) => setTimeout(r, 200));  // a condition polled until the deadline
  }
}
"""


async def tile_ids(page: Page) -> list[str]:
    ids: list[str] = await page.evaluate("window.sabaq.tiles.map((t) => t.id)")
    return ids


@pytest.mark.timeout(120)
async def test_media_comes_back_after_the_server_closes_a_connection(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    pages = harness_pages(playwright, chromium_path, demo_data, tmp_path)
    async with pages as (teacher_page, pupil_page, teacher, pupils):
        sent: dict[str, Any] = await teacher_page.evaluate(
            ENTER,
            {
                "login": teacher[0],
                "password": teacher[1],
                "roomId": None,
                "publish": ["camera", "mic"],
            },
        )
        assert sent["publishing"] == [True, True]
        entered = {"login": pupils[0][0], "password": pupils[0][1], "publish": []}
        await pupil_page.evaluate(ENTER, {**entered, "roomId": sent["roomId"]})
        got: dict[str, Any] = await pupil_page.evaluate(
            FRESH_MEDIA, {"old": [], "deadlineMs": 30_000}
        )
        assert got["video"] > 0 and got["audio"] > 0, got

        # The pupil's subscribe connection ends: media_start on a new one, same tiles.
        before = await tile_ids(pupil_page)
        await pupil_page.evaluate(CLOSE, "down")
        got = await pupil_page.evaluate(FRESH_MEDIA, {"old": before, "deadlineMs": 30_000})
        assert got["video"] > 0 and got["audio"] > 0, got
        assert got["sameConnection"] is False and got["errors"] == [], got

        # The teacher's publish connection ends: it publishes again on a new one and
        # the pupil decodes the new producers on its current connection.
        before = await tile_ids(pupil_page)
        await teacher_page.evaluate(CLOSE, "up")
        got = await pupil_page.evaluate(FRESH_MEDIA, {"old": before, "deadlineMs": 30_000})
        assert got["video"] > 0 and got["audio"] > 0, got
        assert got["errors"] == [], got
        teacher_state = await teacher_page.evaluate(
            """() => ({camera: window.sabaq.media.publishing("camera"),
                       mic: window.sabaq.media.publishing("mic"),
                       renewed: window.sabaq.media.up !== window.__closed,
                       errors: window.sabaq.errors})"""
        )
        assert teacher_state == {
            "camera": True,
            "mic": True,
            "renewed": True,
            "errors": [],
        }, teacher_state
