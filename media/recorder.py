"""Lesson recorder: the forwarded RTP of every producer into one WebM file each, plus a
timeline of room events (JSON lines), without decoding anything (docs/recordings.md).

The live path only appends `(packet, arrival)` to a deque per producer (thread-safe in
CPython, no lock): reordering, depacketising, clock mapping and muxing happen in one writer
thread per recording, in batches every `BATCH_S`. Matroska clusters are closed every second and
the file is flushed after every write, so a killed server leaves a file that plays up to its
last closed cluster.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container

from .aiortc_hooks import arrival_ms
from .producer import AiortcProducer
from .recorder_rtp import Frame, H264Frames, MediaClock, Reorder, SpeechDetector, Vp8Frames
from .router import AiortcRouter
from .rtp import SourcePacket

logger = logging.getLogger(__name__)

BATCH_S = 0.25
# How long a stream waits for its publisher's first sender report before it is anchored by
# arrival time instead (aiortc and browsers send the first one within ~1-2 s).
SR_WAIT_MS = 3000
MS = Fraction(1, 1000)
# FFmpeg's Matroska muxer: a cluster at most every second, so at most ~1 s is lost on a kill.
MUXER_OPTIONS = {"cluster_time_limit": "1000", "flush_packets": "1"}
RECORDED_CODECS = {"audio/opus": "libopus", "video/vp8": "libvpx", "video/h264": "libx264"}
# WebM admits only VP8/VP9/AV1 and Opus/Vorbis: H.264 goes into its parent format, Matroska.
FILE_FORMATS = {"video/h264": ("matroska", "mkv")}


class QuotaExceeded(Exception):
    """The school's recording quota would be exceeded by the next write."""


@dataclass
class TrackSummary:
    """One written file."""

    file: str
    participant_id: str
    source: str
    kind: str
    frames: int = 0
    bytes: int = 0
    first_ms: float | None = None
    last_ms: float | None = None
    anchored_by: str = ""


@dataclass
class RecordingSummary:
    """What a stopped recording left on disk."""

    directory: Path
    tracks: list[TrackSummary] = field(default_factory=list)
    stopped_because: str = "stopped"  # stopped | quota | disk_full | error

    @property
    def bytes(self) -> int:
        """Media bytes written (the timeline not included)."""
        return sum(t.bytes for t in self.tracks)


class _Track:
    """One producer being recorded. `sink` runs on the live path; everything else in the thread."""

    def __init__(self, rec: Recording, producer: AiortcProducer, name: str) -> None:
        self.rec = rec
        self.producer = producer
        self.queue: deque[tuple[SourcePacket, int]] = deque()
        self.codec = producer.codec.mimeType.lower()
        self.clock_rate = producer.codec.clockRate
        self.kind = producer.kind
        self.summary = TrackSummary(name, producer.participant_id, producer.source, producer.kind)
        self.path = rec.directory / name
        self.reorder: Reorder[tuple[SourcePacket, int]] = Reorder(64 if self.kind == "video" else 8)
        self.frames: Vp8Frames | H264Frames | None = None
        if self.codec == "video/vp8":
            self.frames = Vp8Frames()
        elif self.codec == "video/h264":
            self.frames = H264Frames()
        self.clock = MediaClock(self.clock_rate, rec.start_ms)
        self.speech = SpeechDetector() if self.kind == "audio" else None
        self.waiting: list[tuple[Frame, int]] = []  # frames held until the clock is anchored
        self.container: av.container.OutputContainer | None = None
        self.stream: Any = None
        self.last_pts = -1
        self.finished = False

    def sink(self, packet: SourcePacket, arrival: int) -> None:
        # The live path: one append, nothing else.
        self.queue.append((packet, arrival))

    # -- writer thread ---------------------------------------------------------------------

    def drain(self) -> None:
        while self.queue:
            packet, arrival = self.queue.popleft()
            for item in self.reorder.push(packet.sequence_number, (packet, arrival)):
                if item is None:
                    if self.frames is not None:
                        self.frames.lost()
                    continue
                self._packet(*item)
        if self.frames is not None and self.frames.need_keyframe:
            self.frames.need_keyframe = False
            self.rec.ask_keyframe(self.producer)

    def _packet(self, packet: SourcePacket, arrival: int) -> None:
        if self.frames is not None:
            frame = self.frames.push(packet.timestamp, bool(packet.marker), packet.payload)
        else:
            frame = Frame(packet.timestamp, packet.payload, True)
        if frame is None:
            return
        if not self.clock.anchored:
            sr = self.producer.last_sr
            if sr is not None:
                self.clock.anchor_by_report(
                    frame.timestamp, sr, self.rec.offsets, self.producer.participant_id, arrival
                )
            elif self.waiting and arrival - self.waiting[0][1] > SR_WAIT_MS:
                first, first_arrival = self.waiting[0]
                self.clock.anchor_by_arrival(first.timestamp, first_arrival)
            else:
                self.waiting.append((frame, arrival))
                return
            self.summary.anchored_by = self.clock.anchored_by
            held, self.waiting = self.waiting, []
            for old, _ in held:
                self._write(old)
        self._write(frame)
        if self.speech is not None and packet.audio_level is not None:
            at = self.clock.ms(packet.timestamp)
            change = self.speech.push(packet.audio_level[1], at)
            if change is not None:
                self.rec.timeline_at(
                    at, "speaking", {"participant_id": self.producer.participant_id, "on": change}
                )

    def _write(self, frame: Frame) -> None:
        at = self.clock.ms(frame.timestamp)
        pts = round(at)
        if pts < 0:
            return  # captured before the recording started
        if self.container is None:
            if self.kind == "video" and not frame.keyframe:
                return
            self._open(frame)
        if pts <= self.last_pts:
            pts = self.last_pts + 1  # Matroska wants rising times per track
        self.last_pts = pts
        self.rec.spend(len(frame.data))
        packet = av.Packet(frame.data)
        packet.stream = self.stream
        packet.time_base = MS
        packet.pts = packet.dts = pts
        packet.is_keyframe = frame.keyframe
        assert self.container is not None
        self.container.mux(packet)
        s = self.summary
        s.frames += 1
        s.bytes += len(frame.data)
        if s.first_ms is None:
            s.first_ms = at
        s.last_ms = at

    def _open(self, frame: Frame) -> None:
        file_format = FILE_FORMATS.get(self.codec, ("webm", "webm"))[0]
        container = av.open(str(self.path), mode="w", format=file_format, options=MUXER_OPTIONS)
        # The codec context is opened once for its parameters (OpusHead, sizes); nothing is
        # ever encoded through it.
        stream: Any
        if self.kind == "video":
            h264 = isinstance(self.frames, H264Frames)
            video = container.add_stream("libx264" if h264 else "libvpx", rate=30)
            video.width = frame.width or 640
            video.height = frame.height or 480
            video.pix_fmt = "yuv420p"
            video.time_base = MS
            if isinstance(self.frames, H264Frames):
                # Opened here, not by the muxer, so that the header gets the publisher's SPS
                # and PPS (Annex-B; FFmpeg's Matroska muxer turns them into avcC and the
                # Annex-B units into length-prefixed ones) instead of the encoder's own.
                video.codec_context.open()
                video.codec_context.extradata = self.frames.parameter_sets
            stream = video
        else:
            audio = container.add_stream("libopus", rate=self.clock_rate)
            audio.layout = "stereo"
            stream = audio
        stream.time_base = MS
        self.container, self.stream = container, stream
        self.rec.timeline_at(
            self.clock.ms(frame.timestamp),
            "track",
            {
                "file": self.summary.file,
                "participant_id": self.summary.participant_id,
                "source": self.summary.source,
                "kind": self.kind,
                "codec": self.codec,
            },
        )

    def close(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.container is not None:
            try:
                self.container.close()  # writes the cues: the file becomes seekable
            except Exception:  # a full disk here must not take the other tracks down
                logger.exception("closing %s", self.path)
            self.container = None
            if self.summary.last_ms is not None:
                self.rec.timeline_at(self.summary.last_ms, "track_end", {"file": self.summary.file})


class Recording:
    """Records every producer of a router (present and future) into `directory`."""

    def __init__(
        self,
        directory: Path,
        router: AiortcRouter,
        *,
        quota_bytes: int | None = None,
        on_stopped: Callable[[RecordingSummary], None] | None = None,
    ) -> None:
        self.directory = directory
        self.router = router
        self.quota_bytes = quota_bytes
        self._on_stopped = on_stopped
        # The recording's zero, on aiortc's arrival clock and as Unix time (read together).
        self.start_ms = float(arrival_ms())
        self.start_wall = time.time()
        self.offsets: dict[str, float] = {}  # publisher → sender-clock offset (MediaClock)
        self._tracks: dict[str, _Track] = {}
        self._names: dict[str, int] = {}
        self._lock = threading.Lock()  # the timeline file: loop and writer thread both append
        self._wake = threading.Event()
        self._stopping = False
        self._spent = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._timeline: Any = None
        self.summary = RecordingSummary(directory)
        self.done = asyncio.Event()

    def start(self) -> None:
        """Open the timeline, record the producers there are and every new one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._loop = asyncio.get_running_loop()
        self._timeline = (self.directory / "timeline.jsonl").open("a", encoding="utf-8")
        self.timeline_at(0, "recording_started", {"wall": self.start_wall})
        self.router.producer_listeners.append(self._add)
        for producer in self.router.producers():
            self._add(producer)
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    @property
    def elapsed_ms(self) -> float:
        """Milliseconds since the recording started."""
        return arrival_ms() - self.start_ms

    def event(self, kind: str, data: dict[str, Any]) -> None:
        """A room event now (on the loop): one timeline line."""
        self.timeline_at(self.elapsed_ms, kind, data)

    def timeline_at(self, at_ms: float, kind: str, data: dict[str, Any]) -> None:
        """One timeline line at this time since start (either thread)."""
        line = json.dumps({"t": round(at_ms), "type": kind, **data}, ensure_ascii=False)
        with self._lock:
            if self._timeline is None or self._timeline.closed:
                return
            self._timeline.write(line + "\n")
            self._timeline.flush()

    def _add(self, producer: AiortcProducer) -> None:
        if self._stopping or producer.id in self._tracks:
            return
        if producer.codec.mimeType.lower() not in RECORDED_CODECS:
            self.event(
                "track_skipped",
                {"participant_id": producer.participant_id, "codec": producer.codec.mimeType},
            )
            return
        base = f"{producer.participant_id}-{producer.source}"
        n = self._names.get(base, 0) + 1
        self._names[base] = n
        extension = FILE_FORMATS.get(producer.codec.mimeType.lower(), ("webm", "webm"))[1]
        track = _Track(self, producer, f"{base}-{n}.{extension}")
        self._tracks[producer.id] = track
        producer.add_sink(track.sink)
        if producer.kind == "video":
            producer.request_keyframe()  # a recording that starts mid-stream starts at one

    def ask_keyframe(self, producer: AiortcProducer) -> None:
        """From the writer thread: a loss broke the picture chain; ask the publisher."""
        loop = self._loop
        if loop is not None and not loop.is_closed():

            def ask() -> None:
                if not producer.closed:
                    producer.request_keyframe()

            loop.call_soon_threadsafe(ask)

    def spend(self, n: int) -> None:
        """Count bytes about to be written against the quota (writer thread)."""
        if self.quota_bytes is not None and self._spent + n > self.quota_bytes:
            raise QuotaExceeded
        self._spent += n

    def _run(self) -> None:
        reason = "stopped"
        try:
            while True:
                stopping = self._stopping
                for track in list(self._tracks.values()):
                    if track.finished:
                        continue
                    track.drain()
                    if track.producer.closed and not track.queue:
                        track.close()
                if stopping:
                    break
                self._wake.wait(BATCH_S)
        except QuotaExceeded:
            reason = "quota"
        except OSError as exc:
            logger.error("recording in %s: %s", self.directory, exc)
            reason = "disk_full" if exc.errno == 28 else "error"
        except Exception:
            logger.exception("recording in %s", self.directory)
            reason = "error"
        self._stopping = True
        for track in self._tracks.values():
            track.close()
        self.summary.tracks = [t.summary for t in self._tracks.values() if t.summary.frames]
        self.summary.stopped_because = reason
        self.timeline_at(self.elapsed_ms, "recording_stopped", {"reason": reason})
        with self._lock:
            self._timeline.close()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._finished)

    def _finished(self) -> None:
        if self._add in self.router.producer_listeners:
            self.router.producer_listeners.remove(self._add)
        for track in self._tracks.values():
            track.producer.remove_sink(track.sink)
        self.done.set()
        if self._on_stopped is not None:
            self._on_stopped(self.summary)

    async def stop(self) -> RecordingSummary:
        """Write what is queued, close the files (idempotent); the summary of what was written."""
        self._stopping = True
        self._wake.set()
        await self.done.wait()
        return self.summary
