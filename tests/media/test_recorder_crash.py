"""kill -9 of a recording server process leaves files that play up to their last seconds."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import av
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from bench._recording import MarkedAudioTrack, MarkedVideoTrack, SharedClock

from .helpers import loopback_configuration

pytestmark = pytest.mark.asyncio


def readable(path: Path) -> tuple[int, float]:
    """Frames av can read from a (possibly unfinished) file, and the last one's time (ms)."""
    frames, last = 0, -1.0
    try:
        with av.open(str(path)) as f:
            for packet in f.demux(f.streams[0]):
                if packet.size and packet.pts is not None and packet.time_base is not None:
                    frames += 1
                    last = float(packet.pts * packet.time_base) * 1000
    except (av.error.InvalidDataError, FileNotFoundError, av.error.EOFError):
        pass
    return frames, last


async def test_kill_9_leaves_playable_files(tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench._sfu_server",
        "--mode",
        "forward",
        "--record",
        str(folder),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    pc = RTCPeerConnection(loopback_configuration())
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line.startswith("PORT "), line
        url = f"http://127.0.0.1:{json.loads(line[5:])}"
        clock = SharedClock()
        pc.addTransceiver(MarkedAudioTrack(clock), direction="sendonly")
        pc.addTransceiver(MarkedVideoTrack(clock), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{url}/publish", json={"id": "teacher", "sdp": pc.localDescription.sdp}
            ) as r,
        ):
            answer = (await r.json())["sdp"]
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        video = folder / "teacher-camera-1.webm"
        audio = folder / "teacher-mic-1.webm"
        # Wait until 4 s of video can be read back from the growing file.
        async with asyncio.timeout(40):
            while readable(video)[0] < 120:
                await asyncio.sleep(0.2)
        killed_wall = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
    finally:
        await pc.close()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    started = json.loads((folder / "timeline.jsonl").read_text().splitlines()[0])
    assert started["type"] == "recording_started"
    recorded_ms = (killed_wall - started["wall"]) * 1000
    for path, per_second in ((video, 30), (audio, 50)):
        frames, last = readable(path)
        # Everything but the last cluster (≤ 1 s) and the writer's batch (0.25 s) is there.
        assert last >= recorded_ms - 2000, (path.name, last, recorded_ms)
        assert frames >= per_second * (last / 1000 - 1.5), (path.name, frames, last)
        # And it decodes: every frame av reads back is a picture / a sound.
        with av.open(str(path)) as f:
            decoded = sum(1 for _ in f.decode(f.streams[0]))
        assert decoded >= frames - 2, (path.name, decoded, frames)
