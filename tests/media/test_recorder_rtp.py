"""The recorder's pure parts: reordering, VP8 depacketising, the media clock, speech."""

from __future__ import annotations

from media.recorder_rtp import (
    H264Frames,
    MediaClock,
    Reorder,
    SpeechDetector,
    Vp8Frames,
    h264_sps_size,
    unwrap,
)


def test_unwrap_crosses_the_wrap_both_ways() -> None:
    assert unwrap(2, 65534, 1 << 16) == 65538
    assert unwrap(65535, 65538, 1 << 16) == 65535
    assert unwrap(5, None, 1 << 16) == 5


def test_reorder_puts_a_late_packet_back_and_gives_up_on_a_lost_one() -> None:
    r: Reorder[str] = Reorder(hold=3)
    assert r.push(65535, "a") == ["a"]
    assert r.push(1, "c") == []  # 0 is missing: held
    assert r.push(0, "b") == ["b", "c"]  # the retransmission fills the hole, across the wrap
    assert r.push(0, "b") == []  # duplicate
    out: list[str | None] = []
    for seq, item in ((3, "e"), (4, "f"), (5, "g"), (6, "h")):
        out += r.push(seq, item)
    assert out == [None, "e", "f", "g", "h"]  # 2 never came: given up after `hold` packets
    assert r.gaps == 1
    assert r.push(2, "d") == []  # too late now


def vp8(start: bool, payload: bytes, picture_id: int = 5) -> bytes:
    # X=1 with a 15-bit picture ID, S bit, partition 0.
    return bytes([0x90 if start else 0x80, 0x80, 0x80 | (picture_id >> 8), picture_id & 0xFF]) + (
        payload
    )


KEY = bytes([0x50, 0x01, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00]) + b"key"
DELTA = bytes([0x31, 0x00, 0x00]) + b"delta"


def test_vp8_frames_are_joined_and_a_loss_waits_for_a_keyframe() -> None:
    d = Vp8Frames()
    assert d.push(100, True, vp8(True, DELTA)) is None  # no keyframe yet
    assert d.push(200, False, vp8(True, KEY[:6])) is None
    frame = d.push(200, True, vp8(False, KEY[6:]))
    assert frame is not None and frame.keyframe and frame.data == KEY
    assert (frame.width, frame.height) == (320, 240)
    delta = d.push(300, True, vp8(True, DELTA))
    assert delta is not None and not delta.keyframe and delta.data == DELTA
    d.lost()
    assert d.need_keyframe
    assert d.push(400, True, vp8(True, DELTA)) is None
    assert d.push(500, True, vp8(False, DELTA)) is None  # continuation without a start
    again = d.push(600, True, vp8(True, KEY))
    assert again is not None and again.keyframe and not d.need_keyframe


def test_media_clock_maps_through_the_publishers_sender_report() -> None:
    start = 1_000_000.0
    offsets: dict[str, float] = {}
    audio = MediaClock(48000, start)
    # SR: sender's NTP time 1000.5 s ↔ RTP 48000; a packet 0.1 s later arrives at 1000.65 s
    # on the server's clock: the publisher's offset is 50 ms.
    ntp = (1000 << 32) | (1 << 31)
    audio.anchor_by_report(52800, (ntp, 48000), offsets, "t", 1_000_650)
    assert offsets == {"t": 50.0}
    assert audio.ms(52800) == 1_000_650 - start
    video = MediaClock(90000, start)
    # Video's SR from the same sender: its arrival differs, the shared offset does not.
    video.anchor_by_report(9000 + 90000 // 10, (ntp, 9000), offsets, "t", 1_000_700)
    assert video.ms(18000) == audio.ms(52800)
    assert video.ms((18000 + 90000) % (1 << 32)) == audio.ms(52800) + 1000
    wrapped = MediaClock(90000, 0.0)
    wrapped.anchor_by_arrival((1 << 32) - 900, 5000)
    assert wrapped.ms(900) == 5020


def test_speech_starts_on_loud_packets_and_ends_after_a_quiet_second() -> None:
    s = SpeechDetector()
    changes = [s.push(20 if i < 20 else 127, i * 20.0) for i in range(100)]
    assert changes.index(True) == 4
    assert changes.index(False) * 20 - 19 * 20 > 1000


# x264's SPS (High profile, emulation prevention included) and PPS for a 320x240 picture.
SPS = bytes.fromhex("6764000dacb20283f420000003002000000791e28549")
PPS = bytes.fromhex("68ebc3cb22c0")
IDR = bytes([0x65]) + bytes(range(1, 40))
SLICE = bytes([0x41]) + b"delta"


def stap_a(*nals: bytes) -> bytes:
    return bytes([0x18]) + b"".join(len(n).to_bytes(2, "big") + n for n in nals)


def fu_a(nal: bytes, size: int) -> list[bytes]:
    body = nal[1:]
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    out = []
    for i, chunk in enumerate(chunks):
        header = nal[0] & 0x1F | (0x80 if i == 0 else 0) | (0x40 if i == len(chunks) - 1 else 0)
        out.append(bytes([nal[0] & 0xE0 | 28, header]) + chunk)
    return out


def annex_b(*nals: bytes) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + n for n in nals)


def test_h264_sps_gives_the_picture_size() -> None:
    assert h264_sps_size(SPS) == (320, 240)
    assert h264_sps_size(SPS[:4]) == (0, 0)  # truncated


def test_h264_units_are_joined_from_stap_a_and_fu_a_and_a_loss_waits_for_an_idr() -> None:
    d = H264Frames()
    assert d.push(100, True, SLICE) is None  # no IDR yet
    assert d.push(200, False, stap_a(SPS, PPS)) is None  # STAP-A split into its NAL units
    parts = fu_a(IDR, 10)
    assert len(parts) == 4
    for part in parts[:-1]:
        assert d.push(200, False, part) is None
    key = d.push(200, True, parts[-1])
    assert key is not None and key.keyframe and key.data == annex_b(SPS, PPS, IDR)
    assert (key.width, key.height) == (320, 240)
    assert d.parameter_sets == annex_b(SPS, PPS)
    delta = d.push(300, True, SLICE)  # a single NAL unit packet
    assert delta is not None and not delta.keyframe and delta.data == annex_b(SLICE)
    d.lost()
    assert d.need_keyframe
    assert d.push(400, True, SLICE) is None
    assert d.push(500, True, fu_a(IDR, 10)[1]) is None  # a fragment without its start
    again = d.push(600, True, IDR)  # an IDR alone gets the kept SPS and PPS in front
    assert again is not None and again.keyframe and not d.need_keyframe
    assert again.data == annex_b(SPS, PPS, IDR)


def test_h264_unit_with_a_missing_marker_is_dropped() -> None:
    d = H264Frames()
    assert d.push(100, True, stap_a(SPS, PPS, IDR)) is not None
    first = fu_a(SLICE, 2)[0]
    assert d.push(200, False, first) is None  # its end and marker never come
    assert d.push(300, True, SLICE) is None  # the chain is broken until the next IDR
    assert d.need_keyframe
