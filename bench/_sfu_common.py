"""Shared pieces of the SFU benchmark: stamped synthetic media and the line protocol."""

from __future__ import annotations

import asyncio
import fractions
import json
import os
import sys
import time
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCConfiguration

from media.aiortc_hooks import install_host_address

VIDEO_CLOCK = 90000
STAMP_BITS = 16
STAMP_BLOCK = 32  # pixels per bit, square: survives VP8 quantisation


CPUS_ENV = "SABAQ_BENCH_CPUS"
# "1": subscribers accept transport-cc in their answers (bench.sfu --transport-cc).
TWCC_ENV = "SABAQ_BENCH_TWCC"


def pin_from_env() -> None:
    """Run on the CPUs the coordinator chose (bench.sfu --pin), if it chose any."""
    cpus = os.environ.get(CPUS_ENV)
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})


def loopback() -> RTCConfiguration:
    """Host candidates on 127.0.0.1 only, no STUN."""
    install_host_address("127.0.0.1")
    return RTCConfiguration(iceServers=[])


def emit(tag: str, payload: Any = None) -> None:
    """One protocol line on stdout for the coordinator."""
    sys.stdout.write(f"{tag} {json.dumps(payload)}\n")
    sys.stdout.flush()


async def read_window() -> tuple[float, float]:
    """Block until the coordinator sends 'WINDOW start end' (wall-clock seconds) on stdin."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            raise SystemExit("coordinator went away")
        if line.startswith("WINDOW "):
            _, start, end = line.split()
            return float(start), float(end)


async def sleep_until(wall: float) -> None:
    """Sleep until a wall-clock instant shared by all processes."""
    delay = wall - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


class StampedVideoTrack(MediaStreamTrack):
    """640x480 30 fps: moving gradient, a noise band (a camera's bitrate) and the frame number."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._row = bytes((x * 2) & 0xFF for x in range(width * 2))
        self._chroma = bytes([128]) * (width // 2) * (height // 2)
        self._start: float | None = None
        self.index = 0
        self.sent_at: list[tuple[int, float]] = []

    async def recv(self) -> av.VideoFrame:
        """Next frame, paced in real time; remembers when each stamped index left."""
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.index / self.fps - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        w, h = self.width, self.height
        shift = (self.index * 4) % w
        rows = bytearray(self._row[shift : shift + w] * h)
        # A small noisy patch keeps the encoder busy at a camera-like ~1-1.5 Mbit/s.
        patch_w, patch_h = w // 4, h // 4
        noise = os.urandom(patch_w * patch_h)
        for y in range(patch_h):
            row0 = (h - patch_h + y) * w + (w - patch_w)
            rows[row0 : row0 + patch_w] = noise[y * patch_w : (y + 1) * patch_w]
        stamp_rows = STAMP_BLOCK
        for bit in range(STAMP_BITS):
            value = 235 if (self.index >> bit) & 1 else 16
            x0 = bit * STAMP_BLOCK
            for y in range(stamp_rows):
                rows[y * w + x0 : y * w + x0 + STAMP_BLOCK] = bytes([value]) * STAMP_BLOCK
        frame = av.VideoFrame(w, h, "yuv420p")
        frame.planes[0].update(bytes(rows))
        frame.planes[1].update(self._chroma)
        frame.planes[2].update(self._chroma)
        frame.pts = self.index * (VIDEO_CLOCK // self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.sent_at.append((self.index & 0xFFFF, time.time()))
        self.index += 1
        return frame


def read_stamp(frame: av.VideoFrame) -> int:
    """Frame number written by StampedVideoTrack, read from the decoded luma plane."""
    plane = frame.planes[0]
    data = bytes(plane)
    stride = plane.line_size
    y = STAMP_BLOCK // 2
    index = 0
    for bit in range(STAMP_BITS):
        x = bit * STAMP_BLOCK + STAMP_BLOCK // 2
        if data[y * stride + x] > 128:
            index |= 1 << bit
    return index


class ToneAudioTrack(MediaStreamTrack):
    """20 ms Opus-friendly frames of a quiet square wave, paced in real time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._start: float | None = None
        self._n = 0
        self._data = b"".join(
            (1500 if (i // 24) % 2 else -1500).to_bytes(2, "little", signed=True) * 2
            for i in range(960)
        )

    async def recv(self) -> av.AudioFrame:
        """Next 20 ms frame."""
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self._n * 0.02 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        frame.planes[0].update(self._data)
        frame.sample_rate = 48000
        frame.pts = self._n * 960
        frame.time_base = fractions.Fraction(1, 48000)
        self._n += 1
        return frame


def rss_mb() -> float:
    """Resident set size of this process."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
