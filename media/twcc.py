"""Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01).

Pure: no I/O, no clock. The publisher's browser numbers every packet of its connection in a
header extension; we record when each number arrived and send the arrival times back in RTCP
transport-feedback packets (RTPFB, FMT 15). Chromium's own estimator (send-side BWE) then decides
the bitrate from the delays it sees, as it does on a direct call — instead of our REMB holding it
at what aiortc's receive-side estimator believes (see docs/media.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

TRANSPORT_CC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

_RTPFB = 205
_FMT_TRANSPORT_CC = 15
_DELTA_US = 250  # receive deltas count quarter-milliseconds
_REFERENCE_US = 64_000  # the reference time counts 64 ms
_NOT_RECEIVED, _SMALL, _LARGE = 0, 1, 2
_MAX_RUN = 0x1FFF
# Statuses per feedback packet: ~200 keeps a packet under ~500 bytes, far below the MTU.
MAX_STATUSES = 200


def transport_seq(data: bytes, extension_id: int) -> int | None:
    """The transport-wide sequence number in an RTP packet's header extensions, if present."""
    if extension_id == 0 or len(data) < 12 or not data[0] & 0x10:
        return None
    pos = 12 + (data[0] & 0x0F) * 4
    if pos + 4 > len(data):
        return None
    profile = (data[pos] << 8) | data[pos + 1]
    end = pos + 4 + ((data[pos + 2] << 8) | data[pos + 3]) * 4
    pos += 4
    if end > len(data):
        return None
    two_byte = profile & 0xFFF0 == 0x1000
    if profile != 0xBEDE and not two_byte:
        return None
    while pos < end:
        element = data[pos]
        if element == 0:  # padding
            pos += 1
            continue
        if two_byte:
            if pos + 2 > end:
                return None
            length = data[pos + 1]
            pos += 2
        else:
            if element >> 4 == 15:
                return None
            length = (element & 0x0F) + 1
            element >>= 4
            pos += 1
        if element == extension_id and length == 2 and pos + 2 <= end:
            return (data[pos] << 8) | data[pos + 1]
        pos += length
    return None


def _chunks(symbols: list[int]) -> bytes:
    # Run-length chunks for long runs (14+ alike), two-bit status vectors (7 symbols) otherwise.
    out = bytearray()
    i, n = 0, len(symbols)
    while i < n:
        run = 1
        while i + run < n and symbols[i + run] == symbols[i] and run < _MAX_RUN:
            run += 1
        if run >= 14:
            out += ((symbols[i] << 13) | run).to_bytes(2, "big")
            i += run
            continue
        word = 0xC000
        for k in range(7):
            if i + k < n:
                word |= symbols[i + k] << (2 * (6 - k))
        out += word.to_bytes(2, "big")
        i += 7
    return bytes(out)


def feedback_packet(
    sender_ssrc: int,
    media_ssrc: int,
    base_seq: int,
    count: int,
    arrivals: list[int | None],
) -> bytes:
    """One transport-feedback packet: `arrivals[i]` is when packet base_seq + i arrived (µs on
    any steady clock), None if it did not. At least one must have arrived: the reference time
    is taken from the first that did."""
    first = next((a for a in arrivals if a is not None), None)
    if first is None:
        raise ValueError("a feedback needs at least one packet that arrived")
    reference = first // _REFERENCE_US
    previous = reference * _REFERENCE_US
    symbols: list[int] = []
    deltas = bytearray()
    for arrival in arrivals:
        if arrival is None:
            symbols.append(_NOT_RECEIVED)
            continue
        # Rounded against the running sum, so the rounding does not accumulate.
        delta = round((arrival - previous) / _DELTA_US)
        previous += delta * _DELTA_US
        if 0 <= delta <= 0xFF:
            symbols.append(_SMALL)
            deltas.append(delta)
        elif -0x8000 <= delta <= 0x7FFF:
            symbols.append(_LARGE)
            deltas += delta.to_bytes(2, "big", signed=True)
        else:
            raise ValueError("arrivals more than 8 s apart need separate feedback packets")
    body = (
        sender_ssrc.to_bytes(4, "big")
        + media_ssrc.to_bytes(4, "big")
        + (base_seq & 0xFFFF).to_bytes(2, "big")
        + len(arrivals).to_bytes(2, "big")
        + (reference & 0xFFFFFF).to_bytes(3, "big")
        + bytes([count & 0xFF])
        + _chunks(symbols)
        + bytes(deltas)
    )
    padding = -len(body) % 4
    first_byte = 0x80 | _FMT_TRANSPORT_CC
    if padding:
        # RFC 3550 padding: the last byte says how many bytes to ignore.
        body += b"\x00" * (padding - 1) + bytes([padding])
        first_byte |= 0x20
    length = (len(body) + 4) // 4 - 1
    return bytes([first_byte, _RTPFB]) + length.to_bytes(2, "big") + body


@dataclass(slots=True)
class TransportFeedback:
    """Arrival times of one connection's transport-wide sequence numbers, turned into feedback.

    Sequence numbers are unwrapped (they are 16-bit); each call to `build` reports everything
    from the first number not reported yet up to the highest that arrived. A packet arriving
    after its number was reported as missing is not reported again (Chromium counts it lost,
    as a reordering that late would be on a real link).
    """

    arrivals: dict[int, int] = field(default_factory=dict)
    next_seq: int | None = None
    highest: int | None = None
    count: int = 0
    _last16: int = 0

    def record(self, seq: int, arrival_us: int) -> None:
        """A packet with transport-wide number `seq` (16-bit) arrived at `arrival_us`."""
        if self.highest is None:
            unwrapped = seq
        else:
            delta = (seq - self._last16) & 0xFFFF
            unwrapped = self.highest + (delta - 0x10000 if delta >= 0x8000 else delta)
        if self.next_seq is not None and unwrapped < self.next_seq:
            return  # already reported
        if self.highest is None or unwrapped > self.highest:
            self.highest = unwrapped
            self._last16 = seq
        self.arrivals.setdefault(unwrapped, arrival_us)

    def build(self, sender_ssrc: int, media_ssrc: int) -> list[bytes]:
        """Feedback packets for everything not reported yet (none if nothing arrived)."""
        if not self.arrivals or self.highest is None:
            return []
        start = self.next_seq if self.next_seq is not None else min(self.arrivals)
        packets = []
        for base, arrivals in _spans(start, self.highest, self.arrivals):
            packets.append(feedback_packet(sender_ssrc, media_ssrc, base, self.count, arrivals))
            self.count = (self.count + 1) & 0xFF
        self.next_seq = self.highest + 1
        self.arrivals.clear()
        return packets


# Deltas are signed 16-bit quarter-milliseconds (±8.19 s); a wider step starts a new packet.
_MAX_STEP_US = 8_000_000


def _spans(
    start: int, end: int, arrivals: dict[int, int]
) -> Iterable[tuple[int, list[int | None]]]:
    # Cut [start, end] into packets of at most MAX_STATUSES statuses whose deltas fit; a span
    # where nothing arrived is left out (a feedback needs a reference time): only a long outage
    # makes one.
    base = start
    span: list[int | None] = []
    previous: int | None = None
    for seq in range(start, end + 1):
        arrival = arrivals.get(seq)
        step_too_wide = (
            arrival is not None and previous is not None and abs(arrival - previous) > _MAX_STEP_US
        )
        if len(span) == MAX_STATUSES or step_too_wide:
            if previous is not None:
                yield base, span
            base, span, previous = seq, [], None
        span.append(arrival)
        if arrival is not None:
            previous = arrival
    if previous is not None:
        yield base, span


def parse_feedback(packet: bytes) -> tuple[int, list[int | None]] | None:
    """A transport-feedback packet (one RTCP packet, header included) read back: the base
    sequence number and, for each status from it, when that number arrived (µs on the
    receiver's clock, reference time included) or None if it did not. None if malformed.

    The server numbers what it forwards to a viewer and reads the viewer's feedback with this
    (docs/media.md "What a viewer's link carries").
    """
    if len(packet) < 20 or packet[1] != _RTPFB or packet[0] & 0x1F != _FMT_TRANSPORT_CC:
        return None
    end = min(len(packet), ((packet[2] << 8 | packet[3]) + 1) * 4)
    if packet[0] & 0x20 and end > 20:
        end -= packet[end - 1]  # RFC 3550 padding
    base = packet[12] << 8 | packet[13]
    count = packet[14] << 8 | packet[15]
    reference = (packet[16] << 16 | packet[17] << 8 | packet[18]) * _REFERENCE_US
    symbols: list[int] = []
    pos = 20
    while len(symbols) < count:
        if pos + 2 > end:
            return None
        chunk = packet[pos] << 8 | packet[pos + 1]
        pos += 2
        if not chunk & 0x8000:  # run length: symbol, run
            symbols += [(chunk >> 13) & 3] * (chunk & _MAX_RUN)
        elif chunk & 0x4000:  # seven two-bit symbols
            symbols += [(chunk >> (2 * (6 - k))) & 3 for k in range(7)]
        else:  # fourteen one-bit symbols
            symbols += [(chunk >> (13 - k)) & 1 for k in range(14)]
    arrivals: list[int | None] = []
    at = reference
    for symbol in symbols[:count]:
        if symbol == _NOT_RECEIVED:
            arrivals.append(None)
            continue
        if symbol == _SMALL:
            if pos + 1 > end:
                return None
            at += packet[pos] * _DELTA_US
            pos += 1
        elif symbol == _LARGE:
            if pos + 2 > end:
                return None
            at += int.from_bytes(packet[pos : pos + 2], "big", signed=True) * _DELTA_US
            pos += 2
        else:
            return None  # the reserved symbol
        arrivals.append(at)
    return base, arrivals


def feedback_packets(rtcp: bytes) -> list[bytes]:
    """The transport-feedback packets inside a (compound) RTCP packet."""
    found = []
    pos, size = 0, len(rtcp)
    while pos + 4 <= size:
        length = ((rtcp[pos + 2] << 8 | rtcp[pos + 3]) + 1) * 4
        if rtcp[pos + 1] == _RTPFB and rtcp[pos] & 0x1F == _FMT_TRANSPORT_CC:
            found.append(rtcp[pos : pos + length])
        pos += length
    return found
