"""Benchmark client processes: one publisher, or a group of (mostly non-decoding) subscribers."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

import aiohttp
import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription, clock
from aiortc.mediastreams import MediaStreamError

from media import aiortc_hooks as hooks
from media.aiortc_hooks import with_transport_cc
from media.rtp import ABS_SEND_TIME_URI, RtpHeader, parse_rtp

from ._sfu_common import (
    TWCC_ENV,
    StampedVideoTrack,
    ToneAudioTrack,
    emit,
    loopback,
    pin_from_env,
    read_stamp,
    read_window,
    sleep_until,
)

AST_UNITS_PER_S = 1 << 18  # abs-send-time is 6.18 fixed point seconds, 24 bits


def connected(pc: RTCPeerConnection) -> asyncio.Event:
    """An event set once the peer connection is connected."""
    event = asyncio.Event()

    @pc.on("connectionstatechange")
    def on_change() -> None:
        if pc.connectionState == "connected":
            event.set()

    return event


async def run_publisher(session: aiohttp.ClientSession, url: str) -> None:
    pc = RTCPeerConnection(loopback())
    up = connected(pc)
    video = StampedVideoTrack()
    pc.addTransceiver(ToneAudioTrack(), direction="sendonly")
    vt = pc.addTransceiver(video, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    async with session.post(
        f"{url}/publish", json={"id": "teacher", "sdp": pc.localDescription.sdp}
    ) as r:
        answer = (await r.json())["sdp"]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await up.wait()
    emit("READY")
    start, end = await read_window()

    async def bytes_sent() -> int:
        stats = await vt.sender.getStats()
        return sum(s.bytesSent for s in stats.values() if s.type == "outbound-rtp")

    await sleep_until(start)
    b0 = await bytes_sent()
    await sleep_until(end)
    b1 = await bytes_sent()
    sent = [(i, t) for i, t in video.sent_at if start <= t <= end]
    emit("RESULT", {"video_bytes": b1 - b0, "sent": sent})
    await asyncio.Event().wait()


class Viewer:
    """One subscriber: counts packets and their one-way delay; decodes only if asked."""

    def __init__(self, pid: str, decode: bool, window: tuple[float, float]) -> None:
        self.pid = pid
        self.decode = decode
        self.window = window
        self.pc = RTCPeerConnection(loopback())
        self.up = connected(self.pc)
        self.latencies: list[float] = []
        self.decoded: list[tuple[int, float]] = []
        self.first_frame = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.hooks: list[hooks.ReceiverHook] = []

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if self.decode:
                self.tasks.append(asyncio.ensure_future(self._drain(track)))

    async def _drain(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    self.decoded.append((read_stamp(frame), time.time()))
                    self.first_frame.set()
        except MediaStreamError:
            return

    def _record(self, abs_send_time: int | None) -> None:
        now = time.time()
        if abs_send_time is not None and self.window[0] <= now <= self.window[1]:
            ast_now = (clock.current_ntp_time() >> 14) & 0xFFFFFF
            self.latencies.append(((ast_now - abs_send_time) & 0xFFFFFF) * 1000 / AST_UNITS_PER_S)

    def _hook(self) -> None:
        """Stamp each packet's one-way delay as early as this process can see it.

        A counting viewer takes its RTP through media/'s lean receive path (still feeding the
        RR statistics and REMB it sends the server, as any viewer does); a decoding viewer
        keeps aiortc's whole path, stamped before aiortc's queue. Eight viewers share one
        process: with aiortc's ~0.1 ms per packet on all of them, a frame's burst waited
        milliseconds in this process's socket buffers, which is the measuring instrument's
        delay, not the server's.
        """
        for t in self.pc.getTransceivers():
            if self.decode:
                continue
            codec = hooks.negotiated_codecs(t)[0]
            ids = hooks.header_extension_ids(t)
            ast_id = ids.get(ABS_SEND_TIME_URI, 0)

            def on_rtp(header: RtpHeader, arrival_ms: int) -> None:
                self._record(header.abs_send_time)

            async def on_rtcp(packet: Any) -> None:
                return None

            self.hooks.append(
                hooks.hook_receiver(
                    t.receiver,
                    codec.clockRate,
                    (ast_id, 0),
                    on_rtp,
                    on_rtcp,
                    remb=hooks.wants_remb(codec),
                )
            )

    def _stamp_datagrams(self) -> None:
        # Decoding viewers: read abs-send-time from the SRTP packet's header (sent in clear)
        # on arrival, then hand the datagram to aiortc as usual.
        transceivers = self.pc.getTransceivers()
        # One bundle, one ID map; only the video m-line negotiates abs-send-time.
        ast_id = max(hooks.header_extension_ids(t).get(ABS_SEND_TIME_URI, 0) for t in transceivers)
        connection = transceivers[0].receiver.transport.transport._connection
        for protocol in connection._protocols:
            passthrough = protocol.datagram_received

            def received(data: bytes, addr: Any, passthrough: Any = passthrough) -> None:
                if len(data) > 12 and 127 < data[0] < 192 and not 191 < data[1] < 209:
                    header = parse_rtp(data, ast_id, 0)
                    if header is not None:
                        self._record(header.abs_send_time)
                passthrough(data, addr)

            protocol.datagram_received = received  # type: ignore[method-assign,assignment]

    async def join(self, session: aiohttp.ClientSession, url: str) -> None:
        async with session.post(f"{url}/subscribe", json={"id": self.pid}) as r:
            offer = (await r.json())["sdp"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        self._hook()
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        answer = self.pc.localDescription.sdp
        if os.environ.get(TWCC_ENV) == "1":
            # Accept transport-cc as a browser would: the server then numbers what it forwards
            # (aiortc sends no feedback, so this measures the numbering's cost alone).
            answer = with_transport_cc(answer, offer)
        async with session.post(f"{url}/answer", json={"id": self.pid, "sdp": answer}) as r:
            await r.read()
        await self.up.wait()
        if self.decode:
            self._stamp_datagrams()


async def run_subscribers(
    session: aiohttp.ClientSession, url: str, ids: list[str], decoders: set[str]
) -> None:
    viewers = [Viewer(pid, pid in decoders, (0.0, 0.0)) for pid in ids]
    for v in viewers:
        await v.join(session, url)
    emit("READY")
    start, end = await read_window()
    for v in viewers:
        v.window = (start, end)
    await sleep_until(end)
    emit(
        "RESULT",
        {
            "latencies": [x for v in viewers for x in v.latencies],
            "decoded": {v.pid: v.decoded for v in viewers if v.decode},
        },
    )
    await asyncio.Event().wait()


async def run_late(session: aiohttp.ClientSession, url: str) -> None:
    emit("READY")
    start, end = await read_window()
    await sleep_until(start + (end - start) / 2)
    viewer = Viewer("late", True, (0.0, 0.0))
    joined = time.time()
    await viewer.join(session, url)
    up = time.time()
    await asyncio.wait_for(viewer.first_frame.wait(), 10)
    first = viewer.decoded[0][1]
    emit(
        "RESULT",
        {"connected_to_frame_ms": (first - up) * 1000, "join_to_frame_ms": (first - joined) * 1000},
    )
    await asyncio.Event().wait()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--role", choices=["publisher", "subscribers", "late"], required=True)
    parser.add_argument("--ids", default="")
    parser.add_argument("--decoders", default="")
    args = parser.parse_args()
    pin_from_env()
    # Publisher and viewers stand in for other people's machines: as SCHED_BATCH their
    # wake-ups do not preempt the server in the middle of a fan-out (as in bench.signal).
    if hasattr(os, "sched_setscheduler") and os.environ.get("SABAQ_BENCH_BATCH", "1") != "0":
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    async with aiohttp.ClientSession() as session:
        if args.role == "publisher":
            await run_publisher(session, args.url)
        elif args.role == "late":
            await run_late(session, args.url)
        else:
            ids = [x for x in args.ids.split(",") if x]
            await run_subscribers(session, args.url, ids, set(args.decoders.split(",")))


if __name__ == "__main__":
    asyncio.run(main())
