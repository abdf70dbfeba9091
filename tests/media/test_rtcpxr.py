"""RTCP XR round trips for receivers (rtcpxr.py): a viewer's RRTR read, our DLRR written."""

from __future__ import annotations

import pytest
from aiortc.rtp import RtcpReceiverInfo, RtcpRrPacket

from media.aiortc_hooks import with_rrtr
from media.rtcpxr import Rrtr, dlrr_packet, find_rrtr

pytestmark = pytest.mark.timeout(10)


def rrtr_block(sender: int, ntp: int) -> bytes:
    # XR header (3 words after it: SSRC + one RRTR block of 3 words) then the block.
    return (
        bytes([0x80, 207, 0, 4])
        + sender.to_bytes(4, "big")
        + bytes([4, 0, 0, 2])
        + ntp.to_bytes(8, "big")
    )


def test_a_viewers_compound_rr_and_rrtr_is_read() -> None:
    rr = RtcpRrPacket(
        ssrc=1,
        reports=[
            RtcpReceiverInfo(
                ssrc=0xCAFE,
                fraction_lost=0,
                packets_lost=0,
                highest_sequence=1,
                jitter=0,
                lsr=0,
                dlsr=0,
            )
        ],
    )
    compound = bytes(rr) + rrtr_block(1, 0x0123456789ABCDEF)
    assert find_rrtr(compound) == [Rrtr(1, 0x456789AB, (0xCAFE,))]
    assert find_rrtr(bytes(rr)) == []
    assert find_rrtr(compound[:-3]) == []  # cut short: nothing trusted


def test_the_dlrr_answer_echoes_the_reference_time_with_our_delay() -> None:
    packet = dlrr_packet(0xCAFE, Rrtr(1, 0x456789AB, ()), 0.5)
    assert packet == bytes.fromhex("80cf0005 0000cafe 05000003 00000001 456789ab 00008000")
    assert len(packet) == (packet[3] + 1) * 4  # the length field counts words minus one


def test_offers_ask_for_rrtr_on_video_codecs_only() -> None:
    sdp = (
        "m=video 9 UDP/TLS/RTP/SAVPF 97 98\r\na=rtpmap:97 VP8/90000\r\na=rtcp-fb:97 nack\r\n"
        "a=rtpmap:98 rtx/90000\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        "a=rtpmap:111 opus/48000/2\r\n"
    )
    out = with_rrtr(sdp)
    assert "a=rtpmap:97 VP8/90000\r\na=rtcp-fb:97 rrtr\r\n" in out
    assert out.count("rrtr") == 1  # not on RTX, not on audio
