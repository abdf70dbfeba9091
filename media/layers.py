"""Pure arithmetic for forwarding simulcast layers: one stream's bitrate, and the timestamp offset
that keeps a viewer's RTP clock running when its copy moves to another layer.

Each simulcast encoding is its own RTP stream: its own SSRC, sequence numbers and (in Chromium)
its own random RTP timestamp base. A viewer sees one stream, so on a switch the consumer numbers
on from the last packet it sent (`Rewriter.switch`) and moves the new layer's timestamps onto
the old layer's line. The best tie between two layers' timestamps is the publisher's sender
reports (each maps its layer's RTP time to the same NTP clock); before both layers have
reported, the arrival clock stands in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .clock import ntp_seconds

# Why a viewer gets the layer it gets: nothing holds it down (the top layer, or the only one);
# its line (the link estimate keeps it below the best layer being sent); the sender (the
# publisher's browser sends nothing higher now: its own bandwidth or CPU limit, or start-up).
LayerLimit = Literal["none", "line", "sender"]

_TS_MOD = 1 << 32
_TS_HALF = 1 << 31


def ts_diff(a: int, b: int) -> int:
    """a - b for 32-bit RTP timestamps, signed (wraparound)."""
    return (a - b + _TS_HALF) % _TS_MOD - _TS_HALF


def switch_ts_offset(
    *,
    new_ts: int,
    old_offset: int,
    last_sent_ts: int,
    clock_rate: int,
    old_sr: tuple[int, int] | None,
    new_sr: tuple[int, int] | None,
    old_last_ts: int,
    old_last_ms: float,
    now_ms: float,
) -> int:
    """The consumer timestamp offset for a new layer whose first packet has timestamp `new_ts`.

    old_offset: the offset used on the old layer; last_sent_ts: the last timestamp the viewer
    got (consumer space); old_sr / new_sr: each layer's last (NTP, RTP) sender report;
    old_last_ts / old_last_ms: the old layer's newest timestamp and when it arrived (ms).
    The result never puts the new picture at or before the last one sent: a receiver would
    merge it into that frame or drop it as old.
    """
    if old_sr is not None and new_sr is not None:
        # The capture instant of new_ts on the publisher's clock, then the old layer's RTP
        # time of that instant: consumer time = that + old offset.
        at = ntp_seconds(new_sr[0]) + ts_diff(new_ts, new_sr[1]) / clock_rate
        old_ts = old_sr[1] + round((at - ntp_seconds(old_sr[0])) * clock_rate)
    else:
        old_ts = old_last_ts + round((now_ms - old_last_ms) * clock_rate / 1000)
    consumer_ts = (old_ts + old_offset) % _TS_MOD
    if ts_diff(consumer_ts, last_sent_ts) <= 0:
        consumer_ts = (last_sent_ts + 1) % _TS_MOD
    return (consumer_ts - new_ts) % _TS_MOD


@dataclass(slots=True)
class RateMeter:
    """Bits per second of one stream, from a byte counter read now and then (nothing per packet
    but the caller's `octets += n`). Smoothed over windows of at least `window_ms`."""

    window_ms: float = 1000.0
    smoothing: float = 0.5
    bps: float = 0.0
    _mark_ms: float | None = None
    _mark_octets: int = 0

    def update(self, octets: int, now_ms: float) -> float:
        """The rate with the counter at `octets` now; a window that has not closed yet leaves
        the last figure as it is."""
        if self._mark_ms is None:
            self._mark_ms, self._mark_octets = now_ms, octets
            return self.bps
        elapsed = now_ms - self._mark_ms
        if elapsed < self.window_ms:
            return self.bps
        sample = (octets - self._mark_octets) * 8000 / elapsed
        # The first window sets the figure; later ones move it part of the way (one window of
        # a keyframe or a pause should not swing the choice of layer).
        self.bps = sample if self.bps == 0 else self.bps + self.smoothing * (sample - self.bps)
        self._mark_ms, self._mark_octets = now_ms, octets
        return self.bps


def layer_limit(layer: int, layers: int, sending: Sequence[int]) -> LayerLimit:
    """What holds a viewer forwarded `layer` (0 = lowest) of `layers` there, given the indexes
    of the layers being sent now, lowest first."""
    best = sending[-1] if sending else layers - 1
    if layer < best:
        return "line"
    if layer < layers - 1:
        return "sender"
    return "none"


@dataclass(frozen=True, slots=True)
class ReceivedLayer:
    """What one viewer is forwarded of one video: for the host's view of connections."""

    publisher: str  # participant id
    source: str  # camera | screen
    layer: int  # the layer forwarded, 0 = lowest
    layers: int  # how many the publisher sends (1 without simulcast)
    height: int  # its picture's height; 0 until a keyframe told (or a codec not read)
    limit: LayerLimit
    paused: bool  # the viewer turned this source off (media_receive)
