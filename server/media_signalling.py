"""Media over socket.io: one SFU router per live room; media events run on the sender's queue.

The room core decides who may produce what (`Participant.permissions`); this module enforces it
at publish time and again whenever permissions change (`PermissionsChanged`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aiortc.sdp import SessionDescription
from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from media import (
    SOURCES,
    AiortcRouter,
    IceServer,
    InvalidStateError,
    MediaSettings,
    NegotiationError,
    Source,
)
from media.interfaces import default_source
from media.layers import ReceivedLayer
from media.transport import AiortcTransport
from rooms.refusals import Reason, Refusal
from rooms.roles import Permission
from server.payloads import Payload

if TYPE_CHECKING:
    from server.settings import Settings
    from server.signalling import Ack, Connection, Signalling

log = logging.getLogger(__name__)

SOURCE_PERMISSION: dict[Source, Permission] = {
    "mic": Permission.SPEAK,
    "camera": Permission.VIDEO,
    "screen": Permission.SHARE,
}
SOURCE_KIND: dict[Source, str] = {"mic": "audio", "camera": "video", "screen": "video"}
# An SDP with a handful of m-lines is 3-10 KB; the per-event cap (64 KiB) bounds it anyway.
MAX_SDP = 60_000
Mid = Annotated[StrictStr, Field(min_length=1, max_length=32)]
EncodingKey = Annotated[StrictStr, Field(min_length=1, max_length=80)]  # "MID/RID"
EncodeMs = Annotated[StrictFloat | StrictInt, Field(ge=0, le=10_000, allow_inf_nan=False)]


class MediaStart(Payload):
    """`media_start`: open (or reopen) the subscribe connection."""


class MediaPublish(Payload):
    """`media_publish`: the client's (re)offer on its publish connection."""

    sdp: StrictStr = Field(min_length=1, max_length=MAX_SDP)
    sources: dict[Mid, Source] = Field(default_factory=dict, max_length=32)


class MediaAnswer(Payload):
    """`media_answer`: the client's answer to our last `media_offer`."""

    sdp: StrictStr = Field(min_length=1, max_length=MAX_SDP)


class MediaUnpublish(Payload):
    """`media_unpublish`: stop producing one source at once (the client re-offers after)."""

    source: Source


class MediaStop(Payload):
    """`media_stop`: close both media connections (the participant stays in the room)."""


class MediaReceive(Payload):
    """`media_receive`: whether to receive others' cameras (off saves a poor link's bandwidth;
    sound and screen shares still come)."""

    cameras: StrictBool


class MediaQuality(Payload):
    """`media_quality`: the client's own reading of its connection (web/src/quality.js).

    The browser is the only one that sees both directions and its own jitter buffer; the server
    passes the reading on to the room's staff, so a teacher sees who is on a poor link.
    """

    level: Literal["good", "fair", "poor"]
    delay_ms: StrictInt = Field(ge=0, le=60_000)
    rtt_ms: StrictInt = Field(ge=0, le=60_000)
    loss_pct: StrictFloat = Field(ge=0, le=100, allow_inf_nan=False)
    # The host's view (docs/media.md, "What the page reports"); absent from older pages.
    jitter_ms: StrictInt = Field(0, ge=0, le=60_000)  # incoming, the worst stream
    kbps_in: StrictInt = Field(0, ge=0, le=1_000_000)  # everything received, kbit/s
    kbps_out: StrictInt = Field(0, ge=0, le=1_000_000)  # everything sent
    video_height: StrictInt = Field(0, ge=0, le=4320)  # tallest picture decoded: the layer
    # ok: expected video is decoding; lost: expected, no frame decoded; none: none expected
    video: Literal["ok", "lost", "none"] = "none"
    # The publisher's encoding time per frame (ms) by "MID/RID" of its outgoing video: the
    # server needs it to tell how early the browser's capture stamps run (media/clock.py).
    encode_ms: dict[EncodingKey, EncodeMs] = Field(default_factory=dict, max_length=16)


class MediaClock(Payload):
    """`media_clock`: each received video's capture-time line, asked right before the page
    dates the frames it showed (web/src/framedelay.js; docs/media.md "The estimate")."""


# A client reports every few seconds; more often is a misbehaving client.
QUALITY_MIN_INTERVAL_S = 1.0
CLOCK_MIN_INTERVAL_S = 0.5
# Each "cameras on" asks every camera for a keyframe: a button, not a stream of toggles.
RECEIVE_MIN_INTERVAL_S = 0.5


PAYLOADS: dict[str, type[BaseModel]] = {
    "media_start": MediaStart,
    "media_publish": MediaPublish,
    "media_answer": MediaAnswer,
    "media_unpublish": MediaUnpublish,
    "media_stop": MediaStop,
    "media_quality": MediaQuality,
    "media_receive": MediaReceive,
    "media_clock": MediaClock,
}
MEDIA_EVENTS = frozenset(PAYLOADS)


@dataclass(frozen=True, slots=True)
class QueuedMediaWork:
    """Work the server puts on a participant's queue itself (never built from socket data)."""

    run: Callable[[], Awaitable[Ack]]


@dataclass(slots=True)
class MediaPeer:
    """A participant's two connections in one room."""

    room_id: str
    publish: AiortcTransport | None = None
    subscribe: AiortcTransport | None = None
    # Offers sent on the current subscribe transport: an expiring timer checks it is still
    # about the latest one.
    offers: int = 0
    offer_timer: asyncio.TimerHandle | None = None
    quality_at: float = float("-inf")  # monotonic time of the last accepted media_quality
    receive_at: float = float("-inf")  # ... and of media_receive
    clock_at: float = float("-inf")  # ... and of media_clock
    cameras: bool = True  # receive others' cameras (media_receive), kept across media_start

    def stop_offer_timer(self) -> None:
        """The offer was answered, or the subscribe transport is going away."""
        if self.offer_timer is not None:
            self.offer_timer.cancel()
            self.offer_timer = None


def received_json(r: ReceivedLayer) -> dict[str, object]:
    """One video a viewer is forwarded, as `participant_quality.received` carries it."""
    return {
        "from": r.publisher,
        "source": r.source,
        "layer": r.layer,
        "layers": r.layers,
        "height": r.height,
        "limit": r.limit,
        "paused": r.paused,
    }


def media_error(code: str, message: str) -> Ack:
    """An error ack with a media-only code (not a room refusal)."""
    return {"ok": False, "error": {"code": code, "message": message}}


def refused(reason: Reason, detail: str = "") -> Ack:
    """An error ack for a room refusal code."""
    r = Refusal(reason, detail)
    return {"ok": False, "error": {"code": r.reason.value, "message": r.message}}


def media_settings(settings: Settings) -> MediaSettings:
    """The SFU's settings from the server's."""
    return MediaSettings(
        gather_address=settings.media_gather_address,
        announced_address=settings.media_announced_address,
        ice_servers=tuple(
            IceServer(s.urls, s.username, s.credential) for s in settings.ice_servers
        ),
        video_playout_delay_ms=(
            (0, settings.media_video_playout_max_ms)
            if settings.media_video_playout_max_ms
            else None
        ),
    )


def sending_mlines(sdp: str) -> dict[str, str]:
    """MID → kind of every audio/video m-line the offerer sends on. Raises ValueError."""
    if not sdp.startswith("v=0"):  # aiortc's parser skips lines it does not know
        raise ValueError("not an SDP")
    try:
        desc = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc's parser raises assorted errors on garbage
        raise ValueError(str(exc) or type(exc).__name__) from exc
    out: dict[str, str] = {}
    for m in desc.media:
        mid = m.rtp.muxId
        if m.kind in ("audio", "video") and m.direction in ("sendonly", "sendrecv") and mid:
            out[mid] = m.kind
    return out


class MediaSignalling:
    """Routers of the live rooms and every participant's media connections."""

    def __init__(self, signalling: Signalling, settings: MediaSettings) -> None:
        self._sig = signalling
        self.settings = settings
        self._routers: dict[str, AiortcRouter] = {}
        self._peers: dict[str, MediaPeer] = {}
        self._closed = False
        # Called with (room id, participant id, reading) for every accepted media_quality:
        # the metrics' histograms and the lesson's quality history listen here.
        self.quality_listeners: list[Callable[[str, str, MediaQuality], None]] = []

    @property
    def ice_servers(self) -> list[dict[str, str]]:
        """RTCIceServer dicts for browsers (empty: host candidates only)."""
        out = []
        for s in self.settings.ice_servers:
            entry = {"urls": s.urls}
            if s.username is not None:
                entry["username"] = s.username
            if s.credential is not None:
                entry["credential"] = s.credential
            out.append(entry)
        return out

    def routers(self) -> list[AiortcRouter]:
        """The routers of the live rooms (a copy)."""
        return list(self._routers.values())

    def router(self, room_id: str) -> AiortcRouter:
        """The room's router, made on the room's first media use."""
        router = self._routers.get(room_id)
        if router is None or router.closed:
            if self._closed:
                raise InvalidStateError("server shutting down")
            router = self._routers[room_id] = AiortcRouter(self.settings)
        return router

    # -- events from the participant's queue --------------------------------------------------

    async def handle(self, conn: Connection, name: str, data: Any) -> Ack:
        """Validate and run one media event of a joined participant."""
        try:
            payload = PAYLOADS[name].model_validate({} if data is None else data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "payload"
            return refused(Reason.INVALID_PAYLOAD, f"{where}: {first['msg']}.")
        pid, room_id = conn.participant_id, conn.room_id
        live = self._sig.rooms.get(room_id) if room_id is not None else None
        if pid is None or room_id is None or live is None or pid not in live.room.participants:
            return refused(Reason.NOT_JOINED)  # knockers in the lobby have no media
        try:
            if isinstance(payload, MediaStart):
                return await self._start(room_id, pid)
            if isinstance(payload, MediaPublish):
                perms = live.room.participants[pid].permissions
                return await self._publish(room_id, pid, payload, perms)
            if isinstance(payload, MediaAnswer):
                return await self._answer(pid, payload.sdp)
            if isinstance(payload, MediaReceive):
                return self._receive(room_id, pid, payload.cameras)
            if isinstance(payload, MediaQuality):
                return await self._quality(room_id, pid, payload)
            if isinstance(payload, MediaClock):
                return self._clock(room_id, pid)
            if isinstance(payload, MediaUnpublish):
                router = self._routers.get(room_id)
                closed = router is not None and router.close_producer(pid, payload.source)
                return {"ok": True, "closed": closed}
            await self.remove_participant(room_id, pid)
            return {"ok": True}
        except InvalidStateError as exc:
            return refused(Reason.INVALID_STATE, f"Media is not available: {exc}.")

    async def start_with_join(self, conn: Connection) -> None:
        """`join` with `media`: open the subscribe side inside the join, as a `media_start` sent
        right after it would, minus its round trip; when there is something to see, the first
        offer goes out before the join's ack.

        Before the ack: a page answers it while it still draws the room (the ack is what starts
        that drawing), so ICE and DTLS come up meanwhile instead of after it (docs/entry.md).
        A refusal goes to the client as an `error` event of `media_start` (it sent none itself).
        """
        pid, room_id = conn.participant_id, conn.room_id
        if pid is None or room_id is None:
            return
        try:
            ack = await self._start(room_id, pid, offer_now=True)
        except InvalidStateError as exc:
            ack = refused(Reason.INVALID_STATE, f"Media is not available: {exc}.")
        if not ack.get("ok", False):
            await self._sig.sio.emit(
                "error", {"command": "media_start", **ack["error"]}, to=conn.sid
            )

    def _peer(self, room_id: str, pid: str) -> MediaPeer:
        peer = self._peers.get(pid)
        if peer is None or peer.room_id != room_id:
            peer = self._peers[pid] = MediaPeer(room_id)
        return peer

    async def _start(self, room_id: str, pid: str, offer_now: bool = False) -> Ack:
        peer = self._peer(room_id, pid)
        peer.stop_offer_timer()
        old, peer.subscribe = peer.subscribe, None
        if old is not None:  # a client that lost its connection starts over
            await old.close()
        transport = await self.router(room_id).create_transport(pid, "subscribe")
        peer.subscribe = transport
        if not peer.cameras:
            transport.set_receiving("camera", False)
        if offer_now and transport.consumers:
            # Offered here and now (this is the participant's queue): the callback registered
            # below then finds nothing pending until the next change.
            await self._send_offer(pid, transport)

        def needed(t: Any) -> None:
            self._queue_offer(pid, transport)

        transport.on_negotiation_needed(needed)
        self._watch(pid, transport)
        return {"ok": True, "ice_servers": self.ice_servers}

    def _queue_work(self, pid: str, name: str, run: Callable[[], Awaitable[Ack]]) -> None:
        """Put server-made work on the participant's queue, ordered with its own events."""
        sid = self._sig.sid_of.get(pid)
        conn = self._sig.connections.get(sid) if sid is not None else None
        if conn is None:
            return
        # Nobody awaits the result: what the work sends is the message to the client.
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        conn.queue.put_nowait((name, QueuedMediaWork(run), future))

    def _queue_offer(self, pid: str, transport: AiortcTransport) -> None:
        # Offers go through the participant's queue so they stay ordered with its answers.
        if transport.closed:
            return

        async def send() -> Ack:
            return await self._send_offer(pid, transport)

        self._queue_work(pid, "media_offer", send)

    async def _send_offer(self, pid: str, transport: AiortcTransport) -> Ack:
        """Offer the transport's current consumers to the viewer (on its queue)."""
        peer = self._peers.get(pid)
        sid = self._sig.sid_of.get(pid)
        if transport.closed or peer is None or peer.subscribe is not transport or sid is None:
            return {"ok": True}
        try:
            sdp = await transport.create_offer()
        except InvalidStateError:  # the connection closed meanwhile: _lost() tells why
            return {"ok": True}
        await self._sig.sio.emit(
            "media_offer", {"sdp": sdp, "tiles": transport.consumer_map()}, to=sid
        )
        self._arm_offer_timer(pid, peer, transport)
        return {"ok": True}

    def _arm_offer_timer(self, pid: str, peer: MediaPeer, transport: AiortcTransport) -> None:
        peer.stop_offer_timer()
        peer.offers += 1
        number = peer.offers

        def expired() -> None:
            peer.offer_timer = None
            # Through the queue: an answer already waiting there is applied first and wins.
            self._queue_work(
                pid, "media_offer_timeout", lambda: self._abandon(pid, transport, number)
            )

        loop = asyncio.get_running_loop()
        peer.offer_timer = loop.call_later(self.settings.offer_timeout_s, expired)

    async def _abandon(self, pid: str, transport: AiortcTransport, number: int) -> Ack:
        """The viewer left our offer unanswered: close its subscribe side and tell it why.

        Only that viewer's own view was waiting (every viewer has its own transport and
        queue); closing frees its consumers, and its next `media_start` gets a fresh offer
        of everything there is to see.
        """
        peer = self._peers.get(pid)
        if (
            peer is None
            or peer.subscribe is not transport
            or peer.offers != number
            or not transport.awaiting_answer
        ):
            return {"ok": True}  # answered, restarted or gone in the meantime
        log.info("room %s: %s did not answer its media offer; closing its view", peer.room_id, pid)
        peer.subscribe = None
        await transport.close()
        sid = self._sig.sid_of.get(pid)
        if sid is not None:
            await self._sig.sio.emit(
                "media_closed", {"transport": "subscribe", "reason": "offer_timeout"}, to=sid
            )
        return {"ok": True}

    def _watch(self, pid: str, transport: AiortcTransport) -> None:
        """Tell the participant, in turn with its events, when the connection ends by itself."""

        def lost(t: AiortcTransport) -> None:
            self._queue_work(pid, "media_lost", lambda: self._lost(pid, t))

        transport.on_lost(lost)

    async def _lost(self, pid: str, transport: AiortcTransport) -> Ack:
        """A connection ended by itself (closed by the client, or failed): tell the client.

        Its producers or consumers are already closed (viewers got a new offer without them).
        A client still there starts that side over: `media_start`, or a new publish connection.
        """
        peer = self._peers.get(pid)
        if peer is None or transport not in (peer.publish, peer.subscribe):
            return {"ok": True}  # replaced or gone in the meantime
        if peer.subscribe is transport:
            peer.stop_offer_timer()
            peer.subscribe = None
        else:
            peer.publish = None
        sid = self._sig.sid_of.get(pid)
        if sid is not None:
            await self._sig.sio.emit(
                "media_closed", {"transport": transport.role, "reason": "connection_lost"}, to=sid
            )
        return {"ok": True}

    def _receive(self, room_id: str, pid: str, cameras: bool) -> Ack:
        peer = self._peer(room_id, pid)
        now = time.monotonic()
        if now - peer.receive_at < RECEIVE_MIN_INTERVAL_S:
            return refused(Reason.RATE_LIMITED, "Turn cameras on or off at most twice a second.")
        peer.receive_at = now
        peer.cameras = cameras
        down = peer.subscribe
        changed = 0 if down is None or down.closed else down.set_receiving("camera", cameras)
        verb = "receives" if cameras else "paused"
        log.info("room %s: %s %s others' cameras", room_id, pid, verb)
        return {"ok": True, "changed": changed}

    async def _quality(self, room_id: str, pid: str, q: MediaQuality) -> Ack:
        """Pass a participant's connection reading on to the room's hosts and presenters."""
        peer = self._peer(room_id, pid)
        now = time.monotonic()
        if now - peer.quality_at < QUALITY_MIN_INTERVAL_S:
            return refused(Reason.RATE_LIMITED, "Connection readings come at most once a second.")
        peer.quality_at = now
        if q.encode_ms and peer.publish is not None and not peer.publish.closed:
            peer.publish.set_encode_times(q.encode_ms)
        for listener in self.quality_listeners:
            listener(room_id, pid, q)
        # What the page sent (an older page's reading is passed on as it was), and what only
        # the server knows: the layer it forwards this viewer of each video and why (the page's
        # video_height is the picture decoded, which cannot tell a held-down layer from a
        # publisher that sends no more). The encoding times are for the server's
        # capture-time check only (media/clock.py StampCheck).
        reading: dict[str, object] = {
            "participant": pid,
            **q.model_dump(exclude_unset=True, exclude={"encode_ms"}),
        }
        down = peer.subscribe
        if down is not None and not down.closed:
            reading["received"] = [received_json(r) for r in down.received()]
            if down.line_jitter(q.jitter_ms) is not None and down.playout is not None:
                how = "as decoded" if down.playout.low_latency else "smoothed by its browser"
                log.info(
                    "room %s: %s's line reads %d ms of jitter: its video is now shown %s",
                    room_id,
                    pid,
                    q.jitter_ms,
                    how,
                )
        await self._sig.sio.emit("participant_quality", reading, room=f"staff:{room_id}")
        return {"ok": True}

    def _clock(self, room_id: str, pid: str) -> Ack:
        """Each video's capture-time line, for the page to date the frames it showed itself.
        Asked at the moment of dating: the lines carry the check of the publisher's stamps
        (media/clock.py StampCheck), which moves when the publisher's browser is loaded."""
        peer = self._peer(room_id, pid)
        now = time.monotonic()
        if now - peer.clock_at < CLOCK_MIN_INTERVAL_S:
            return refused(Reason.RATE_LIMITED, "Capture-time lines come at most twice a second.")
        peer.clock_at = now
        down = peer.subscribe
        lines = down.capture_points() if down is not None and not down.closed else {}
        return {"ok": True, "capture": {mid: list(point) for mid, point in lines.items()}}

    async def _answer(self, pid: str, sdp: str) -> Ack:
        peer = self._peers.get(pid)
        if peer is None or peer.subscribe is None:
            return refused(Reason.INVALID_STATE, "Send media_start first.")
        try:
            await peer.subscribe.accept_answer(sdp)
        except NegotiationError as exc:
            return media_error("invalid_sdp", f"The answer cannot be applied: {exc}.")
        peer.stop_offer_timer()
        return {"ok": True}

    async def _publish(
        self, room_id: str, pid: str, p: MediaPublish, perms: frozenset[Permission]
    ) -> Ack:
        try:
            lines = sending_mlines(p.sdp)
        except ValueError as exc:
            return media_error("invalid_sdp", f"The offer cannot be read: {exc}.")
        peer = self._peer(room_id, pid)
        transport = peer.publish
        for mid, kind in lines.items():
            source = p.sources.get(mid, default_source(kind))
            if SOURCE_KIND[source] != kind:
                return refused(Reason.INVALID_PAYLOAD, f"sources.{mid}: {source} is not {kind}.")
            new = transport is None or (
                mid not in transport.producers and not transport.is_retired(mid)
            )
            if new and SOURCE_PERMISSION[source] not in perms:
                log.warning("room %s: %s may not publish %s", room_id, pid, source)
                return refused(Reason.NOT_PERMITTED, f"You may not publish your {source} now.")
        if transport is None or transport.closed:
            transport = peer.publish = await self.router(room_id).create_transport(pid, "publish")
            self._watch(pid, transport)
        try:
            answer = await transport.accept_offer(p.sdp, p.sources)
        except NegotiationError as exc:
            return media_error("invalid_sdp", f"The offer cannot be applied: {exc}.")
        # Rights may have been revoked while the offer was being applied: enforce them again.
        live = self._sig.rooms.get(room_id)
        now = live.room.participants.get(pid) if live is not None else None
        await self.permissions_changed(room_id, pid, now.permissions if now else frozenset())
        return {"ok": True, "sdp": answer}

    # -- effects of the room core -------------------------------------------------------------

    async def permissions_changed(
        self, room_id: str, pid: str, permissions: frozenset[Permission]
    ) -> None:
        """Close the producers of sources the participant may no longer produce."""
        router = self._routers.get(room_id)
        if router is None or router.closed:
            return
        for source in SOURCES:
            if SOURCE_PERMISSION[source] not in permissions and router.close_producer(pid, source):
                log.info("room %s: closed %s's %s (not permitted)", room_id, pid, source)
                sid = self._sig.sid_of.get(pid)
                if sid is not None:
                    await self._sig.sio.emit(
                        "media_closed", {"source": source, "reason": "not_permitted"}, to=sid
                    )

    async def remove_participant(self, room_id: str, pid: str) -> None:
        """Close a participant's connections, producers and consumers everywhere."""
        peer = self._peers.get(pid)
        if peer is not None and peer.room_id == room_id:
            peer.stop_offer_timer()
            del self._peers[pid]
        router = self._routers.get(room_id)
        if router is not None:
            await router.remove_participant(pid)

    async def close_room(self, room_id: str) -> None:
        """The room is no longer live: close its router (cascading)."""
        for pid in [p for p, peer in self._peers.items() if peer.room_id == room_id]:
            self._peers.pop(pid).stop_offer_timer()
        router = self._routers.pop(room_id, None)
        if router is not None:
            await router.close()

    async def close(self) -> None:
        """Shutdown: close every router."""
        self._closed = True
        for room_id in list(self._routers):
            await self.close_room(room_id)
