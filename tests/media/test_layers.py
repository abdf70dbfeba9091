"""Simulcast layers: the SDP that accepts them, the per-viewer switching and rewriting, and the
choice of layer from a viewer's reports (pure parts, plus one consumer on a real aiortc
transceiver fed by hand)."""

from __future__ import annotations

import asyncio
import fractions
import itertools
from typing import Any, cast

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpParameters,
)
from aiortc.rtp import RTCP_RTPFB_NACK, HeaderExtensionsMap, RtcpRtpfbPacket, RtpPacket
from hypothesis import given, settings
from hypothesis import strategies as st

from media.clock import ntp_timestamp
from media.consumer import AiortcConsumer
from media.history import PacketHistory
from media.keyframe_cache import KeyframeCache
from media.keyframes import KeyframeCoalescer
from media.layer_select import LayerChoice, LossWindow, ProbedChoice
from media.layers import RateMeter, ReceivedLayer, layer_limit, switch_ts_offset, ts_diff
from media.link import ViewerLink
from media.producer import AiortcProducer, Layer
from media.repair import RepairSchedule
from media.rtp import (
    ExtensionIds,
    Rewriter,
    SourcePacket,
    extension_key,
    read_extension,
    rewrite_vp8_ids,
    vp8_ids,
    vp8_keyframe_size,
)
from media.simulcast import REPAIRED_RID_URI, RID_URI, simulcast_offers, with_simulcast
from media.twcc import transport_seq

# Chromium 156's offer for a canvas track sent with three encodings (other codecs left out).
CHROMIUM_OFFER = """v=0
o=- 6461810651077794920 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
a=extmap-allow-mixed
a=msid-semantic: WMS
m=video 9 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:TJgC
a=ice-pwd:5JXN4FVn0xdhsJkux9hwOiLC
a=ice-options:trickle
a=fingerprint:sha-256 {FINGERPRINT}
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:- 85e63925-c985-4ed3-b883-af3004dab277
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rid:l send
a=rid:m send
a=rid:h send
a=simulcast:send l;m;h
""".replace("{FINGERPRINT}", ":".join(["83", "46", "3D", "31"] * 8)).replace("\n", "\r\n")


# -- SDP ------------------------------------------------------------------------------------


async def test_the_answer_accepts_the_browsers_simulcast() -> None:
    """aiortc's own answer leaves simulcast out (the browser would send one encoding); the
    amended answer takes every RID, lowest first, and the RID extensions."""
    offers = simulcast_offers(CHROMIUM_OFFER)
    assert {mid: (o.rids, o.rid_id, o.repaired_rid_id) for mid, o in offers.items()} == {
        "0": (("l", "m", "h"), 10, 11)
    }
    pc = RTCPeerConnection()
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=CHROMIUM_OFFER, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        plain = pc.localDescription.sdp
    finally:
        await pc.close()
    assert "a=simulcast" not in plain and RID_URI not in plain
    amended = with_simulcast(plain, CHROMIUM_OFFER)
    lines = amended.split("\r\n")
    assert lines[-1] == "" and amended.count("\r\n") == plain.count("\r\n") + 6
    assert "a=simulcast:recv l;m;h" in lines
    assert [line for line in lines if line.startswith("a=rid:")] == [
        "a=rid:l recv",
        "a=rid:m recv",
        "a=rid:h recv",
    ]
    assert f"a=extmap:10 {RID_URI}" in lines and f"a=extmap:11 {REPAIRED_RID_URI}" in lines
    assert with_simulcast(plain, plain) == plain  # nothing offered, nothing added
    # One encoding (a screen share): the RID extensions are agreed all the same, so that a
    # camera with layers can join the bundle later; no a=rid, no a=simulcast.
    single = CHROMIUM_OFFER.replace("a=simulcast:send l;m;h\r\n", "")
    one = with_simulcast(plain, single).split("\r\n")
    assert f"a=extmap:10 {RID_URI}" in one and f"a=extmap:11 {REPAIRED_RID_URI}" in one
    assert not [line for line in one if line.startswith(("a=rid:", "a=simulcast"))]


def test_offers_without_layers_are_left_alone() -> None:
    one = CHROMIUM_OFFER.replace("a=simulcast:send l;m;h\r\n", "")
    assert simulcast_offers(one) == {}
    single = CHROMIUM_OFFER.replace("a=simulcast:send l;m;h", "a=simulcast:send h")
    assert simulcast_offers(single) == {}  # one encoding is no simulcast
    no_rid_ext = CHROMIUM_OFFER.replace(f"a=extmap:10 {RID_URI}\r\n", "")
    assert simulcast_offers(no_rid_ext) == {}
    paused = CHROMIUM_OFFER.replace("send l;m;h", "send l;~m;h,x")
    assert simulcast_offers(paused)["0"].rids == ("l", "m", "h")


def test_read_extension_finds_a_rid_in_both_header_forms() -> None:
    ids = HeaderExtensionsMap()
    ids.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=3, uri=RID_URI),
                RTCRtpHeaderExtensionParameters(id=4, uri=REPAIRED_RID_URI),
                RTCRtpHeaderExtensionParameters(id=9, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
            ]
        )
    )
    packet = RtpPacket(payload_type=96, sequence_number=7, timestamp=1, ssrc=5, payload=b"x")
    packet.extensions.mid = "0"
    packet.extensions.rtp_stream_id = "h"
    data = packet.serialize(ids)
    assert read_extension(data, 3) == b"h" and read_extension(data, 9) == b"0"
    assert read_extension(data, 4) is None and read_extension(data, 0) is None
    # Two-byte form (RFC 8285 4.3): profile 0x100x, then id, length, value.
    body = bytes([3, 2]) + b"lo" + b"\x00" * 4
    two = bytes([0x90, 96, 0, 7, 0, 0, 0, 1, 0, 0, 0, 5]) + b"\x10\x00\x00\x02" + body + b"x"
    assert read_extension(two, 3) == b"lo"
    for cut in range(len(data)):
        read_extension(data[:cut], 3)  # truncated packets never raise


# -- switching arithmetic ------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    runs=st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 300), st.integers(0, 0xFFFF)),
        min_size=1,
        max_size=6,
    ),
    seq_start=st.integers(0, 0xFFFF),
)
def test_numbers_run_on_across_switches_and_nacks_find_their_layer(
    runs: list[tuple[int, int, int]], seq_start: int
) -> None:
    """Whatever the layers' own numbers, the viewer sees one gap-free sequence, and a number
    sent under any of the last three anchorings maps back to its layer's packet."""
    rw = Rewriter(ssrc=1, payload_type=96, seq_start=seq_start, ts_offset=0)
    sent: list[tuple[int, int, int]] = []  # (consumer seq, layer, source seq)
    for n, (layer, count, first) in enumerate(runs):
        if n:
            rw.switch(layer, ts_offset=n)
        else:
            rw.layer = layer
        rw.start(first)
        for k in range(count):
            source = (first + k) & 0xFFFF
            assert rw.accept(source)
            sent.append((rw.map_seq(source), layer, source))
    numbers = [s[0] for s in sent]
    assert numbers == [(seq_start + i) & 0xFFFF for i in range(len(sent))]
    kept = sum(count for _, count, _ in runs[-3:])
    for consumer_seq, layer, source in sent[-kept:]:
        found = rw.locate(consumer_seq)
        assert found is not None and found[:2] == (layer, source)
    assert rw.locate((seq_start + len(sent)) & 0xFFFF) is None  # not sent yet


def test_a_pause_forgets_the_numbers_before_it() -> None:
    rw = Rewriter(ssrc=1, payload_type=96, seq_start=10, ts_offset=0)
    rw.start(500)
    rw.accept(501)
    rw.switch(1, 7)
    rw.start(9000)
    assert rw.locate(11) == (0, 501, 0, 0, 0)
    rw.resume()
    rw.start(9100)
    assert rw.locate(11) is None and rw.locate(12) is None


def test_the_new_layer_continues_the_old_layers_clock() -> None:
    clock = 90_000
    # Two layers of one capture: layer B's timestamps run 123456 ahead of A's.
    base = 3_900_000_000.0  # NTP seconds
    sr_a = (ntp_timestamp(base), 1_000_000)
    sr_b = (ntp_timestamp(base + 0.5), (1_000_000 + 45_000 + 123_456) % (1 << 32))
    old_offset = 777
    # The frame captured 1 s after A's report, on B: its consumer time is A's time + offset.
    new_ts = (1_000_000 + clock + 123_456) % (1 << 32)
    offset = switch_ts_offset(
        new_ts=new_ts,
        old_offset=old_offset,
        last_sent_ts=1_000_000 + old_offset + clock - 3000,
        clock_rate=clock,
        old_sr=sr_a,
        new_sr=sr_b,
        old_last_ts=0,
        old_last_ms=0,
        now_ms=0,
    )
    assert (new_ts + offset) % (1 << 32) == 1_000_000 + clock + old_offset
    # No reports yet: by arrival time, 40 ms after the old layer's newest packet.
    offset = switch_ts_offset(
        new_ts=5,
        old_offset=10,
        last_sent_ts=2000 + 10,
        clock_rate=clock,
        old_sr=sr_a,
        new_sr=None,
        old_last_ts=2000,
        old_last_ms=1000.0,
        now_ms=1040.0,
    )
    assert (5 + offset) % (1 << 32) == 2000 + 10 + 3600
    # Never at or before what the viewer already has.
    offset = switch_ts_offset(
        new_ts=(1 << 32) - 1,
        old_offset=0,
        last_sent_ts=50,
        clock_rate=clock,
        old_sr=None,
        new_sr=None,
        old_last_ts=10,
        old_last_ms=1000.0,
        now_ms=1000.0,
    )
    assert ts_diff(((1 << 32) - 1 + offset) % (1 << 32), 50) == 1


def test_rate_meter_reads_windows_of_a_second() -> None:
    meter = RateMeter()
    assert meter.update(0, 0) == 0
    assert meter.update(10_000, 500) == 0  # the window has not closed
    assert meter.update(125_000, 1000) == 1_000_000
    assert meter.update(125_000 + 62_500, 2000) == 750_000  # half way to 500 kbit/s


# -- choosing a layer -----------------------------------------------------------------------

RATES = [150_000.0, 500_000.0, 1_500_000.0]


def test_loss_window_reads_cumulative_counters() -> None:
    window = LossWindow()
    assert window.report(0, 1000, 10) is None
    assert window.report(200, 1100, 60) is None  # too short a window to judge
    assert window.report(600, 1200, 60) == 0.25  # 50 of 200 expected
    assert window.report(1200, 1200, 60) is None  # nothing new arrived


def test_a_loaded_link_goes_down_at_once_and_up_only_after_a_clean_stretch() -> None:
    choice = LayerChoice()
    assert choice.choose(0, RATES, 2) == 2  # no limit seen
    # 300 kbit/s carried of 1.6 sent: straight to the layer that fits with the audio.
    choice.report(1000, 0.8, 1_600_000)
    assert choice.choose(1000, RATES, 2) == 0
    # Clean from now on: the estimate grows, but up waits for the hold (8 s).
    t = 1000
    ups: list[tuple[int, int]] = []
    while t < 60_000:
        t += 1000
        choice.report(t, 0.0, 180_000 if not ups else 600_000)
        layer = choice.choose(t, RATES, 0 if not ups else 1)
        if layer > (0 if not ups else 1):
            ups.append((t, layer))
            if len(ups) == 2:
                break
    assert ups[0][0] - 1000 >= choice.first_up_hold_ms and ups[0][1] == 1, ups
    assert len(ups) == 2 and ups[1][1] == 2


def test_an_up_switch_that_meets_loss_waits_twice_as_long_next_time() -> None:
    choice = LayerChoice(estimate_bps=1_000_000.0)
    assert choice.choose(0, RATES, 1) == 1  # 1.5 M + audio does not fit in 1 M
    choice.estimate_bps = 2_000_000.0
    assert choice.choose(0, RATES, 1) == 2  # never lost: up at once
    choice.report(1000, 0.5, 1_500_000)
    assert choice.choose(1000, RATES, 2) == 1 and choice.up_hold_ms == 16_000
    for t in range(2000, 17_000, 1000):
        choice.report(t, 0.0, 500_000)
        assert choice.choose(t, RATES, 1) == 1, t  # held for 16 s after the loss
    choice.estimate_bps = 3_000_000.0
    assert choice.choose(17_000, RATES, 1) == 2


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.floats(0, 1),
            st.floats(0, 3_000_000),
            st.lists(
                st.sampled_from([0.0, 100_000.0, 400_000.0, 1_200_000.0]), min_size=3, max_size=3
            ),
        ),
        max_size=40,
    )
)
def test_the_choice_is_always_a_layer_being_sent_and_never_up_right_after_loss(
    steps: list[tuple[float, float, list[float]]],
) -> None:
    choice = LayerChoice()
    current = 2
    for n, (loss, sent, rates) in enumerate(steps):
        now = 1000.0 * (n + 1)
        choice.report(now, loss, sent)
        chosen = choice.choose(now, rates, current)
        active = [i for i, r in enumerate(rates) if r > 0]
        if not active:
            assert chosen == current
        else:
            assert chosen in active
            if loss >= choice.loss_high and current in active:
                assert chosen <= current  # never up on a lossy report
        current = chosen


# -- what a viewer gets, for the host's view --------------------------------------------------


def test_a_vp8_keyframes_header_gives_its_picture_size() -> None:
    """Read from aiortc's own VP8 encoder's packets: the keyframe's first packet has the
    size, its other packets and delta frames have none, nor do truncated or other payloads."""
    codec = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
    encoder = get_encoder(codec)
    frames = []
    for i, (width, height) in enumerate(((320, 180), (320, 180), (640, 480))):
        frame = av.VideoFrame(width=width, height=height, format="yuv420p")
        frame.pts, frame.time_base = i * 3000, fractions.Fraction(1, 90000)
        frames.append(encoder.encode(frame, force_keyframe=i != 1)[0])
    key, delta, bigger = frames
    assert vp8_keyframe_size(key[0]) == (320, 180)
    assert [vp8_keyframe_size(p) for p in key[1:]] == [None] * (len(key) - 1)
    assert vp8_keyframe_size(delta[0]) is None
    assert vp8_keyframe_size(bigger[0]) == (640, 480)
    for cut in range(len(key[0][:12])):
        assert vp8_keyframe_size(key[0][:cut]) is None, cut
    assert vp8_keyframe_size(b"") is None
    assert vp8_keyframe_size(key[0][:6] + b"\x00\x00\x00" + key[0][9:]) is None  # no start code


def test_what_holds_a_viewers_layer() -> None:
    # (layer, layers, being sent) → the limit
    assert layer_limit(2, 3, [0, 1, 2]) == "none"  # the top
    assert layer_limit(0, 1, [0]) == "none"  # the only layer
    assert layer_limit(0, 3, [0, 1, 2]) == "line"  # below what is sent: the viewer's line
    assert layer_limit(1, 3, [0, 1, 2]) == "line"
    assert layer_limit(1, 3, [0, 1]) == "sender"  # the publisher sends no higher now
    assert layer_limit(0, 3, [0, 1]) == "line"
    assert layer_limit(1, 2, []) == "none"  # nothing being sent: nothing to tell
    assert layer_limit(0, 2, []) == "line"


# -- a consumer switching layers --------------------------------------------------------------


class _Producer:
    """What a consumer reads of its producer, with three layers fed by hand."""

    def __init__(self) -> None:
        self.layers = tuple(
            Layer(
                index=i,
                rid=rid,
                history=PacketHistory(1024),
                keyframes=KeyframeCache(),
                repair=RepairSchedule(),
                coalescer=KeyframeCoalescer(),
            )
            for i, rid in enumerate("lmh")
        )
        self.top = 2
        self.simulcast = True
        self.closed = False
        self.id = "p"
        self.participant_id = "teacher"
        self.kind = "video"
        self.source = "camera"
        self.codec = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
        self.keyframe_requests: list[int | None] = []
        self.repairs: list[tuple[int, int | None]] = []

    def attach(self, consumer: Any) -> None:
        pass

    def detach(self, consumer: Any) -> None:
        pass

    def request_keyframe(self, layer: int | None = None) -> None:
        self.keyframe_requests.append(layer)

    def ask_repair(self, seq: int, layer: int | None = None) -> None:
        self.repairs.append((seq, layer))

    def layer_rates(self, now_ms: int) -> list[float]:
        return RATES

    def sending_layers(self, now_ms: int) -> list[int]:
        return [0, 1, 2]

    def packet(self, layer: int, seq: int, ts: int, key: bool = False) -> SourcePacket:
        sp = SourcePacket(
            96, 1, seq, ts, bytes([layer, seq & 0xFF]), keyframe_start=key, layer=layer
        )
        stream = self.layers[layer]
        stream.history.add(seq, sp)
        stream.last_ts, stream.last_ms = ts, 0
        return sp


def _consumer_of(pc: RTCPeerConnection) -> tuple[_Producer, AiortcConsumer]:
    """A three-layer test producer and a pupil's consumer of it on `pc`'s video sender."""
    producer = _Producer()
    consumer = AiortcConsumer(
        producer=cast(AiortcProducer, producer),
        viewer_id="pupil",
        transceiver=pc.addTransceiver("video", direction="sendonly"),
        on_close=lambda c: None,
    )
    return producer, consumer


def _header(data: bytes) -> tuple[int, int, bytes]:
    return int.from_bytes(data[2:4], "big"), int.from_bytes(data[4:8], "big"), data[12:]


async def test_a_viewer_switches_only_at_the_target_layers_keyframe() -> None:
    pc = RTCPeerConnection()
    try:
        producer, consumer = _consumer_of(pc)
        sent: list[bytes] = []
        rw = Rewriter(ssrc=42, payload_type=100, seq_start=65530, ts_offset=1000)
        rw.layer = 2
        consumer._rewriter = rw
        consumer._sink = sent.append
        # Layers' own numbers and clocks differ; each frame is one packet, 3000 ticks apart.
        high = itertools.count(20_000)
        low = itertools.count(7)
        consumer.forward(producer.packet(2, next(high), 90_000, key=True))
        for frame in range(1, 5):
            consumer.forward(producer.packet(2, next(high), 90_000 + 3000 * frame))
        assert len(sent) == 5
        for stream, height in zip(producer.layers, (120, 240, 480), strict=True):
            stream.height = height
        seen = ReceivedLayer("teacher", "camera", 2, 3, 480, "none", paused=False)
        assert consumer.received() == seen
        consumer.target_layer = 0
        # The low layer's delta frames are not a switching point; the high one goes on.
        consumer.forward(producer.packet(0, next(low), 5_000_000))
        consumer.forward(producer.packet(2, next(high), 90_000 + 3000 * 5))
        assert len(sent) == 6 and consumer.layer == 2
        consumer.forward(producer.packet(0, next(low), 5_003_000, key=True))
        assert consumer.layer == 0 and consumer.layer_switches == 1
        # The host's view: the low layer, held there by the viewer's line.
        assert consumer.received() == ReceivedLayer("teacher", "camera", 0, 3, 120, "line", False)
        consumer.forward(producer.packet(2, next(high), 90_000 + 3000 * 6))  # dropped now
        consumer.forward(producer.packet(0, next(low), 5_006_000))
        headers = [_header(d) for d in sent]
        assert len(headers) == 8
        assert [h[0] for h in headers] == [(65530 + i) & 0xFFFF for i in range(8)]
        stamps = [h[1] for h in headers]
        assert all(ts_diff(b, a) > 0 for a, b in itertools.pairwise(stamps)), stamps
        assert [h[2][0] for h in headers] == [2] * 6 + [0, 0]
        assert ts_diff(stamps[7], stamps[6]) == 3000  # the new layer's own spacing after it

        # The viewer lost one packet of each layer: each is resent from its own layer.
        nack = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=1, media_ssrc=42)
        nack.lost = [headers[2][0], headers[7][0]]
        await consumer._on_rtcp(nack)
        assert len(sent) == 10
        resent = [_header(d) for d in sent[8:]]
        assert [r[2] for r in resent] == [headers[2][2], headers[7][2]]
        assert [r[1] for r in resent] == [stamps[2], stamps[7]]  # each with its own offset
        assert consumer.retransmissions == 2
        consumer.close()
        assert consumer.received() is None
    finally:
        await pc.close()


async def test_a_measured_link_numbers_each_packet_goes_down_at_once_and_probes_before_up() -> None:
    """The consumer side of docs/media.md "What a viewer's link carries": every packet carries
    the next transport-wide number (logged with its size), overuse moves the viewer down and
    stops the old layer until the lower keyframe, and going up starts with a padding probe."""
    pc = RTCPeerConnection()
    try:
        producer, consumer = _consumer_of(pc)
        sent: list[bytes] = []
        rw = Rewriter(ssrc=42, payload_type=100, seq_start=100, ts_offset=0)
        rw.layer = 2
        link = ViewerLink()
        link.ext_id = 3
        consumer.set_link(link)
        consumer._rewriter = rw
        consumer._sink = sent.append
        consumer._ext_ids = ExtensionIds(mid=1, transport_cc=3)
        consumer._mid = b"1"
        consumer._ext_key = extension_key(consumer._ext_ids, consumer._mid)
        consumer._rtx = (101, 77)
        consumer._twcc = link.log
        consumer._probed = ProbedChoice()
        link.consumers.append(consumer)
        high = itertools.count(20_000)
        low = itertools.count(7)
        consumer.forward(producer.packet(2, next(high), 90_000, key=True))
        for frame in range(1, 4):
            consumer.forward(producer.packet(2, next(high), 90_000 + 3000 * frame))
        assert [transport_seq(d, 3) for d in sent] == [0, 1, 2, 3]
        assert [read_extension(d, 1) for d in sent] == [b"1"] * 4  # the MID is still there
        assert [link.log.size[n] for n in range(4)] == [len(d) for d in sent]

        # A frame of two packets under way: its first one is sent.
        first_half = producer.packet(2, next(high), 90_000 + 3000 * 4)
        first_half.marker = 0
        consumer.forward(first_half)
        assert len(sent) == 5
        # Overuse: the estimate fits the low layer only. Down at once, the low layer's
        # keyframe asked for, and the high layer no longer forwarded meanwhile — after the
        # frame under way ends (a cut frame is one the viewer would wait on).
        link.estimate.estimate_bps = RATES[0] + 100_000
        consumer.link_feedback(100.0, True, None)
        assert consumer.target_layer == 0 and producer.keyframe_requests[-1] == 0
        consumer.forward(producer.packet(2, next(high), 90_000 + 3000 * 4))  # its end
        assert len(sent) == 6
        consumer.forward(producer.packet(2, next(high), 90_000 + 3000 * 5))
        assert len(sent) == 6  # draining
        consumer.forward(producer.packet(0, next(low), 5_000_000, key=True))
        assert consumer.layer == 0 and len(sent) == 7 and transport_seq(sent[-1], 3) == 6

        # Clean since: after the hold a probe for the next layer up goes out as padding on the
        # RTX stream, numbered on the same link; no switch before its result.
        consumer.link_feedback(105.0, False, None)
        assert link.probing and consumer.target_layer == 0
        padding = [d for d in sent[7:] if d[1] & 0x7F == 101]
        assert padding and all(d[0] & 0x20 and d[-1] == 255 for d in padding)
        assert [transport_seq(d, 3) for d in sent[7:]] == list(range(7, len(sent)))
        # The probe's result covers the medium layer: up.
        need = consumer._probed.probe_need_bps
        link.estimate.estimate_bps = need
        consumer.link_feedback(105.5, False, need)
        assert consumer.target_layer == 1 and consumer.probes_passed == 1
        link.close()
        consumer.close()
    finally:
        await pc.close()


# -- VP8 picture IDs across switches -----------------------------------------------------------

# Chromium's temporal pattern with three temporal layers: TID of each frame in turn.
_TIDS = (0, 2, 1, 2)


def _vp8(pid: int, tl0: int, tid: int, start: bool, key: bool, body: bytes) -> bytes:
    """A VP8 payload as Chromium sends it: descriptor with X, I (15-bit M), L, T; the frame
    tag's P bit 0 on a keyframe."""
    first = 0x80 | (0x10 if start else 0)
    descriptor = bytes([first, 0xE0, 0x80 | (pid >> 8), pid & 0xFF, tl0, (tid << 6) | 0x20])
    return descriptor + (bytes([0x00 if key else 0x01]) if start else b"") + body


@settings(max_examples=150, deadline=None)
@given(
    starts=st.lists(st.tuples(st.integers(0, 0x7FFF), st.integers(0, 255)), min_size=3, max_size=3),
    runs=st.lists(
        # (layer, frames, packets per frame, frames the layer sent while not forwarded)
        st.tuples(st.integers(0, 2), st.integers(1, 12), st.integers(1, 3), st.integers(0, 40_000)),
        min_size=1,
        max_size=7,
    ),
    body=st.binary(min_size=0, max_size=20),
)
def test_picture_ids_run_on_across_switches_and_resends_repeat_them(
    starts: list[tuple[int, int]], runs: list[tuple[int, int, int, int]], body: bytes
) -> None:
    """Each layer numbers its own pictures from its own start (Chromium: random); whatever the
    switches, the viewer sees picture IDs +1 per frame (the same within one), TL0PICIDX +1 per
    temporal-layer-0 frame and otherwise the same, every other byte as the publisher sent it,
    and a NACKed packet resent as it was first sent, even from before a switch."""

    async def run() -> None:
        pc = RTCPeerConnection()
        try:
            transceiver = pc.addTransceiver("video", direction="sendonly")
            producer = _Producer()
            consumer = AiortcConsumer(
                producer=cast(AiortcProducer, producer),
                viewer_id="pupil",
                transceiver=transceiver,
                on_close=lambda c: None,
            )
            sent: list[bytes] = []
            rw = Rewriter(ssrc=42, payload_type=100, seq_start=100, ts_offset=0, vp8=True)
            rw.layer = runs[0][0]
            consumer._rewriter = rw
            consumer._sink = sent.append
            # Per layer: next picture ID, TL0PICIDX, sequence number, frame count.
            state = [[pid, tl0, 1000 * i, 0] for i, (pid, tl0) in enumerate(starts)]
            sources: list[tuple[bytes, int]] = []  # (payload, TID) of each packet forwarded
            for n, (layer, frames, per_frame, skipped) in enumerate(runs):
                st_ = state[layer]
                if n and runs[n - 1][0] != layer:  # it went on while another was forwarded
                    st_[0] = (st_[0] + skipped) & 0x7FFF
                    st_[1] = (st_[1] + skipped // 4) & 0xFF
                    st_[3] += skipped
                consumer.target_layer = layer
                for frame in range(frames):
                    tid = 0 if frame == 0 else _TIDS[frame % 4]
                    if tid == 0:
                        st_[1] = (st_[1] + 1) & 0xFF
                    ts = layer * 7_000_000 + 3000 * st_[3]
                    for k in range(per_frame):
                        payload = _vp8(st_[0], st_[1], tid, k == 0, frame == 0, body)
                        seq = st_[2] = (st_[2] + 1) & 0xFFFF
                        sp = SourcePacket(
                            96,
                            int(k == per_frame - 1),
                            seq,
                            ts,
                            payload,
                            keyframe_start=frame == 0 and k == 0,
                            layer=layer,
                        )
                        producer.layers[layer].history.add(seq, sp)
                        producer.layers[layer].last_ts = ts
                        count = len(sent)
                        consumer.forward(sp)
                        assert len(sent) == count + 1
                        sources.append((payload, tid))
                    st_[0] = (st_[0] + 1) & 0x7FFF
                    st_[3] += 1
            assert consumer.layer_switches == sum(a[0] != b[0] for a, b in itertools.pairwise(runs))
            ids = [vp8_ids(d[12:]) for d in sent]
            for n, (data, (source, tid)) in enumerate(zip(sent, sources, strict=True)):
                out = data[12:]
                # Only the picture ID and TL0PICIDX bytes differ.
                assert len(out) == len(source) and out[:2] == source[:2] and out[5:] == source[5:]
                if n == 0:
                    continue
                now, last = ids[n], ids[n - 1]
                assert now is not None and last is not None and now[3] == tid
                new_frame = data[4:8] != sent[n - 1][4:8]
                assert now[0] == (last[0] + new_frame) & 0x7FFF
                assert now[2] == (last[2] + (new_frame and tid == 0)) & 0xFF
            # Before any switch nothing is touched.
            first = sum(
                r[1] * r[2] for r in itertools.takewhile(lambda r: r[0] == runs[0][0], runs)
            )
            assert [d[12:] for d in sent[:first]] == [s for s, _ in sources[:first]]

            # The viewer lost everything of the last three anchorings: each packet is resent
            # with the picture IDs it first had, whatever the current offsets.
            anchorings = [list(g) for _, g in itertools.groupby(runs, key=lambda r: r[0])]
            count = sum(r[1] * r[2] for g in anchorings[-3:] for r in g)
            kept = sent[-count:]
            nack = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=1, media_ssrc=42)
            nack.lost = [int.from_bytes(d[2:4], "big") for d in kept]
            consumer._resend.burst_bytes = consumer._resend.tokens = 1e9
            await consumer._on_rtcp(nack)
            assert sent[-len(kept) :] == kept
            consumer.close()
        finally:
            await pc.close()

    asyncio.run(run())


def test_vp8_ids_read_and_move_both_widths_and_leave_the_rest() -> None:
    long = bytes([0x90, 0xE0, 0x80 | 0x7F, 0xFE, 255, 0x40, 9, 8, 7])
    assert vp8_ids(long) == (0x7FFE, 2, 255, 1)
    assert rewrite_vp8_ids(long, 3, 2) == bytes([0x90, 0xE0, 0x80, 0x01, 1, 0x40, 9, 8, 7])
    short = bytes([0x90, 0x80, 0x7F, 5])  # 7-bit picture ID, no TL0PICIDX: mod 2**7
    assert vp8_ids(short) == (0x7F, 1, -1, -1)
    assert rewrite_vp8_ids(short, 0x102, 9) == bytes([0x90, 0x80, 0x01, 5])
    plain = bytes([0x10, 1, 2, 3])  # no X: nothing to move
    assert vp8_ids(plain) is None and rewrite_vp8_ids(plain, 5, 5) is plain
    assert vp8_ids(bytes([0x90, 0x80, 0x80])) is None  # truncated 15-bit ID
    rw = Rewriter(ssrc=1, payload_type=96, seq_start=0, ts_offset=0, vp8=True)
    assert rw.vp8_payload(plain) is plain and rw.vp8_payload(long) is long  # no switch yet


def test_a_single_layer_stream_is_forwarded_byte_for_byte() -> None:
    """Without layers (vp8 off) or for other codecs the payload is the producer's own."""
    rw = Rewriter(ssrc=1, payload_type=96, seq_start=0, ts_offset=0)
    assert not rw.vp8
    rw.switch(0, 0)  # a pause/resume of a single layer keeps its own numbers
    assert not rw.reanchor
