"""Chromium through the SFU on a lossy link, and several browsers publishing at once.

As in test_media.py: every browser and the server in a test-made network namespace.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Playwright, expect

from tests.e2e.netns import drop_incoming_udp
from tests.e2e.test_media import ENTER, harness_browsers, playwright, room_in_netns

pytestmark = pytest.mark.e2e
__all__ = ["playwright"]  # the fixture, shared with test_media.py

# Runs in a page: the video counters of its publish (up) and subscribe (down) connections,
# summed over streams, plus per-track decoded frames.
VIDEO_COUNTERS = """
async () => {
  const out = {encoded: 0, nacksReceived: 0, resent: 0, decoded: 0, nacksSent: 0,
    resentReceived: 0, lost: 0, decodedByTrack: {}};
  const media = window.sabaq.media;
  for (const pc of [media.up, media.down]) {
    if (!pc) continue;
    for (const s of (await pc.getStats()).values()) {
      if (s.kind !== "video") continue;
      if (s.type === "outbound-rtp") {
        // The camera is simulcast: each encoding encodes the same frames; the pupil gets one.
        out.encoded = Math.max(out.encoded, s.framesEncoded || 0);
        out.nacksReceived += s.nackCount || 0;
        out.resent += s.retransmittedPacketsSent || 0;
      }
      if (s.type === "inbound-rtp") {
        out.decoded += s.framesDecoded || 0;
        out.nacksSent += s.nackCount || 0;
        out.resentReceived += s.retransmittedPacketsReceived || 0;
        out.lost += s.packetsLost || 0;
        out.decodedByTrack[s.trackIdentifier] = s.framesDecoded || 0;
      }
    }
  }
  return out;
}
"""

# Runs in a page: wait until its tiles are exactly `expected` (sorted "source/kind" of each
# tile) and every remote video track among them has decoded frames and every audio track
# received samples.
TILES_PLAYING = """
async ({expected, deadlineMs}) => {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const tiles = window.sabaq.tiles;
    const out = {tiles: tiles.map((t) => t.source + "/" + t.kind).sort(),
      owners: [...new Set(tiles.map((t) => t.participantId))].sort(), playing: 0,
      errors: window.sabaq.errors};
    const pc = window.sabaq.media.down;
    const matched = JSON.stringify(out.tiles) === JSON.stringify(expected);
    if (pc && matched) {
      const tracks = new Set(tiles.map((t) => t.track.id));
      for (const s of (await pc.getStats()).values()) {
        if (s.type !== "inbound-rtp" || !tracks.has(s.trackIdentifier)) continue;
        if ((s.kind === "video" && s.framesDecoded > 0) ||
            (s.kind === "audio" && s.totalSamplesReceived > 0)) out.playing += 1;
      }
    }
    if ((matched && out.playing === expected.length) || Date.now() > until) return out;
    await new Promise((r) => setTimeout(r, 200));  // a condition polled until the deadline
  }
}
"""


async def video_counters(page: Page) -> dict[str, Any]:
    counters: dict[str, Any] = await page.evaluate(VIDEO_COUNTERS)
    return counters


async def enter(
    page: Page, account: tuple[str, str], room_id: str | None, publish: list[str]
) -> dict[str, Any]:
    login, password = account
    joined: dict[str, Any] = await page.evaluate(
        ENTER, {"login": login, "password": password, "roomId": room_id, "publish": publish}
    )
    assert joined["status"] == "joined", joined
    return joined


@pytest.mark.timeout(120)
async def test_five_percent_loss_is_repaired_by_retransmission(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """With 5 % of all UDP lost both ways, the server NACKs the teacher's browser (which resends
    as RTX), answers the pupil's NACKs from its history as RTX, and the pupil decodes about
    every frame the teacher encodes. Without retransmission each loss would wait for a
    keyframe and the pupil would decode far fewer."""
    browsers = harness_browsers(playwright, chromium_path, demo_data, tmp_path)
    async with browsers as h:
        teacher, pupil = h.pages
        sent = await enter(teacher, h.teacher, None, ["camera"])
        await enter(pupil, h.pupils[0], sent["roomId"], [])
        playing = await pupil.evaluate(
            TILES_PLAYING, {"expected": ["camera/video"], "deadlineMs": 30_000}
        )
        assert playing["playing"] == 1, playing

        drop_incoming_udp(h.ns, 0.05)
        sent0, got0 = await video_counters(teacher), await video_counters(pupil)
        # Measure over ~300 encoded frames (about 10 s at the fake camera's 30 fps).
        async with asyncio.timeout(60):
            while (await video_counters(teacher))["encoded"] - sent0["encoded"] < 300:
                await teacher.wait_for_timeout(250)  # a condition polled until the deadline
        sent1, got1 = await video_counters(teacher), await video_counters(pupil)

        def grew(before: dict[str, Any], after: dict[str, Any], key: str) -> int:
            return int(after[key] - before[key])

        report = {
            key: grew(before, after, key)
            for before, after, keys in (
                (sent0, sent1, ("encoded", "nacksReceived", "resent")),
                (got0, got1, ("decoded", "nacksSent", "resentReceived", "lost")),
            )
            for key in keys
        }
        # Loss happened on both legs and each was repaired by resending.
        assert report["lost"] > 0, report
        assert report["nacksReceived"] > 0 and report["resent"] > 0, report  # server → teacher
        assert report["nacksSent"] > 0 and report["resentReceived"] > 0, report  # pupil → server
        # The pupil's counters are read a moment after the teacher's: allow a few frames in
        # flight besides the 10 % margin.
        assert report["decoded"] >= 0.9 * report["encoded"] - 5, report


@pytest.mark.timeout(150)
async def test_two_publishers_reach_everyone_and_a_revoked_one_leaves_cleanly(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """Teacher and a pupil granted mic and camera publish at once; a third browser plays all
    four tracks, each publisher plays the other's. Revoking the pupil's rights removes only
    that pupil's tiles everywhere, and the teacher's video keeps playing on the same
    connection (renegotiated, not rebuilt)."""
    browsers = harness_browsers(playwright, chromium_path, demo_data, tmp_path, count=3)
    async with browsers as h:
        teacher, speaker, listener = h.pages
        sent = await enter(teacher, h.teacher, None, ["camera", "mic"])
        room_id = sent["roomId"]
        speaker_id = (await enter(speaker, h.pupils[0], room_id, []))["you"]["id"]
        await enter(listener, h.pupils[1], room_id, [])
        granted = await teacher.evaluate(
            "(id) => window.sabaq.connection.rightsGrant(id, true, true, null).then(() => 'ok')",
            speaker_id,
        )
        assert granted == "ok"
        for source in ("camera", "mic"):
            on = await speaker.evaluate(
                "(s) => window.sabaq.media.setPublishing(s, true).then("
                "() => window.sabaq.media.publishing(s))",
                source,
            )
            assert on is True, source

        one = ["camera/video", "mic/audio"]  # one person's tiles
        everything = await listener.evaluate(
            TILES_PLAYING, {"expected": sorted(one * 2), "deadlineMs": 40_000}
        )
        assert everything["playing"] == 4 and len(everything["owners"]) == 2, everything
        for page in (teacher, speaker):
            other = await page.evaluate(TILES_PLAYING, {"expected": one, "deadlineMs": 30_000})
            assert other["playing"] == 2, other
        down_before = await listener.evaluate("window.__down = window.sabaq.media.down, 1")
        assert down_before == 1

        revoked = await teacher.evaluate(
            "(id) => window.sabaq.connection.rightsRevoke(id).then(() => 'ok')", speaker_id
        )
        assert revoked == "ok"
        for page in (teacher, listener):
            left = await page.evaluate(
                TILES_PLAYING,
                {"expected": [] if page is teacher else one, "deadlineMs": 30_000},
            )
            assert left["tiles"] == ([] if page is teacher else one), left
        # The speaker's page hears of it by its own media_closed, maybe after the others.
        await speaker.wait_for_function(
            "() => ['camera', 'mic'].every((s) => !window.sabaq.media.publishing(s))",
            timeout=10_000,
        )
        # Same subscribe connection, and the teacher's video still advancing on it.
        assert await listener.evaluate("window.sabaq.media.down === window.__down") is True
        before = (await video_counters(listener))["decoded"]
        async with asyncio.timeout(20):
            while (await video_counters(listener))["decoded"] < before + 30:
                await listener.wait_for_timeout(200)  # a condition polled until the deadline


@pytest.mark.timeout(120)
async def test_everyone_sees_their_connection_and_the_host_sees_each_pupils(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """The room page reads its own WebRTC statistics: a pupil sees "Connection good" with the
    delay on a clean link, and the host sees the pupil's reading in the participant list. When
    a quarter of the UDP datagrams are lost, both change to fair or poor."""
    room = room_in_netns(playwright, chromium_path, demo_data, tmp_path, "Geography 7A")
    async with room as (host, pupil, ns):
        for source in ("camera", "mic"):
            await host.get_by_test_id(f"publish-{source}").click()
        await expect(pupil.get_by_test_id("tile")).to_have_count(2, timeout=20_000)
        mine = pupil.get_by_test_id("quality")
        await expect(mine).to_have_attribute("data-level", "good", timeout=15_000)
        await expect(mine).to_contain_text(
            re.compile(r"^Connection good · delay ≈ \d+ ms · loss 0 %$")
        )
        name = (await pupil.locator("#you-name").text_content() or "").strip()
        assert name
        row = host.locator("#participants li", has_text=name)
        theirs = row.locator("[data-quality-for]")
        # Readings go to the server on a change of level and every 10 s.
        await expect(theirs).to_have_text(re.compile(r"^Connection good · \d+ ms$"), timeout=15_000)
        await expect(pupil.locator("#participants [data-quality-for]")).to_have_count(0)
        # The host's view: the pupil's real figures from Chromium's statistics (linkstats.js),
        # receiving the teacher's camera and sound: bitrate in, the picture's height, no loss.
        await host.locator("#connections-panel > summary").click()
        figures = host.locator("#connections > li", has_text=name).locator(".connection-figures")
        await expect(figures).to_have_text(
            re.compile(
                r"^delay \d+ ms · round trip \d+ ms · loss 0 % · jitter \d+ ms · "
                r"in [1-9]\d* kbit/s · out \d+ kbit/s · video [1-9]\d*p$"
            ),
            timeout=15_000,
        )

        drop_incoming_udp(ns, 0.25)
        await expect(mine).to_have_attribute("data-level", re.compile("fair|poor"), timeout=20_000)
        await expect(mine).to_contain_text(re.compile(r"loss [1-9]"))
        await expect(theirs).to_have_text(
            re.compile(r"^Connection (fair|poor) · \d+ ms · loss [\d.]+ %$"), timeout=20_000
        )
        await expect(pupil.locator("#status")).to_contain_text(
            re.compile("Your connection is now (fair|poor)"), timeout=10_000
        )


# Runs in a page: what its browser learnt from RTCP — round trips measured from the server's
# receiver reports (remote-inbound-rtp), sender reports received (remote-outbound-rtp) — per kind.
REPORTS = """
async () => {
  const out = {rtt: {}, sr: {}, srClockMs: {}, now: Date.now()};
  for (const pc of [window.sabaq.media.up, window.sabaq.media.down]) {
    if (!pc) continue;
    for (const s of (await pc.getStats()).values()) {
      if (s.type === "remote-inbound-rtp") out.rtt[s.kind] = s.roundTripTimeMeasurements || 0;
      if (s.type === "remote-outbound-rtp") {
        out.sr[s.kind] = s.reportsSent || 0;
        out.srClockMs[s.kind] = s.remoteTimestamp || 0;
      }
    }
  }
  return out;
}
"""


@pytest.mark.timeout(90)
async def test_rtcp_reports_give_browsers_round_trips_and_the_publishers_clock(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """The teacher's browser measures round trips from the server's receiver reports; the
    pupil's gets sender reports carrying the teacher's wall clock (what lip sync needs), not
    the zeros aiortc's idle sender would send."""
    browsers = harness_browsers(playwright, chromium_path, demo_data, tmp_path)
    async with browsers as h:
        teacher, pupil = h.pages
        sent = await enter(teacher, h.teacher, None, ["camera", "mic"])
        await enter(pupil, h.pupils[0], sent["roomId"], [])
        async with asyncio.timeout(30):
            while True:  # a condition polled until the deadline
                up, down = await teacher.evaluate(REPORTS), await pupil.evaluate(REPORTS)
                kinds = ("audio", "video")
                if all(up["rtt"].get(k, 0) > 1 and down["sr"].get(k, 0) > 1 for k in kinds):
                    break
                await pupil.wait_for_timeout(250)
        for kind in kinds:
            # NTP time of the teacher's machine (the same machine here), as Unix milliseconds.
            assert abs(down["srClockMs"][kind] - down["now"]) < 30_000, (kind, down)


@pytest.mark.timeout(120)
async def test_the_speakers_tiles_are_marked(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """Chromium's fake microphone beeps: the pupil's page marks the host's tiles as speaking
    (outline and the word), and unmarks them once the host's microphone is off."""
    room = room_in_netns(playwright, chromium_path, demo_data, tmp_path, "Music 7A")
    async with room as (host, pupil, _):
        camera = host.get_by_test_id("publish-camera")
        await camera.click()
        tiles = pupil.get_by_test_id("tile")
        await expect(tiles).to_have_count(1, timeout=20_000)
        await expect(tiles).to_have_attribute("data-speaking", "false")
        mic = host.get_by_test_id("publish-mic")
        await mic.click()
        await expect(tiles).to_have_count(2, timeout=20_000)
        speaking = pupil.locator('[data-testid="tile"][data-speaking="true"]')
        await expect(speaking).to_have_count(2, timeout=15_000)  # the host's camera and sound
        await expect(speaking.first.locator(".tile-speaking-mark")).to_have_text(" · speaking")
        await expect(speaking.first.locator(".tile-speaking-mark")).to_be_visible()
        await mic.click()
        await expect(mic).to_have_attribute("aria-pressed", "false")
        await expect(tiles).to_have_count(1, timeout=20_000)
        await expect(tiles).to_have_attribute("data-speaking", "false", timeout=10_000)
        await expect(tiles.locator(".tile-speaking-mark")).to_be_hidden()


@pytest.mark.timeout(120)
async def test_the_host_sees_their_own_camera_and_screen(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """A preview of what one sends, camera mirrored as people expect; gone when it stops."""
    room = room_in_netns(playwright, chromium_path, demo_data, tmp_path, "Art 7A")
    async with room as (host, pupil, _):
        own = host.get_by_test_id("self-tile")
        for source in ("camera", "screen"):
            await host.get_by_test_id(f"publish-{source}").click()
        await expect(own).to_have_count(2, timeout=20_000)
        # The screen is on the stage with the camera beside it (stage.js), wherever in the page.
        camera = host.locator('[data-testid="self-tile"][data-source="camera"]')
        screen = host.locator('[data-testid="self-tile"][data-source="screen"]')
        await expect(camera).to_have_attribute("aria-label", "You: camera")
        await expect(screen).to_have_attribute("aria-label", "You: screen")
        # Each preview plays (has a picture), and how it is drawn.
        playing = """(box) => ["camera", "screen"].map((source) => {
            const v = box.querySelector(`[data-source="${source}"] video`);
            return [v.videoWidth > 0 && !v.paused, getComputedStyle(v).transform]; })"""
        await host.wait_for_function(
            f"() => ({playing})(document.getElementById('stage')).every(([on]) => on)",
            timeout=10_000,
        )
        looks = await host.locator("#stage").evaluate(playing)
        assert [on for on, _ in looks] == [True, True]
        assert looks[0][1].startswith("matrix(-1") and not looks[1][1].startswith("matrix(-1")
        # Others' pages show the host's tiles, never a preview of their own.
        await expect(pupil.get_by_test_id("tile")).to_have_count(2, timeout=20_000)
        await expect(pupil.get_by_test_id("self-tile")).to_have_count(0)
        await host.get_by_test_id("publish-camera").click()
        await expect(own).to_have_count(1)
        await expect(own).to_have_attribute("data-source", "screen")


# Runs in a room page that kept its peer connections: bytes of video, packets of sound and
# decoded video frames received so far.
RECEIVED_SO_FAR = """
async () => {
  const out = {videoBytes: 0, audioPackets: 0, frames: 0};
  for (const pc of window.__pcs) {
    for (const s of (await pc.getStats()).values()) {
      if (s.type !== "inbound-rtp") continue;
      if (s.kind === "video") {
        out.videoBytes += s.bytesReceived || 0;
        out.frames += s.framesDecoded || 0;
      } else {
        out.audioPackets += s.packetsReceived || 0;
      }
    }
  }
  return out;
}
"""


@pytest.mark.timeout(120)
async def test_a_pupil_turns_others_cameras_off_to_save_data(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """The pupil's button stops the camera video at the server (no bytes arrive) while the
    sound goes on; turned on again, the camera plays again."""
    room = room_in_netns(playwright, chromium_path, demo_data, tmp_path, "Physics 7A")
    async with room as (host, pupil, _):
        for source in ("camera", "mic"):
            await host.get_by_test_id(f"publish-{source}").click()
        tiles = pupil.get_by_test_id("tile")
        await expect(tiles).to_have_count(2, timeout=20_000)
        camera = pupil.locator('[data-testid="tile"][data-source="camera"]')
        button = pupil.get_by_test_id("cameras-off")
        await pupil.get_by_role("button", name="More").click()  # the toolbar's menu
        await expect(button).to_have_text("Others' cameras off (saves data)")
        await expect(button).to_have_attribute("aria-pressed", "false")

        async def received_until(done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
            """The page's counters once done(counters) holds (getStats() is a promise, which
            wait_for_function would take for a truthy value)."""
            async with asyncio.timeout(15):
                while True:  # a condition polled until the deadline
                    now: dict[str, Any] = await pupil.evaluate(RECEIVED_SO_FAR)
                    if done(now):
                        return now
                    await pupil.wait_for_timeout(100)

        await received_until(lambda r: r["frames"] > 10)
        await button.click()
        await expect(button).to_have_attribute("aria-pressed", "true")
        await expect(camera).to_have_attribute("data-paused", "true")
        await expect(camera.locator(".tile-paused-mark")).to_be_visible()
        await expect(pupil.locator("#status")).to_contain_text("Others' cameras are off.")
        # Let what was on the way land (25 packets of sound, half a second), then count over
        # the next 100 (2 s): sound, but no video.
        landed = await pupil.evaluate(RECEIVED_SO_FAR)
        before = await received_until(lambda r: r["audioPackets"] >= landed["audioPackets"] + 25)
        after = await received_until(lambda r: r["audioPackets"] >= before["audioPackets"] + 100)
        assert after["videoBytes"] - before["videoBytes"] < 2_000, (before, after)
        await button.click()
        await expect(button).to_have_attribute("aria-pressed", "false")
        await expect(camera).to_have_attribute("data-paused", "false")
        await received_until(lambda r: r["frames"] >= after["frames"] + 30)
