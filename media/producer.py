"""Producer: one incoming track, parsed once and fanned out to its consumers as RTP."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiortc import RTCRtpReceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpSrPacket

from . import aiortc_hooks as hooks
from .clock import MAX_SKEW_S, MIN_SKEW_S, NTP_EPOCH_OFFSET_S, StampCheck, ntp_seconds
from .counters import RETIRED
from .history import PacketHistory
from .interfaces import InvalidStateError, Kind, Source
from .keyframe_cache import KeyframeCache
from .keyframes import KeyframeCoalescer
from .layers import RateMeter, ts_diff
from .repair import TAIL_PROBE_AFTER_NACK_MS, RepairSchedule
from .rtp import (
    ABS_SEND_TIME_URI,
    AUDIO_LEVEL_URI,
    MID_URI,
    RtpHeader,
    SourcePacket,
    is_keyframe_start,
    vp8_keyframe_size,
)
from .simulcast import SimulcastOffer
from .twcc import TRANSPORT_CC_URI

if TYPE_CHECKING:
    from .consumer import AiortcConsumer

logger = logging.getLogger(__name__)
_monotonic = time.monotonic

__all__ = ["RTCP_PSFB_FIR", "RTCP_PSFB_PLI", "AiortcProducer", "Layer"]

# A layer that sent nothing for this long is taken as stopped (the publisher's own bandwidth
# or CPU adaptation turns encodings off): viewers are moved off it.
LAYER_IDLE_MS = 1500


@dataclass(slots=True, eq=False)
class Layer:
    """One RTP stream of a producer: its only one, or one simulcast encoding (its own SSRC,
    sequence numbers, timestamps, keyframes, losses and reports)."""

    index: int
    rid: str | None
    history: PacketHistory[SourcePacket]
    keyframes: KeyframeCache | None
    repair: RepairSchedule | None
    coalescer: KeyframeCoalescer
    ssrc: int | None = None  # media SSRC, once seen
    rtx_ssrc: int | None = None
    # (NTP timestamp, RTP timestamp) of the publisher's last sender report on this stream.
    last_sr: tuple[int, int] | None = None
    last_sr_arrival: float = 0.0  # our wall clock, NTP seconds
    sr_history: deque[int] = field(default_factory=lambda: deque(maxlen=8))
    octets: int = 0  # payload bytes received (for the rate)
    last_ts: int = 0  # newest media packet's timestamp and arrival (ms)
    last_ms: int = 0
    # Whether the publisher's capture stamps run early (clock.StampCheck), video only; and
    # the last sender report's send time in ms since 1900, None while its clock disagrees.
    stamps: StampCheck | None = None
    sr_sent_ms: float | None = None
    meter: RateMeter = field(default_factory=RateMeter)
    # The picture of the layer's newest keyframe (VP8's keyframe header), 0 until one came or
    # for codecs whose header is not read: what a viewer of this layer sees, for the host's view.
    width: int = 0
    height: int = 0
    timer: asyncio.TimerHandle | None = None  # a held keyframe request
    repair_timer: asyncio.TimerHandle | None = None
    tail_timer: asyncio.TimerHandle | None = None  # the watch on a quiet stream (_tail_tick)


class AiortcProducer:
    """Receives a publisher's RTP through a hooked aiortc receiver, never decoding it."""

    def __init__(
        self,
        *,
        participant_id: str,
        source: Source,
        kind: Kind,
        receiver: RTCRtpReceiver,
        codecs: list[RTCRtpCodecParameters],
        extension_ids: dict[str, int],
        keyframe_interval: float,
        history_packets: int,
        on_close: Callable[[AiortcProducer], None],
        simulcast: SimulcastOffer | None = None,
        mid: str | None = None,
    ) -> None:
        self._id = uuid.uuid4().hex
        self._participant_id = participant_id
        self._source: Source = source
        self._kind: Kind = kind
        self._receiver = receiver
        self._codecs = {c.payloadType: c for c in codecs}
        # Payload types of RTX, told apart per packet without string work.
        self._rtx_pts = {
            pt for pt, c in self._codecs.items() if c.mimeType.lower().endswith("/rtx")
        }
        media = [c for c in codecs if not c.mimeType.lower().endswith("/rtx")]
        if not media:
            raise ValueError("no media codec negotiated")
        self.codec = media[0]
        self._ms_per_tick = 1000 / (self.codec.clockRate or 90_000)
        self._closed = False
        self._on_close = on_close
        self.consumers: set[AiortcConsumer] = set()
        # Snapshot of consumers for the per-packet fan-out, rebuilt only when they change.
        self._fanout: tuple[AiortcConsumer, ...] = ()
        # Packet sinks other than viewers (the recorder): called after the fan-out.
        self._sinks: tuple[Callable[[SourcePacket, int], None], ...] = ()
        self.packets_received = 0
        self.duplicates = 0  # retransmissions of packets already held (not forwarded again)
        self.keyframe_requests_sent = 0
        self.nacks_sent = 0
        self.tail_probes = 0  # NACKs for the packet after an unfinished frame (_tail_tick)
        # When any viewer of this producer last NACKed (arrival clock, ms; AiortcConsumer).
        self.viewer_nacked_ms = -TAIL_PROBE_AFTER_NACK_MS
        self._keyframe_codec = "" if kind == "audio" else self.codec.mimeType.lower()
        self._vp8 = self._keyframe_codec == "video/vp8"
        video = kind == "video"
        rids: tuple[str | None, ...] = simulcast.rids if simulcast and video else (None,)
        # Lowest first; a producer without simulcast has one layer. The history, the keyframe
        # cache (a new viewer's first picture), loss repair and keyframe requests are per layer.
        self.layers: tuple[Layer, ...] = tuple(
            Layer(
                index=i,
                rid=rid,
                history=PacketHistory(history_packets),
                keyframes=KeyframeCache() if video else None,
                # Holes in the publisher's stream: NACKed at once, again on a timer, a
                # keyframe when a repair cannot arrive in time (repair.py).
                repair=RepairSchedule() if video else None,
                coalescer=KeyframeCoalescer(keyframe_interval),
                stamps=StampCheck() if video else None,
            )
            for i, rid in enumerate(rids)
        )
        self._by_rid = {layer.rid: layer for layer in self.layers}
        # Simulcast: SSRC → layer, learnt from the RID extensions (ReceiverHook._place).
        self._by_ssrc: dict[int, Layer] = {}
        self._single: Layer | None = self.layers[0] if len(self.layers) == 1 else None
        self.top = len(self.layers) - 1
        self._tasks: set[asyncio.Task[None]] = set()
        twcc_id = extension_ids.get(TRANSPORT_CC_URI, 0)
        self._hook = hooks.hook_receiver(
            receiver,
            self.codec.clockRate,
            (extension_ids.get(ABS_SEND_TIME_URI, 0), extension_ids.get(AUDIO_LEVEL_URI, 0)),
            self._on_rtp,
            self._on_rtcp,
            # With transport-cc the browser's own estimator decides; a REMB would cap it.
            remb=hooks.wants_remb(self.codec) and not twcc_id,
            transport_cc_id=twcc_id,
            rid_ids=(simulcast.rid_id, simulcast.repaired_rid_id) if simulcast else (0, 0),
            on_stream=self._place if self._single is None else None,
        )
        mid_id = extension_ids.get(MID_URI, 0)
        if self._single is None and mid is not None and mid_id:
            self._hook.route_by_mid(mid_id, mid)

    # -- layers: the top one stands for the producer where one stream is meant -------------

    @property
    def simulcast(self) -> bool:
        """True if the publisher sends several encodings (layers)."""
        return self._single is None

    @property
    def history(self) -> PacketHistory[SourcePacket]:
        """The top layer's packet history."""
        return self.layers[-1].history

    @property
    def keyframes(self) -> KeyframeCache | None:
        """The top layer's keyframe cache."""
        return self.layers[-1].keyframes

    @keyframes.setter
    def keyframes(self, cache: KeyframeCache | None) -> None:
        self.layers[-1].keyframes = cache

    @property
    def repair(self) -> RepairSchedule | None:
        """The top layer's repair schedule."""
        return self.layers[-1].repair

    @property
    def media_ssrc(self) -> int | None:
        """The top layer's SSRC."""
        return self.layers[-1].ssrc

    @property
    def last_sr(self) -> tuple[int, int] | None:
        """The top layer's last sender report (NTP, RTP): what the recorder records."""
        return self.layers[-1].last_sr

    @property
    def last_sr_arrival(self) -> float:
        """When the top layer's last sender report arrived (NTP seconds)."""
        return self.layers[-1].last_sr_arrival

    @property
    def sr_history(self) -> deque[int]:
        """Recent sender-report RTP timestamps of the top layer (for tests)."""
        return self.layers[-1].sr_history

    @property
    def _timer(self) -> asyncio.TimerHandle | None:
        return self.layers[-1].timer

    def _place(self, ssrc: int, rid: str | None, repaired: str | None) -> bool:
        # A new SSRC of a simulcast m-line, by its RID (media) or repaired RID (its RTX).
        layer = self._by_rid.get(rid if rid else repaired)
        if layer is None:
            return False
        if not rid:
            layer.rtx_ssrc = ssrc
        self._by_ssrc[ssrc] = layer
        return True

    def sending_layers(self, now_ms: int) -> list[int]:
        """Indexes of the layers that sent media within the last LAYER_IDLE_MS, lowest first."""
        return [
            layer.index
            for layer in self.layers
            if layer.ssrc is not None and now_ms - layer.last_ms < LAYER_IDLE_MS
        ]

    def layer_rates(self, now_ms: int) -> list[float]:
        """Each layer's received bitrate (bit/s, payload), 0 for a layer not being sent."""
        rates = []
        for layer in self.layers:
            bps = layer.meter.update(layer.octets, now_ms)
            sending = layer.ssrc is not None and now_ms - layer.last_ms < LAYER_IDLE_MS
            rates.append(bps if sending else 0.0)
        return rates

    def attach(self, consumer: AiortcConsumer) -> None:
        """Start fanning packets out to this consumer (after those attached before it)."""
        self.consumers.add(consumer)
        # Join order, not set order: viewers' sockets are then written in a stable sequence
        # (on loopback, viewers living in one process get their datagrams back to back).
        self._fanout = (*self._fanout, consumer)

    def set_forwarding(self, consumer: AiortcConsumer, on: bool) -> None:
        """Leave an attached consumer out of the fan-out (paused) or put it back at the end."""
        others = tuple(c for c in self._fanout if c is not consumer)
        self._fanout = (*others, consumer) if on and consumer in self.consumers else others

    def add_sink(self, sink: Callable[[SourcePacket, int], None]) -> None:
        """Also hand every packet (and its arrival time, ms) to `sink`; it must be cheap."""
        self._sinks = (*self._sinks, sink)

    def remove_sink(self, sink: Callable[[SourcePacket, int], None]) -> None:
        """Stop handing packets to `sink`."""
        self._sinks = tuple(s for s in self._sinks if s is not sink)

    def detach(self, consumer: AiortcConsumer) -> None:
        """Stop fanning packets out to this consumer."""
        self.consumers.discard(consumer)
        self._fanout = tuple(c for c in self._fanout if c is not consumer)

    @property
    def packets_tapped(self) -> int:
        """Packets that came through the lean receive path (the rest went through aiortc's)."""
        return self._hook.packets_tapped

    @property
    def id(self) -> str:
        """Unique producer id."""
        return self._id

    @property
    def participant_id(self) -> str:
        """The publishing participant."""
        return self._participant_id

    @property
    def source(self) -> Source:
        """mic, camera or screen."""
        return self._source

    @property
    def kind(self) -> Kind:
        """audio or video."""
        return self._kind

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._closed

    def request_keyframe(self, layer: int | None = None) -> None:
        """Ask the publisher for a keyframe of a layer (the top one by default), coalesced to
        one PLI per window and layer."""
        if self._closed:
            raise InvalidStateError("producer closed")
        if self._kind != "video":
            return
        stream = self.layers[self.top if layer is None else layer]
        loop = asyncio.get_running_loop()
        delay = stream.coalescer.request(loop.time())
        if delay is None:
            return
        if delay == 0:
            self._send_pli(stream)
        else:
            stream.timer = loop.call_later(delay, self._fire, stream)

    def _fire(self, stream: Layer) -> None:
        stream.timer = None
        if not self._closed and stream.coalescer.fire(asyncio.get_running_loop().time()):
            self._send_pli(stream)

    def _send_pli(self, stream: Layer) -> None:
        if stream.ssrc is None:
            return  # nothing received yet: the first frame of a stream is a keyframe anyway
        self.keyframe_requests_sent += 1
        self._spawn(hooks.send_pli(self._receiver, stream.ssrc))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_rtp(self, packet: RtpHeader, arrival_time_ms: int) -> None:
        # The hot path: called synchronously from the socket's datagram callback.
        if self._closed:
            return
        layer = self._single
        if layer is None:
            layer = self._by_ssrc.get(packet.ssrc)
            if layer is None:
                return  # not placed in a layer (the hook places SSRCs before they get here)
        payload_type = packet.payload_type
        codec = self._codecs.get(payload_type)
        if codec is None:
            return
        payload = packet.payload
        seq = packet.sequence_number
        if payload_type in self._rtx_pts:
            # Retransmission from the publisher: original sequence number in the first 2 bytes.
            apt = codec.parameters.get("apt")
            if len(payload) < 2 or not isinstance(apt, int) or apt not in self._codecs:
                return
            seq = int.from_bytes(payload[:2], "big")
            if layer.history.get(seq) is not None:
                # A copy of a packet we hold: Chromium pads its probes with retransmissions of
                # what it sent (its calm camera is below its estimate), ~10 % of its packets.
                # Forwarded again it reached viewers as a replay that SRTP drops unread: their
                # links carried it for nothing (and a transport-cc feedback read it as loss).
                self.duplicates += 1
                return
            payload = payload[2:]
            payload_type = apt
            if layer.repair is not None and layer.ssrc is not None:
                layer.repair.received(seq, arrival_time_ms, bool(packet.marker))
                # Counted for the media stream too: the loss our receiver reports to the
                # publisher (its page's "loss") is the loss left after repair.
                self._hook.count_repaired(layer.ssrc, seq, packet.timestamp)
        else:
            layer.ssrc = packet.ssrc
            if packet.timestamp != layer.last_ts and layer.sr_sent_ms is not None:
                # A new frame's first packet: how long after its capture stamp it came.
                sr = layer.last_sr
                stamps = layer.stamps
                if sr is not None and stamps is not None:
                    captured = (
                        layer.sr_sent_ms + ts_diff(packet.timestamp, sr[1]) * self._ms_per_tick
                    )
                    stamps.frames.add(arrival_time_ms, arrival_time_ms - captured)
            layer.last_ts = packet.timestamp
            layer.last_ms = arrival_time_ms
            if layer.repair is not None:
                holes = layer.repair.received(seq, arrival_time_ms, bool(packet.marker))
                if holes:
                    self._nack_upstream(layer, holes)
        if layer.repair is not None and layer.tail_timer is None:
            self._arm_tail(layer, layer.repair.tail_ms)
        self.packets_received += 1
        layer.octets += len(payload)
        sp = SourcePacket(
            payload_type,
            packet.marker,
            seq,
            packet.timestamp,
            payload,
            packet.padding_size,
            packet.abs_send_time,
            packet.audio_level,
            not self._keyframe_codec or is_keyframe_start(self._keyframe_codec, payload),
            layer.index,
            {},
            _monotonic(),
        )
        layer.history.add(seq, sp)
        for consumer in self._fanout:
            consumer.forward(sp)
        if layer.index == self.top:
            # The recorder keeps the best picture: the top layer.
            for sink in self._sinks:
                sink(sp, arrival_time_ms)
        # After the fan-out: a viewer that starts from the cache inside it gets this packet as
        # the first live one, not twice.
        if layer.keyframes is not None:
            layer.keyframes.add(sp)
            if sp.keyframe_start and self._vp8:
                size = vp8_keyframe_size(payload)
                if size is not None:
                    layer.width, layer.height = size

    def _nack_upstream(self, layer: Layer, seqs: list[int]) -> None:
        if layer.ssrc is None:
            return
        self.nacks_sent += 1
        self._spawn(hooks.send_nack(self._receiver, layer.ssrc, sorted(seqs)))
        self._arm_repair(layer)

    def _arm_repair(self, layer: Layer) -> None:
        if layer.repair_timer is not None or layer.repair is None or self._closed:
            return
        due = layer.repair.next_due()
        if due is not None:
            delay = max(0.0, (due - hooks.arrival_ms()) / 1000)
            loop = asyncio.get_running_loop()
            layer.repair_timer = loop.call_later(delay, self._repair_tick, layer)

    def _repair_tick(self, layer: Layer) -> None:
        layer.repair_timer = None
        if self._closed or layer.repair is None:
            return
        again, keyframe = layer.repair.due(hooks.arrival_ms())
        if keyframe:
            self.request_keyframe(layer.index)
        if again:
            self._nack_upstream(layer, again)
        else:
            self._arm_repair(layer)

    def _arm_tail(self, layer: Layer, delay_ms: float) -> None:
        if not self._closed:
            loop = asyncio.get_running_loop()
            layer.tail_timer = loop.call_later(delay_ms / 1000, self._tail_tick, layer)

    def _tail_tick(self, layer: Layer) -> None:
        """The stream has been quiet for `RepairSchedule.tail_ms` (one timer per layer, armed
        by the packet that finds none armed: a few calls per frame, not one per packet). A
        frame's tail lost on either hop is otherwise seen only when the next frame comes
        (RepairSchedule, module docstring): towards the publisher, ask once for the packet
        after an unfinished frame; towards each viewer whose link lost packets lately, resend
        the last packet it got (AiortcConsumer.probe_tail). Once per quiet spell."""
        layer.tail_timer = None
        repair = layer.repair
        if self._closed or repair is None or repair.highest is None:
            return
        now = hooks.arrival_ms()
        viewers_lose = now - self.viewer_nacked_ms <= TAIL_PROBE_AFTER_NACK_MS
        quiet_ms = now - repair.newest_ms
        if quiet_ms < repair.tail_ms:
            # A finished frame on clean links has no tail to watch: the next packet arms the
            # watch again (one call per frame instead of two or three; bench.sfu).
            if viewers_lose or not repair.newest_marker:
                self._arm_tail(layer, repair.tail_ms - quiet_ms)
            return
        if not repair.quiet_spell(now):
            return
        after = repair.tail_probe(now)
        if after is not None and layer.ssrc is not None:
            self.tail_probes += 1
            self.nacks_sent += 1
            self._spawn(hooks.send_nack(self._receiver, layer.ssrc, [after]))
        if viewers_lose:
            for consumer in self._fanout:
                consumer.probe_tail(layer.index)

    def ask_repair(self, seq: int, layer: int | None = None) -> None:
        """A viewer NACKed a packet we do not hold: ask the publisher for it (unless asked for
        within the retry interval); the repair reaches every viewer through the fan-out."""
        stream = self.layers[self.top if layer is None else layer]
        if (
            stream.repair is not None
            and not self._closed
            and stream.repair.ask(seq, hooks.arrival_ms())
        ):
            self._nack_upstream(stream, [seq])

    async def _on_rtcp(self, packet: Any) -> None:
        if isinstance(packet, RtcpSrPacket):
            layer = self._single or self._by_ssrc.get(packet.ssrc)
            if layer is None or (self._single is None and layer.ssrc != packet.ssrc):
                return  # an RTX stream's report, or a stream not placed yet
            info = packet.sender_info
            layer.last_sr = (info.ntp_timestamp, info.rtp_timestamp)
            layer.last_sr_arrival = arrival = time.time() + NTP_EPOCH_OFFSET_S
            sent = ntp_seconds(info.ntp_timestamp)
            # Only a clock that agrees with ours says how early its stamps are (report_now).
            trusted = MIN_SKEW_S <= arrival - sent <= MAX_SKEW_S
            layer.sr_sent_ms = sent * 1000 if trusted else None
            if trusted and layer.stamps is not None:
                layer.stamps.reports.add(arrival * 1000, (arrival - sent) * 1000)
            layer.sr_history.append(info.rtp_timestamp)

    def set_encode_ms(self, rid: str | None, ms: float) -> None:
        """The publisher's browser's own encoding time per frame of one encoding (`rid`, None
        or "" for a stream without layers), from its page's reading: StampCheck needs it."""
        layer = self._single or self._by_rid.get(rid or None)
        if layer is not None and layer.stamps is not None:
            layer.stamps.encodes.add(hooks.arrival_ms(), ms)

    def close(self) -> None:
        """Stop forwarding and close every consumer of this producer (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for layer in self.layers:
            for timer in (layer.timer, layer.repair_timer, layer.tail_timer):
                if timer is not None:
                    timer.cancel()
            layer.timer = layer.repair_timer = layer.tail_timer = None
        self._hook.close()
        for consumer in list(self.consumers):
            consumer.close()
        for layer in self.layers:
            layer.history.clear()
        RETIRED.add_producer(self)
        self._on_close(self)
