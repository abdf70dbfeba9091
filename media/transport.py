"""Transport: one aiortc peer connection, either publish (client offers) or subscribe."""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription

from . import aiortc_hooks as hooks
from .consumer import AiortcConsumer
from .interfaces import (
    InvalidStateError,
    NegotiationError,
    NegotiationNeeded,
    Source,
    TransportRole,
    default_source,
)
from .layers import ReceivedLayer
from .link import ViewerLink
from .playout import PlayoutChoice
from .producer import AiortcProducer
from .rtp import PLAYOUT_DELAY_URI
from .settings import MediaSettings
from .simulcast import SimulcastOffer, simulcast_offers, with_simulcast
from .twcc import TRANSPORT_CC_URI

if TYPE_CHECKING:
    from .router import AiortcRouter

logger = logging.getLogger(__name__)


class AiortcTransport:
    """A participant's publish (up) or subscribe (down) peer connection."""

    def __init__(
        self,
        router: AiortcRouter,
        participant_id: str,
        role: TransportRole,
        settings: MediaSettings,
    ) -> None:
        self._id = uuid.uuid4().hex
        self._router = router
        self._participant_id = participant_id
        self._role: TransportRole = role
        self._settings = settings
        self.pc = RTCPeerConnection(hooks.rtc_configuration(settings))
        self._closed = False
        self._lock = asyncio.Lock()
        self.producers: dict[str, AiortcProducer] = {}  # by MID
        self.consumers: list[AiortcConsumer] = []
        self._callbacks: list[NegotiationNeeded] = []
        self._negotiating = False
        self._needs_negotiation = False
        self._scheduled: asyncio.Handle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        # An m-line whose producer the room closed (permission revoked) stays dead until the
        # client publishes again on a new MID.
        self._retired_mids: set[str] = set()
        # Sources this viewer asked not to receive for now (subscribe only).
        self._paused_sources: set[Source] = set()
        self._lost_callbacks: list[Callable[[AiortcTransport], None]] = []
        self._lost_task: asyncio.Task[None] | None = None
        # Subscribe: the viewer's link, measured from its transport feedback when agreed.
        self.link = ViewerLink()
        self._twcc_id: int | None = None  # the ID offered for transport-wide numbers
        # Subscribe: how the viewer's browser is asked to show video (playout-delay extension),
        # from its page's jitter readings; None where the settings send no extension.
        delay = settings.video_playout_delay_ms
        self.playout = PlayoutChoice(delay) if delay is not None else None
        self.pc.on("connectionstatechange", self._connection_state_changed)

    @property
    def id(self) -> str:
        """Unique transport id."""
        return self._id

    @property
    def participant_id(self) -> str:
        """The participant owning this connection."""
        return self._participant_id

    @property
    def role(self) -> TransportRole:
        """publish or subscribe."""
        return self._role

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._closed

    @property
    def awaiting_answer(self) -> bool:
        """True between `create_offer` and the `accept_answer` of that offer (subscribe)."""
        return self._negotiating

    def _check(self, role: TransportRole) -> None:
        if self._closed:
            raise InvalidStateError("transport closed")
        if self._role != role:
            raise InvalidStateError(f"not a {role} transport")

    def _check_connection(self) -> None:
        if self.pc.connectionState == "closed":  # closed by the client; _lost() follows
            raise InvalidStateError("connection closed")

    # -- publish --------------------------------------------------------------------------

    async def accept_offer(self, sdp: str, sources: Mapping[str, Source] | None = None) -> str:
        """Apply a publisher's (re)offer; create/close producers; return our answer SDP.

        `sources` maps the offer's MIDs to mic/camera/screen; unmapped audio is mic and
        unmapped video is camera.
        """
        self._check("publish")
        async with self._lock:
            self._check_connection()
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            except Exception as exc:
                raise NegotiationError(str(exc)) from exc
            if self._closed:
                raise InvalidStateError("transport closed")
            twcc = hooks.transport_cc_ids(sdp)
            layers = simulcast_offers(sdp)
            for t in self.pc.getTransceivers():
                self._sync_producer(t, sources or {}, twcc, layers)
            answer = await self.pc.createAnswer()
            await self.pc.setLocalDescription(answer)
            answer_sdp = hooks.with_transport_cc(self.pc.localDescription.sdp, sdp)
            answer_sdp = with_simulcast(answer_sdp, sdp)
            return hooks.announce(answer_sdp, self._settings)

    def _sync_producer(
        self,
        t: RTCRtpTransceiver,
        sources: Mapping[str, Source],
        twcc: Mapping[str, int],
        layers: Mapping[str, SimulcastOffer],
    ) -> None:
        mid: str | None = t.mid
        if mid is None:
            return
        receiving = t._offerDirection in ("recvonly", "sendrecv")
        existing = self.producers.get(mid)
        if existing is not None and (not receiving or existing.closed):
            existing.close()
            self.producers.pop(mid, None)
            existing = None
        if not receiving or existing is not None or mid in self._retired_mids:
            return
        source = sources.get(mid, default_source(t.kind))
        simulcast = layers.get(mid) if t.kind == "video" else None
        if simulcast is not None:
            hooks.read_rids_in_aiortc(
                t.receiver.transport, simulcast.rid_id, simulcast.repaired_rid_id
            )
        producer = AiortcProducer(
            participant_id=self._participant_id,
            source=source,
            kind="audio" if t.kind == "audio" else "video",
            receiver=t.receiver,
            codecs=hooks.negotiated_codecs(t),
            extension_ids={
                **hooks.header_extension_ids(t),
                **({TRANSPORT_CC_URI: twcc[mid]} if mid in twcc else {}),
            },
            keyframe_interval=self._settings.keyframe_interval_s,
            history_packets=self._settings.history_packets,
            on_close=self._producer_closed,
            simulcast=simulcast,
            mid=mid,
        )
        self.producers[mid] = producer
        self._router._add_producer(producer)

    def is_retired(self, mid: str) -> bool:
        """True if this MID's producer was closed by the room: the m-line stays dead."""
        return mid in self._retired_mids

    def _producer_closed(self, producer: AiortcProducer) -> None:
        for mid, p in list(self.producers.items()):
            if p is producer:
                self._retired_mids.add(mid)
                del self.producers[mid]
        self._router._remove_producer(producer)

    # -- subscribe ------------------------------------------------------------------------

    def on_negotiation_needed(self, callback: NegotiationNeeded) -> None:
        """Register a callback run when consumers were added or removed (subscribe only).

        If consumers already wait for negotiation, the callback runs soon after registering.
        """
        self._callbacks.append(callback)
        if self._needs_negotiation and not self._negotiating:
            self._needs_negotiation = False
            self._negotiation_needed()

    def _add_consumer(self, producer: AiortcProducer) -> AiortcConsumer:
        self._check("subscribe")
        t = self.pc.addTransceiver(hooks.IdleTrack(producer.kind), direction="sendonly")
        t.setCodecPreferences(hooks.codec_preferences(producer.kind, producer.codec))
        # Viewers group tracks by stream id: one stream per publishing participant.
        t.sender._stream_id = producer.participant_id
        consumer = AiortcConsumer(
            producer=producer,
            viewer_id=self._participant_id,
            transceiver=t,
            on_close=self._consumer_closed,
        )
        self.consumers.append(consumer)
        if producer.source in self._paused_sources:
            consumer.pause()
        self._negotiation_needed()
        return consumer

    def set_receiving(self, source: Source, on: bool) -> int:
        """Pause (on=False) or resume this viewer's copies of every producer of `source`, now
        and for producers that appear later. Returns how many consumers changed."""
        self._check("subscribe")
        if on:
            self._paused_sources.discard(source)
        else:
            self._paused_sources.add(source)
        changed = [c for c in self.consumers if c.producer.source == source and c.paused == on]
        for consumer in changed:
            if on:
                consumer.resume()
            else:
                consumer.pause()
        return len(changed)

    def _consumer_closed(self, consumer: AiortcConsumer) -> None:
        if consumer in self.consumers:
            self.consumers.remove(consumer)
        t = consumer.transceiver
        t.direction = "inactive"
        self._spawn(t.stop())
        if not self._closed:
            self._negotiation_needed()

    def _negotiation_needed(self) -> None:
        if self._negotiating:
            self._needs_negotiation = True
            return
        if self._scheduled is None and self._callbacks:
            # Coalesce every change made in one loop iteration into one renegotiation.
            self._scheduled = asyncio.get_running_loop().call_soon(self._fire_negotiation)
        elif not self._callbacks:
            self._needs_negotiation = True

    def _fire_negotiation(self) -> None:
        self._scheduled = None
        if self._closed:
            return
        for cb in list(self._callbacks):
            result = cb(self)
            if inspect.isawaitable(result):
                self._spawn(result)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def create_offer(self) -> str:
        """Create and apply our offer for the current consumers (subscribe only)."""
        self._check("subscribe")
        async with self._lock:
            self._check_connection()
            self._negotiating = True
            self._needs_negotiation = False
            offer = await self.pc.createOffer()
            await self.pc.setLocalDescription(offer)
            sdp = hooks.with_rrtr(hooks.without_remb(self.pc.localDescription.sdp))
            if self._settings.viewer_transport_cc:
                # One ID for the connection's life: chosen once, kept in every re-offer.
                if self._twcc_id is None:
                    self._twcc_id = hooks.free_extension_id(sdp)
                if self._twcc_id is not None and f"a=extmap:{self._twcc_id} " not in sdp:
                    sdp = hooks.with_viewer_transport_cc(sdp, self._twcc_id)
            if self._settings.video_playout_delay_ms is not None:
                sdp = hooks.with_extension(sdp, PLAYOUT_DELAY_URI)
            return hooks.announce(sdp, self._settings)

    async def accept_answer(self, sdp: str) -> None:
        """Apply the viewer's answer; start forwarding to newly negotiated consumers."""
        self._check("subscribe")
        async with self._lock:
            self._check_connection()
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            except Exception as exc:
                raise NegotiationError(str(exc)) from exc
            playout = self.playout
            playout_ids = (
                hooks.answered_extension_ids(sdp, PLAYOUT_DELAY_URI) if playout is not None else {}
            )
            twcc = hooks.transport_cc_ids(sdp) if self._settings.viewer_transport_cc else {}
            if twcc and not self.link.ext_id:
                # One ID across the bundle (RFC 8843); every offer uses the same one.
                self.link.ext_id = next(iter(twcc.values()))
            twcc = {mid: i for mid, i in twcc.items() if i == self.link.ext_id}
            for consumer in self.consumers:
                if not consumer.closed and consumer.mid is not None:
                    if playout is not None and consumer.mid in playout_ids:
                        consumer.set_playout_delay(playout_ids[consumer.mid], *playout.delay_ms)
                    if consumer.mid in twcc:
                        consumer.set_link(self.link)
                    consumer.activate()
            self._negotiating = False
        if self._needs_negotiation:
            self._needs_negotiation = False
            self._negotiation_needed()

    def consumer_map(self) -> dict[str, dict[str, str]]:
        """MID → {consumer_id, producer_id, participant_id, source, kind} for the client's tiles."""
        return {
            c.mid: {
                "consumer_id": c.id,
                "producer_id": c.producer.id,
                "participant_id": c.producer.participant_id,
                "source": c.producer.source,
                "kind": c.producer.kind,
            }
            for c in self.consumers
            if c.mid is not None and not c.closed
        }

    def line_jitter(self, jitter_ms: float) -> tuple[int, int] | None:
        """The viewer's page read this jitter on its line (subscribe; `media_quality`): the
        new (min, max) playout delay asked of its browser when that changes it, else None."""
        playout = self.playout
        if playout is None or not playout.reading(jitter_ms):
            return None
        for consumer in self.consumers:
            if not consumer.closed and consumer.playout_id:
                consumer.set_playout_delay(consumer.playout_id, *playout.delay_ms)
        return playout.delay_ms

    def received(self) -> list[ReceivedLayer]:
        """Per video this viewer is forwarded: the layer and what holds it there (subscribe)."""
        return [r for c in self.consumers if (r := c.received()) is not None]

    def set_encode_times(self, times: Mapping[str, float]) -> None:
        """The publisher's encoding time per frame, ms, by "MID/RID" (RID empty without layers),
        as its page reads them (`media_quality`): see clock.StampCheck."""
        for key, ms in times.items():
            mid, _, rid = key.partition("/")
            producer = self.producers.get(mid)
            if producer is not None:
                producer.set_encode_ms(rid or None, ms)

    def capture_points(self) -> dict[str, tuple[int, float]]:
        """MID → (RTP timestamp, capture time in Unix ms) of each video this viewer receives
        (`AiortcConsumer.capture_point`): what the page needs to date its frames itself."""
        out: dict[str, tuple[int, float]] = {}
        for c in self.consumers:
            if c.mid is None or c.closed or c.producer.kind != "video":
                continue
            point = c.capture_point()
            if point is not None:
                out[c.mid] = point
        return out

    # -- both -----------------------------------------------------------------------------

    def on_lost(self, callback: Callable[[AiortcTransport], None]) -> None:
        """Register a callback run once this transport closed because its connection ended."""
        self._lost_callbacks.append(callback)

    def _connection_state_changed(self) -> None:
        # The client closed its end (its DTLS close_notify makes aiortc close the connection)
        # or ICE/DTLS failed (e.g. consent expired): nothing will flow here again. Close now,
        # so producers and consumers go at once and not when the signalling socket times out
        # (a client back after a network blip has already closed its old connections).
        if self._closed:
            return
        if self.pc.connectionState == "connected":
            for t in self.pc.getTransceivers():
                tap = hooks.rtp_tap(t.receiver.transport)
                # Simulcast SSRCs are unsignalled: take them at the tap by MID from the start.
                # With transport-cc every packet's number must be counted from the first,
                # the browser's start-up probes included (docs/media.md, "The start-up ramp").
                if tap.transport_cc is not None or any(
                    p.simulcast for p in self.producers.values()
                ):
                    tap.install()
                break
            # DTLS is up: each viewer copy starts now (a cached keyframe goes out at once).
            for consumer in list(self.consumers):
                if not consumer.closed and consumer.active:
                    consumer.connected()
            return
        if self.pc.connectionState not in ("failed", "closed"):
            return
        if self._lost_task is None:  # not in self._tasks: close() must not cancel it
            self._lost_task = asyncio.ensure_future(self._lost())

    async def _lost(self) -> None:
        if self._closed:
            return
        logger.info("%s transport of %s lost its connection", self._role, self._participant_id)
        await self.close()
        for callback in list(self._lost_callbacks):
            callback(self)

    async def close(self) -> None:
        """Close producers or consumers, then the peer connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._scheduled is not None:
            self._scheduled.cancel()
        for producer in list(self.producers.values()):
            producer.close()
        for consumer in list(self.consumers):
            consumer.close()
        self.link.close()
        self._router._remove_transport(self)
        await self.pc.close()
        for task in list(self._tasks):
            task.cancel()
