"""Pure per-producer keyframe cache: a new viewer's first picture without waiting for one.

Without it, a viewer whose DTLS has just come up asks the publisher for a keyframe (PLI) and
waits a round trip plus an encode for it — most of "offer → first frame". With it, the server
sends the newest keyframe it already has the moment the viewer can receive it.

A video decoder cannot take live delta frames after an old keyframe: they refer to the frames in
between. So the cache keeps the keyframe *and every packet after it* while that run stays whole
(no gap) and small (bounded packets and time). A viewer then gets the whole run at once and the
live packets continue it directly, with no keyframe request at all ("live" burst). When the run
grew too long or had a gap, only the keyframe is kept: the viewer gets that one picture at once,
and live video from the next keyframe, which it asks for as before.

The burst's frames carry old capture timestamps; sent as they are, a receiver's playout clock
would be anchored on the oldest and hold every live frame back by the run's length. So all but
the run's newest frame are given timestamps just before it, one tick apart (`Burst.timestamps`):
the receiver decodes them back to back and plays the live stream on time. Sequence numbers stay
as they were, so the run and the live packets after it are one gap-free sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rtp import SourcePacket

_SEQ_MASK = 0xFFFF
_TS_MOD = 1 << 32


@dataclass(frozen=True, slots=True)
class Burst:
    """What to send a new viewer first, in order."""

    packets: tuple[SourcePacket, ...]
    # The producer-space timestamp to send each packet with (see the module's docstring).
    timestamps: tuple[int, ...]
    # True: the packets run up to the newest one received, so live packets follow on directly.
    # False: one keyframe only; live video must start again from the next keyframe.
    live: bool


class KeyframeCache:
    """The newest keyframe of one video producer and, while bounded and gap-free, what followed.

    Memory is bounded by `max_packets` payloads (plus the keyframe itself, whatever its size).
    """

    __slots__ = (
        "_growing",
        "_keyframe_end",
        "_max_packets",
        "_max_span",
        "_newest_seq",
        "_newest_ts",
        "_packets",
    )

    def __init__(self, *, max_packets: int = 256, max_span: int = 45000) -> None:
        """max_span: the longest run kept for a live burst, in RTP clock ticks (90 kHz video)."""
        if max_packets < 1 or max_span < 0:
            raise ValueError("max_packets must be positive and max_span not negative")
        self._max_packets = max_packets
        self._max_span = max_span
        self._packets: list[SourcePacket] = []
        # Index after the keyframe's last packet (its marker), None while it is incomplete.
        self._keyframe_end: int | None = None
        # True while _packets is every packet since the keyframe, in order, without a gap.
        self._growing = False
        self._newest_seq: int | None = None
        self._newest_ts: int | None = None

    def __len__(self) -> int:
        return len(self._packets)

    @property
    def live(self) -> bool:
        """True while a burst would run up to the newest packet (see Burst.live)."""
        return self._growing and self._keyframe_end is not None

    def add(self, sp: SourcePacket) -> None:
        """Take one packet as received from the publisher (retransmissions included)."""
        packets = self._packets
        delta = 1
        if self._newest_seq is not None:
            # Against the newest packet seen, not the newest kept: a keyframe kept alone for
            # minutes must not make later packets look old (sequence numbers wrap).
            delta = (sp.sequence_number - self._newest_seq) & _SEQ_MASK
            if delta == 0 or delta >= 0x8000:
                return  # a duplicate or a late retransmission: nothing new for the cache
        self._newest_seq = sp.sequence_number
        self._newest_ts = sp.timestamp
        if sp.keyframe_start and not (packets and sp.timestamp == packets[0].timestamp):
            self._packets = [sp]
            self._keyframe_end = 1 if sp.marker else None
            self._growing = True
            return
        if not self._growing:
            return
        contiguous = delta == 1
        if self._keyframe_end is None:
            # Still inside the keyframe: a gap makes it undecodable, so forget it.
            if not contiguous or len(packets) >= self._max_packets:
                self._forget()
                return
            packets.append(sp)
            if sp.marker:
                self._keyframe_end = len(packets)
            return
        span = (sp.timestamp - packets[0].timestamp) % _TS_MOD
        if not contiguous or len(packets) >= self._max_packets or span > self._max_span:
            # Too long or broken for a live burst: keep the keyframe alone.
            del packets[self._keyframe_end :]
            self._growing = False
            return
        packets.append(sp)

    def _forget(self) -> None:
        self._packets = []
        self._keyframe_end = None
        self._growing = False

    def burst(self) -> Burst | None:
        """What a new viewer should get first; None when no whole keyframe is held."""
        end = self._keyframe_end
        if end is None or self._newest_ts is None:
            return None
        if not self._growing:
            packets = tuple(self._packets[:end])
            # One picture, stamped as the newest received: the next keyframe comes after it.
            return Burst(packets, (self._newest_ts,) * len(packets), live=False)
        packets = tuple(self._packets)
        return Burst(packets, compressed_timestamps(packets), live=True)


def compressed_timestamps(packets: tuple[SourcePacket, ...]) -> tuple[int, ...]:
    """Each packet's timestamp moved next to the last frame's: frame k of n (by timestamp
    changes) gets last - (n - 1 - k), modulo 2**32. The last frame keeps its own, so a frame
    whose packets go on arriving live keeps one timestamp."""
    if not packets:
        return ()
    frames = 1
    previous = packets[0].timestamp
    for sp in packets[1:]:
        if sp.timestamp != previous:
            frames += 1
            previous = sp.timestamp
    last = packets[-1].timestamp
    out: list[int] = []
    frame = 0
    previous = packets[0].timestamp
    for sp in packets:
        if sp.timestamp != previous:
            frame += 1
            previous = sp.timestamp
        out.append((last - (frames - 1 - frame)) % _TS_MOD)
    return tuple(out)
