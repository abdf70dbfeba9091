"""Benchmark server process: the SFU (forward) or aiortc MediaRelay (relay baseline)."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from media.recorder import Recording
from media.router import AiortcRouter
from media.transport import AiortcTransport

from ._sfu_common import emit, loopback, pin_from_env, read_window, rss_mb, sleep_until


class ForwardServer:
    """Signalling in front of one AiortcRouter."""

    def __init__(self) -> None:
        self.router = AiortcRouter()
        self.transports: dict[str, AiortcTransport] = {}

    async def publish(self, pid: str, sdp: str) -> str:
        transport = await self.router.create_transport(pid, "publish")
        return await transport.accept_offer(sdp)

    async def subscribe(self, pid: str) -> str:
        transport = await self.router.create_transport(pid, "subscribe")
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.transports[pid] = transport

        async def negotiate(t: Any) -> None:
            await queue.put(await transport.create_offer())

        transport.on_negotiation_needed(negotiate)
        return await queue.get()

    async def answer(self, pid: str, sdp: str) -> None:
        await self.transports[pid].accept_answer(sdp)

    async def packets(self) -> int:
        return sum(
            c.packets_sent + c.retransmissions for p in self.router.producers() for c in p.consumers
        )

    def streams(self) -> int:
        return sum(len(p.consumers) for p in self.router.producers())

    def tapped_share(self) -> float:
        """Share of received packets that took the lean receive path."""
        producers = self.router.producers()
        received = sum(p.packets_received for p in producers)
        return sum(p.packets_tapped for p in producers) / max(1, received)


class RelayServer:
    """The baseline: decode each published track once, encode it once per viewer."""

    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.tracks: list[MediaStreamTrack] = []
        self.pcs: dict[str, RTCPeerConnection] = {}

    async def publish(self, pid: str, sdp: str) -> str:
        pc = RTCPeerConnection(loopback())
        self.pcs[pid] = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.tracks.append(track)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def subscribe(self, pid: str) -> str:
        pc = RTCPeerConnection(loopback())
        self.pcs[pid] = pc
        for track in self.tracks:
            pc.addTrack(self.relay.subscribe(track))
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    async def answer(self, pid: str, sdp: str) -> None:
        await self.pcs[pid].setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def packets(self) -> int:
        total = 0
        for pc in self.pcs.values():
            for sender in pc.getSenders():
                stats = await sender.getStats()
                for s in stats.values():
                    if s.type == "outbound-rtp":
                        total += s.packetsSent
        return total

    def streams(self) -> int:
        # Only senders that carry a track: the publisher's connection has idle ones.
        return sum(
            1 for pc in self.pcs.values() for sender in pc.getSenders() if sender.track is not None
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["forward", "relay"], required=True)
    parser.add_argument("--record", metavar="DIR", help="record every producer into DIR")
    args = parser.parse_args()
    pin_from_env()
    loopback()
    server: ForwardServer | RelayServer = (
        ForwardServer() if args.mode == "forward" else RelayServer()
    )

    async def publish(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"sdp": await server.publish(body["id"], body["sdp"])})

    async def subscribe(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"sdp": await server.subscribe(body["id"])})

    async def answer(request: web.Request) -> web.Response:
        body = await request.json()
        await server.answer(body["id"], body["sdp"])
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/publish", publish)
    app.router.add_post("/subscribe", subscribe)
    app.router.add_post("/answer", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    recording = None
    if args.record and isinstance(server, ForwardServer):
        recording = Recording(Path(args.record), server.router)
        recording.start()
    # As `sabaq serve` does after start-up: long-lived objects out of the collector's way.
    gc.freeze()
    emit("PORT", port)

    start, end = await read_window()
    profile_path = os.environ.get("SABAQ_BENCH_PROFILE")
    profiler = cProfile.Profile(time.thread_time) if profile_path else None
    await sleep_until(start)
    cpu0, packets0, streams = time.process_time(), await server.packets(), server.streams()
    times0 = os.times()
    if profiler is not None:
        profiler.enable()
    await sleep_until(end)
    if profiler is not None and profile_path:
        profiler.disable()
        profiler.dump_stats(profile_path)
    cpu1, packets1 = time.process_time(), await server.packets()
    times1 = os.times()
    record = None
    if recording is not None:
        summary = await recording.stop()
        record = {"bytes": summary.bytes, "files": len(summary.tracks)}
    emit(
        "RESULT",
        {
            "cpu_s": cpu1 - cpu0,
            "packets": packets1 - packets0,
            "streams": streams,
            "rss_mb": rss_mb(),
            "user_s": times1.user - times0.user,
            "system_s": times1.system - times0.system,
            "tapped": server.tapped_share() if isinstance(server, ForwardServer) else None,
            "record": record,
        },
    )
    # Stay up while the late joiner and the clients finish; the coordinator ends us.
    await asyncio.Event().wait()


def run() -> None:
    """Run the server on uvloop when installed (SABAQ_BENCH_UVLOOP=0 to compare without)."""
    if os.environ.get("SABAQ_BENCH_UVLOOP", "1") != "0":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.run(main())
            return
    asyncio.run(main())


if __name__ == "__main__":
    run()
