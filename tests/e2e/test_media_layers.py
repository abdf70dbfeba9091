"""Simulcast through the SFU in Chromium: a pupil on a 300 kbit/s link gets the low layer
without freezing while another pupil keeps the high one.

Server and browsers run in a test-made network namespace with only `lo` (as test_media.py);
the slow link is bench.glass's shaper (`bench/_shaper.py`: tc HTB at 300 kbit/s with a 200 ms
queue, as a real narrow line) on the UDP port the limited pupil's browser receives media on,
found from its getStats() selected candidate pair.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Playwright, ViewportSize, expect

from bench._shaper import Line, limited
from tests.e2e.conftest import artifacts
from tests.e2e.flows import open_panel, text
from tests.e2e.netns import NetNs
from tests.e2e.test_accessibility import axe_violations
from tests.e2e.test_media import harness_browsers, playwright, room_in_netns
from tests.e2e.test_media_network import enter

pytestmark = pytest.mark.e2e
__all__ = ["playwright"]  # the fixture, shared with test_media.py

# Runs in the teacher's page: per RID, the frames its browser encoded, their height and the
# encoder's target (kbit/s); and the browser's estimate of its uplink (kbit/s).
SENT_LAYERS = """
async () => {
  const out = {};
  for (const s of (await window.sabaq.media.up.getStats()).values()) {
    if (s.type === "outbound-rtp" && s.kind === "video") {
      out[s.rid || "-"] = {frames: s.framesEncoded || 0, height: s.frameHeight || 0,
        active: s.active, targetKbps: Math.round((s.targetBitrate || 0) / 1000)};
    }
    if (s.type === "candidate-pair" && s.nominated && s.availableOutgoingBitrate)
      out.availableKbps = Math.round(s.availableOutgoingBitrate / 1000);
  }
  return out;
}
"""

# Runs in a pupil's page: the local UDP port of its subscribe connection's selected pair.
RECEIVE_PORT = """
async () => {
  const stats = await window.sabaq.media.down.getStats();
  for (const s of stats.values()) {
    if (s.type === "transport" && s.selectedCandidatePairId) {
      const pair = stats.get(s.selectedCandidatePairId);
      return stats.get(pair.localCandidateId).port;
    }
  }
  return null;
}
"""

# Runs in a pupil's page: watch the camera's inbound video for `ms`, polling getStats every
# 100 ms. Reports the heights decoded, the longest stretch without a newly decoded frame after
# the picture first got `atMost` tall (or from the start, if atMost is null), and when that
# happened (ms after the start; null if never).
WATCH_VIDEO = """
async ({ms, atMost}) => {
  const start = performance.now();
  const out = {heights: [], reachedAt: null, longestGapMs: 0, frames: 0, audioSamples: 0};
  let lastFrames = null, lastChange = null;
  while (performance.now() - start < ms) {
    let video = null, audio = 0;
    for (const s of (await window.sabaq.media.down.getStats()).values()) {
      if (s.type !== "inbound-rtp") continue;
      if (s.kind === "video") video = s;
      if (s.kind === "audio") audio += s.totalSamplesReceived || 0;
    }
    const now = performance.now();
    out.audioSamples = audio;
    if (video && video.frameHeight) {
      if (out.heights[out.heights.length - 1] !== video.frameHeight)
        out.heights.push(video.frameHeight);
      if (out.reachedAt === null && (atMost === null || video.frameHeight <= atMost)) {
        out.reachedAt = Math.round(now - start);
        lastFrames = video.framesDecoded;
        lastChange = now;
      }
      if (out.reachedAt !== null) {
        if (video.framesDecoded !== lastFrames) {
          out.longestGapMs = Math.max(out.longestGapMs, Math.round(now - lastChange));
          lastFrames = video.framesDecoded;
          lastChange = now;
          out.frames += 1;
        }
      }
    }
    await new Promise((r) => setTimeout(r, 100));  // sampling period of the measurement
  }
  if (lastChange !== null)
    out.longestGapMs = Math.max(out.longestGapMs, Math.round(performance.now() - lastChange));
  return out;
}
"""


# Runs in the teacher's page: whether it sends two or more encodings with a RID (the camera's
# layers; a screen share is one encoding without), one `top` lines tall, each with an encoder
# target: Chromium encodes a layer's first frames before its bandwidth allocation turns the
# layer off, so frames alone do not say the top layer is being sent.
SENDING_LAYERS = """
async (top) => {
  const heights = [];
  for (const s of (await window.sabaq.media.up.getStats()).values())
    if (s.type === "outbound-rtp" && s.kind === "video" && s.rid && s.framesEncoded > 0 &&
        s.targetBitrate > 0)
      heights.push(s.frameHeight);
  return heights.length >= 2 && Math.max(...heights) === top;
}
"""

# Runs in a pupil's page: whether the camera it receives is `top` lines tall.
RECEIVING_HEIGHT = """
async (top) => {
  for (const s of (await window.sabaq.media.down.getStats()).values())
    if (s.type === "inbound-rtp" && s.kind === "video") return s.frameHeight === top;
  return false;
}
"""


async def until(page: Page, predicate: str, arg: Any, timeout_s: float = 30) -> None:
    """Evaluate `predicate(arg)` in the page until it is true (page.wait_for_function would
    take an async predicate's promise for true at once)."""
    async with asyncio.timeout(timeout_s):
        while not await page.evaluate(predicate, arg):  # a condition polled until the deadline
            await page.wait_for_timeout(250)


def limit_udp_port(ns: NetNs, port: int, kbit_per_s: int) -> None:
    """Police UDP datagrams to `port` inside the namespace to about `kbit_per_s` (what exceeds
    it is dropped, as a full mobile link would), with a burst of about one second."""
    iptables = shutil.which("iptables-legacy") or "/usr/sbin/iptables-legacy"
    if not Path(iptables).exists():
        pytest.fail("iptables-legacy is missing: scripts/install installs Debian's iptables")
    kbytes = max(1, kbit_per_s // 8)
    rule = [
        *("-p", "udp", "--dport", str(port), "-m", "hashlimit"),
        *("--hashlimit-above", f"{kbytes}kb/s", "--hashlimit-burst", f"{kbytes + 1}kb"),
        *("--hashlimit-mode", "dstport", "--hashlimit-name", f"sabaq{port}"),
    ]
    subprocess.run(ns.command(iptables, "-A", "INPUT", *rule, "-j", "DROP"), check=True)


async def sent_layers(page: Page) -> dict[str, Any]:
    layers: dict[str, Any] = await page.evaluate(SENT_LAYERS)
    return layers


@pytest.mark.timeout(180)
async def test_a_pupil_on_a_slow_link_gets_the_low_layer_and_the_others_keep_the_high_one(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """On a shaped 300 kbit/s line the pupil moves to the low layer within seconds and then
    plays it for 20 s with no layer switch and no gap over 500 ms: the server goes up only
    after a probe showed the line carries the high layer (the loss rule before it tried the
    high layer blindly after 8 s clean, filled the line's queue and froze the picture for
    0.4-3.2 s each time)."""
    browsers = harness_browsers(playwright, chromium_path, demo_data, tmp_path, count=3)
    async with browsers as h:
        teacher, slow, fast = h.pages
        sent = await enter(teacher, h.teacher, None, ["camera", "mic"])
        for page, account in ((slow, h.pupils[0]), (fast, h.pupils[1])):
            await enter(page, account, sent["roomId"], [])
        # The teacher's browser sends several encodings, the top one at the camera's size
        # (Chromium starts the top one once its bandwidth estimate has grown).
        top = await teacher.evaluate(
            "window.sabaq.media.localTracks().find((t) => t.source === 'camera')"
            ".track.getSettings().height"
        )
        await until(teacher, SENDING_LAYERS, top)
        for page in (slow, fast):
            await until(page, RECEIVING_HEIGHT, top)

        port = await slow.evaluate(RECEIVE_PORT)
        assert isinstance(port, int), port
        with limited(h.ns.name, port, Line(kbps=300, queue_ms=200)):
            # The slow pupil's picture shrinks to a lower layer within seconds ...
            reached = await slow.evaluate(WATCH_VIDEO, {"ms": 8000, "atMost": top // 2})
            assert reached["reachedAt"] is not None, reached
            # ... and keeps playing it, while the other pupil keeps the full picture; and
            # nobody's layer moves (the loss rule tried the high layer again after 8 s).
            switched = await layer_switches(fast)
            watched, others = await asyncio.gather(
                slow.evaluate(WATCH_VIDEO, {"ms": 20_000, "atMost": top // 2}),
                fast.evaluate(WATCH_VIDEO, {"ms": 20_000, "atMost": None}),
            )
            switched = await layer_switches(fast) - switched
        report = {"reached": reached, "slow": watched, "fast": others, "switches": switched}
        report["sent"] = await sent_layers(teacher)
        print(report)  # the figures, shown with pytest -rP
        assert watched["reachedAt"] is not None and watched["reachedAt"] < 1000, report
        assert watched["frames"] >= 100, report  # decoding on, not a still picture
        assert switched == 0, report  # no blind try of the high layer, no false move down
        # No freeze on the low layer. Bound: the unlimited pupil itself shows gaps of 300 ms on
        # this machine at load 13-20 (its rendering starved); the loss rule's tries gave
        # 0.8-3.2 s.
        assert watched["longestGapMs"] <= 500, report
        assert max(watched["heights"]) <= top // 2, report  # never back up on this line
        assert watched["audioSamples"] > 0, report
        # The other pupil still gets the full picture.
        assert others["heights"] == [top] and others["longestGapMs"] <= 1000, report
        # Operators see the switch down (/metrics answers loopback without a token).
        assert await layer_switches(fast) >= 1


async def layer_switches(page: Page) -> float:
    """The server's count of layer switches, all viewers (/metrics answers loopback)."""
    metrics = await page.evaluate("fetch('/metrics').then((r) => r.text())")
    switches = re.search(r"^sabaq_media_layer_switches_total (\S+)$", metrics, re.M)
    assert switches is not None, metrics[-2000:]
    return float(switches.group(1))


# Runs in the pupil's page: frames decoded and picture height per tile source (none before the
# server's first offer made the subscribe connection).
DECODED_BY_SOURCE = """
async () => {
  const bySource = {};
  if (!window.sabaq.media.down) return bySource;
  const stats = await window.sabaq.media.down.getStats();
  for (const t of window.sabaq.tiles) {
    if (t.kind !== "video") continue;
    for (const s of stats.values()) {
      if (s.type === "inbound-rtp" && s.trackIdentifier === t.track.id)
        bySource[t.source] = {frames: s.framesDecoded || 0, height: s.frameHeight || 0};
    }
  }
  return bySource;
}
"""


@pytest.mark.timeout(180)
async def test_a_simulcast_camera_after_a_screen_share_reaches_the_pupil(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """The camera's layers are not signalled by SSRC; with a screen share's video m-line already
    there, aiortc's payload-type routing cannot tell which m-line a new SSRC belongs to. The
    server places them by MID and RID: the pupil decodes both, the camera at full size. The
    pupil is in the room first, as in a lesson: the server is then busy offering the pupil
    each new track while the teacher's browser probes its line."""
    browsers = harness_browsers(playwright, chromium_path, demo_data, tmp_path)
    async with browsers as h:
        teacher, pupil = h.pages
        sent = await enter(teacher, h.teacher, None, [])
        await enter(pupil, h.pupils[0], sent["roomId"], [])
        for source in ("screen", "camera"):
            await teacher.evaluate("(s) => window.sabaq.media.setPublishing(s, true)", source)
        top = await teacher.evaluate(
            "window.sabaq.media.localTracks().find((t) => t.source === 'camera')"
            ".track.getSettings().height"
        )
        try:
            # Chromium enables the top layer once its estimate of the line, shared with the
            # screen share's 720p stream, has room for it. Its start-up probes put the estimate
            # at the line's capacity within a second when our transport feedback reports them
            # (docs/media.md, "The start-up ramp": 0.03-0.3 s measured); before, it grew ~8 %/s
            # from 300 kbit/s and the top layer came after 11-30+ s.
            await until(teacher, SENDING_LAYERS, top, timeout_s=10)
        except TimeoutError:
            pytest.fail(f"the camera's top layer is not sent: {await sent_layers(teacher)}")
        got: dict[str, Any] = {}
        async with asyncio.timeout(30):
            while True:  # a condition polled until the deadline
                got = await pupil.evaluate(DECODED_BY_SOURCE)
                camera, screen = got.get("camera", {}), got.get("screen", {})
                if camera.get("height") == top and screen.get("frames", 0) >= 10:
                    break
                await pupil.wait_for_timeout(250)
        assert got["camera"]["frames"] > 0, got


# Runs in a pupil's room page (its peer connections kept by test_media's init script): the local
# UDP port of the connection that receives video, and the height of that video.
ROOM_RECEIVE = """
async () => {
  for (const pc of window.__pcs) {
    const stats = await pc.getStats();
    let height = 0, port = null;
    for (const s of stats.values()) {
      if (s.type === "inbound-rtp" && s.kind === "video") height = s.frameHeight || 0;
      if (s.type === "transport" && s.selectedCandidatePairId) {
        const pair = stats.get(s.selectedCandidatePairId);
        port = stats.get(pair.localCandidateId).port;
      }
    }
    if (height) return {port, height};
  }
  return {port: null, height: 0};
}
"""

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}


async def show_row(page: Page) -> None:
    # At once, in the page: the list is redrawn every second, so a locator's wait for a
    # stable element can meet a row that has just been replaced.
    await page.evaluate("document.querySelector('#connections > li').scrollIntoView()")


def layer_line(lang: str, layer: str, height: int, why: str) -> str:
    """The host's view's sentence about the host's own camera as one pupil gets it."""
    return text(
        "connections.layer_entry",
        lang,
        video=text("connections.video_your_camera", lang),
        layer=text("connections.layer_size", lang, layer=text(layer, lang), height=height),
        why=text(why, lang),
    )


@pytest.mark.timeout(180)
async def test_the_hosts_view_says_which_layer_a_pupil_gets_and_that_the_line_limits_it(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path, axe_source: Path
) -> None:
    """Issue 14's "layer received": the real room pages, the teacher's camera in layers. The
    host's view says, from the server, which layer the pupil is forwarded — the high one, then,
    with the pupil's line policed to 300 kbit/s, the low one held there by the line — in words,
    in a list named for the pupil. (The page's own "video 480p" is the picture decoded: it cannot
    tell the line from a publisher that sends no more.)"""
    room = room_in_netns(
        playwright, chromium_path, demo_data, tmp_path, "Physics 9A", host_bypass_csp=True
    )
    async with room as (host, pupil, ns):
        await host.set_viewport_size(DESKTOP)
        for source in ("camera", "mic"):
            button = host.get_by_test_id(f"publish-{source}")
            await button.click()
            await expect(button).to_have_attribute("aria-pressed", "true")
        top = await host.evaluate(
            "navigator.mediaDevices.getUserMedia({video: true})"
            ".then((s) => { const h = s.getVideoTracks()[0].getSettings().height;"
            " s.getTracks().forEach((t) => t.stop()); return h; })"
        )
        await open_panel(host, "people")
        section = host.locator("#connections-panel")
        await section.locator("summary").focus()
        await host.keyboard.press("Enter")
        await expect(section).to_have_attribute("open", "")
        row = section.locator("#connections > li")
        await expect(row).to_have_count(1)
        layers = row.locator("ul.connection-layers")
        pupil_name = (await row.locator(".person-name").text_content()) or ""
        await expect(layers).to_have_attribute(
            "aria-label", text("connections.layers_label", name=pupil_name)
        )
        # Chromium turns the camera's top layer on once its estimate of the line has grown.
        high = layer_line("en", "connections.layer_high", top, "connections.layer_best")
        await expect(layers.locator("li")).to_have_text([high], timeout=45_000)
        await expect(layers.locator("li")).to_have_attribute("data-limit", "none")

        got: dict[str, Any] = await pupil.evaluate(ROOM_RECEIVE)
        assert isinstance(got["port"], int) and got["height"] == top, got
        limit_udp_port(ns, got["port"], 300)
        # Within seconds the server forwards the pupil the low layer; the host is told why.
        low = layer_line("en", "connections.layer_low", top // 2, "connections.layer_line")
        await expect(layers.locator("li")).to_have_text([low], timeout=30_000)
        await expect(layers.locator("li")).to_have_attribute("data-limit", "line")

        problems = await axe_violations(host, axe_source)
        assert problems == [], problems
        shots = artifacts("quality")
        await show_row(host)
        await host.screenshot(path=str(shots / "host-view-layer-desktop-en.png"))
        for lang in ("ru", "kk"):
            await host.locator("#lang").select_option(lang)
            await expect(layers.locator("li")).to_have_text(
                [layer_line(lang, "connections.layer_low", top // 2, "connections.layer_line")]
            )
            await host.screenshot(path=str(shots / f"host-view-layer-desktop-{lang}.png"))
        await host.set_viewport_size(PHONE)
        await expect(host.locator("#side")).to_be_hidden()
        await open_panel(host, "people")
        for lang in ("kk", "ru", "en"):
            await host.locator("#lang").select_option(lang)
            await expect(host.locator("#connections-title")).to_have_text(
                text("connections.title", lang)
            )
            await show_row(host)
            await host.screenshot(path=str(shots / f"host-view-layer-phone-{lang}.png"))
        problems = await axe_violations(host, axe_source)
        assert problems == [], problems
