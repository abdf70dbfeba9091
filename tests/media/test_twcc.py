"""Transport-wide congestion control: the feedback builder (pure) and the SDP that agrees it."""

from __future__ import annotations

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from hypothesis import given, settings
from hypothesis import strategies as st

from media.aiortc_hooks import transport_cc_ids, with_transport_cc
from media.twcc import (
    MAX_STATUSES,
    TRANSPORT_CC_URI,
    TransportFeedback,
    feedback_packet,
    transport_seq,
)

pytestmark = pytest.mark.timeout(20)


def decode(packet: bytes) -> tuple[int, int, int, list[int | None], int]:
    """Read a transport-feedback packet back the way the draft describes it: (base sequence
    number, feedback count, reference time in µs, arrival times in µs or None, length in
    bytes without padding). Written from the draft, apart from the builder."""
    assert packet[0] >> 6 == 2 and packet[0] & 0x1F == 15 and packet[1] == 205
    size = ((packet[2] << 8) | packet[3]) * 4 + 4
    assert size == len(packet)
    if packet[0] & 0x20:
        size -= packet[-1]
    base = int.from_bytes(packet[12:14], "big")
    count = int.from_bytes(packet[14:16], "big")
    reference = int.from_bytes(packet[16:19], "big", signed=True) * 64_000
    fb_count = packet[19]
    pos, symbols = 20, list[int]()
    while len(symbols) < count:
        chunk = int.from_bytes(packet[pos : pos + 2], "big")
        pos += 2
        if chunk >> 15 == 0:  # run length
            symbols += [(chunk >> 13) & 3] * (chunk & 0x1FFF)
        elif chunk >> 14 == 2:  # one-bit vector
            symbols += [(chunk >> (13 - i)) & 1 for i in range(14)]
        else:  # two-bit vector
            symbols += [(chunk >> (12 - 2 * i)) & 3 for i in range(7)]
    arrivals: list[int | None] = []
    now = reference
    for symbol in symbols[:count]:
        if symbol == 0:
            arrivals.append(None)
            continue
        if symbol == 1:
            delta = packet[pos]
            pos += 1
        else:
            delta = int.from_bytes(packet[pos : pos + 2], "big", signed=True)
            pos += 2
        now += delta * 250
        arrivals.append(now)
    assert pos <= size
    return base, fb_count, reference, arrivals, size


def test_a_packet_with_small_large_negative_deltas_and_a_loss_matches_the_draft() -> None:
    t0 = 64_000 + 750  # reference 1 (64 ms), first delta 3 quarter-ms
    arrivals = [t0, None, t0 + 75_000, t0 + 74_500]  # +300 (large), then -2 (negative)
    packet = feedback_packet(1, 2, 0xFFFF, 7, arrivals)
    assert packet == bytes.fromhex(
        "af cd 00 06  00000001 00000002  ffff 0004  000001 07  d280  03 012c fffe  01"
    )
    assert decode(packet)[3] == arrivals


def test_long_runs_use_run_length_chunks() -> None:
    arrivals: list[int | None] = [1_000_000 + 1000 * i for i in range(40)]
    packet = feedback_packet(9, 9, 100, 0, arrivals)
    assert packet[20:22] == ((1 << 13) | 40).to_bytes(2, "big")
    assert decode(packet)[3] == arrivals


@settings(max_examples=200, deadline=None)
@given(
    base=st.integers(0, 0xFFFF),
    gaps=st.lists(st.none() | st.integers(-20_000, 8_000_000), min_size=1, max_size=120),
)
def test_arrival_times_survive_to_a_quarter_millisecond(base: int, gaps: list[int | None]) -> None:
    t = 5_000_000_000
    arrivals: list[int | None] = [t]
    for gap in gaps:
        if gap is None:
            arrivals.append(None)
        else:
            t += gap
            arrivals.append(t)
    packet = feedback_packet(1, 2, base, 3, arrivals)
    got_base, count, _, got, _ = decode(packet)
    assert (got_base, count) == (base, 3)
    for want, have in zip(arrivals, got, strict=True):
        assert (want is None) == (have is None)
        if want is not None and have is not None:
            assert abs(want - have) <= 125  # rounded against the running sum: no drift


def test_feedback_reports_each_number_once_across_the_wrap() -> None:
    fb = TransportFeedback()
    for i, seq in enumerate([65534, 65535, 1]):  # 0 is lost
        fb.record(seq, 1_000_000 + 1000 * i)
    (first,) = fb.build(10, 20)
    base, count, _, arrivals, _ = decode(first)
    assert base == 65534 and count == 0
    assert arrivals == [1_000_000, 1_001_000, None, 1_002_000]
    fb.record(0, 1_003_000)  # too late: already reported missing
    fb.record(2, 1_004_000)
    (second,) = fb.build(10, 20)
    base, count, _, arrivals, _ = decode(second)
    assert (base, count, arrivals) == (2, 1, [1_004_000])
    assert fb.build(10, 20) == []


def test_long_ranges_are_split_and_empty_spans_left_out() -> None:
    fb = TransportFeedback()
    fb.record(0, 0)
    fb.record(MAX_STATUSES + 5, 10_000)  # everything in between lost
    fb.record(3 * MAX_STATUSES + 1, 20_000)  # a whole span with nothing arrived in it
    packets = fb.build(1, 2)
    bases = [decode(p)[0] for p in packets]
    assert bases == [0, MAX_STATUSES, 3 * MAX_STATUSES]
    assert [decode(p)[1] for p in packets] == [0, 1, 2]
    assert len(decode(packets[0])[3]) == MAX_STATUSES


def test_a_step_wider_than_a_delta_can_hold_starts_a_new_packet() -> None:
    fb = TransportFeedback()
    fb.record(7, 1_000_000)
    fb.record(8, 1_001_000)
    fb.record(9, 11_000_000)  # 10 s later: more than a signed 16-bit delta
    packets = fb.build(1, 2)
    assert [decode(p)[0] for p in packets] == [7, 9]
    assert decode(packets[1])[3] == [11_000_000]
    with pytest.raises(ValueError, match="8 s"):
        feedback_packet(1, 2, 0, 0, [0, 10_000_000])


def test_transport_seq_is_read_from_one_and_two_byte_extensions() -> None:
    m = HeaderExtensionsMap()
    m.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
                RTCRtpHeaderExtensionParameters(id=5, uri=TRANSPORT_CC_URI),
            ]
        )
    )
    packet = RtpPacket(payload_type=96, sequence_number=1, timestamp=2, ssrc=3)
    packet.extensions.mid = "0"
    packet.extensions.transport_sequence_number = 0xBEEF
    packet.payload = b"xyz"
    data = packet.serialize(m)
    assert transport_seq(data, 5) == 0xBEEF
    assert transport_seq(data, 6) is None
    assert transport_seq(data, 0) is None
    two_byte = data[:12] + bytes.fromhex("1000 0002  05 02 be ef  00 00 00 00") + b"xyz"
    two_byte = bytes([two_byte[0] | 0x10]) + two_byte[1:]
    assert transport_seq(two_byte, 5) == 0xBEEF
    assert transport_seq(data[:18], 5) is None  # cut inside the block


OFFER = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
    f"a=extmap:3 {TRANSPORT_CC_URI}\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\n"
    f"a=extmap:3 {TRANSPORT_CC_URI}\r\na=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 nack\r\n"
    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
)
ANSWER = (
    "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=extmap:1 urn:x\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 goog-remb\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
)


def test_the_answer_agrees_transport_cc_on_video_and_drops_remb() -> None:
    assert transport_cc_ids(OFFER) == {"1": 3}
    answer = with_transport_cc(ANSWER, OFFER)
    audio, video = answer.split("m=", 2)[1:]
    assert "transport-cc" not in audio and TRANSPORT_CC_URI not in audio
    assert f"a=extmap:3 {TRANSPORT_CC_URI}\r\n" in video
    assert "a=rtcp-fb:96 transport-cc\r\n" in video
    assert "goog-remb" not in video
    assert "a=rtcp-fb:97 transport-cc" not in video  # RTX did not offer it
    # An offer without transport-cc leaves the answer as it was (REMB stays).
    plain = OFFER.replace("a=rtcp-fb:96 transport-cc\r\n", "")
    assert with_transport_cc(ANSWER, plain) == ANSWER
