"""Unit tests for the pure parts: rewriting, keyframe detection, coalescing, history."""

from __future__ import annotations

import itertools

import pytest
from aiortc.rtcrtpparameters import (
    RTCRtcpFeedback,
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpParameters,
)
from aiortc.rtp import HeaderExtensionsMap, RtcpPsfbPacket, RtcpRrPacket, RtpPacket, pack_remb_fci
from hypothesis import given, settings
from hypothesis import strategies as st

from media.aiortc_hooks import only_remb, wants_remb, without_remb
from media.history import PacketHistory
from media.keyframes import KeyframeCoalescer
from media.rtp import (
    ExtensionIds,
    Rewriter,
    RtpHeader,
    build_packet,
    extension_block,
    is_keyframe_start,
    parse_rtp,
    seq_newer,
)
from media.settings import MediaSettings

pytestmark = pytest.mark.timeout(20)

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
AST = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


def ext_map(**ids: int) -> HeaderExtensionsMap:
    uris = {"mid": MID, "abs_send_time": AST, "audio_level": LEVEL}
    m = HeaderExtensionsMap()
    m.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=v, uri=uris[k]) for k, v in ids.items()
            ]
        )
    )
    return m


@pytest.mark.parametrize("padding", [0, 4])
def test_built_packet_parses_with_rewritten_fields(padding: int) -> None:
    ids = ExtensionIds(mid=5, abs_send_time=9, audio_level=2)
    ext = extension_block(ids, b"3", 0xABCDEF, (True, 42))
    data = build_packet(
        payload_type=111,
        marker=1,
        sequence_number=65535,
        timestamp=0xFFFFFFFF,
        ssrc=0x12345678,
        extensions=ext,
        payload=b"payload",
        padding_size=padding,
    )
    p = RtpPacket.parse(data, ext_map(mid=5, abs_send_time=9, audio_level=2))
    assert (p.payload_type, p.marker, p.sequence_number, p.timestamp, p.ssrc) == (
        111,
        1,
        65535,
        0xFFFFFFFF,
        0x12345678,
    )
    assert p.payload == b"payload"
    assert p.padding_size == padding
    assert p.extensions.mid == "3"
    assert p.extensions.abs_send_time == 0xABCDEF
    assert p.extensions.audio_level == (True, 42)


def test_extension_block_omits_unnegotiated_and_absent() -> None:
    assert extension_block(ExtensionIds(), b"0", 1, (False, 1)) == b""
    only_mid = extension_block(ExtensionIds(mid=1, abs_send_time=3), b"10", None, None)
    assert len(only_mid) % 4 == 0
    data = build_packet(
        payload_type=96,
        marker=0,
        sequence_number=1,
        timestamp=2,
        ssrc=3,
        extensions=only_mid,
        payload=b"x",
    )
    p = RtpPacket.parse(data, ext_map(mid=1, abs_send_time=3))
    assert p.extensions.mid == "10" and p.extensions.abs_send_time is None


def test_rewriter_maps_and_unmaps_across_wraparound() -> None:
    rw = Rewriter(ssrc=1, payload_type=96, seq_start=100, ts_offset=2**32 - 10)
    assert not rw.started
    rw.start(65530)
    assert rw.map_seq(65530) == 100
    assert rw.map_seq(3) == 109  # producer wrapped, consumer did not
    assert rw.unmap_seq(109) == 3
    assert rw.map_ts(20) == 10
    assert rw.accept(3)
    assert not rw.accept(65529)  # older than the first forwarded packet
    assert rw.accept(65531)  # reordered but after the start


def test_rewriter_accepts_for_hours() -> None:
    # Far beyond half the 16-bit space, packets must still pass, and reordering too.
    rw = Rewriter(ssrc=1, payload_type=96, seq_start=0, ts_offset=0)
    rw.start(40000)
    seq = 40000
    for i in range(1, 300_000):
        seq = (40000 + i) & 0xFFFF
        assert rw.accept(seq)
        if i % 1000 == 0:
            assert rw.accept((seq - 5) & 0xFFFF)
    assert rw.map_seq(seq) == (299_999) & 0xFFFF


def test_seq_newer_wraps() -> None:
    assert seq_newer(1, 65535)
    assert not seq_newer(65535, 1)
    assert not seq_newer(5, 5)


def vp8(keyframe: bool, start: bool = True, pid: int = 0, extended: bool = False) -> bytes:
    first = (0x10 if start else 0) | pid | (0x80 if extended else 0)
    head = bytes([first])
    if extended:
        head += bytes([0x80, 0x81, 0x23])  # X byte with I bit, 15-bit picture id
    return head + bytes([0x00 if keyframe else 0x01, 0, 0])


def test_vp8_keyframe_detection() -> None:
    assert is_keyframe_start("video/VP8", vp8(True))
    assert is_keyframe_start("video/VP8", vp8(True, extended=True))
    assert not is_keyframe_start("video/VP8", vp8(False))
    assert not is_keyframe_start("video/VP8", vp8(True, start=False))
    assert not is_keyframe_start("video/VP8", vp8(True, pid=1))
    assert not is_keyframe_start("video/VP8", b"")
    assert not is_keyframe_start("video/VP8", b"\x90")  # truncated


def test_h264_keyframe_detection() -> None:
    assert is_keyframe_start("video/H264", bytes([0x65, 0x88]))  # IDR
    assert is_keyframe_start("video/H264", bytes([0x67, 0x42]))  # SPS
    assert not is_keyframe_start("video/H264", bytes([0x41, 0x9A]))  # non-IDR slice
    stap = bytes([0x78]) + (2).to_bytes(2, "big") + bytes([0x67, 0x42])
    assert is_keyframe_start("video/H264", stap)
    assert is_keyframe_start("video/H264", bytes([0x7C, 0x85]))  # FU-A start of IDR
    assert not is_keyframe_start("video/H264", bytes([0x7C, 0x05]))  # FU-A continuation
    assert not is_keyframe_start("video/H264", bytes([0x78, 0x00]))  # truncated STAP-A
    assert is_keyframe_start("audio/opus", b"")


def test_coalescer_sends_first_then_holds_one_until_window_end() -> None:
    c = KeyframeCoalescer(0.5)
    assert c.request(10.0) == 0.0
    assert c.request(10.1) == pytest.approx(0.4)
    assert c.request(10.2) is None  # coalesced into the held one, not dropped
    assert c.request(10.4) is None
    assert c.fire(10.5) is True
    assert c.fire(10.5) is False
    assert c.request(10.6) == pytest.approx(0.4)
    assert c.fire(11.0) is True
    assert c.request(11.6) == 0.0


def test_coalescer_never_exceeds_one_per_window() -> None:
    c = KeyframeCoalescer(0.5)
    sent: list[float] = []
    timer: float | None = None
    t = 0.0
    while t < 5.0:
        if timer is not None and t >= timer:
            timer = None
            if c.fire(t):
                sent.append(t)
        delay = c.request(t)
        if delay == 0.0:
            sent.append(t)
        elif delay is not None:
            timer = t + delay
        t = round(t + 0.01, 2)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.5 - 1e-9
    assert len(sent) >= 9


def test_history_keeps_last_window() -> None:
    h: PacketHistory[str] = PacketHistory(4)
    for seq in range(65534, 65536):
        h.add(seq, f"p{seq}")
    for seq in range(0, 3):
        h.add(seq, f"p{seq}")
    assert h.get(65534) is None  # overwritten by seq 2
    assert h.get(65535) == "p65535"
    assert h.get(2) == "p2"
    assert h.get(6) is None
    h.clear()
    assert h.get(2) is None
    with pytest.raises(ValueError):
        PacketHistory(3)


def test_settings_are_validated() -> None:
    assert MediaSettings().gather_address == "127.0.0.1"
    assert MediaSettings().ice_servers == ()
    with pytest.raises(ValueError):
        MediaSettings(gather_address="not-an-ip")
    with pytest.raises(ValueError):
        MediaSettings(keyframe_interval_s=0)
    with pytest.raises(ValueError):
        MediaSettings(history_packets=1000)


def test_announce_rewrites_only_our_host_candidates() -> None:
    from media.aiortc_hooks import announce

    sdp = (
        "c=IN IP4 127.0.0.1\r\n"
        "a=candidate:abc 1 udp 2130706431 127.0.0.1 5000 typ host\r\n"
        "a=candidate:def 1 udp 1694498815 198.51.100.7 6000 typ srflx"
        " raddr 127.0.0.1 rport 5000\r\n"
    )
    assert announce(sdp, MediaSettings()) == sdp
    out = announce(sdp, MediaSettings(announced_address="203.0.113.5"))
    assert "c=IN IP4 203.0.113.5" in out
    assert "2130706431 203.0.113.5 5000 typ host" in out
    assert "198.51.100.7 6000 typ srflx" in out


def test_aiortc_classes_satisfy_the_protocols() -> None:
    from media.consumer import AiortcConsumer
    from media.interfaces import Consumer, MediaRouter, Producer, Transport
    from media.producer import AiortcProducer
    from media.router import AiortcRouter
    from media.transport import AiortcTransport

    # Static check by mypy: assigning the classes to the Protocol types must type-check.
    router_t: type[MediaRouter] = AiortcRouter
    transport_t: type[Transport] = AiortcTransport
    producer_t: type[Producer] = AiortcProducer
    consumer_t: type[Consumer] = AiortcConsumer
    assert all((router_t, transport_t, producer_t, consumer_t))


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(0, 0xFFFF),
    ts=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    marker=st.integers(0, 1),
    payload_type=st.integers(0, 127),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=3),
    ast=st.none() | st.integers(0, 0xFFFFFF),
    level=st.none() | st.tuples(st.booleans(), st.integers(0, 127)),
    mid=st.none() | st.text(alphabet="0123456789", min_size=1, max_size=3),
    padding=st.integers(0, 255),
    payload=st.binary(max_size=64),
)
def test_parse_rtp_agrees_with_aiortc(
    seq: int,
    ts: int,
    ssrc: int,
    marker: int,
    payload_type: int,
    csrc: list[int],
    ast: int | None,
    level: tuple[bool, int] | None,
    mid: str | None,
    padding: int,
    payload: bytes,
) -> None:
    # aiortc serialises (one-byte form); the lean receive path must read the same fields.
    m = ext_map(mid=1, abs_send_time=3, audio_level=7)
    packet = RtpPacket(
        payload_type=payload_type, marker=marker, sequence_number=seq, timestamp=ts, ssrc=ssrc
    )
    packet.csrc = csrc
    packet.extensions.abs_send_time = ast
    packet.extensions.audio_level = level
    packet.extensions.mid = mid
    packet.payload = payload
    packet.padding_size = padding
    parsed = parse_rtp(packet.serialize(m), 3, 7)
    assert parsed == RtpHeader(payload_type, marker, seq, ts, ssrc, payload, padding, ast, level)


def test_parse_rtp_reads_two_byte_extensions_and_rejects_garbage() -> None:
    # RFC 8285 two-byte form (profile 0x100X): id, length, value; 0 bytes pad.
    elements = bytes([3, 3, 1, 2, 3, 0, 7, 1, 0x85, 0, 0, 0])
    block = b"\x10\x00" + (len(elements) // 4).to_bytes(2, "big") + elements
    data = bytes([0x90, 96]) + (5).to_bytes(2, "big") + (6).to_bytes(4, "big")
    data += (7).to_bytes(4, "big") + block + b"payload"
    parsed = parse_rtp(data, 3, 7)
    assert parsed is not None
    assert parsed.abs_send_time == 0x010203
    assert parsed.audio_level == (True, 5)
    assert parsed.payload == b"payload"
    assert parse_rtp(data, 0, 0) == parsed._replace(abs_send_time=None, audio_level=None)
    assert parse_rtp(b"\x80" * 11, 3, 7) is None  # shorter than a header
    assert parse_rtp(b"\x40" + data[1:], 3, 7) is None  # version 1
    assert parse_rtp(data[:14], 3, 7) is None  # extension block cut off
    padded_wrong = bytes([0xA0]) + data[1:12] + b"\x00\x09"  # padding longer than packet
    assert parse_rtp(padded_wrong, 3, 7) is None


def test_only_remb_tells_bandwidth_feedback_from_reports() -> None:
    remb = bytes(RtcpPsfbPacket(fmt=15, ssrc=1, media_ssrc=0, fci=pack_remb_fci(300000, [5])))
    pli = bytes(RtcpPsfbPacket(fmt=1, ssrc=1, media_ssrc=5))
    rr = bytes(RtcpRrPacket(ssrc=1))
    assert only_remb(remb)
    assert only_remb(remb + remb)
    assert not only_remb(rr + remb)  # a report in the compound packet: aiortc must see it
    assert not only_remb(remb + pli)
    assert not only_remb(b"")
    assert not only_remb(remb[:-1])  # a length that does not add up


def test_subscribe_offers_do_not_ask_viewers_for_remb() -> None:
    sdp = (
        "a=rtpmap:97 VP8/90000\r\n"
        "a=rtcp-fb:97 nack\r\n"
        "a=rtcp-fb:97 nack pli\r\n"
        "a=rtcp-fb:97 goog-remb\r\n"
        "a=rtpmap:98 rtx/90000\r\n"
    )
    out = without_remb(sdp)
    assert "goog-remb" not in out
    assert "a=rtcp-fb:97 nack\r\na=rtcp-fb:97 nack pli\r\na=rtpmap:98" in out
    assert wants_remb(
        RTCRtpCodecParameters(
            mimeType="video/VP8",
            clockRate=90000,
            payloadType=97,
            rtcpFeedback=[RTCRtcpFeedback(type="nack"), RTCRtcpFeedback(type="goog-remb")],
        )
    )
    assert not wants_remb(
        RTCRtpCodecParameters(
            mimeType="video/VP8",
            clockRate=90000,
            payloadType=97,
            rtcpFeedback=[RTCRtcpFeedback(type="nack", parameter="pli")],
        )
    )


def test_rewriter_resumes_numbering_on_after_a_pause() -> None:
    rw = Rewriter(ssrc=1, payload_type=96, seq_start=65534, ts_offset=0)
    rw.start(1000)
    for seq in range(1000, 1004):
        assert rw.accept(seq)
    assert rw.map_seq(1003) == 1  # 65534, 65535, 0, 1
    assert rw.maps(1) and rw.unmap_seq(1) == 1003
    rw.resume()  # the producer moves on to 1500 while paused
    assert not rw.started and not rw.maps(1)
    rw.start(1500)
    assert rw.map_seq(1500) == 2 and rw.unmap_seq(2) == 1500
    assert rw.accept(1538) and rw.map_seq(1538) == 40
    # A late NACK of a number sent before the pause no longer maps to any packet, nor does
    # one not sent yet.
    assert not rw.maps(1) and not rw.maps(65534) and not rw.maps(41)
    assert rw.maps(2) and rw.maps(40)
    # Hours later every recent number still maps (numbers wrap many times over).
    for seq in range(1539, 1539 + 200_000):
        assert rw.accept(seq & 0xFFFF)
    last = rw.map_seq(rw.highest)
    assert rw.maps(last) and rw.maps((last - 1000) & 0xFFFF)
