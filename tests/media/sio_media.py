"""aiortc clients that do media through the real server's socket.io events (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from bench._sfu_common import ToneAudioTrack
from tests.integration.peers import Peer

from .helpers import (
    PatternVideoTrack,
    loopback_configuration,
    nominated_pairs,
    prefer_codec,
)


@dataclass
class Received:
    """One incoming track: who it is from (by the offer's tile map) and frames decoded."""

    mid: str
    kind: str
    participant_id: str
    source: str
    frames: int = 0
    ended: bool = False
    last_frame_at: float | None = None


@dataclass
class MediaClient:
    """A joined socket.io peer with a publish and a subscribe aiortc connection."""

    peer: Peer
    participant_id: str
    ice_servers: list[Any]
    up: RTCPeerConnection | None = None
    down: RTCPeerConnection | None = None
    sending: dict[str, tuple[str, RTCRtpTransceiver]] = field(default_factory=dict)  # by source
    received: dict[str, Received] = field(default_factory=dict)  # by track id
    tiles: dict[str, dict[str, str]] = field(default_factory=dict)
    closed_sources: list[str] = field(default_factory=list)
    # (transport, reason) of every media_closed about a whole connection
    closed_connections: list[tuple[str, str]] = field(default_factory=list)
    answers: int = 0
    # False: a viewer that receives offers and never answers them (counted in `ignored`).
    answering: bool = True
    ignored: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.peer.sio.on("media_offer", self._on_offer)
        self.peer.sio.on("media_closed", self._on_closed)

    # -- receiving ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the subscribe side: the server offers whenever there is something to see."""
        ack = await self.peer.call("media_start", {})
        assert ack["ok"], ack
        assert ack["ice_servers"] == []

    async def restart(self) -> None:
        """What web/src/media.js does after media_closed(offer_timeout): a new subscribe side."""
        async with self._lock:
            if self.down is not None:
                await self.down.close()
            self.down = None
            self.tiles = {}
        await self.start()

    async def _on_offer(self, data: dict[str, Any]) -> None:
        if not self.answering:
            self.ignored += 1
            self.changed.set()
            return
        async with self._lock:
            if self.down is None:
                self.down = RTCPeerConnection(loopback_configuration())
                self.down.on("track", self._on_track)
            self.tiles = data["tiles"]
            await self.down.setRemoteDescription(
                RTCSessionDescription(sdp=data["sdp"], type="offer")
            )
            await self.down.setLocalDescription(await self.down.createAnswer())
            ack = await self.peer.call("media_answer", {"sdp": self.down.localDescription.sdp})
            assert ack["ok"], ack
            self.answers += 1
            self.changed.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        assert self.down is not None
        mid = next(t.mid for t in self.down.getTransceivers() if t.receiver.track is track)
        assert mid is not None
        tile = self.tiles[mid]
        assert tile["kind"] == track.kind
        rec = Received(mid, track.kind, tile["participant_id"], tile["source"])
        self.received[track.id] = rec
        task = asyncio.ensure_future(self._consume(rec, track))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, rec: Received, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                rec.frames += 1
                rec.last_frame_at = time.monotonic()
                self.changed.set()
        except MediaStreamError:
            rec.ended = True
            self.changed.set()

    def frames(self, participant_id: str, source: str) -> int:
        """Frames decoded from one person's source over all its tracks."""
        return sum(
            r.frames
            for r in self.received.values()
            if r.participant_id == participant_id and r.source == source
        )

    def live_tiles(self, participant_id: str) -> set[str]:
        """Sources of this person in the current tile map."""
        return {t["source"] for t in self.tiles.values() if t["participant_id"] == participant_id}

    async def wait_for(self, predicate: Callable[[], bool], within: float = 20) -> None:
        """Wait until predicate() holds, woken by every frame, answer or notice."""
        async with asyncio.timeout(within):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    # -- sending -----------------------------------------------------------------------------

    async def publish(self, *sources: str) -> dict[str, Any]:
        """Add a track per source and (re)offer; return the ack (the answer is applied if ok)."""
        if self.up is None:
            self.up = RTCPeerConnection(loopback_configuration())
        added = []
        for source in sources:
            track: MediaStreamTrack = (
                ToneAudioTrack() if source == "mic" else PatternVideoTrack(320, 240)
            )
            added.append((source, self.up.addTransceiver(track, direction="sendonly")))
        prefer_codec(self.up, "video", "video/VP8")
        ack = await self._offer({**{s: t for s, (_, t) in self.sending.items()}, **dict(added)})
        if ack["ok"]:
            for source, t in added:
                self.sending[source] = (t.mid or "", t)
        else:
            # Refused: take the new m-lines back out (aiortc has no rollback: stop them).
            for _, t in added:
                t.sender.replaceTrack(None)
                t.direction = "inactive"
        return ack

    async def _offer(self, transceivers: dict[str, RTCRtpTransceiver]) -> dict[str, Any]:
        assert self.up is not None
        await self.up.setLocalDescription(await self.up.createOffer())
        sources = {t.mid: s for s, t in transceivers.items() if t.mid is not None}
        ack = await self.peer.call(
            "media_publish", {"sdp": self.up.localDescription.sdp, "sources": sources}
        )
        if ack["ok"]:
            await self.up.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="answer"))
        return ack

    async def _on_closed(self, data: dict[str, Any]) -> None:
        if "transport" in data:
            self.closed_connections.append((data["transport"], data["reason"]))
        else:
            self.closed_sources.append(data["source"])
        self.changed.set()

    def loopback_only(self) -> bool:
        """True if every nominated ICE pair of both connections is 127.0.0.1 on both ends."""
        pairs = [p for pc in (self.up, self.down) if pc is not None for p in nominated_pairs(pc)]
        return bool(pairs) and all(
            local[0] == "127.0.0.1" and remote[0] == "127.0.0.1" for local, remote in pairs
        )

    async def close(self) -> None:
        """Close both peer connections (the socket is closed by the peers() context)."""
        for task in list(self._tasks):
            task.cancel()
        for pc in (self.up, self.down):
            if pc is not None:
                await pc.close()
