"""`python -m bench.glass --limit-kbps K`: one pupil on a narrow line, another on a clean one.

The same picture and measures as bench.glass's Sabaq phase, with two pupils, each in a Chromium
process of its own, watching the teacher's canvas through the real room page. Once both show
frames, the first pupil's downlink — the datagrams the server sends to the UDP port of that
pupil's nominated candidate pair, read from its `getStats()` — goes through a shaper of K
kbit/s with a queue of `--limit-queue-ms` (bench/_shaper.py says why a shaper and not a
policer). The window starts SETTLE_S later, so whatever adapts has had time to. Before that,
the same two pupils are measured for as long with neither line limited (`before_limit`): the
control, in the same minutes, for "does one weak line drag the others down".

Per pupil (`limited_viewer`, `other_viewer`): the picture height received (`inbound-rtp`
frameHeight, sampled every second: median, last, min — the honest reading of "the layer this
pupil gets", as the server does not expose the layer it forwards to each viewer), frames
decoded and shown per second, Chromium's freezes (count and seconds), the longest time without
a new frame on the screen (window edges included), kbit/s received, loss and repair requests,
glass-to-glass p50/p95 of the frames whose stamp was readable. Also the publisher's kbit/s in
all and per encoding (per simulcast layer once there are layers), what the line delivered and
dropped, and how the server's `/metrics` counters grew in the window (NACKs, keyframe requests,
retransmissions, layer switches) and the server process's CPU (% of one core).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright

from bench._shaper import Line, QueueStats, limited, queue_stats
from bench._viewer_stats import (
    counters_grew,
    parse_counters,
    publisher_summary,
    viewer_summary,
)
from bench.glass import (
    READER,
    SETTLE_S,
    _log_on_failure,
    open_viewer,
    publish_canvas,
    set_loss,
)
from bench.join import IP, accounts, launch, namespace, server

# Every frame a video element shows (the reader keeps only those whose stamp it could read).
SHOWN = """
(() => {
  const shown = [];
  window.__shown = shown;
  const watched = new WeakSet();
  const each = (video) => video.requestVideoFrameCallback((now, meta) => {
    shown.push(meta.expectedDisplayTime);
    each(video);
  });
  const look = () => {
    for (const video of document.querySelectorAll("video")) {
      if (!watched.has(video)) { watched.add(video); each(video); }
    }
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true });
})();
"""

# A viewer's incoming video (the stream with the most bytes) and the local UDP port of the
# connection that carries it.
VIEWER_STATS = """
async () => {
  let video = null, port = null;
  for (const pc of window.__pcs) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    for (const s of stats.values()) {
      if (s.type !== "inbound-rtp" || s.kind !== "video") continue;
      if (video && (s.bytesReceived || 0) <= (video.bytesReceived || 0)) continue;
      video = s;
      port = null;
      for (const t of stats.values()) {
        if (t.type !== "transport" || !t.selectedCandidatePairId) continue;
        const pair = stats.get(t.selectedCandidatePairId);
        const local = pair && stats.get(pair.localCandidateId);
        if (local) port = local.port;
      }
    }
  }
  const keys = ["framesDecoded", "frameHeight", "frameWidth", "bytesReceived", "freezeCount",
    "totalFreezesDuration", "packetsLost", "packetsReceived", "nackCount", "pliCount",
    "firCount"];
  const picked = video && Object.fromEntries(keys.map((k) => [k, video[k] ?? null]));
  return { at: performance.now(), port, video: picked };
}
"""

ENCODINGS = """
async () => {
  const encodings = [];
  for (const pc of window.__pcs) {
    if (pc.connectionState !== "connected") continue;
    for (const s of (await pc.getStats()).values()) {
      if (s.type !== "outbound-rtp" || s.kind !== "video") continue;
      encodings.push({ rid: s.rid || null, bytesSent: s.bytesSent || 0,
        frameHeight: s.frameHeight || null, keyFramesEncoded: s.keyFramesEncoded || 0,
        framesEncoded: s.framesEncoded || 0, targetBitrate: s.targetBitrate || 0,
        qualityLimitationReason: s.qualityLimitationReason || null });
    }
  }
  return { at: performance.now(), encodings };
}
"""

METRICS = "async () => (await fetch('/metrics')).text()"
RESET = "() => { window.__glass.frames = []; window.__glass.bad = 0; window.__shown.length = 0; }"


async def lower_picture(viewer: Page, height: int | None, within_s: float) -> float | None:
    """Milliseconds until the viewer decodes a picture less tall than `height` (the layer
    below), polled every 50 ms; None if not within `within_s`."""
    if not height:
        return None
    start = time.monotonic()
    while time.monotonic() - start < within_s:  # a condition polled until the deadline
        now = ((await viewer.evaluate(VIEWER_STATS))["video"] or {}).get("frameHeight")
        if now and now < height:
            return round((time.monotonic() - start) * 1000, 1)
        await asyncio.sleep(0.05)
    return None


async def port_of(viewer: Page) -> int:
    """The viewer's local UDP port once its video connection has a nominated pair."""
    async with asyncio.timeout(20):
        while True:  # a condition polled until the deadline
            sample = await viewer.evaluate(VIEWER_STATS)
            if sample["port"]:
                return int(sample["port"])
            await asyncio.sleep(0.2)


def server_cpu_s(ns: str) -> float:
    """CPU seconds (user + system) the Sabaq server in `ns` has used so far."""
    pids = subprocess.run(
        [IP, "netns", "pids", ns], check=True, capture_output=True, text=True
    ).stdout.split()
    for pid in pids:
        proc = Path("/proc") / pid
        try:
            if b"server.cli" not in (proc / "cmdline").read_bytes():
                continue
            # Fields after the command's closing parenthesis; utime and stime are 14th and 15th.
            fields = (proc / "stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue  # a process that ended meanwhile
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    raise RuntimeError(f"no Sabaq server among the processes of {ns}")


def line_figures(before: QueueStats | None, after: QueueStats | None, span_s: float) -> Any:
    """What the narrow line passed (its own counters, headers included) and dropped."""
    if before is None or after is None:
        return None
    sent = after.sent_packets - before.sent_packets
    dropped = after.dropped_packets - before.dropped_packets
    return {
        "kbps": round((after.sent_bytes - before.sent_bytes) * 8 / span_s / 1000),
        "dropped_pct": round(100 * dropped / (sent + dropped), 1) if sent + dropped else 0.0,
        "queued_bytes_at_end": after.backlog_bytes,
    }


async def window(
    host: Page, viewers: list[Page], seconds: float, ns: str, loss: float
) -> dict[str, Any]:
    set_loss(ns, loss, True)
    try:
        for viewer in viewers:
            await viewer.evaluate(RESET)
        counters_before = parse_counters(await host.evaluate(METRICS))
        cpu_before, cpu_from = server_cpu_s(ns), time.monotonic()
        line_before = queue_stats(ns)
        sent_before = await host.evaluate(ENCODINGS)
        samples: list[list[dict[str, Any]]] = [[] for _ in viewers]
        deadline = time.monotonic() + seconds
        while True:
            for viewer, taken in zip(viewers, samples, strict=True):
                taken.append(await viewer.evaluate(VIEWER_STATS))
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        sent_after = await host.evaluate(ENCODINGS)
        line_after = queue_stats(ns)
        counters_after = parse_counters(await host.evaluate(METRICS))
        cpu_after, cpu_to = server_cpu_s(ns), time.monotonic()
        shown = [await viewer.evaluate("() => window.__shown") for viewer in viewers]
        glass = [await viewer.evaluate("() => window.__glass") for viewer in viewers]
    finally:
        set_loss(ns, loss, False)
    per_viewer = []
    for taken, times, frames in zip(samples, shown, glass, strict=True):
        summary = viewer_summary(taken, times, [f["truth"] for f in frames["frames"]])
        summary["port"] = taken[-1]["port"]
        per_viewer.append(summary)
    return {
        "viewers": per_viewer,
        "publisher": publisher_summary(sent_before, sent_after),
        "line": line_figures(
            line_before, line_after, (sent_after["at"] - sent_before["at"]) / 1000
        ),
        "server_counters": counters_grew(counters_before, counters_after, "sabaq_media_"),
        "server_cpu_pct": round(100 * (cpu_after - cpu_before) / (cpu_to - cpu_from), 1),
    }


def pupil_accounts(data: Path) -> list[tuple[str, str]]:
    """Every demo pupil's login and password (after join.accounts made them ordinary)."""
    from server.demo import CREDENTIALS_FILE

    rows = [
        line.split()
        for line in (data / CREDENTIALS_FILE).read_text().splitlines()
        if line and not line.startswith("#")
    ]
    return [(r[1], r[2]) for r in rows if r[0] == "pupil"]


async def bench_limited(
    seconds: float, line: Line, loss: float, picture: str = "noise"
) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sabaq-bench-glass-limited-") as tmp:
        folder = Path(tmp)
        data = folder / "data"
        with namespace() as ns, _log_on_failure(folder / "server.log"):
            async with server(ns, data) as url, async_playwright() as pw:
                teacher, _ = accounts(data)
                pupils = pupil_accounts(data)[:2]
                browsers = [await launch(pw, ns, folder) for _ in range(3)]
                try:
                    host, room_id = await publish_canvas(browsers[0], url, teacher, picture)
                    viewers, firsts = [], []
                    for browser, pupil in zip(browsers[1:], pupils, strict=True):
                        page, first = await open_viewer(
                            browser, url, pupil, room_id, READER + SHOWN
                        )
                        viewers.append(page)
                        firsts.append(round(first, 1))
                    # The control: the same pupils in the same minutes, neither line limited.
                    await asyncio.sleep(SETTLE_S)
                    control = await window(host, viewers, seconds, ns, loss)
                    port = await port_of(viewers[0])
                    height = ((await viewers[0].evaluate(VIEWER_STATS))["video"] or {}).get(
                        "frameHeight"
                    )
                    with limited(ns, port, line):
                        started = time.monotonic()
                        lower = await lower_picture(viewers[0], height, SETTLE_S)
                        # Let whatever adapts adapt.
                        await asyncio.sleep(max(0.0, SETTLE_S - (time.monotonic() - started)))
                        measured = await window(host, viewers, seconds, ns, loss)
                finally:
                    for browser in browsers:
                        await browser.close()
    slow, other = measured["viewers"]
    if slow["port"] != port:
        # The page rebuilt its connection on another port: the line no longer applied.
        sys.stderr.write(f"the limited viewer moved from port {port} to {slow['port']}\n")
    slow["join_to_first_frame_ms"], other["join_to_first_frame_ms"] = firsts
    slow["limit_to_lower_picture_ms"] = lower
    return {
        "seconds": seconds,
        "limit_kbps": line.kbps,
        "limit_queue_ms": line.queue_ms,
        "loss_pct": loss,
        "picture": picture,
        "publisher_kbps": measured["publisher"]["kbps"],
        "limited_viewer": slow,
        "other_viewer": other,
        "publisher": measured["publisher"],
        "line": measured["line"],
        "limited_port_kept": slow["port"] == port,
        "server_counters": measured["server_counters"],
        "server_cpu_pct": measured["server_cpu_pct"],
        "before_limit": {
            "publisher_kbps": control["publisher"]["kbps"],
            "publisher": control["publisher"],
            "limited_viewer": control["viewers"][0],
            "other_viewer": control["viewers"][1],
            "server_counters": control["server_counters"],
            "server_cpu_pct": control["server_cpu_pct"],
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
