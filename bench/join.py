"""Entry benchmark: `python -m bench.join --runs N`.

How long a signed-in pupil waits, from opening a lesson's link to the first frame of the
teacher's camera on their screen. Everything runs in a network namespace this benchmark makes,
with only `lo` up (root needed; WebRTC must stay on loopback), and that is deleted on every path:
the Sabaq server (a fresh demo school), and two Chromium processes — the teacher's, publishing
the fake camera through the same client modules the room page uses (web/src/protocol.js and
media.js), and the pupil's, which opens the room link N times, each time in a fresh browser
context (cold cache, no resume token) signed in as a pupil of the room's class.

Every time is read in the pupil's page with performance.now(), i.e. in ms since the navigation
to the room link started, by a script the benchmark adds before the page's own:
- `page_ready`: the page shows the room's title (it knows the room and who you are);
- `joined`: `room_state` arrived on the socket (you are in the room);
- `offer_received`: the server's first `media_offer` arrived;
- `answer_sent`: the page sent its answer to that offer;
- `connected`: the pupil's peer connection is connected (ICE and DTLS up);
- `first_frame`: the first frame of a video was presented (requestVideoFrameCallback).
Where the page still has an Enter button (older code), the benchmark presses it as soon as it
shows, as a pupil would.

The last stdout line is one JSON object: `join_to_first_frame_ms` {p50, p95}, the parts the same
way, the runs that failed, and the machine's load average while it ran.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Playwright, Route, async_playwright

from bench._chromium import CHROMIUM_ARGS as BASE_ARGS
from bench._chromium import LOOPBACK_ARGS

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
CHROMIUM = Path("/usr/bin/chromium")
IP = shutil.which("ip") or "/usr/sbin/ip"
CHROMIUM_ARGS = BASE_ARGS + LOOPBACK_ARGS
HARNESS_PATH = "/__bench_harness.js"
PARTS = ("page_ready", "joined", "offer_received", "answer_sent", "connected", "first_frame")

# The teacher's page: sign in, make a room of the demo class, join, publish the fake camera.
TEACHER = """
async ({login, password}) => {
  const h = await import("/__bench_harness.js");
  const post = (path, body) => fetch(path, {method: "POST", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json"}});
  if (!(await post("/api/session", {login, password})).ok) throw new Error("sign-in failed");
  const classes = (await (await fetch("/api/classes")).json()).classes;
  const made = await post("/api/rooms",
    {title: "Algebra 7A", class_id: classes[0].id, guest_policy: "ask_host"});
  const roomId = (await made.json()).room.id;
  const connection = new h.RoomConnection(roomId);
  const joined = await connection.join("user");
  const media = new h.MediaSession(connection, {iceServers: joined.ice_servers});
  window.teacher = {connection, media};
  await media.start();
  await media.setPublishing("camera", true);
  return roomId;
}
"""

SIGN_IN = """
async ({login, password}) => (await fetch("/api/session", {method: "POST",
  body: JSON.stringify({login, password}), headers: {"Content-Type": "application/json"}})).status
"""

# Runs in the pupil's page before the page's own scripts: the first time of each part.
PROBE = r"""
(() => {
  const seen = {};
  window.__bench = seen;
  const mark = (name) => { if (!(name in seen)) seen[name] = performance.now(); };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (typeof e.data !== "string") return;
        // socket.io event packets of the default namespace: 42["name", payload]
        if (e.data.startsWith('42["room_state"')) mark("joined");
        else if (e.data.startsWith('42["media_offer"')) mark("offer_received");
      });
    }
  };
  // Landmarks inside offer → first frame, not parts of the total: the page's answer went out
  // (socket.io event packet 42<ack id>["media_answer", …]), ICE and DTLS are up.
  const send = Native.prototype.send;
  Native.prototype.send = function (data) {
    if (typeof data === "string" && /^42\d*\["media_answer"/.test(data)) mark("answer_sent");
    return send.call(this, data);
  };
  const NativePC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePC {
    constructor(...args) {
      super(...args);
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "connected") mark("connected");
      });
    }
  };
  const watched = new WeakSet();
  const look = () => {
    const title = document.getElementById("room-title");
    if (title && title.textContent) mark("page_ready");
    for (const video of document.querySelectorAll("video")) {
      if (watched.has(video)) continue;
      watched.add(video);
      video.requestVideoFrameCallback(() => mark("first_frame"));
    }
  };
  new MutationObserver(look).observe(document, {childList: true, subtree: true,
    characterData: true});
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ns_command(ns: str, *argv: str) -> list[str]:
    return [IP, "netns", "exec", ns, *argv]


@contextmanager
def namespace() -> Iterator[str]:
    """A fresh network namespace with only loopback up; deleted on exit, whatever happened."""
    if os.geteuid() != 0:
        sys.exit("bench.join needs root: it makes a network namespace (WebRTC stays on loopback)")
    name = f"sabaq-bench-{os.getpid()}-{secrets.token_hex(3)}"
    subprocess.run([IP, "netns", "add", name], check=True)
    try:
        subprocess.run(ns_command(name, IP, "link", "set", "lo", "up"), check=True)
        yield name
    finally:
        subprocess.run([IP, "netns", "delete", name], check=False)


async def healthy(ns: str, url: str) -> bool:
    probe = await asyncio.create_subprocess_exec(
        *ns_command(
            ns,
            sys.executable,
            "-c",
            f"import urllib.request; urllib.request.urlopen({url!r} + '/healthz', timeout=1)",
        ),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await probe.wait() == 0


@asynccontextmanager
async def server(ns: str, data: Path) -> AsyncIterator[str]:
    """`sabaq serve` in the namespace on a fresh data folder; its URL once /healthz answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data.parent / "server.log").open("wb")
    serve = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1"]
    process = await asyncio.create_subprocess_exec(
        *ns_command(ns, *serve, "--port", str(port), "--data", str(data)),
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    try:
        async with asyncio.timeout(60):
            while not await healthy(ns, url):  # a condition polled until the deadline
                if process.returncode is not None:
                    raise RuntimeError("the server exited; see " + str(data.parent / "server.log"))
                await asyncio.sleep(0.1)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(15):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


def accounts(data: Path) -> tuple[tuple[str, str], tuple[str, str]]:
    """The demo teacher's and first pupil's login and password; their one-time passwords
    made ordinary ones (the benchmark is about entering a lesson, not choosing a password)."""
    from server.demo import CREDENTIALS_FILE

    with sqlite3.connect(data / "sabaq.db") as db:
        db.execute("UPDATE users SET must_change_password = 0")
    rows = [
        line.split()
        for line in (data / CREDENTIALS_FILE).read_text().splitlines()
        if line and not line.startswith("#")
    ]
    teacher = next((r[1], r[2]) for r in rows if r[0] == "teacher")
    pupil = next((r[1], r[2]) for r in rows if r[0] == "pupil")
    return teacher, pupil


def harness(folder: Path) -> bytes:
    """protocol.js + media.js as one ES module (the room page's own client modules)."""
    entry = folder / "harness.js"
    entry.write_text(
        f'export {{ RoomConnection }} from "{WEB / "src" / "protocol.js"}";\n'
        f'export {{ MediaSession }} from "{WEB / "src" / "media.js"}";\n'
    )
    out = folder / "harness.bundle.js"
    subprocess.run(
        [
            str(WEB / "node_modules" / ".bin" / "esbuild"),
            str(entry),
            "--bundle",
            "--format=esm",
            f"--outfile={out}",
        ],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


async def launch(pw: Playwright, ns: str, folder: Path) -> Browser:
    """A Chromium process of its own inside the namespace (a hidden tab would be throttled)."""
    wrapper = folder / f"chromium-in-{ns}"
    # exec keeps Playwright's pipes: `ip netns exec` execs, it does not fork.
    wrapper.write_text(f'#!/bin/sh\nexec {IP} netns exec {ns} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return await pw.chromium.launch(executable_path=str(wrapper), headless=True, args=CHROMIUM_ARGS)


async def teacher_publishes(browser: Browser, url: str, bundle: bytes, who: tuple[str, str]) -> str:
    page = await (await browser.new_context()).new_page()

    async def serve(route: Route) -> None:
        await route.fulfill(body=bundle, content_type="text/javascript")

    await page.route(f"**{HARNESS_PATH}", serve)
    await page.goto(url + "/")
    room_id: str = await page.evaluate(TEACHER, {"login": who[0], "password": who[1]})
    return room_id


async def pupil_cookies(browser: Browser, url: str, who: tuple[str, str]) -> list[Any]:
    """The pupil's session cookie, signed in once (sign-ins are rate-limited) from inside the
    namespace (Playwright's own requests run outside it)."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(url + "/healthz")
        status = await page.evaluate(SIGN_IN, {"login": who[0], "password": who[1]})
        if status != 200:
            raise RuntimeError(f"pupil sign-in failed: {status}")
        return list(await context.cookies())
    finally:
        await context.close()


async def one_entry(
    browser: Browser, url: str, room_id: str, cookies: list[Any]
) -> dict[str, float]:
    """The pupil opens the room link once (fresh context: cold cache, signed in); the parts."""
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        await context.add_cookies(cookies)
        await context.add_init_script(PROBE)
        page = await context.new_page()
        await page.goto(f"{url}/r/{room_id}", wait_until="commit")
        await press_enter_if_asked(page)
        await page.wait_for_function("() => 'first_frame' in window.__bench", timeout=20000)
        seen: dict[str, float] = await page.evaluate("() => window.__bench")
        return {part: round(seen[part], 1) for part in PARTS if part in seen}
    finally:
        await context.close()


async def press_enter_if_asked(page: Page) -> None:
    """Older pages show an Enter button first: press it the moment it shows."""
    await page.locator("#enter-user:visible, #inside:visible").first.wait_for(timeout=20000)
    enter = page.locator("#enter-user")
    if await enter.is_visible():
        await enter.click()


def summary(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        return {"p50": None, "p95": None}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(q[49], 1), "p95": round(q[94], 1)}


def steps(results: list[dict[str, float]]) -> dict[str, float | None]:
    """Median of each part minus the part before it, entry by entry."""
    out: dict[str, float | None] = {}
    for before, after in itertools.pairwise(PARTS):
        gaps = [r[after] - r[before] for r in results if before in r and after in r]
        out[f"{before}->{after}"] = round(statistics.median(gaps), 1) if gaps else None
    return out


async def bench(runs: int) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sabaq-bench-join-") as tmp:
        folder = Path(tmp)
        data = folder / "data"
        bundle = harness(folder)
        results: list[dict[str, float]] = []
        failures: list[str] = []
        with namespace() as ns:
            async with server(ns, data) as url, async_playwright() as pw:
                teacher, pupil = accounts(data)
                teacher_browser = await launch(pw, ns, folder)
                pupil_browser = await launch(pw, ns, folder)
                try:
                    room_id = await teacher_publishes(teacher_browser, url, bundle, teacher)
                    cookies = await pupil_cookies(pupil_browser, url, pupil)
                    # One entry first, not counted: Chromium's and the server's first-use costs.
                    await one_entry(pupil_browser, url, room_id, cookies)
                    for _ in range(runs):
                        try:
                            results.append(await one_entry(pupil_browser, url, room_id, cookies))
                        except Exception as exc:  # a failed run is counted, not fatal
                            failures.append(f"{type(exc).__name__}: {exc}"[:200])
                finally:
                    await pupil_browser.close()
                    await teacher_browser.close()
    frames = [r["first_frame"] for r in results if "first_frame" in r]
    return {
        "runs": runs,
        "measured": len(frames),
        "join_to_first_frame_ms": summary(frames),
        "parts_ms": {part: summary([r[part] for r in results if part in r]) for part in PARTS},
        # Each part after the one before it, per entry: steady where the whole moves with load.
        "steps_ms": steps(results),
        "failures": failures,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="entries measured (default 20)")
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be at least 2 (percentiles)")
    print(json.dumps(asyncio.run(bench(args.runs))))


if __name__ == "__main__":
    main()
