"""A publisher whose audio and video carry the same marks, and the measurement of their sync
in recorded files: a 1 kHz beep and a white picture together for 100 ms at every whole second
(of one shared capture clock); between them silence and a dark moving gradient."""

from __future__ import annotations

import array
import asyncio
import fractions
import math
import statistics
import time
from pathlib import Path
from typing import Any

import av
from aiortc import MediaStreamTrack

MARK_S = 0.1
VIDEO_CLOCK = 90000


class SharedClock:
    """The capture clock both tracks read, so their marks are simultaneous at the source."""

    def __init__(self) -> None:
        self.t0: float | None = None

    def start(self) -> float:
        """The shared zero (set by whichever track asks first)."""
        if self.t0 is None:
            self.t0 = time.monotonic()
        return self.t0


def _marked(t: float) -> bool:
    return t >= 1.0 and t % 1.0 < MARK_S


class MarkedAudioTrack(MediaStreamTrack):
    """20 ms frames: silence, and a 1 kHz beep at every mark."""

    kind = "audio"

    def __init__(self, clock: SharedClock) -> None:
        super().__init__()
        self.clock = clock
        self._n = 0
        beep = b"".join(
            int(8000 * math.sin(2 * math.pi * 1000 * i / 48000)).to_bytes(2, "little", signed=True)
            * 2
            for i in range(960)
        )
        self._beep, self._silence = beep, bytes(960 * 4)

    async def recv(self) -> av.AudioFrame:
        """Next 20 ms frame, paced in real time."""
        t0 = self.clock.start()
        t = self._n * 0.02
        delay = t0 + t - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing, not synchronisation
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        frame.planes[0].update(self._beep if _marked(t) else self._silence)
        frame.sample_rate = 48000
        frame.pts = self._n * 960
        frame.time_base = fractions.Fraction(1, 48000)
        self._n += 1
        return frame


class MarkedVideoTrack(MediaStreamTrack):
    """320x240 at 30 fps: a dark moving gradient, white at every mark."""

    kind = "video"

    def __init__(self, clock: SharedClock, fps: int = 30, width: int = 320, height: int = 240):
        super().__init__()
        self.clock, self.fps, self.width, self.height = clock, fps, width, height
        self._row = bytes(16 + (x % 64) for x in range(width * 2))
        self._chroma = bytes([128]) * (width // 2) * (height // 2)
        self._n = 0

    async def recv(self) -> av.VideoFrame:
        """Next frame, paced in real time."""
        t0 = self.clock.start()
        t = self._n / self.fps
        delay = t0 + t - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        w, h = self.width, self.height
        if _marked(t):
            luma = bytes([235]) * (w * h)
        else:
            shift = (self._n * 4) % w
            luma = self._row[shift : shift + w] * h
        frame = av.VideoFrame(w, h, "yuv420p")
        frame.planes[0].update(luma)
        frame.planes[1].update(self._chroma)
        frame.planes[2].update(self._chroma)
        frame.pts = self._n * (VIDEO_CLOCK // self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self._n += 1
        return frame


def onsets(times: list[float]) -> list[float]:
    """First time of each run of marked instants (runs further apart than half a second)."""
    out: list[float] = []
    for t in sorted(times):
        if not out or t - out[-1] > 0.5:
            out.append(t)
    return out


def audio_marks(path: Path) -> tuple[list[float], int]:
    """Beep onsets (seconds, file time) and the number of audio frames in a recorded file."""
    marks: list[float] = []
    frames = 0
    with av.open(str(path)) as f:
        stream = f.streams.audio[0]
        for frame in f.decode(stream):
            frames += 1
            rate = frame.sample_rate
            # FFmpeg's Opus decoder gives planar float: channel 0 is the first plane.
            assert frame.format.name == "fltp", frame.format.name
            channel = array.array("f", bytes(frame.planes[0])[: frame.samples * 4])
            for i in range(0, len(channel), 5):  # not a divisor of the 48-sample period
                if abs(channel[i]) > 0.06:
                    assert frame.pts is not None and frame.time_base is not None
                    marks.append(float(frame.pts * frame.time_base) + i / rate)
                    break
    return onsets(marks), frames


def video_marks(path: Path) -> tuple[list[float], int]:
    """White-picture onsets (seconds, file time) and the number of video frames decoded."""
    marks: list[float] = []
    frames = 0
    with av.open(str(path)) as f:
        for frame in f.decode(f.streams.video[0]):
            frames += 1
            plane = frame.planes[0]  # luma (yuv420p)
            width = frame.width
            rows = bytes(plane)
            step = plane.line_size
            total = sum(sum(rows[y * step : y * step + width]) for y in range(0, frame.height, 4))
            if total / (width * len(range(0, frame.height, 4))) > 180:
                assert frame.pts is not None and frame.time_base is not None
                marks.append(float(frame.pts * frame.time_base))
    return onsets(marks), frames


def sync_report(audio: Path, video: Path) -> dict[str, Any]:
    """Pairs each beep with the white picture nearest to it; drift = video - audio (ms)."""
    a, audio_frames = audio_marks(audio)
    v, video_frames = video_marks(video)
    drifts = []
    for t in a:
        nearest = min(v, key=lambda x: abs(x - t), default=None)
        if nearest is not None and abs(nearest - t) < 0.5:
            drifts.append((nearest - t) * 1000)
    return {
        "audio_frames": audio_frames,
        "video_frames": video_frames,
        "marks": len(drifts),
        "drift_ms_max_abs": round(max((abs(d) for d in drifts), default=math.inf), 1),
        "drift_ms_mean": round(statistics.fmean(drifts), 1) if drifts else None,
        "audio_marks_s": [round(x, 3) for x in a],
    }
