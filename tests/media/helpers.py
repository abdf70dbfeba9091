"""aiortc test peers on 127.0.0.1: a synthetic publisher and counting/decoding subscribers."""

from __future__ import annotations

import asyncio
import fractions
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from bench._sfu_common import ToneAudioTrack
from media.router import AiortcRouter
from media.transport import AiortcTransport

VIDEO_CLOCK = 90000


def loopback_configuration() -> RTCConfiguration:
    """Empty ICE servers: host candidates only (the router already pinned gathering to lo)."""
    return RTCConfiguration(iceServers=[])


class PatternVideoTrack(MediaStreamTrack):
    """Moving luma gradient at a fixed frame rate, so every frame differs."""

    kind = "video"

    def __init__(
        self, width: int = 320, height: int = 240, fps: int = 30, noise: bool = False
    ) -> None:
        super().__init__()
        self.width, self.height, self.fps, self.noise = width, height, fps, noise
        self._row = bytes((x * 3) & 0xFF for x in range(width * 2))
        self._chroma = bytes([128]) * (width // 2) * (height // 2)
        self._start: float | None = None
        self.frames_sent = 0

    async def recv(self) -> av.VideoFrame:
        """Next frame, paced in real time."""
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self.frames_sent / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing, not synchronisation
        shift = (self.frames_sent * 4) % self.width
        row = self._row[shift : shift + self.width]
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        # Noise defeats compression: many packets per frame, as a real camera sends.
        luma = os.urandom(self.width * self.height) if self.noise else row * self.height
        frame.planes[0].update(luma)
        frame.planes[1].update(self._chroma)
        frame.planes[2].update(self._chroma)
        frame.pts = self.frames_sent * (VIDEO_CLOCK // self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.frames_sent += 1
        return frame


def prefer_codec(pc: RTCPeerConnection, kind: str, mime: str) -> None:
    """Restrict a peer connection's transceivers of this kind to one codec (+RTX)."""
    caps = RTCRtpSender.getCapabilities(kind).codecs
    prefs = [c for c in caps if c.mimeType.lower() in (mime.lower(), f"{kind}/rtx")]
    for t in pc.getTransceivers():
        if t.kind == kind:
            t.setCodecPreferences(prefs)


@dataclass
class Publisher:
    """A publishing aiortc peer connected to a router's publish transport."""

    pc: RTCPeerConnection
    transport: AiortcTransport
    video: PatternVideoTrack | None
    audio: ToneAudioTrack | None


async def publish(
    router: AiortcRouter,
    participant_id: str,
    *,
    video: bool = True,
    audio: bool = True,
    video_codec: str = "video/VP8",
    width: int = 320,
    height: int = 240,
    noise: bool = False,
) -> Publisher:
    """Connect a publisher sending synthetic video and/or audio."""
    pc = RTCPeerConnection(loopback_configuration())
    vtrack = PatternVideoTrack(width, height, noise=noise) if video else None
    atrack = ToneAudioTrack() if audio else None
    if atrack is not None:
        pc.addTransceiver(atrack, direction="sendonly")
    if vtrack is not None:
        pc.addTransceiver(vtrack, direction="sendonly")
        prefer_codec(pc, "video", video_codec)
    transport = await router.create_transport(participant_id, "publish")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await transport.accept_offer(pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return Publisher(pc, transport, vtrack, atrack)


@dataclass
class TrackStats:
    """What one subscriber saw on one track."""

    kind: str
    frames: int = 0
    first_frame_at: float | None = None
    last_frame_at: float | None = None
    ended: bool = False


@dataclass
class Subscriber:
    """A viewing aiortc peer that decodes every track it receives."""

    participant_id: str
    pc: RTCPeerConnection
    transport: AiortcTransport
    tracks: dict[str, TrackStats] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    negotiations: int = 0
    created_at: float = field(default_factory=time.monotonic)

    def frames(self, kind: str) -> int:
        """Frames decoded over all tracks of a kind."""
        return sum(s.frames for s in self.tracks.values() if s.kind == kind)

    async def wait_for(self, predicate: Callable[[], bool], within: float) -> None:
        """Wait until predicate() holds, woken by each decoded frame or track change."""
        async with asyncio.timeout(within):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    async def close(self) -> None:
        """Stop consuming and close the peer connection."""
        for task in self.tasks:
            task.cancel()
        await self.pc.close()


async def _consume(sub: Subscriber, track: MediaStreamTrack) -> None:
    stats = sub.tracks.setdefault(track.id, TrackStats(track.kind))
    sub.changed.set()
    try:
        while True:
            await track.recv()
            now = time.monotonic()
            stats.frames += 1
            if stats.first_frame_at is None:
                stats.first_frame_at = now
            stats.last_frame_at = now
            sub.changed.set()
    except MediaStreamError:
        stats.ended = True
        sub.changed.set()


async def subscribe(
    router: AiortcRouter,
    participant_id: str,
    *,
    on_pc: Callable[[RTCPeerConnection], None] | None = None,
) -> Subscriber:
    """Connect a subscriber; it answers every renegotiation the transport asks for."""
    pc = RTCPeerConnection(loopback_configuration())
    if on_pc is not None:
        on_pc(pc)
    transport = await router.create_transport(participant_id, "subscribe")
    sub = Subscriber(participant_id, pc, transport)

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        sub.tasks.append(asyncio.ensure_future(_consume(sub, track)))

    lock = asyncio.Lock()

    async def negotiate(t: Any) -> None:
        async with lock:
            offer = await transport.create_offer()
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            await transport.accept_answer(pc.localDescription.sdp)
            sub.negotiations += 1
            sub.changed.set()

    transport.on_negotiation_needed(negotiate)
    return sub


def nominated_pairs(pc: RTCPeerConnection) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """(local, remote) addresses of every nominated ICE candidate pair of a peer connection."""
    pairs = []
    seen: set[int] = set()
    for t in pc.getTransceivers():
        ice = t.sender.transport.transport
        if id(ice) in seen:
            continue
        seen.add(id(ice))
        for pair in ice._connection._nominated.values():
            pairs.append((pair.local_addr, pair.remote_addr))
    return pairs


def drop_incoming_rtp(pc: RTCPeerConnection, ratio: float, seed: int = 7) -> dict[str, int]:
    """Drop a share of the RTP (not RTCP) packets a peer connection receives, after SRTP."""
    import random

    rng = random.Random(seed)
    counts = {"dropped": 0, "passed": 0}
    dtls = pc.getTransceivers()[0].receiver.transport
    original = dtls._handle_rtp_data

    async def lossy(data: bytes, arrival_time_ms: int) -> None:
        if rng.random() < ratio:
            counts["dropped"] += 1
            return
        counts["passed"] += 1
        await original(data, arrival_time_ms)

    dtls._handle_rtp_data = lossy  # type: ignore[method-assign]
    return counts
