"""Glass-to-glass benchmark: `python -m bench.glass --seconds S [--loss PCT] [--limit-kbps K]`.

What a pupil sees, measured on the picture itself. Everything runs in a network namespace this
benchmark makes, with only `lo` up (root needed; WebRTC must stay on loopback), deleted on every
path: a Sabaq server (a fresh demo school) and two Chromium processes.

- The teacher's browser publishes a canvas (`captureStream()`) instead of a camera: moving colour
  noise that needs more than 1.5 Mbit/s, and a strip at the top carrying the time it was drawn
  (0.1 ms units, 32 black/white blocks and their complement as a check).
- The pupil's browser, a separate process, reads the time back from every frame it shows
  (`requestVideoFrameCallback`): glass-to-glass = the frame's `expectedDisplayTime` minus the
  time in its picture (both browsers read the same system clock).

Phase 1 goes through Sabaq's real room page on both sides (the teacher presses the camera
button; `getUserMedia` hands it the canvas). Phase 2, the control, connects the same pair of
browsers directly (offer and answer passed by the benchmark), same pictures, same measure.
`--loss PCT` drops that share of the UDP datagrams delivered in the namespace, at random
(iptables' `statistic` match), during both measurement windows.

`--paired` adds a third window: while the room pages still run, the teacher's page also calls
the pupil's page directly with the same canvas, and the pupil's page shows both copies; each
picture shown by both is matched by the time in it. The two phases above run one after the
other, with different pages (the room's or bare ones) and encoders (the camera's simulcast or
one encoding) on a machine whose load moves by the minute; the paired window has the same
pages, load and moment for both paths, so its difference is what the path through Sabaq adds.
JSON `paired`: `glass_to_glass_ms` and `direct_ms` {p50, p95} of that window, and per picture
Sabaq's copy minus the direct one: `shown_later_ms` (on the glass) and `received_later_ms`.

Last stdout line, one JSON object: `glass_to_glass_ms` and `direct_ms` {p50, p95},
`estimated_ms` (what the pupil's page shows as its delay) and `estimate_error_ms` (its distance
from the true delay measured on the frames of the same 2 s) {p50, p95}, `join_to_first_frame_ms`
(pupil's room page opened → first frame shown), `publisher_kbps` (what the teacher's browser
sent in the window) and `target_kbps` (its encoder's target, set by congestion control),
`longest_gap_ms` between shown frames, frames and fps, for Sabaq and for the control.

`--limit-kbps K [--limit-queue-ms Q] [--picture calm]` measures something else: two pupils
through the room, the first on a K kbit/s line (a shaper with a Q ms queue), the other not; no
direct control. `--picture calm` sends a camera-like picture instead of the noise (a low
simulcast layer cannot carry moving noise at any frame rate worth having). Its JSON
(`limit_kbps`, `publisher_kbps`, `limited_viewer`, `other_viewer`, …) is described in
bench/_glass_limited.py.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from bench.join import accounts, launch, namespace, ns_command, press_enter_if_asked, server

# A canvas that stands in for the camera. The picture: 8x8-pixel cells of random colour, new
# each frame (an encoder cannot predict them, so it takes all the bitrate it is allowed), under
# a strip of 32 blocks carrying the drawing time and 32 with its complement.
SOURCE = """
(() => {
  const W = 640, H = 480, BITS = 32, BLOCK = W / BITS, STRIP = 40, CELL = 8;
  const canvas = document.createElement("canvas");
  canvas.width = W; canvas.height = H;
  const ctx = canvas.getContext("2d");
  const noise = document.createElement("canvas");
  noise.width = W / CELL; noise.height = (H - 2 * STRIP) / CELL;
  const nctx = noise.getContext("2d");
  const pixels = nctx.createImageData(noise.width, noise.height);
  const words = new Uint32Array(pixels.data.buffer);
  ctx.imageSmoothingEnabled = false;
  const stream = canvas.captureStream(30);
  let last = 0;
  // window.__glassPicture = "calm" (set before this script): a camera-like picture instead, a
  // still backdrop with one small textured thing moving across it, which a low layer can carry.
  const calm = window.__glassPicture === "calm";
  const backdrop = ctx.createLinearGradient(0, 0, W, H);
  backdrop.addColorStop(0, "#345");
  backdrop.addColorStop(1, "#cba");
  const draw = (now) => {
    requestAnimationFrame(draw);
    if (now - last < 30) return;
    last = now;
    crypto.getRandomValues(words);
    for (let i = 0; i < words.length; i++) words[i] |= 0xff000000;
    nctx.putImageData(pixels, 0, 0);
    if (calm) {
      ctx.fillStyle = backdrop;
      ctx.fillRect(0, 2 * STRIP, W, H - 2 * STRIP);
      const x = Math.round(now / 8) % (W - 96);
      ctx.drawImage(noise, 0, 0, 12, 12, x, 2 * STRIP + 120, 96, 96);
    } else {
      ctx.drawImage(noise, 0, 2 * STRIP, W, H - 2 * STRIP);
    }
    // The frame's time as Chromium gives it to this animation frame, which is what a canvas
    // capture stamps the frame with (the noise takes a few ms to make on a loaded machine).
    const stamp = Math.round((performance.timeOrigin + now) * 10) >>> 0;
    for (let b = 0; b < BITS; b++) {
      const one = (stamp >>> (BITS - 1 - b)) & 1;
      ctx.fillStyle = one ? "#fff" : "#000";
      ctx.fillRect(b * BLOCK, 0, BLOCK, STRIP);
      ctx.fillStyle = one ? "#000" : "#fff";
      ctx.fillRect(b * BLOCK, STRIP, BLOCK, STRIP);
    }
  };
  requestAnimationFrame(draw);
  window.__glassStream = stream;
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) =>
    c && c.video ? new MediaStream([window.__glassTrack()]) : real(c);
  // "detail": keep 640x480 when the encoder runs short of CPU (it would otherwise halve the
  // resolution, and Chromium caps 320x240 at 600 kbps): on a shared 2-core machine that is
  // CPU adaptation, not congestion control, which is what this measures.
  window.__glassTrack = () => {
    const track = stream.getVideoTracks()[0].clone();
    track.contentHint = "detail";
    return track;
  };
  // Keep every peer connection for getStats() (the room page keeps its own privately).
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
})();
"""

# The viewer's side: every video element that appears is read at each frame it shows.
READER = """
(() => {
  const W = 640, H = 480, BITS = 32, BLOCK = W / BITS, STRIP = 40;
  const canvas = document.createElement("canvas");
  canvas.width = W; canvas.height = 2 * STRIP;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const glass = { frames: [], bad: 0, first: null };
  window.__glass = glass;
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
  const luma = (data, x, y) => {
    const i = (y * W + x) * 4;
    return data[i] + data[i + 1] + data[i + 2];
  };
  const read = (video, now, meta) => {
    video.requestVideoFrameCallback((n, m) => read(video, n, m));
    if (glass.first === null) glass.first = performance.now();
    // Scaled to 640x480 whatever the encoder chose (it lowers resolution under pressure).
    ctx.drawImage(video, 0, 0, video.videoWidth, video.videoHeight * (2 * STRIP) / H,
      0, 0, W, 2 * STRIP);
    const data = ctx.getImageData(0, 0, W, 2 * STRIP).data;
    let stamp = 0;
    for (let b = 0; b < BITS; b++) {
      const x = Math.round(b * BLOCK + BLOCK / 2);
      const top = luma(data, x, STRIP / 2), bottom = luma(data, x, STRIP + STRIP / 2);
      if (Math.abs(top - bottom) < 200) { glass.bad++; return; }
      stamp = (stamp * 2) + (top > bottom ? 1 : 0);
    }
    const shown = performance.timeOrigin + meta.expectedDisplayTime;
    const truth = (((Math.round(shown * 10) - stamp) % 2 ** 32) + 2 ** 32) % 2 ** 32 / 10;
    glass.frames.push({
      path: video.dataset.glass || "sabaq", stamp, receivedAt: meta.receiveTime ?? null,
      shown: meta.expectedDisplayTime, truth,
      capture: typeof meta.captureTime === "number"
        ? meta.expectedDisplayTime - meta.captureTime : null,
      received: typeof meta.receiveTime === "number"
        ? meta.expectedDisplayTime - meta.receiveTime : null,
    });
  };
  const watched = new WeakSet();
  const look = () => {
    for (const video of document.querySelectorAll("video")) {
      if (watched.has(video)) continue;
      watched.add(video);
      video.requestVideoFrameCallback((n, m) => read(video, n, m));
    }
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true });
  window.__glassLook = look;
})();
"""

SENT = """
async () => {
  let bytes = 0, target = 0, available = 0, width = 0;
  for (const pc of window.__pcs) {
    if (pc.connectionState !== "connected") continue;
    for (const s of (await pc.getStats()).values()) {
      if (s.type === "outbound-rtp" && s.kind === "video") {
        bytes += s.bytesSent || 0;
        target += s.targetBitrate || 0;
        width = Math.max(width, s.frameWidth || 0);
      } else if (s.type === "candidate-pair" && s.nominated && s.availableOutgoingBitrate) {
        available = Math.max(available, s.availableOutgoingBitrate);
      }
    }
  }
  return { bytes, target, available, width, at: performance.now() };
}
"""

# Whether the viewer's browser measured a round trip as a receiver (RTCP XR), which it needs to
# place the sender's clock (captureTime).
REMOTE_RTT = """
async () => {
  let n = 0;
  for (const pc of window.__pcs) {
    if (pc.connectionState !== "connected") continue;
    for (const s of (await pc.getStats()).values()) {
      if (s.type === "remote-outbound-rtp" && s.kind === "video") {
        n += s.roundTripTimeMeasurements || 0;
      }
    }
  }
  return n;
}
"""

# The viewer's video receiver, summed over its connections: counters for the window's deltas.
RECEIVED = """
async () => {
  const sum = { jitter: 0, target: 0, emitted: 0, processing: 0, decode: 0, decoded: 0 };
  for (const pc of window.__pcs) {
    if (pc.connectionState !== "connected") continue;
    for (const s of (await pc.getStats()).values()) {
      if (s.type !== "inbound-rtp" || s.kind !== "video") continue;
      sum.jitter += s.jitterBufferDelay || 0;
      sum.target += s.jitterBufferTargetDelay || 0;
      sum.emitted += s.jitterBufferEmittedCount || 0;
      sum.processing += s.totalProcessingDelay || 0;
      sum.decode += s.totalDecodeTime || 0;
      sum.decoded += s.framesDecoded || 0;
    }
  }
  return sum;
}
"""


def per_frame_ms(before: dict[str, float], after: dict[str, float]) -> dict[str, float | None]:
    """The viewer's receiver in the window, ms per frame: its jitter buffer's wait and target,
    receive to decoded (`processing`), and decoding alone."""
    emitted = after["emitted"] - before["emitted"]
    decoded = after["decoded"] - before["decoded"]

    def each(key: str, count: float) -> float | None:
        return round((after[key] - before[key]) * 1000 / count, 1) if count > 0 else None

    return {
        "jitter_buffer": each("jitter", emitted),
        "jitter_target": each("target", emitted),
        "processing": each("processing", decoded),
        "decode": each("decode", decoded),
    }


CREATE_ROOM = """
async () => {
  const classes = (await (await fetch("/api/classes")).json()).classes;
  const made = await fetch("/api/rooms", { method: "POST", headers: {"Content-Type":
    "application/json"}, body: JSON.stringify({ title: "Physics 8B", class_id: classes[0].id,
    guest_policy: "ask_host" }) });
  return (await made.json()).room.id;
}
"""

SIGN_IN = """
async ({login, password}) => (await fetch("/api/session", {method: "POST",
  body: JSON.stringify({login, password}), headers: {"Content-Type": "application/json"}})).status
"""

# The control: the same canvas sent over a direct connection, no server in between.
DIRECT_OFFER = """
async () => {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver(window.__glassTrack(), { direction: "sendonly" });
  await pc.setLocalDescription();
  await new Promise((ok) => pc.iceGatheringState === "complete" ? ok() :
    pc.addEventListener("icegatheringstatechange",
      () => pc.iceGatheringState === "complete" && ok()));
  window.__direct = pc;
  return pc.localDescription.sdp;
}
"""
DIRECT_ANSWER = """
async ({ offer, width, height }) => {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addEventListener("track", (e) => {
    const video = document.createElement("video");
    video.dataset.glass = "direct";  // READER tells it from the room's tiles (--paired)
    video.muted = true; video.autoplay = true; video.playsInline = true;
    // Drawn as large as the room page drew its tile (see `Display`).
    video.style.cssText =
      `display:block;width:${width}px;height:${height}px;object-fit:contain;background:#000`;
    video.srcObject = new MediaStream([e.track]);
    document.body.append(video);
    video.play().catch(() => {});
  });
  await pc.setRemoteDescription({ type: "offer", sdp: offer });
  await pc.setLocalDescription();
  await new Promise((ok) => pc.iceGatheringState === "complete" ? ok() :
    pc.addEventListener("icegatheringstatechange",
      () => pc.iceGatheringState === "complete" && ok()));
  return pc.localDescription.sdp;
}
"""


# The largest video of a path ("sabaq": the room's tiles, "direct") showing a picture: its size
# on the page (CSS px), and the window's.
DISPLAY = """
(path) => {
  const shown = [...document.querySelectorAll("video")]
    .filter((v) => (v.dataset.glass || "sabaq") === path && v.videoWidth > 0)
    .map((v) => v.getBoundingClientRect());
  shown.sort((a, b) => b.width * b.height - a.width * a.height);
  const box = shown[0];
  return { viewport: [innerWidth, innerHeight],
           video_css_px: box ? [Math.round(box.width), Math.round(box.height)] : null };
}
"""

# A direct call's video is drawn at its own size unless told otherwise (the --paired corner).
NATIVE = {"viewport": [1366, 900], "video_css_px": [640, 480]}

# From the first frame to the window: congestion control ramps up (Chromium starts at 300 kbps).
SETTLE_S = 10


def summary(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        return {"p50": None, "p95": None}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(q[49], 1), "p95": round(q[94], 1)}


async def signed_in_page(browser: Browser, url: str, who: tuple[str, str], init: str) -> Page:
    """A fresh context signed in from inside the namespace (Playwright's requests are not)."""
    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    await context.add_init_script(init)
    page = await context.new_page()
    await page.goto(url + "/healthz")
    status = await page.evaluate(SIGN_IN, {"login": who[0], "password": who[1]})
    if status != 200:
        raise RuntimeError(f"sign-in failed: {status}")
    return page


def set_loss(ns: str, percent: float, on: bool) -> None:
    if percent <= 0:
        return
    iptables = shutil.which("iptables-legacy") or "/usr/sbin/iptables-legacy"
    rule = ["-p", "udp", "-m", "statistic", "--mode", "random", "--probability"]
    action = "-A" if on else "-D"
    subprocess.run(
        ns_command(ns, iptables, action, "INPUT", *rule, str(percent / 100), "-j", "DROP"),
        check=True,
    )


async def window(
    publisher: Page, viewer: Page, seconds: float, ns: str, loss: float, shows_estimate: bool
) -> dict[str, Any]:
    """Measure for `seconds`: the viewer's frames, the publisher's bytes, the page's estimate."""
    set_loss(ns, loss, True)
    try:
        await viewer.evaluate("() => { window.__glass.frames = []; window.__glass.bad = 0; }")
        before = await publisher.evaluate(SENT)
        received_before = await viewer.evaluate(RECEIVED)
        estimates: list[tuple[float, float]] = []
        targets: list[float] = []
        available: list[float] = []
        widths: list[int] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            sent = await publisher.evaluate(SENT)
            targets.append(sent["target"])
            available.append(sent["available"])
            widths.append(sent["width"])
            if shows_estimate:
                shown = await viewer.evaluate(
                    "() => { const d = document.getElementById('quality')?.dataset || {};"
                    " return [Number(d.readAt ?? NaN), Number(d.delayMs ?? NaN)]; }"
                )
                fresh = not estimates or estimates[-1][0] != shown[0]  # a new reading
                if shown[1] == shown[1] and shown[0] == shown[0] and fresh:  # not NaN
                    estimates.append((shown[0], shown[1]))
        after = await publisher.evaluate(SENT)
        received_after = await viewer.evaluate(RECEIVED)
        glass = await viewer.evaluate("() => window.__glass")
        remote_rtt = await viewer.evaluate(REMOTE_RTT)
    finally:
        set_loss(ns, loss, False)
    frames = glass["frames"]
    truths = [f["truth"] for f in frames]
    shown = [f["shown"] for f in frames]
    gaps = [b - a for a, b in itertools.pairwise(shown)]
    errors = []
    # Each reading against the true delay of the frames shown in the 2 s before it (the page
    # reads every 2 s, from the frames shown since its last reading).
    for at, value in estimates[1:]:
        recent = [f["truth"] for f in frames if at - 2000 <= f["shown"] <= at]
        if recent:
            errors.append(abs(value - statistics.median(recent)))
    span_s = (after["at"] - before["at"]) / 1000
    return {
        "delay": summary(truths),
        "estimated": summary([v for _, v in estimates]),
        "estimate_error": summary(errors),
        "capture_based": summary([f["capture"] for f in frames if f["capture"] is not None]),
        "receive_to_display": summary([f["received"] for f in frames if f["received"] is not None]),
        # The part before the pupil's page: encoding, pacing, the network and the server.
        "picture_to_receive": summary(
            [f["truth"] - f["received"] for f in frames if f["received"] is not None]
        ),
        "publisher_kbps": round((after["bytes"] - before["bytes"]) * 8 / span_s / 1000),
        "target_kbps": round(statistics.median(targets) / 1000) if targets else None,
        "estimate_kbps": round(statistics.median(available) / 1000) if available else None,
        "longest_gap_ms": round(max(gaps), 1) if gaps else None,
        "receiver_ms_per_frame": per_frame_ms(received_before, received_after),
        "sent_width": min(widths) if widths else None,
        "viewer_rtt_measurements": remote_rtt,
        "frames": len(frames),
        "unreadable": glass["bad"],
        "fps": round(len(frames) / seconds, 1),
    }


async def publish_canvas(
    browser: Browser, url: str, teacher: tuple[str, str], picture: str = "noise"
) -> tuple[Page, str]:
    """The teacher makes a room and publishes the canvas (`picture`: "noise" or "calm", see
    SOURCE) from the room page's camera button."""
    chosen = f"window.__glassPicture = {json.dumps(picture)};\n"
    host = await signed_in_page(browser, url, teacher, chosen + SOURCE)
    room_id: str = await host.evaluate(CREATE_ROOM)
    await host.goto(f"{url}/r/{room_id}")
    await press_enter_if_asked(host)
    camera = host.get_by_test_id("publish-camera")
    await camera.click()
    await host.wait_for_function(
        "() => document.querySelector('[data-testid=publish-camera]')"
        ".getAttribute('aria-pressed') === 'true'",
        timeout=20000,
    )
    return host, room_id


async def open_viewer(
    browser: Browser, url: str, pupil: tuple[str, str], room_id: str, init: str
) -> tuple[Page, float]:
    """A pupil opens the room (`init` must include READER); the page and, in ms since the room
    link was opened, its first frame shown."""
    viewer = await signed_in_page(browser, url, pupil, init)
    await viewer.goto(f"{url}/r/{room_id}", wait_until="commit")
    await press_enter_if_asked(viewer)
    await viewer.wait_for_function("() => window.__glass.first !== null", timeout=30000)
    first: float = await viewer.evaluate("() => window.__glass.first")
    return viewer, first


async def paired_window(
    host: Page, viewer: Page, seconds: float, ns: str, loss: float
) -> dict[str, Any]:
    """The same canvas sent at once through Sabaq and over a direct call, both shown in the
    pupil's room page: the two copies of each picture are matched by the time in it, so the
    machine's load, the pages and the moment are the same for both (`--paired`)."""
    offer = await host.evaluate(DIRECT_OFFER)
    answer = await viewer.evaluate(DIRECT_ANSWER, answer_args(offer, NATIVE))
    await host.evaluate(
        "(sdp) => window.__direct.setRemoteDescription({type: 'answer', sdp})", answer
    )
    # In view: Chromium pauses a muted video scrolled out of sight.
    await viewer.wait_for_function(
        "() => window.__glass.frames.some((f) => f.path === 'direct')", timeout=30000
    )
    await viewer.evaluate(
        "() => { const v = document.querySelector('video[data-glass=direct]');"
        " v.style.cssText = 'position:fixed;right:0;bottom:0;width:320px;z-index:9'; }"
    )
    await asyncio.sleep(SETTLE_S)
    set_loss(ns, loss, True)
    try:
        await viewer.evaluate("() => { window.__glass.frames = []; }")
        await asyncio.sleep(seconds)
        frames: list[dict[str, Any]] = await viewer.evaluate("() => window.__glass.frames")
    finally:
        set_loss(ns, loss, False)
    return pair_frames(frames)


def pair_frames(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """The paired window's figures from the pupil page's frames (READER's records, each with
    its `path`, the `stamp` read from its picture, when it was `shown` and `receivedAt`)."""
    by_path: dict[str, dict[int, dict[str, Any]]] = {"sabaq": {}, "direct": {}}
    for f in frames:
        # A picture's first showing on each path (rVFC reports each presented frame once).
        by_path.setdefault(f["path"], {}).setdefault(f["stamp"], f)
    sabaq, control = by_path["sabaq"], by_path["direct"]
    both = [stamp for stamp in sabaq if stamp in control]
    received = [
        sabaq[s]["receivedAt"] - control[s]["receivedAt"]
        for s in both
        if sabaq[s]["receivedAt"] is not None and control[s]["receivedAt"] is not None
    ]
    return {
        "glass_to_glass_ms": summary([f["truth"] for f in sabaq.values()]),
        "direct_ms": summary([f["truth"] for f in control.values()]),
        # Per picture shown by both: Sabaq's copy minus the direct call's.
        "shown_later_ms": summary([sabaq[s]["shown"] - control[s]["shown"] for s in both]),
        "received_later_ms": summary(received),
        "frames": {"sabaq": len(sabaq), "direct": len(control), "both": len(both)},
    }


async def through_sabaq(
    teacher_browser: Browser,
    pupil_browser: Browser,
    url: str,
    teacher: tuple[str, str],
    pupil: tuple[str, str],
    seconds: float,
    ns: str,
    loss: float,
    paired: bool = False,
) -> tuple[dict[str, Any], float | None]:
    host, room_id = await publish_canvas(teacher_browser, url, teacher)
    viewer, first = await open_viewer(pupil_browser, url, pupil, room_id, READER)
    # performance.now() restarts with the navigation: `first` counts from the room link opened.
    # Let congestion control settle and the page take a few readings (it reads every 2 s).
    await asyncio.sleep(SETTLE_S)
    result = await window(host, viewer, seconds, ns, loss, shows_estimate=True)
    result["display"] = await viewer.evaluate(DISPLAY, "sabaq")
    if paired:
        result["paired"] = await paired_window(host, viewer, seconds, ns, loss)
    await viewer.context.close()
    await host.context.close()
    return result, round(first, 1)


def answer_args(offer: str, display: dict[str, Any]) -> dict[str, Any]:
    """DIRECT_ANSWER's argument: the offer, and the video's size on the page (CSS px)."""
    width, height = display.get("video_css_px") or NATIVE["video_css_px"]
    return {"offer": offer, "width": width, "height": height}


async def direct(
    teacher_browser: Browser,
    pupil_browser: Browser,
    url: str,
    seconds: float,
    ns: str,
    loss: float,
    display: dict[str, Any],
) -> dict[str, Any]:
    """The control: the same pair of browsers connected directly, the pupil's page the size of
    the room page and its video drawn as large as the room page drew the teacher's tile
    (`display`). Headless Chromium composites in software, where drawing a video scaled to
    1006x754 CSS px took 6-7 ms per display frame against 0.5 ms for one at 640x480 (viz's
    `Display::DrawAndSwap`), and `expectedDisplayTime` counts it (docs/media.md "A bigger
    picture costs a refresh"): a control drawn smaller measured the page, not the path."""
    publisher = await (await teacher_browser.new_context()).new_page()
    await publisher.add_init_script(SOURCE)
    await publisher.goto(url + "/healthz")
    width, height = display.get("viewport") or NATIVE["viewport"]
    context = await pupil_browser.new_context(viewport={"width": width, "height": height})
    viewer = await context.new_page()
    await viewer.add_init_script(READER)
    await viewer.goto(url + "/healthz")
    offer = await publisher.evaluate(DIRECT_OFFER)
    answer = await viewer.evaluate(DIRECT_ANSWER, answer_args(offer, display))
    await publisher.evaluate(
        "(sdp) => window.__direct.setRemoteDescription({type: 'answer', sdp})", answer
    )
    await viewer.wait_for_function("() => window.__glass.first !== null", timeout=30000)
    await asyncio.sleep(SETTLE_S)
    result = await window(publisher, viewer, seconds, ns, loss, shows_estimate=False)
    result["display"] = await viewer.evaluate(DISPLAY, "direct")
    await viewer.context.close()
    await publisher.context.close()
    return result


@contextmanager
def _log_on_failure(log: Path) -> Iterator[None]:
    # The server's log lives in the temporary folder: show it before the folder goes.
    # SABAQ_BENCH_SERVER_LOG=path keeps a copy of it (to read the server's own account).
    keep = os.environ.get("SABAQ_BENCH_SERVER_LOG")
    try:
        yield
    except BaseException:
        if log.exists():
            sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise
    finally:
        if keep and log.exists():
            shutil.copyfile(log, keep)


async def bench(seconds: float, loss: float, paired: bool = False) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sabaq-bench-glass-") as tmp:
        folder = Path(tmp)
        data = folder / "data"
        with namespace() as ns, _log_on_failure(folder / "server.log"):
            async with server(ns, data) as url, async_playwright() as pw:
                teacher, pupil = accounts(data)
                teacher_browser = await launch(pw, ns, folder)
                pupil_browser = await launch(pw, ns, folder)
                try:
                    sabaq, first = await through_sabaq(
                        teacher_browser,
                        pupil_browser,
                        url,
                        teacher,
                        pupil,
                        seconds,
                        ns,
                        loss,
                        paired,
                    )
                    control = await direct(
                        teacher_browser, pupil_browser, url, seconds, ns, loss, sabaq["display"]
                    )
                finally:
                    await pupil_browser.close()
                    await teacher_browser.close()
    return {
        "seconds": seconds,
        "loss_pct": loss,
        "glass_to_glass_ms": sabaq["delay"],
        "direct_ms": control["delay"],
        "estimated_ms": sabaq["estimated"],
        "estimate_error_ms": sabaq["estimate_error"],
        "join_to_first_frame_ms": first,
        "publisher_kbps": sabaq["publisher_kbps"],
        "target_kbps": sabaq["target_kbps"],
        "longest_gap_ms": sabaq["longest_gap_ms"],
        **({"paired": sabaq.pop("paired")} if paired else {}),
        "sabaq": sabaq,
        "direct": control,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="each window (default 20)")
    parser.add_argument("--loss", type=float, default=0, help="random UDP loss, percent")
    parser.add_argument(
        "--limit-kbps",
        type=float,
        default=0,
        help="instead: two pupils, the first on a line of this many kbit/s",
    )
    parser.add_argument(
        "--limit-queue-ms", type=float, default=200, help="the line's queue (default 200 ms)"
    )
    parser.add_argument(
        "--picture",
        choices=("noise", "calm"),
        default="noise",
        help="with --limit-kbps: the teacher's picture (calm: camera-like, see SOURCE)",
    )
    parser.add_argument(
        "--paired",
        action="store_true",
        help="also: the same pictures through Sabaq and a direct call at once, in one page",
    )
    args = parser.parse_args()
    if args.seconds < 4:
        parser.error("--seconds must be at least 4 (the page reads every 2 s)")
    if not 0 <= args.loss < 50:
        parser.error("--loss must be between 0 and 50")
    if args.limit_kbps:
        if not 30 <= args.limit_kbps <= 100_000:
            parser.error("--limit-kbps must be between 30 and 100000")
        if not 10 <= args.limit_queue_ms <= 5000:
            parser.error("--limit-queue-ms must be between 10 and 5000")
        # Imported here: the limited run builds on this module's pages and measures.
        from bench._glass_limited import bench_limited
        from bench._shaper import Line

        line = Line(kbps=args.limit_kbps, queue_ms=args.limit_queue_ms)
        print(json.dumps(asyncio.run(bench_limited(args.seconds, line, args.loss, args.picture))))
        return
    print(json.dumps(asyncio.run(bench(args.seconds, args.loss, args.paired))))


if __name__ == "__main__":
    main()
