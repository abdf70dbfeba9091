"""Pure RTP helpers: header rewriting, extension blocks, keyframe detection."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import NamedTuple

_HEADER = struct.Struct("!BBHII")
_EXTENSION_HEADER = struct.Struct("!HH")
_ONE_BYTE_PROFILE = 0xBEDE
_TWO_BYTE_PROFILE_MASK = 0xFFF0
_TWO_BYTE_PROFILE = 0x1000
_SEQ_MOD = 1 << 16
_TS_MOD = 1 << 32


def seq_add(a: int, b: int) -> int:
    """Add modulo 2**16."""
    return (a + b) % _SEQ_MOD


def seq_newer(a: int, b: int) -> bool:
    """True if sequence number a is after b (RFC 3550 wraparound)."""
    return a != b and ((a - b) % _SEQ_MOD) < 0x8000


def ts_add(a: int, b: int) -> int:
    """Add modulo 2**32."""
    return (a + b) % _TS_MOD


MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
PLAYOUT_DELAY_URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


@dataclass(slots=True)
class SourcePacket:
    """One RTP packet as received from a producer, parsed once."""

    payload_type: int
    marker: int
    sequence_number: int
    timestamp: int
    payload: bytes
    padding_size: int = 0
    abs_send_time: int | None = None
    audio_level: tuple[bool, int] | None = None
    keyframe_start: bool = False
    # Index of the simulcast layer (encoding) it came on, lowest first; 0 without simulcast.
    layer: int = 0
    # Extension blocks already serialised for this packet, shared by consumers whose
    # connections agreed the same IDs and MID (the common case).
    ext_cache: dict[int, bytes] = field(default_factory=dict)  # by extension_key()
    # When it arrived (time.monotonic()): the send time of its copies, forwarded in the same
    # call, for viewers' transport feedback (one clock read per packet, not per viewer).
    arrived_s: float = 0.0


@dataclass(slots=True, frozen=True)
class ExtensionIds:
    """Header-extension IDs negotiated on one consumer's connection (0 = not negotiated)."""

    mid: int = 0
    abs_send_time: int = 0
    audio_level: int = 0
    # The playout-delay element (ID and its 24-bit value, `playout_delay_value`): the same on
    # every packet of a consumer, so it belongs to the cached block like the IDs.
    playout_delay: int = 0
    playout_delay_value: int = 0
    # The transport-wide sequence number (viewers that agreed transport-cc): written first in
    # the block as a placeholder, so the consumer puts each packet's number at bytes 5-6
    # (TWCC_SEQ_AT) without serialising the block again.
    transport_cc: int = 0


def playout_delay_value(min_ms: int, max_ms: int) -> int:
    """The playout-delay element's body: 12-bit minimum and maximum in 10 ms units.

    A receiver with minimum 0 and a maximum up to 500 ms renders each frame as soon as it is
    decoded (Chromium's low-latency rendering) instead of at the render time its jitter
    buffer scheduled; the buffer itself still absorbs jitter up to the maximum.
    """
    if not 0 <= min_ms <= max_ms <= 40950:
        raise ValueError("playout delay must satisfy 0 <= min <= max <= 40950 ms")
    return ((min_ms // 10) << 12) | (max_ms // 10)


_extension_keys: dict[tuple[ExtensionIds, bytes], int] = {}


def extension_key(ids: ExtensionIds, mid: bytes) -> int:
    """A small integer naming one (IDs, MID) combination, for SourcePacket.ext_cache.

    Looked up once per packet and viewer: an int hashes in C, where the (dataclass, bytes)
    tuple ran a Python __hash__ each time. Combinations are few (per browser kind and MID).
    """
    return _extension_keys.setdefault((ids, mid), len(_extension_keys))


# Where the transport-wide number sits in a block made with `ExtensionIds.transport_cc`: after
# the 0xBEDE profile, the length and the element's own byte.
TWCC_SEQ_AT = 5


def extension_block(
    ids: ExtensionIds, mid: bytes, abs_send_time: int | None, audio_level: tuple[bool, int] | None
) -> bytes:
    """Serialise a one-byte-header extension block (RFC 8285), empty if no element."""
    body = bytearray()
    if ids.transport_cc:
        body += bytes([(ids.transport_cc << 4) | 1, 0, 0])
    if ids.mid and mid:
        body.append((ids.mid << 4) | (len(mid) - 1))
        body += mid
    if ids.abs_send_time and abs_send_time is not None:
        body.append((ids.abs_send_time << 4) | 2)
        body += (abs_send_time & 0xFFFFFF).to_bytes(3, "big")
    if ids.audio_level and audio_level is not None:
        body.append(ids.audio_level << 4)
        body.append((0x80 if audio_level[0] else 0) | (audio_level[1] & 0x7F))
    if ids.playout_delay:
        body.append((ids.playout_delay << 4) | 2)
        body += (ids.playout_delay_value & 0xFFFFFF).to_bytes(3, "big")
    if not body:
        return b""
    body += b"\x00" * (-len(body) % 4)
    return b"\xbe\xde" + (len(body) // 4).to_bytes(2, "big") + bytes(body)


class RtpHeader(NamedTuple):
    """The fields of one received RTP packet that forwarding needs, parsed once."""

    payload_type: int
    marker: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes
    padding_size: int
    abs_send_time: int | None
    audio_level: tuple[bool, int] | None


def parse_rtp(data: bytes, abs_send_time_id: int, audio_level_id: int) -> RtpHeader | None:
    """Parse an RTP packet (RFC 3550, extensions per RFC 8285); None if malformed.

    Only the extensions forwarding copies are read, by the IDs the publisher negotiated
    (0 = not negotiated): the rest are skipped without being decoded. This runs once per
    received packet, hence one function with the common one-byte form inline.
    """
    size = len(data)
    if size < 12:
        return None
    first, second, seq, ts, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != 2:
        return None
    pos = 12 + (first & 0x0F) * 4
    abs_send_time: int | None = None
    audio_level: tuple[bool, int] | None = None
    if first & 0x10:
        if pos + 4 > size:
            return None
        profile, words = _EXTENSION_HEADER.unpack_from(data, pos)
        pos += 4
        end = pos + words * 4
        if end > size:
            return None
        if profile == _ONE_BYTE_PROFILE:
            while pos < end:
                byte = data[pos]
                if byte == 0:  # padding between elements
                    pos += 1
                    continue
                element_id = byte >> 4
                if element_id == 15 or element_id == 0:  # reserved / invalid: stop reading
                    break
                length = (byte & 0x0F) + 1
                pos += 1
                if pos + length > end:
                    break
                if element_id == abs_send_time_id and length == 3:
                    abs_send_time = (data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2]
                elif element_id == audio_level_id and length == 1:
                    level = data[pos]
                    audio_level = (bool(level & 0x80), level & 0x7F)
                pos += length
        elif profile & _TWO_BYTE_PROFILE_MASK == _TWO_BYTE_PROFILE:
            abs_send_time, audio_level = _two_byte_elements(
                data, pos, end, abs_send_time_id, audio_level_id
            )
        pos = end
    padding = 0
    stop = size
    if first & 0x20:
        padding = data[-1]
        if padding == 0 or pos + padding > size:
            return None
        stop = size - padding
    return RtpHeader(
        second & 0x7F,
        second >> 7,
        seq,
        ts,
        ssrc,
        data[pos:stop],
        padding,
        abs_send_time,
        audio_level,
    )


def _two_byte_elements(
    data: bytes, pos: int, end: int, abs_send_time_id: int, audio_level_id: int
) -> tuple[int | None, tuple[bool, int] | None]:
    abs_send_time: int | None = None
    audio_level: tuple[bool, int] | None = None
    while pos < end:
        element_id = data[pos]
        if element_id == 0:  # padding
            pos += 1
            continue
        if pos + 2 > end:
            break
        length = data[pos + 1]
        pos += 2
        if pos + length > end:
            break
        if element_id == abs_send_time_id and length == 3:
            abs_send_time = int.from_bytes(data[pos : pos + 3], "big")
        elif element_id == audio_level_id and length == 1:
            level = data[pos]
            audio_level = (bool(level & 0x80), level & 0x7F)
        pos += length
    return abs_send_time, audio_level


def read_extension(data: bytes, element_id: int) -> bytes | None:
    """The value of one header-extension element of a plain RTP packet (RFC 8285, one- or
    two-byte form), None if absent or malformed. For rare reads (a new SSRC's RID): the hot
    path reads only what it forwards, in parse_rtp."""
    size = len(data)
    if element_id <= 0 or size < 12 or not data[0] & 0x10:
        return None
    pos = 12 + (data[0] & 0x0F) * 4
    if pos + 4 > size:
        return None
    profile, words = _EXTENSION_HEADER.unpack_from(data, pos)
    pos += 4
    end = pos + words * 4
    if end > size:
        return None
    two_byte = profile & _TWO_BYTE_PROFILE_MASK == _TWO_BYTE_PROFILE
    if profile != _ONE_BYTE_PROFILE and not two_byte:
        return None
    while pos < end:
        if data[pos] == 0:
            pos += 1
            continue
        if two_byte:
            if pos + 2 > end:
                return None
            found, length = data[pos], data[pos + 1]
            pos += 2
        else:
            found, length = data[pos] >> 4, (data[pos] & 0x0F) + 1
            if found == 15:
                return None
            pos += 1
        if pos + length > end:
            return None
        if found == element_id:
            return bytes(data[pos : pos + length])
        pos += length
    return None


def build_packet(
    *,
    payload_type: int,
    marker: int,
    sequence_number: int,
    timestamp: int,
    ssrc: int,
    extensions: bytes,
    payload: bytes,
    padding_size: int = 0,
) -> bytes:
    """Serialise an RTP packet from rewritten header fields and a shared payload."""
    first = 0x80 | (0x10 if extensions else 0) | (0x20 if padding_size else 0)
    header = _HEADER.pack(first, (marker << 7) | payload_type, sequence_number, timestamp, ssrc)
    if padding_size:
        padding = b"\x00" * (padding_size - 1) + bytes([padding_size])
        return header + extensions + payload + padding
    return header + extensions + payload


_KEPT_SEGMENTS = 3


@dataclass(slots=True)
class Rewriter:
    """Per-consumer mapping of a producer's sequence numbers and timestamps."""

    ssrc: int
    payload_type: int
    seq_start: int
    ts_offset: int
    seq_offset: int | None = field(default=None)
    # Highest producer sequence number forwarded, and how many packets after the start it is.
    highest: int = 0
    highest_index: int = 0
    # The layer (simulcast encoding) whose numbers the current anchoring maps.
    layer: int = 0
    # Earlier anchorings kept across layer switches, newest last, so that a viewer's NACK for a
    # packet sent just before a switch still finds it: (first consumer seq, count, seq offset,
    # ts offset, layer).
    previous: list[tuple[int, int, int, int, int, int, int]] = field(default_factory=list)
    # Layered VP8 only (`vp8`): the payload descriptor's picture ID and TL0PICIDX are per
    # encoding, each from its own random start, and Chromium's frame buffer and reference
    # finder go by the picture ID: a jump back at a switch drops frames as "older than the
    # last decoded" until a keyframe. So they are moved by offsets chosen at each switch to run
    # on from the last ones sent (`vp8_payload`); like the sequence offset, one pair per
    # anchoring (kept in `previous` for retransmissions).
    vp8: bool = False
    pid_offset: int = 0
    tl0_offset: int = 0
    last_pid: int = -1  # the newest picture ID / TL0PICIDX sent (rewritten), -1 = none yet
    last_tl0: int = -1
    reanchor: bool = False  # the next packet forwarded (a switch's keyframe) sets the offsets

    @property
    def started(self) -> bool:
        """True once the first packet fixed the sequence-number offset."""
        return self.seq_offset is not None

    def start(self, source_seq: int) -> None:
        """Anchor the mapping so that source_seq becomes seq_start."""
        self.seq_offset = (self.seq_start - source_seq) % _SEQ_MOD
        self.highest = source_seq
        self.highest_index = 0

    def accept(self, source_seq: int) -> bool:
        """Track the highest packet; False for packets from before the start (unmappable)."""
        delta = (source_seq - self.highest) & 0xFFFF
        if delta < 0x8000:
            self.highest = source_seq
            self.highest_index += delta
            return True
        return self.highest_index + delta - _SEQ_MOD >= 0

    def resume(self) -> None:
        """Continue after a pause: the next anchoring packet (a keyframe) gets the number after
        the last one sent, so the viewer sees no gap to ask retransmissions for."""
        if self.seq_offset is not None:
            self.seq_start = (self.map_seq(self.highest) + 1) % _SEQ_MOD
        self.seq_offset = None
        self.previous.clear()  # nothing sent before a pause is repaired after it

    def switch(self, layer: int, ts_offset: int) -> None:
        """Continue on another layer: as resume(), but the numbers sent so far stay mappable
        (locate()) and timestamps move by a new offset, chosen by the caller so the viewer's
        clock runs on (see layers.switch_ts_offset)."""
        if self.seq_offset is not None:
            segment = (
                self.seq_start,
                self.highest_index + 1,
                self.seq_offset,
                self.ts_offset,
                self.layer,
                self.pid_offset,
                self.tl0_offset,
            )
            self.previous = [*self.previous[-(_KEPT_SEGMENTS - 1) :], segment]
            self.seq_start = (self.map_seq(self.highest) + 1) % _SEQ_MOD
        self.seq_offset = None
        self.layer = layer
        self.ts_offset = ts_offset
        self.reanchor = self.vp8

    def vp8_payload(self, payload: bytes) -> bytes:
        """A layered VP8 payload as this viewer gets it: picture ID and TL0PICIDX moved by this
        anchoring's offsets, set on the first packet after a switch (its keyframe) so that its
        picture ID is the last one sent + 1, and its TL0PICIDX the last + 1 (at temporal layer
        0; the same otherwise). Other packets, or without those fields: unchanged."""
        ids = vp8_ids(payload)
        if ids is None:
            return payload
        pid, pid_bytes, tl0, tid = ids
        if self.reanchor:
            self.reanchor = False
            if pid_bytes and self.last_pid >= 0:
                self.pid_offset = (self.last_pid + 1 - pid) & 0x7FFF
            if tl0 >= 0 and self.last_tl0 >= 0:
                self.tl0_offset = (self.last_tl0 + (tid <= 0) - tl0) & 0xFF
        if pid_bytes:
            # Only newer ones count (a reordered packet is not the last one sent).
            mask = 0x7FFF if pid_bytes == 2 else 0x7F
            out = (pid + self.pid_offset) & mask
            if self.last_pid < 0 or (out - self.last_pid) & mask <= mask >> 1:
                self.last_pid = out
        if tl0 >= 0:
            out = (tl0 + self.tl0_offset) & 0xFF
            if self.last_tl0 < 0 or (out - self.last_tl0) & 0xFF < 0x80:
                self.last_tl0 = out
        if not self.pid_offset and not self.tl0_offset:
            return payload
        return _moved(payload, ids, self.pid_offset, self.tl0_offset)

    def locate(self, consumer_seq: int) -> tuple[int, int, int, int, int] | None:
        """(layer, producer seq, ts offset, picture-ID offset, TL0PICIDX offset) a consumer
        sequence number was sent with, under the current anchoring or one before a layer
        switch; None if it was never sent. A retransmission repeats what was sent."""
        if self.maps(consumer_seq):
            return (
                self.layer,
                self.unmap_seq(consumer_seq),
                self.ts_offset,
                self.pid_offset,
                self.tl0_offset,
            )
        for first, count, seq_offset, ts_offset, layer, pid, tl0 in reversed(self.previous):
            if (consumer_seq - first) % _SEQ_MOD < count:
                return layer, (consumer_seq - seq_offset) % _SEQ_MOD, ts_offset, pid, tl0
        return None

    def maps(self, consumer_seq: int) -> bool:
        """True if consumer_seq was sent under the current anchoring (unmap_seq is meaningful):
        numbers from before a pause, or not sent yet, are not."""
        if self.seq_offset is None:
            return False
        return (self.map_seq(self.highest) - consumer_seq) & 0xFFFF <= self.highest_index

    def map_seq(self, source_seq: int) -> int:
        """Producer sequence number to consumer sequence number."""
        assert self.seq_offset is not None
        return (source_seq + self.seq_offset) % _SEQ_MOD

    def unmap_seq(self, consumer_seq: int) -> int:
        """Consumer sequence number (e.g. from a NACK) back to the producer's."""
        assert self.seq_offset is not None
        return (consumer_seq - self.seq_offset) % _SEQ_MOD

    def map_ts(self, source_ts: int) -> int:
        """Producer RTP timestamp to consumer RTP timestamp."""
        return (source_ts + self.ts_offset) % _TS_MOD


def is_keyframe_start(codec: str, payload: bytes) -> bool:
    """True if this payload begins a keyframe (VP8 or H.264); audio always True."""
    name = codec.lower()
    if name == "video/vp8":
        return _vp8_keyframe_start(payload)
    if name == "video/h264":
        return _h264_keyframe_start(payload)
    return not name.startswith("video/")


def _vp8_frame_start(payload: bytes) -> int | None:
    """Where the VP8 frame begins in a payload starting partition 0 (after the RFC 7741
    payload descriptor); None for any other packet or a truncated descriptor."""
    if len(payload) < 1:
        return None
    first = payload[0]
    start_of_partition = bool(first & 0x10)
    partition_id = first & 0x07
    if not start_of_partition or partition_id != 0:
        return None
    pos = 1
    if first & 0x80:
        if len(payload) < 2:
            return None
        ext = payload[1]
        pos = 2
        if ext & 0x80:
            if len(payload) <= pos:
                return None
            pos += 2 if payload[pos] & 0x80 else 1
        if ext & 0x40:
            pos += 1
        if ext & 0x30:
            pos += 1
    if len(payload) <= pos:
        return None
    return pos


def vp8_ids(payload: bytes) -> tuple[int, int, int, int] | None:
    """The RFC 7741 payload descriptor's (picture ID, its size in bytes: 1 for 7 bits, 2 for
    15 bits, 0 if absent; TL0PICIDX or -1; TID or -1); None without the extension byte (X)
    or if truncated."""
    size = len(payload)
    if size < 2 or not payload[0] & 0x80:
        return None
    ext = payload[1]
    pos = 2
    pid = -1
    pid_bytes = 0
    if ext & 0x80:
        if size <= pos:
            return None
        pid = payload[pos]
        if pid & 0x80:
            if size <= pos + 1:
                return None
            pid = ((pid & 0x7F) << 8) | payload[pos + 1]
            pid_bytes = 2
        else:
            pid_bytes = 1
        pos += pid_bytes
    tl0 = -1
    if ext & 0x40:
        if size <= pos:
            return None
        tl0 = payload[pos]
        pos += 1
    tid = -1
    if ext & 0x20:  # T: the TID/Y/KEYIDX byte (also there with K alone, TID then unused)
        if size <= pos:
            return None
        tid = payload[pos] >> 6
    return pid, pid_bytes, tl0, tid


def rewrite_vp8_ids(payload: bytes, pid_offset: int, tl0_offset: int) -> bytes:
    """`payload` with its descriptor's picture ID (in its own width: mod 2**15 or 2**7) and
    TL0PICIDX (mod 256) moved by the offsets; the rest byte for byte. A copy: the producer's
    payload is shared by every viewer."""
    ids = vp8_ids(payload)
    return payload if ids is None else _moved(payload, ids, pid_offset, tl0_offset)


def _moved(
    payload: bytes, ids: tuple[int, int, int, int], pid_offset: int, tl0_offset: int
) -> bytes:
    pid, pid_bytes, tl0, _ = ids
    out = bytearray(payload)
    pos = 2
    if pid_bytes == 2:
        pid = (pid + pid_offset) & 0x7FFF
        out[2] = 0x80 | (pid >> 8)
        out[3] = pid & 0xFF
    elif pid_bytes == 1:
        out[2] = (pid + pid_offset) & 0x7F
    pos += pid_bytes
    if tl0 >= 0:
        out[pos] = (tl0 + tl0_offset) & 0xFF
    return bytes(out)


def _vp8_keyframe_start(payload: bytes) -> bool:
    # The VP8 frame tag's P bit is 0 on keyframes.
    pos = _vp8_frame_start(payload)
    return pos is not None and (payload[pos] & 0x01) == 0


_VP8_START_CODE = b"\x9d\x01\x2a"


def vp8_keyframe_size(payload: bytes) -> tuple[int, int] | None:
    """(width, height) of the picture a VP8 keyframe's first packet starts, from the keyframe
    header (RFC 6386 9.1: 3-byte frame tag, start code, 14-bit width and height, little
    endian); None for other packets. What a simulcast layer's picture is, without decoding."""
    pos = _vp8_frame_start(payload)
    if pos is None or payload[pos] & 0x01 or len(payload) < pos + 10:
        return None
    if payload[pos + 3 : pos + 6] != _VP8_START_CODE:
        return None
    width = int.from_bytes(payload[pos + 6 : pos + 8], "little") & 0x3FFF
    height = int.from_bytes(payload[pos + 8 : pos + 10], "little") & 0x3FFF
    return width, height


_H264_IDR = 5
_H264_SPS = 7
_H264_STAP_A = 24
_H264_FU_A = 28


def _h264_keyframe_start(payload: bytes) -> bool:
    # An IDR or SPS NAL unit, alone, aggregated (STAP-A) or as the first fragment (FU-A).
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type in (_H264_IDR, _H264_SPS):
        return True
    if nal_type == _H264_STAP_A:
        pos = 1
        while pos + 2 < len(payload):
            size = int.from_bytes(payload[pos : pos + 2], "big")
            if payload[pos + 2] & 0x1F in (_H264_IDR, _H264_SPS):
                return True
            pos += 2 + size
        return False
    if nal_type == _H264_FU_A and len(payload) >= 2:
        fu_header = payload[1]
        return bool(fu_header & 0x80) and (fu_header & 0x1F) in (_H264_IDR, _H264_SPS)
    return False
