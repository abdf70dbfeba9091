"""Producer: one incoming track, parsed once and fanned out to its consumers as RTP."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiortc import RTCRtpReceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpSrPacket

from . import aiortc_hooks as hooks
from .clock import NTP_EPOCH_OFFSET_S
from .counters import RETIRED
from .history import PacketHistory
from .interfaces import InvalidStateError, Kind, Source
from .keyframe_cache import KeyframeCache
from .keyframes import KeyframeCoalescer
from .repair import RepairSchedule
from .rtp import ABS_SEND_TIME_URI, AUDIO_LEVEL_URI, RtpHeader, SourcePacket, is_keyframe_start
from .twcc import TRANSPORT_CC_URI

if TYPE_CHECKING:
    from .consumer import AiortcConsumer

logger = logging.getLogger(__name__)

__all__ = ["RTCP_PSFB_FIR", "RTCP_PSFB_PLI", "AiortcProducer"]


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
        self._closed = False
        self._on_close = on_close
        self.consumers: set[AiortcConsumer] = set()
        # Snapshot of consumers for the per-packet fan-out, rebuilt only when they change.
        self._fanout: tuple[AiortcConsumer, ...] = ()
        # Packet sinks other than viewers (the recorder): called after the fan-out.
        self._sinks: tuple[Callable[[SourcePacket, int], None], ...] = ()
        self.history: PacketHistory[SourcePacket] = PacketHistory(history_packets)
        self.media_ssrc: int | None = None
        # (NTP timestamp, RTP timestamp) of the publisher's last sender report.
        self.last_sr: tuple[int, int] | None = None
        self.last_sr_arrival: float = 0.0  # our wall clock, NTP seconds
        self.sr_history: deque[int] = deque(maxlen=8)  # recent SR RTP timestamps, for tests
        self._coalescer = KeyframeCoalescer(keyframe_interval)
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Holes in the publisher's stream: NACKed at once, again on a timer, a keyframe when
        # a repair cannot arrive in time (repair.py).
        self.repair = RepairSchedule() if kind == "video" else None
        self._repair_timer: asyncio.TimerHandle | None = None
        self.packets_received = 0
        self.keyframe_requests_sent = 0
        self.nacks_sent = 0
        self._keyframe_codec = "" if kind == "audio" else self.codec.mimeType.lower()
        # The newest keyframe (and, while short, what followed): a new viewer's first picture.
        self.keyframes = KeyframeCache() if kind == "video" else None
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
        )

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

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, coalesced to one PLI per window."""
        if self._closed:
            raise InvalidStateError("producer closed")
        if self._kind != "video":
            return
        loop = asyncio.get_running_loop()
        delay = self._coalescer.request(loop.time())
        if delay is None:
            return
        if delay == 0:
            self._send_pli()
        else:
            self._timer = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if not self._closed and self._coalescer.fire(asyncio.get_running_loop().time()):
            self._send_pli()

    def _send_pli(self) -> None:
        if self.media_ssrc is None:
            return  # nothing received yet: the first frame of a stream is a keyframe anyway
        self.keyframe_requests_sent += 1
        self._spawn(hooks.send_pli(self._receiver, self.media_ssrc))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_rtp(self, packet: RtpHeader, arrival_time_ms: int) -> None:
        # The hot path: called synchronously from the socket's datagram callback.
        if self._closed:
            return
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
            payload = payload[2:]
            payload_type = apt
            if self.repair is not None and self.media_ssrc is not None:
                self.repair.received(seq, arrival_time_ms)
                # Counted for the media stream too: the loss our receiver reports to the
                # publisher (its page's "loss") is the loss left after repair.
                self._hook.count_repaired(self.media_ssrc, seq, packet.timestamp)
        else:
            self.media_ssrc = packet.ssrc
            if self.repair is not None:
                holes = self.repair.received(seq, arrival_time_ms)
                if holes:
                    self._nack_upstream(holes)
        self.packets_received += 1
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
        )
        self.history.add(seq, sp)
        for consumer in self._fanout:
            consumer.forward(sp)
        for sink in self._sinks:
            sink(sp, arrival_time_ms)
        # After the fan-out: a viewer that starts from the cache inside it gets this packet as
        # the first live one, not twice.
        if self.keyframes is not None:
            self.keyframes.add(sp)

    def _nack_upstream(self, seqs: list[int]) -> None:
        if self.media_ssrc is None:
            return
        self.nacks_sent += 1
        self._spawn(hooks.send_nack(self._receiver, self.media_ssrc, sorted(seqs)))
        self._arm_repair()

    def _arm_repair(self) -> None:
        if self._repair_timer is not None or self.repair is None or self._closed:
            return
        due = self.repair.next_due()
        if due is not None:
            delay = max(0.0, (due - hooks.arrival_ms()) / 1000)
            self._repair_timer = asyncio.get_running_loop().call_later(delay, self._repair_tick)

    def _repair_tick(self) -> None:
        self._repair_timer = None
        if self._closed or self.repair is None:
            return
        again, keyframe = self.repair.due(hooks.arrival_ms())
        if keyframe:
            self.request_keyframe()
        if again:
            self._nack_upstream(again)
        else:
            self._arm_repair()

    def ask_repair(self, seq: int) -> None:
        """A viewer NACKed a packet we do not hold: ask the publisher for it (unless asked for
        within the retry interval); the repair reaches every viewer through the fan-out."""
        if (
            self.repair is not None
            and not self._closed
            and self.repair.ask(seq, hooks.arrival_ms())
        ):
            self._nack_upstream([seq])

    async def _on_rtcp(self, packet: Any) -> None:
        if isinstance(packet, RtcpSrPacket):
            info = packet.sender_info
            self.last_sr = (info.ntp_timestamp, info.rtp_timestamp)
            self.last_sr_arrival = time.time() + NTP_EPOCH_OFFSET_S
            self.sr_history.append(info.rtp_timestamp)

    def close(self) -> None:
        """Stop forwarding and close every consumer of this producer (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._repair_timer is not None:
            self._repair_timer.cancel()
            self._repair_timer = None
        self._hook.close()
        for consumer in list(self.consumers):
            consumer.close()
        self.history.clear()
        RETIRED.add_producer(self)
        self._on_close(self)
