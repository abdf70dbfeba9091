"""Consumer: one producer forwarded to one viewer, with per-consumer header rewriting."""

from __future__ import annotations

import logging
import random
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aiortc import RTCRtpTransceiver
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSenderInfo,
)

from . import aiortc_hooks as hooks
from .bwe import SendLog
from .clock import NTP_EPOCH_OFFSET_S, report_now
from .counters import RETIRED
from .interfaces import InvalidStateError
from .layer_select import LayerChoice, LossWindow, ProbedChoice
from .layers import RateMeter, ReceivedLayer, layer_limit, switch_ts_offset
from .link import ViewerLink
from .producer import AiortcProducer
from .repair import TAIL_PROBE_AFTER_NACK_MS
from .resend import ResendGate
from .rtp import (
    ABS_SEND_TIME_URI,
    AUDIO_LEVEL_URI,
    MID_URI,
    TWCC_SEQ_AT,
    ExtensionIds,
    Rewriter,
    SourcePacket,
    build_packet,
    extension_block,
    extension_key,
    playout_delay_value,
    rewrite_vp8_ids,
)

_HEADER = struct.Struct("!BBHII")
_SEQ16 = struct.Struct("!H")
# The header, the extension block's first 5 bytes (profile, length, the transport-wide
# element's byte) and the transport-wide number.
_HEADER_TWCC = struct.Struct("!BBHII5sH")
_monotonic = time.monotonic
_AFTER_TWCC = TWCC_SEQ_AT + 2
# While a switch is pending the target layer's keyframe is asked for again at most this often
# (choices come with every transport feedback, ~10-20 a second).
_KEYFRAME_AGAIN_S = 0.5
# The longest the old layer stays stopped waiting for the lower layer's keyframe.
_DRAIN_MAX_S = 1.0
# A viewer that agreed transport-cc but sent no feedback this long: its receiver reports decide.
_FEEDBACK_STALE_S = 2.0

logger = logging.getLogger(__name__)


class AiortcConsumer:
    """Writes a producer's packets onto a negotiated, never-encoding aiortc sender."""

    def __init__(
        self,
        *,
        producer: AiortcProducer,
        viewer_id: str,
        transceiver: RTCRtpTransceiver,
        on_close: Callable[[AiortcConsumer], None],
    ) -> None:
        self._id = uuid.uuid4().hex
        self.producer = producer
        self.viewer_id = viewer_id
        self.transceiver = transceiver
        self._on_close = on_close
        self._closed = False
        self._sender = transceiver.sender
        self._rewriter: Rewriter | None = None
        self._sink: hooks.RtpSink | None = None
        self._ext_key = extension_key(ExtensionIds(), b"")
        self._ext_ids = ExtensionIds()
        self._mid = b""
        self._rtx: tuple[int, int] | None = None  # (payload type, ssrc)
        self._playout: tuple[int, int] = (0, 0)  # (extension ID, value); ID 0: not sent
        # Random start values, in the lower half to avoid early SRTP rollover problems.
        self._rtx_seq = random.randrange(0x8000)  # noqa: S311 - not security relevant
        self.packets_sent = 0
        self.octets_sent = 0
        self.retransmissions = 0
        self.retransmissions_refused = 0  # over the viewer's budget, or resent just before
        self._resend = ResendGate()
        self.keyframe_requests = 0
        self.nacks_received = 0
        self.tail_probes = 0  # last packets resent after a quiet spell (probe_tail)
        self._nacked_ms = -TAIL_PROBE_AFTER_NACK_MS  # when this viewer last NACKed (ms)
        self.keyframe_requests_received = 0  # PLI/FIR from the viewer
        self.layer_switches = 0  # moves from one simulcast layer to another
        # Simulcast: the layer this viewer's link can carry (from its receiver reports) and the
        # one being forwarded (Rewriter.layer); a switch happens at the target's next keyframe.
        self.target_layer = producer.top
        self._choice = LayerChoice() if producer.simulcast else None
        # With transport feedback from the viewer (set_link): the link's measured estimate and
        # probes decide instead of receiver-report loss (docs/media.md).
        self._link: ViewerLink | None = None
        self._twcc: SendLog | None = None  # the link's numbering, once this copy is numbered
        self._probed: ProbedChoice | None = None
        self._meter = RateMeter()
        self.rate_bps = 0.0  # what this copy sends, measured at the link's feedback
        self._keyframe_asked_s = -1e9
        # Going down because the link is over-full: the old layer is no longer forwarded (it
        # would only deepen the queue the lower layer's keyframe must cross), until the switch.
        self._draining = False
        self._drain_since = 0.0
        self._drain_open = False  # the frame under way when draining began is not finished
        self._drain_ts = 0
        self.probes_passed = 0
        self.probes_failed = 0
        self._loss = LossWindow()
        self._rate_mark: tuple[int, int] | None = None  # (ms, octets_sent) at the last window
        self.keyframes_from_cache = 0
        # Producer seq → (its timestamp, the timestamp it was sent with) for a cached burst's
        # packets, whose timestamps were moved (see keyframe_cache): a retransmission repeats them.
        self._burst_ts: dict[int, tuple[int, int]] = {}
        self._waiting_keyframe_since_request = False
        self._paused = False
        hooks.hook_sender(self._sender, self._on_rtcp, self._sender_info)
        producer.attach(self)

    @property
    def id(self) -> str:
        """Unique consumer id."""
        return self._id

    @property
    def producer_id(self) -> str:
        """The forwarded producer."""
        return self.producer.id

    @property
    def participant_id(self) -> str:
        """The viewer this copy goes to."""
        return self.viewer_id

    @property
    def mid(self) -> str | None:
        """The m-line (MID) carrying this consumer on the viewer's connection."""
        mid: str | None = self.transceiver.mid
        return mid

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._closed

    @property
    def paused(self) -> bool:
        """True while the viewer asked not to receive this copy (see pause())."""
        return self._paused

    def pause(self) -> None:
        """Stop forwarding for now (a viewer on a poor link saves the bandwidth); the producer
        skips this consumer altogether, so a paused copy costs nothing per packet."""
        if self._closed or self._paused:
            return
        self._paused = True
        self.producer.set_forwarding(self, False)

    def resume(self) -> None:
        """Forward again from the next keyframe, numbered on from the last packet sent."""
        if self._closed or not self._paused:
            return
        self._paused = False
        self._draining = False
        if self._rewriter is not None:
            self._rewriter.resume()
            if self._sink is not None:
                self._first_picture()
        self.producer.set_forwarding(self, True)

    @property
    def active(self) -> bool:
        """True once negotiated and forwarding."""
        return self._rewriter is not None

    def set_playout_delay(self, ext_id: int, min_ms: int, max_ms: int) -> None:
        """Send the playout-delay extension (agreed under `ext_id`) on this video copy; while
        forwarding, from the next packet on (the block is cached per packet and IDs)."""
        if self.producer.kind == "video" and 0 < ext_id < 15:
            self._playout = (ext_id, playout_delay_value(min_ms, max_ms))
            if self._rewriter is not None:
                self._ext_ids = replace(
                    self._ext_ids, playout_delay=ext_id, playout_delay_value=self._playout[1]
                )
                self._ext_key = extension_key(self._ext_ids, self._mid)

    @property
    def playout_id(self) -> int:
        """The playout-delay extension's ID on this copy, 0 where it is not sent."""
        return self._playout[0]

    def set_link(self, link: ViewerLink) -> None:
        """Number this video copy on the viewer's link (it agreed transport-cc): its feedback
        then measures the link, and a layered copy is chosen from that. Before activate()."""
        if self.producer.kind == "video" and self._rewriter is None and link.ext_id:
            self._link = link

    def activate(self) -> None:
        """Read the negotiated SSRC / payload type / extension IDs and start forwarding."""
        if self._closed:
            raise InvalidStateError("consumer closed")
        if self._rewriter is not None:
            return
        ids = hooks.sender_ids(self.transceiver)
        self._ext_ids = ExtensionIds(
            mid=ids.extension_ids.get(MID_URI, 0),
            abs_send_time=ids.extension_ids.get(ABS_SEND_TIME_URI, 0),
            audio_level=ids.extension_ids.get(AUDIO_LEVEL_URI, 0),
            playout_delay=self._playout[0],
            playout_delay_value=self._playout[1],
            transport_cc=self._link.ext_id if self._link is not None else 0,
        )
        self._mid = ids.mid.encode()
        if ids.rtx_payload_type is not None:
            self._rtx = (ids.rtx_payload_type, ids.rtx_ssrc)
        link = self._link
        if link is not None:
            self._twcc = link.log
            link.consumers.append(self)
            if self.producer.simulcast and self._rtx is not None:
                # Probes are padding on the RTX stream: without one, the loss rule stays.
                self._probed = ProbedChoice()
        self._rewriter = Rewriter(
            ssrc=ids.ssrc,
            payload_type=int(ids.codec.payloadType or 0),
            seq_start=random.randrange(0x8000),  # noqa: S311
            ts_offset=random.randrange(1 << 32),  # noqa: S311
            # Each encoding numbers its own VP8 pictures: a viewer moved between them gets them
            # renumbered (Rewriter.vp8_payload). One layer: forwarded as it is.
            vp8=self.producer.simulcast and self.producer.codec.mimeType.lower() == "video/vp8",
        )
        if self.producer.simulcast:
            # The best layer being sent now (a browser starting up may not send its top one
            # yet); the viewer's reports move it from there.
            active = self.producer.sending_layers(hooks.arrival_ms())
            self.target_layer = self._rewriter.layer = active[-1] if active else self.producer.top
        self._ext_key = extension_key(self._ext_ids, self._mid)
        # A late joiner needs a keyframe as soon as it can receive one (see forward()).
        self._sink = hooks.rtp_sink(self._sender)
        self._bind_link()
        if self._sink is not None and not self._paused:
            self._first_picture()

    def connected(self) -> None:
        """The viewer's connection is up: start now rather than at the producer's next packet
        (up to a frame interval later for video)."""
        if self._sink is None and not self._paused:
            self._resolve_sink()

    def _first_picture(self) -> None:
        """Start this viewer from the producer's cached keyframe at once if it has one (no
        round trip to the publisher), else ask the publisher for a keyframe."""
        rw = self._rewriter
        sink = self._sink
        cache = self.producer.layers[rw.layer].keyframes if rw is not None else None
        burst = cache.burst() if cache is not None and not self.producer.closed else None
        if burst is None or rw is None or sink is None:
            self._request_keyframe()
            return
        rw.start(burst.packets[0].sequence_number)
        for sp, timestamp in zip(burst.packets, burst.timestamps, strict=True):
            rw.accept(sp.sequence_number)
            self._burst_ts[sp.sequence_number] = (sp.timestamp, timestamp)
            ext = extension_block(self._ext_ids, self._mid, sp.abs_send_time, None)
            ext = self._numbered(ext, len(sp.payload) + sp.padding_size)
            payload = rw.vp8_payload(sp.payload) if rw.vp8 else sp.payload
            sink(
                build_packet(
                    payload_type=rw.payload_type,
                    marker=sp.marker,
                    sequence_number=rw.map_seq(sp.sequence_number),
                    timestamp=rw.map_ts(timestamp),
                    ssrc=rw.ssrc,
                    extensions=ext,
                    payload=payload,
                    padding_size=sp.padding_size,
                )
            )
            self.packets_sent += 1
            self.octets_sent += len(sp.payload)
        self.keyframes_from_cache += 1
        if not burst.live:
            # One picture: live video starts again at the next keyframe, numbered on from it.
            rw.resume()
            self._burst_ts.clear()
            self._request_keyframe()

    def _request_keyframe(self) -> None:
        # For the layer being switched to, if any: its keyframe is what the viewer needs next.
        if not self.producer.closed:
            self.keyframe_requests += 1
            self.producer.request_keyframe(self.target_layer)

    def forward(self, sp: SourcePacket) -> None:
        """Rewrite one producer packet for this viewer and send it (the hot path).

        Runs once per packet and viewer, so the header is packed here directly rather than
        through Rewriter's methods and build_packet (same arithmetic, fewer calls).
        """
        rw = self._rewriter
        sink = self._sink  # None until the viewer's DTLS is up, and again once closed
        if rw is None or sink is None:
            sink = self._resolve_sink()
            if sink is None or rw is None:
                return
        if sp.layer != rw.layer:
            # Another simulcast layer: only the target's keyframe matters (the switch point).
            if sp.layer != self.target_layer or not sp.keyframe_start:
                return
            self._switch(rw, sp)
        elif self._draining:
            # The link is over-full: the old layer stops while the target's keyframe comes,
            # after the frame under way (a frame cut short is one the viewer waits on).
            if not self._drain_open or sp.timestamp != self._drain_ts:
                return
            if sp.marker:
                self._drain_open = False
        seq = sp.sequence_number
        offset = rw.seq_offset
        if offset is None:
            if not sp.keyframe_start:
                return  # video before the first keyframe cannot be decoded: wait for one
            rw.start(seq)
            offset = rw.seq_offset
            assert offset is not None
        elif not rw.accept(seq):
            return
        key = self._ext_key
        ext = sp.ext_cache.get(key)
        if ext is None:
            ext = sp.ext_cache[key] = extension_block(
                self._ext_ids, self._mid, sp.abs_send_time, sp.audio_level
            )
        payload = sp.payload
        if rw.vp8:
            payload = rw.vp8_payload(payload)
        log = self._twcc
        if sp.padding_size:
            data = build_packet(
                payload_type=rw.payload_type,
                marker=sp.marker,
                sequence_number=rw.map_seq(seq),
                timestamp=rw.map_ts(sp.timestamp),
                ssrc=rw.ssrc,
                extensions=self._numbered(ext, len(payload) + sp.padding_size),
                payload=payload,
                padding_size=sp.padding_size,
            )
        elif log is None:
            data = (
                _HEADER.pack(
                    0x90 if ext else 0x80,
                    (sp.marker << 7) | rw.payload_type,
                    (seq + offset) & 0xFFFF,
                    (sp.timestamp + rw.ts_offset) & 0xFFFFFFFF,
                    rw.ssrc,
                )
                + ext
                + payload
            )
        else:
            # The viewer's transport-wide number goes into the cached block's first element
            # in the same pack as the header; number, send time and size are logged for the
            # viewer's feedback (bwe.SendLog).
            n = log.next_seq
            log.next_seq = n + 1
            n &= 0xFFFF
            data = (
                _HEADER_TWCC.pack(
                    0x90,
                    (sp.marker << 7) | rw.payload_type,
                    (seq + offset) & 0xFFFF,
                    (sp.timestamp + rw.ts_offset) & 0xFFFFFFFF,
                    rw.ssrc,
                    ext[:TWCC_SEQ_AT],
                    n,
                )
                + ext[_AFTER_TWCC:]
                + payload
            )
            log.send_s[n] = sp.arrived_s or _monotonic()
            log.size[n] = len(data)
        sink(data)
        self.packets_sent += 1
        self.octets_sent += len(payload)

    def _switch(self, rw: Rewriter, sp: SourcePacket) -> None:
        """Move to sp's layer at its keyframe: numbers on from the last one sent, timestamps on
        the old layer's line (layers.switch_ts_offset)."""
        ts_offset = rw.ts_offset
        if rw.started:
            old = self.producer.layers[rw.layer]
            new = self.producer.layers[sp.layer]
            ts_offset = switch_ts_offset(
                new_ts=sp.timestamp,
                old_offset=rw.ts_offset,
                last_sent_ts=rw.map_ts(old.last_ts),
                clock_rate=self.producer.codec.clockRate,
                old_sr=old.last_sr,
                new_sr=new.last_sr,
                old_last_ts=old.last_ts,
                old_last_ms=old.last_ms,
                now_ms=hooks.arrival_ms(),
            )
            self.layer_switches += 1
            logger.info("viewer %s: layer %d -> %d", self.viewer_id, rw.layer, sp.layer)
        rw.switch(sp.layer, ts_offset)
        self._burst_ts.clear()
        self._draining = False
        self._drain_since = 0.0
        self._drain_open = False  # the frame under way when draining began is not finished
        self._drain_ts = 0

    @property
    def layer(self) -> int | None:
        """The simulcast layer being forwarded (0 = lowest), None without simulcast."""
        rw = self._rewriter
        return rw.layer if rw is not None and self.producer.simulcast else None

    def received(self) -> ReceivedLayer | None:
        """The layer this viewer gets of a video and what holds it there (the host's view);
        None for audio, before negotiation and once closed."""
        rw = self._rewriter
        producer = self.producer
        if rw is None or self._closed or producer.kind != "video":
            return None
        count = len(producer.layers)
        layer = rw.layer if producer.simulcast else 0
        sending = producer.sending_layers(hooks.arrival_ms()) if producer.simulcast else [0]
        return ReceivedLayer(
            publisher=producer.participant_id,
            source=producer.source,
            layer=layer,
            layers=count,
            height=producer.layers[layer].height,
            limit=layer_limit(layer, count, sending),
            paused=self._paused,
        )

    def _bind_link(self) -> None:
        # The viewer's transport feedback arrives on the connection's RTCP tap (installed
        # with the sink).
        if self._sink is not None and self._link is not None:
            hooks.rtp_tap(self._sender.transport).on_transport_feedback = self._link.on_feedback

    def _numbered(self, ext: bytes, body: int) -> bytes:
        """`ext` with the next transport-wide number in, logged as sent now (off the hot
        path; `body`: payload and padding bytes after the header and `ext`)."""
        log = self._twcc
        if log is None:
            return ext
        n = log.take(_monotonic(), 12 + len(ext) + body)
        return ext[:TWCC_SEQ_AT] + _SEQ16.pack(n) + ext[_AFTER_TWCC:]

    def send_padding(self, size: int) -> int:
        """Send one padding-only packet of `size` padding bytes on the RTX stream (a probe's
        filler: the viewer's browser counts it in its feedback and drops it); the bytes sent,
        0 if this copy cannot."""
        rw, sink, rtx = self._rewriter, self._sink, self._rtx
        if rw is None or sink is None or rtx is None or self._twcc is None or not rw.started:
            return 0
        ext = self._numbered(extension_block(self._ext_ids, self._mid, None, None), size)
        seq = self._rtx_seq
        self._rtx_seq = (seq + 1) & 0xFFFF
        data = build_packet(
            payload_type=rtx[0],
            marker=0,
            sequence_number=seq,
            timestamp=rw.map_ts(self.producer.layers[rw.layer].last_ts),
            ssrc=rtx[1],
            extensions=ext,
            payload=b"",
            padding_size=size,
        )
        sink(data)
        return len(data)

    def link_feedback(self, now_s: float, overuse: bool, probe_bps: float | None) -> None:
        """The viewer's link was measured again (transport feedback): choose the layer.
        `probe_bps`: the estimate of the probe this copy asked for, when it completed now."""
        self.rate_bps = self._meter.update(self.octets_sent, now_s * 1000)
        rw, choice, link = self._rewriter, self._probed, self._link
        if rw is None or choice is None or link is None or self._closed:
            return
        if overuse:
            choice.trouble(now_s)
        if probe_bps is not None:
            ok = choice.probe_done(now_s, probe_bps)
            if ok:
                self.probes_passed += 1
            else:
                self.probes_failed += 1
            logger.info(
                "viewer %s: probe at %.0f kbit/s %s, estimate %.0f kbit/s",
                self.viewer_id,
                choice.probe_need_bps / 1000,
                "passed" if ok else "failed",
                probe_bps / 1000,
            )
        if self._paused:
            return
        rates = self.producer.layer_rates(hooks.arrival_ms())
        link.estimate.forget(max(rates, default=0.0))
        target, probe = choice.choose(
            now_s, link.estimate.estimate_bps, rates, rw.layer, link.others_bps(self)
        )
        if probe is not None and not link.probe(self, probe):
            choice.probe_asked_s = None  # the link is busy with another copy's probe
        if target != rw.layer and target != self.target_layer:
            logger.info(
                "viewer %s: estimate %s queue %.0f ms rates %s layer %d target %d",
                self.viewer_id,
                link.estimate.estimate_bps,
                link.estimate.queue_s * 1000,
                [round(r) for r in rates],
                rw.layer,
                target,
            )
        self._retarget(target, now_s)
        if target < rw.layer and overuse:
            if not self._draining:
                self._draining, self._drain_since = True, now_s
                last = self.producer.layers[rw.layer].history.get(rw.highest)
                self._drain_open = last is not None and not last.marker
                self._drain_ts = last.timestamp if last is not None else 0
        elif self._draining and (target >= rw.layer or now_s - self._drain_since > _DRAIN_MAX_S):
            self._draining = False  # back up, or the target's keyframe is long overdue

    def _retarget(self, target: int, now_s: float) -> None:
        rw = self._rewriter
        if rw is None:
            return
        changed = target != self.target_layer
        self.target_layer = target
        # Asked at once on a new target, and again while the switch waits for it.
        if (
            target != rw.layer
            and not self._paused
            and (changed or now_s - self._keyframe_asked_s >= _KEYFRAME_AGAIN_S)
        ):
            self._keyframe_asked_s = now_s
            self._request_keyframe()

    def _on_receiver_report(self, packet: RtcpRrPacket) -> None:
        """The viewer's report on this copy: feed the link estimate, pick the layer."""
        rw = self._rewriter
        choice = self._choice
        if rw is None or choice is None:
            return
        link = self._link
        if (
            self._probed is not None
            and link is not None
            and link.last_feedback_s is not None
            and _monotonic() - link.last_feedback_s < _FEEDBACK_STALE_S
        ):
            return  # the link's feedback decides (link_feedback)
        report = next((r for r in packet.reports if r.ssrc == rw.ssrc), None)
        if report is None:
            return
        now = hooks.arrival_ms()
        loss = self._loss.report(now, report.highest_sequence, report.packets_lost)
        if loss is not None:
            mark = self._rate_mark
            self._rate_mark = (now, self.octets_sent)
            if mark is not None and now > mark[0]:
                sent_bps = (self.octets_sent - mark[1]) * 8000 / (now - mark[0])
                choice.report(now, loss, sent_bps)
        rates = self.producer.layer_rates(now)
        target = choice.choose(now, rates, rw.layer)
        if loss is not None:
            logger.debug(
                "viewer %s: loss %.2f estimate %s rates %s layer %d target %d",
                self.viewer_id,
                loss,
                choice.estimate_bps,
                [round(r) for r in rates],
                rw.layer,
                target,
            )
        if target != self.target_layer or target != rw.layer:
            self.target_layer = target
            if target != rw.layer and not self._paused:
                self._request_keyframe()  # again each report until the switch is done

    def _resolve_sink(self) -> hooks.RtpSink | None:
        # Slow path of forward(): not negotiated, closed, or the viewer's DTLS not up yet.
        rw = self._rewriter
        if rw is None or self._closed:
            return None
        if self._sink is None:
            # Resolved once the viewer's DTLS handshake is done; only then can a keyframe
            # reach it, so that is when to ask for one.
            self._sink = hooks.rtp_sink(self._sender)
            self._bind_link()
            if self._sink is not None and not rw.started:
                self._first_picture()
        return self._sink

    def probe_tail(self, layer: int) -> None:
        """The publisher's stream `layer` went quiet (AiortcProducer._tail_tick): if this
        viewer gets that layer and lost packets lately, resend the last packet it was sent.
        A lost last packet leaves no gap a viewer can NACK until the next frame comes, 33-100
        ms later; a copy it already holds it drops. Within the resend budget (ResendGate);
        links without recent NACKs pay nothing, and neither does a link held below the best
        layer sent: its losses are its capacity, which a resend would only crowd further
        (measured: 2.5-3.4 s gaps on the e2e 300 kbit/s line when it was not spared)."""
        rw = self._rewriter
        now = hooks.arrival_ms()
        if (
            rw is None
            or rw.layer != layer
            or rw.seq_offset is None
            or now - self._nacked_ms > TAIL_PROBE_AFTER_NACK_MS
        ):
            return
        producer = self.producer
        if producer.simulcast:
            sending = producer.sending_layers(now)
            if sending and layer < sending[-1]:
                return
        sent = self.retransmissions
        self._retransmit(rw.map_seq(rw.highest))
        self.tail_probes += self.retransmissions - sent

    def _retransmit(self, consumer_seq: int) -> None:
        rw = self._rewriter
        found = rw.locate(consumer_seq) if rw is not None and not self._closed else None
        if rw is None or found is None:
            return
        layer, source_seq, ts_offset, pid_offset, tl0_offset = found
        sp = self.producer.layers[layer].history.get(source_seq)
        if sp is None:
            # Lost on the publisher's side too: ask for it there; its repair is forwarded to
            # every viewer as it arrives.
            self.producer.ask_repair(source_seq, layer)
            return
        if not self._resend.allow(
            consumer_seq, len(sp.payload), hooks.arrival_ms(), self.octets_sent
        ):
            self.retransmissions_refused += 1
            return
        ext = extension_block(self._ext_ids, self._mid, sp.abs_send_time, sp.audio_level)
        ext = self._numbered(ext, len(sp.payload) + (2 if self._rtx is not None else 0))
        body = sp.payload
        if pid_offset or tl0_offset:
            # What the first send carried: that anchoring's offsets, not the current ones.
            body = rewrite_vp8_ids(body, pid_offset, tl0_offset)
        timestamp = sp.timestamp
        moved = self._burst_ts.get(sp.sequence_number)
        if moved is not None and moved[0] == timestamp:
            timestamp = moved[1]
        if self._rtx is not None:
            # RFC 4588: RTX stream on its own SSRC, original sequence number first.
            pt, ssrc = self._rtx
            seq = self._rtx_seq
            self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
            payload = consumer_seq.to_bytes(2, "big") + body
        else:
            pt, ssrc, seq, payload = rw.payload_type, rw.ssrc, consumer_seq, body
        data = build_packet(
            payload_type=pt,
            marker=sp.marker,
            sequence_number=seq,
            timestamp=(timestamp + ts_offset) & 0xFFFFFFFF,
            ssrc=ssrc,
            extensions=ext,
            payload=payload,
        )
        if self._sink is not None:
            self._sink(data)
            self.retransmissions += 1

    async def _on_rtcp(self, packet: Any) -> None:
        if self._closed:
            return
        if isinstance(packet, RtcpRrPacket):
            self._on_receiver_report(packet)
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            self.nacks_received += 1
            self._nacked_ms = self.producer.viewer_nacked_ms = hooks.arrival_ms()
            for seq in packet.lost:
                self._retransmit(seq)
        elif (
            isinstance(packet, RtcpPsfbPacket)
            and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR)
            # A paused copy's viewer asks because nothing arrives: resuming asks anyway.
            and not self._paused
        ):
            self.keyframe_requests_received += 1
            self._request_keyframe()

    def _line_now(self, now_s: float) -> tuple[int, int] | None:
        # The publisher's NTP↔RTP line at `now_s` (clock.py), moved into this consumer's
        # timestamp space (the current layer's offset): (NTP, RTP) or None before a report.
        rw = self._rewriter
        if rw is None or not rw.started:
            return None
        layer = self.producer.layers[rw.layer]
        sr = layer.last_sr
        if sr is None:
            return None
        ntp, rtp = report_now(
            sr[0], sr[1], layer.last_sr_arrival, now_s, self.producer.codec.clockRate
        )
        return ntp, rw.map_ts(rtp)

    def capture_point(self) -> tuple[int, float] | None:
        """A point of this viewer's capture-time line: (RTP timestamp as the viewer gets it,
        the publisher's capture time of it in Unix ms), None before the publisher's first
        sender report. With it the page turns each frame's `rtpTimestamp` into its capture
        time itself (web/src/framedelay.js), instead of through Chromium's estimate."""
        now_s = time.time() + NTP_EPOCH_OFFSET_S
        line = self._line_now(now_s)
        rw = self._rewriter
        if line is None or rw is None:
            return None
        # Less the lead of the publisher's stamps (clock.StampCheck): the capture time the
        # viewer dates its frames by is then when the picture was really taken.
        stamps = self.producer.layers[rw.layer].stamps
        early = stamps.early_ms(now_s * 1000) if stamps is not None else 0.0
        return line[1], round((now_s - NTP_EPOCH_OFFSET_S) * 1000 + early, 3)

    def _sender_info(self) -> RtcpSenderInfo | None:
        # The publisher's NTP↔RTP line, at the moment of sending (clock.py) and moved into this
        # consumer's timestamp space: audio and video of one publisher stay in sync at the
        # viewer, and its captureTime is the publisher's capture time.
        line = self._line_now(time.time() + NTP_EPOCH_OFFSET_S)
        if line is None:
            return None
        ntp, rtp = line
        return RtcpSenderInfo(
            ntp_timestamp=ntp,
            rtp_timestamp=rtp,
            packet_count=self.packets_sent & 0xFFFFFFFF,
            octet_count=self.octets_sent & 0xFFFFFFFF,
        )

    def close(self) -> None:
        """Stop forwarding to this viewer (idempotent); the transport renegotiates."""
        if self._closed:
            return
        self._closed = True
        self._sink = None
        if self._link is not None and self in self._link.consumers:
            self._link.consumers.remove(self)
        self.producer.detach(self)
        RETIRED.add_consumer(self)
        self._on_close(self)
