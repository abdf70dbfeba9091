"""Pure parts of the recorder: RTP reordering, depacketising and the media clock (no I/O).

The recorder writes the forwarded packets' payloads into files without decoding them; these
classes turn a producer's RTP packets (as the SFU received them, retransmissions unwrapped)
into whole encoded frames with a presentation time in milliseconds since recording start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

SEQ_MOD = 1 << 16
TS_MOD = 1 << 32


def unwrap(value: int, last: int | None, modulus: int) -> int:
    """Extend a wrapping counter (sequence number, RTP timestamp) to the nearest value to `last`."""
    if last is None:
        return value
    half = modulus // 2
    delta = (value - last + half) % modulus - half
    return last + delta


class Reorder(Generic[T]):
    """Puts packets back in sequence order; a retransmitted packet fills its hole if it comes
    within `hold` packets, else the hole is given up and reported as None."""

    def __init__(self, hold: int) -> None:
        self.hold = hold
        self._next: int | None = None
        self._last: int | None = None
        self._buf: dict[int, T] = {}
        self.gaps = 0

    def push(self, seq: int, item: T) -> list[T | None]:
        """Add one packet; returns what is now in order (None where packets were lost)."""
        ext = unwrap(seq, self._last, SEQ_MOD)
        if self._last is None or ext > self._last:
            self._last = ext
        if self._next is None:
            self._next = ext
        if ext < self._next or ext in self._buf:
            return []  # late beyond the hold, or a duplicate
        self._buf[ext] = item
        out: list[T | None] = []
        self._release(out)
        if len(self._buf) > self.hold:
            # The oldest hole waited long enough: skip it.
            self._next = min(self._buf)
            self.gaps += 1
            out.append(None)
            self._release(out)
        return out

    def _release(self, out: list[T | None]) -> None:
        assert self._next is not None
        while self._next in self._buf:
            out.append(self._buf.pop(self._next))
            self._next += 1


@dataclass(slots=True)
class Frame:
    """One encoded frame: payload bytes as the decoder wants them, RTP time, keyframe flag."""

    timestamp: int  # RTP timestamp of its packets (32-bit)
    data: bytes
    keyframe: bool
    width: int = 0
    height: int = 0


def vp8_descriptor_length(payload: bytes) -> int:
    """Length of the RFC 7741 payload descriptor at the start of a VP8 RTP payload (0: bad)."""
    if not payload:
        return 0
    first = payload[0]
    pos = 1
    if first & 0x80:
        if len(payload) < 2:
            return 0
        ext = payload[1]
        pos = 2
        if ext & 0x80:  # picture ID, 7 or 15 bits
            if len(payload) <= pos:
                return 0
            pos += 2 if payload[pos] & 0x80 else 1
        if ext & 0x40:  # TL0PICIDX
            pos += 1
        if ext & 0x30:  # TID/Y/KEYIDX
            pos += 1
    return pos if pos < len(payload) else 0


class Vp8Frames:
    """VP8 RTP payloads → frames. A frame with a lost packet is dropped, and so is everything
    until the next keyframe (a decoder could not use the frames in between)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._timestamp: int | None = None
        self._broken = True  # nothing before the first keyframe is decodable
        self.need_keyframe = False  # set when a loss broke the chain; the caller asks for one

    def lost(self) -> None:
        """Packets were lost: the frame being assembled and its successors are unusable."""
        self._parts = []
        self._timestamp = None
        if not self._broken:
            self.need_keyframe = True
        self._broken = True

    def push(self, timestamp: int, marker: bool, payload: bytes) -> Frame | None:
        """One in-order packet; returns a frame when its last packet (marker bit) arrives."""
        n = vp8_descriptor_length(payload)
        if n == 0:
            self.lost()
            return None
        start = bool(payload[0] & 0x10) and payload[0] & 0x07 == 0
        if start:
            self._parts = [payload[n:]]
            self._timestamp = timestamp
        elif self._timestamp == timestamp and self._parts:
            self._parts.append(payload[n:])
        else:
            self.lost()  # a continuation without its start
            return None
        if not marker:
            return None
        data = b"".join(self._parts)
        self._parts = []
        self._timestamp = None
        keyframe = len(data) >= 10 and not data[0] & 0x01 and data[3:6] == b"\x9d\x01\x2a"
        if self._broken and not keyframe:
            return None
        self._broken = False
        self.need_keyframe = False
        if keyframe:
            width = int.from_bytes(data[6:8], "little") & 0x3FFF
            height = int.from_bytes(data[8:10], "little") & 0x3FFF
            return Frame(timestamp, data, True, width, height)
        return Frame(timestamp, data, False)


H264_IDR = 5
H264_SPS = 7
H264_PPS = 8
H264_STAP_A = 24
H264_FU_A = 28
START_CODE = b"\x00\x00\x00\x01"


class _Bits:
    """MSB-first bit reader with Exp-Golomb codes (H.264 7.2, 9.1)."""

    def __init__(self, data: bytes) -> None:
        # Emulation prevention bytes (00 00 03) are not part of the syntax.
        self.data = data.replace(b"\x00\x00\x03", b"\x00\x00")
        self.pos = 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]  # IndexError on a truncated SPS
        self.pos += 1
        return (byte >> (7 - ((self.pos - 1) & 7))) & 1

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = value << 1 | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.bit():
            zeros += 1
            if zeros > 31:
                raise ValueError("bad Exp-Golomb code")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        v = self.ue()
        return (v + 1) // 2 if v & 1 else -(v // 2)


def h264_sps_size(sps: bytes) -> tuple[int, int]:
    """Picture width and height from an SPS NAL unit (header byte included), (0, 0) if it
    cannot be read; only the Matroska track header wants them, decoders read the SPS itself."""
    try:
        r = _Bits(sps[1:])
        profile = r.bits(8)
        r.bits(16)  # constraint flags, level
        r.ue()  # seq_parameter_set_id
        chroma = 1
        if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
            chroma = r.ue()
            if chroma == 3:
                r.bit()  # separate_colour_plane_flag
            r.ue()  # bit depths
            r.ue()
            r.bit()
            if r.bit():  # seq_scaling_matrix_present_flag
                for i in range(8 if chroma != 3 else 12):
                    if r.bit():
                        last = nxt = 8
                        for _ in range(16 if i < 6 else 64):
                            if nxt:
                                nxt = (last + r.se()) % 256
                            last = nxt or last
        r.ue()  # log2_max_frame_num
        poc_type = r.ue()
        if poc_type == 0:
            r.ue()
        elif poc_type == 1:
            r.bit()
            r.se()
            r.se()
            for _ in range(r.ue()):
                r.se()
        r.ue()  # max_num_ref_frames
        r.bit()
        width_mbs = r.ue() + 1
        height_units = r.ue() + 1
        frame_mbs_only = r.bit()
        if not frame_mbs_only:
            r.bit()
        r.bit()  # direct_8x8_inference
        crop = (0, 0, 0, 0)
        if r.bit():
            crop = (r.ue(), r.ue(), r.ue(), r.ue())
    except (IndexError, ValueError):
        return 0, 0
    unit_x = 2 if chroma in (1, 2) else 1
    unit_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = height_units * 16 * (2 - frame_mbs_only) - unit_y * (crop[2] + crop[3])
    return max(width, 0), max(height, 0)


class H264Frames:
    """H.264 RTP payloads (RFC 6184, packetization mode 0 or 1) → access units in Annex-B
    form. A unit with a lost packet is dropped, and so is everything until the next IDR.
    The latest SPS and PPS are kept: an IDR that came without them gets them put in front, so
    every keyframe in the file can start a decoder; `parameter_sets` feeds the file header."""

    def __init__(self) -> None:
        self._nals: list[bytes] = []
        self._fu: bytearray | None = None  # the NAL unit being joined from FU-A fragments
        self._timestamp: int | None = None
        self._broken = True  # nothing before the first IDR is decodable
        self.need_keyframe = False
        self.sps: bytes | None = None
        self.pps: bytes | None = None

    @property
    def parameter_sets(self) -> bytes:
        """SPS and PPS in Annex-B form (empty until both were seen)."""
        if self.sps is None or self.pps is None:
            return b""
        return START_CODE + self.sps + START_CODE + self.pps

    def lost(self) -> None:
        """Packets were lost: the unit being assembled and its successors are unusable."""
        self._nals = []
        self._fu = None
        self._timestamp = None
        if not self._broken:
            self.need_keyframe = True
        self._broken = True

    def push(self, timestamp: int, marker: bool, payload: bytes) -> Frame | None:
        """One in-order packet; returns an access unit when its last packet (marker) arrives."""
        if len(payload) < 2 or payload[0] & 0x80:  # forbidden_zero_bit
            self.lost()
            return None
        if self._timestamp is not None and self._timestamp != timestamp:
            self.lost()  # the previous unit never got its marker packet
        self._timestamp = timestamp
        kind = payload[0] & 0x1F
        if kind == H264_STAP_A:
            pos = 1
            while pos + 2 <= len(payload):
                size = int.from_bytes(payload[pos : pos + 2], "big")
                pos += 2
                if size == 0 or pos + size > len(payload):
                    self.lost()
                    return None
                self._nals.append(payload[pos : pos + size])
                pos += size
        elif kind == H264_FU_A:
            header = payload[1]
            if header & 0x80:  # start: rebuild the NAL header from indicator and FU header
                self._fu = bytearray([payload[0] & 0xE0 | header & 0x1F])
            elif self._fu is None:
                self.lost()  # a fragment without its start
                return None
            self._fu += payload[2:]
            if header & 0x40:  # end
                self._nals.append(bytes(self._fu))
                self._fu = None
        elif 1 <= kind <= 23:
            self._nals.append(payload)
        else:  # STAP-B, MTAP, FU-B: interleaved mode, which WebRTC does not negotiate
            self.lost()
            return None
        if not marker:
            return None
        if self._fu is not None:
            self.lost()  # the marker came inside a fragmented NAL unit
            return None
        return self._unit(timestamp)

    def _unit(self, timestamp: int) -> Frame | None:
        nals, self._nals, self._timestamp = self._nals, [], None
        kinds = [n[0] & 0x1F for n in nals]
        for nal, kind in zip(nals, kinds, strict=True):
            if kind == H264_SPS:
                self.sps = nal
            elif kind == H264_PPS:
                self.pps = nal
        keyframe = H264_IDR in kinds and self.sps is not None and self.pps is not None
        if self._broken and not keyframe:
            return None
        self._broken = False
        self.need_keyframe = False
        if keyframe and (H264_SPS not in kinds or H264_PPS not in kinds):
            nals = [n for n in nals if n[0] & 0x1F not in (H264_SPS, H264_PPS)]
            assert self.sps is not None and self.pps is not None
            nals = [self.sps, self.pps, *nals]
        data = b"".join(START_CODE + n for n in nals)
        if keyframe:
            assert self.sps is not None
            width, height = h264_sps_size(self.sps)
            return Frame(timestamp, data, True, width, height)
        return Frame(timestamp, data, False)


class MediaClock:
    """RTP timestamps of one stream → milliseconds since the recording started, on the server's
    clock (docs/recordings.md, "One clock").

    The anchor is taken once, from the publisher's first sender report when one has come
    (sender's NTP time of that RTP time, moved onto the server's clock by the offset shared by
    all streams of that publisher), else from the first packet's arrival. After the anchor the
    time advances with the RTP timestamp alone, so frames never jump and a stream's own spacing
    is kept exactly."""

    def __init__(self, clock_rate: int, start_ms: float) -> None:
        self.clock_rate = clock_rate
        self.start_ms = start_ms
        self._base_ts: int | None = None
        self._base_ms = 0.0
        self._last_ts: int | None = None
        self.anchored_by = ""

    @property
    def anchored(self) -> bool:
        """True once the anchor is set."""
        return self._base_ts is not None

    def anchor_by_report(
        self, timestamp: int, sr: tuple[int, int], offsets: dict[str, float], key: str, arrival: int
    ) -> None:
        """Anchor from a sender report (NTP 64-bit, RTP) of this stream; `offsets[key]` is the
        publisher's sender-clock → server-clock offset, set here by its first anchored stream."""
        ntp, sr_rtp = sr
        sr_ms = (ntp >> 32) * 1000 + (ntp & 0xFFFFFFFF) * 1000 / (1 << 32)
        delta = unwrap(timestamp, sr_rtp, TS_MOD) - sr_rtp
        sender_ms = sr_ms + delta * 1000 / self.clock_rate
        offset = offsets.setdefault(key, arrival - sender_ms)
        self._set(timestamp, sender_ms + offset)
        self.anchored_by = "sender_report"

    def anchor_by_arrival(self, timestamp: int, arrival: int) -> None:
        """Anchor at this packet's arrival (a publisher that sent no report in time)."""
        self._set(timestamp, float(arrival))
        self.anchored_by = "arrival"

    def _set(self, timestamp: int, at_ms: float) -> None:
        self._base_ts = timestamp
        self._last_ts = timestamp
        self._base_ms = at_ms - self.start_ms

    def ms(self, timestamp: int) -> float:
        """Milliseconds since the recording started for this RTP timestamp (anchored first)."""
        assert self._base_ts is not None
        ext = unwrap(timestamp, self._last_ts, TS_MOD)
        self._last_ts = ext
        return self._base_ms + (ext - self._base_ts) * 1000 / self.clock_rate


class SpeechDetector:
    """Who spoke, from the publisher's ssrc-audio-level (RFC 6464: 0 loudest, 127 silence): on
    after `on_count` loud packets out of the last 10, off after `quiet_ms` without one."""

    def __init__(self, threshold: int = 50, on_count: int = 5, quiet_ms: float = 1000) -> None:
        self.threshold = threshold
        self.on_count = on_count
        self.quiet_ms = quiet_ms
        self._recent: list[bool] = []
        self._last_loud = -1e18
        self.speaking = False

    def push(self, level: int, at_ms: float) -> bool | None:
        """One packet's level at this time; returns True/False when speech starts/stops."""
        loud = level < self.threshold
        self._recent.append(loud)
        if len(self._recent) > 10:
            del self._recent[0]
        if loud:
            self._last_loud = at_ms
        if not self.speaking and sum(self._recent) >= self.on_count:
            self.speaking = True
            return True
        if self.speaking and at_ms - self._last_loud > self.quiet_ms:
            self.speaking = False
            return False
        return None
