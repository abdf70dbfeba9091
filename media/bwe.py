"""Pure estimate of one viewer's downlink from its transport-wide congestion control feedback.

The server numbers every video packet it forwards on a viewer's connection (transport-wide
sequence number extension) and notes when it sent it and how big it was (`SendLog`, on the hot
path: two list stores). The viewer's browser answers with when each number arrived
(`twcc.parse_feedback`). From pairs of (sent, arrived) this module reads, as libwebrtc's
send-side estimator does in spirit (not its code):

- **overuse**: the queue on the path grows (the one-way delay of this feedback's packets above
  the lowest seen in 10 s, by more than `queue_delay_s`) *and* the link delivers less than we
  send (acknowledged rate < 0.8 of the send rate over the last half second), or ≥ 25 % of the
  packets are lost: the estimate drops to 0.85 of what the link delivered. A queue is seen
  before the shaper drops anything, so this comes before loss.
- **probes**: before a higher layer is tried, a short cluster of packets (the media plus RTX
  padding) is sent at the rate that layer needs; what arrived says whether the link carries it
  (`probe_rate`). Nothing is switched blindly.

No clock, no I/O: times (seconds on any steady clock) are passed in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

_RING = 1 << 16

# (unwrapped transport sequence number, sent at s, size in bytes, arrived at s or None)
Reported = tuple[int, float, int, float | None]


class SendLog:
    """When each transport-wide number went out and how many bytes it carried: a ring of the
    last 65,536 numbers, written once per forwarded packet (the hot path)."""

    __slots__ = ("next_seq", "send_s", "size")

    def __init__(self) -> None:
        self.next_seq = 0  # unwrapped: the next number to give out
        self.send_s = [0.0] * _RING
        self.size = [0] * _RING

    def take(self, now_s: float, size: int) -> int:
        """Number one packet sent now (for callers off the hot path); its 16-bit number."""
        n = self.next_seq
        self.next_seq = n + 1
        i = n & 0xFFFF
        self.send_s[i] = now_s
        self.size[i] = size
        return i

    def unwrap(self, seq: int) -> int | None:
        """The unwrapped number of a 16-bit one we sent recently (within half the ring), else
        None (not sent yet, or too old to be in the log)."""
        last = self.next_seq - 1
        back = (last - seq) & 0xFFFF
        if last < 0 or back >= 0x8000 or last - back < 0:
            return None
        return last - back

    def reported(self, base: int, arrivals: Sequence[int | None]) -> list[Reported]:
        """One feedback's statuses joined with what we logged: arrival µs → s."""
        out: list[Reported] = []
        for k, arrival in enumerate(arrivals):
            n = self.unwrap((base + k) & 0xFFFF)
            if n is None:
                continue
            i = n & 0xFFFF
            out.append(
                (n, self.send_s[i], self.size[i], None if arrival is None else arrival / 1e6)
            )
        return out


def probe_rate(packets: Sequence[Reported]) -> tuple[float, float] | None:
    """What a probe cluster says about the link: (send rate, estimate) in bit/s, or None if
    too little of it was reported to tell.

    Both rates count the bytes after the first packet sent (it opens the span) over the send
    and the arrival span: the same bytes on both sides, so a cluster of a few unequal packets
    (a frame's large one first) does not read as saturation. A link that delivered
    markedly less than was sent (< 0.9) is saturated: the estimate is 0.95 of what it
    delivered; else it carried at least the send rate. Packets lost count against it: what
    did not arrive was not carried.
    """
    if len(packets) < 4:
        return None
    by_send = sorted(packets, key=lambda p: p[1])
    send_span = by_send[-1][1] - by_send[0][1]
    if send_span <= 0:
        return None
    opener = by_send[0]
    send_bps = sum(p[2] for p in by_send[1:]) * 8 / send_span
    received = sorted((p for p in packets if p[3] is not None), key=lambda p: p[3] or 0.0)
    if len(received) < 2:
        return send_bps, 0.0
    first, last = received[0][3], received[-1][3]
    assert first is not None and last is not None
    recv_span = last - first
    recv_bytes = sum(p[2] for p in received if p is not opener)
    # Arrivals closer together than sends (a burst released at once, feedback rounding to
    # 250 µs): the link took it at least as fast as we sent.
    recv_bps = send_bps if recv_span <= 0 else min(send_bps, recv_bytes * 8 / recv_span)
    # Lost packets were not carried: scale by the share that arrived.
    recv_bps *= len(received) / len(packets)
    if recv_bps < 0.9 * send_bps:
        return send_bps, 0.95 * recv_bps
    return send_bps, send_bps


@dataclass(slots=True)
class Probe:
    """One probe cluster: the numbers it spans and what it aims at."""

    first_seq: int
    target_bps: float
    started_s: float
    last_seq: int | None = None  # set when the cluster's last packet is sent
    packets: list[Reported] = field(default_factory=list)


@dataclass(slots=True)
class LinkEstimate:
    """What one viewer's link carries, from its transport feedback; None: no limit seen."""

    window_s: float = 0.5  # the send and acknowledged rates are measured over this
    queue_delay_s: float = 0.05  # one-way delay above the lowest: a queue is building
    base_window_s: float = 10.0  # the lowest delay is remembered this long
    unsaturated: float = 0.9  # a probe delivered below this share of its send rate: saturated
    # Overuse needs the link to deliver clearly less than was sent, twice running: a loaded
    # receiver that stalls 50-100 ms stretches one window's arrivals by 10-20 % (seen at load
    # 14: 0.83 with a 78 ms "queue" on an unlimited pupil), a link at half of what is sent
    # stretches them 2x.
    overuse_ratio: float = 0.8
    overuse_feedbacks: int = 2
    backoff: float = 0.85
    # Loss alone says the link is full only well above what a radio link loses at random: a
    # lower layer loses as large a share, and at 10 % a 0.5 s window of 5 % random loss read
    # 10-12 % now and then (bench.glass --loss 5 moved its pupil to a 5 fps low layer for the
    # rest of the run). A policer at half the rate sent drops ~50 %; a queue shows first anyway.
    loss_high: float = 0.25
    probe_timeout_s: float = 2.0
    estimate_bps: float | None = None
    acked_bps: float | None = None  # what the link delivered over the last window
    sent_bps: float | None = None
    queue_s: float = 0.0  # the latest queueing delay read
    loss: float = 0.0  # over the last window
    last_overuse_s: float | None = None
    overuses: int = 0
    probe: Probe | None = None
    # The latest status of each number sent in the last window, by number: a browser reports
    # a number missing while later ones have arrived and again, received, if it comes late.
    _recent: dict[int, Reported] = field(default_factory=dict)
    _minima: deque[tuple[float, float]] = field(default_factory=deque)  # (at, min delay)
    _probe_end_s: float = -1e9
    overusing: int = 0  # feedbacks in a row that read overuse

    def start_probe(self, first_seq: int, target_bps: float, now_s: float) -> None:
        """A probe cluster starts with number `first_seq`."""
        self.probe = Probe(first_seq, target_bps, now_s)

    def end_probe(self, last_seq: int, now_s: float) -> None:
        """The cluster's last packet was number `last_seq`."""
        if self.probe is not None:
            self.probe.last_seq = last_seq
        self._probe_end_s = now_s

    def feedback(self, now_s: float, packets: Sequence[Reported]) -> tuple[bool, float | None]:
        """One feedback's packets (in number order). Returns (overuse seen now, the probe's
        estimate if a probe cluster was completed by it)."""
        result = self._probe_feedback(now_s, packets)
        received = [p for p in packets if p[3] is not None]
        if received:
            low = min((p[3] or 0.0) - p[1] for p in received)
            minima = self._minima
            minima.append((now_s, low))
            while minima and minima[0][0] < now_s - self.base_window_s:
                minima.popleft()
            self.queue_s = low - min(m[1] for m in minima)
        recent = self._recent
        for p in packets:
            if p[3] is not None or p[0] not in recent:
                recent[p[0]] = p
        if not recent:
            return False, result
        newest = max(p[1] for p in packets) if packets else now_s
        for seq in [n for n, p in recent.items() if p[1] < newest - self.window_s]:
            del recent[seq]
        self.overusing = self.overusing + 1 if self._overuse(now_s) else 0
        overuse = self.overusing >= self.overuse_feedbacks
        if overuse:
            self.overuses += 1
            self.last_overuse_s = now_s
            acked = self.acked_bps
            before = self.estimate_bps
            cut = self.backoff * acked if acked is not None else None
            if cut is None:
                cut = before * 0.5 if before is not None else None
            self.estimate_bps = cut
        if result is not None:
            self.estimate_bps = result
        return overuse, result

    def forget(self, top_bps: float) -> None:
        """Drop an estimate far above everything there is to send: no limit to remember."""
        if self.estimate_bps is not None and self.estimate_bps > 4 * top_bps:
            self.estimate_bps = None

    def _overuse(self, now_s: float) -> bool:
        recent = list(self._recent.values())
        if len(recent) < 8:
            return False
        by_send = sorted(recent, key=lambda p: p[1])
        send_span = by_send[-1][1] - by_send[0][1]
        received = sorted((p for p in recent if p[3] is not None), key=lambda p: p[3] or 0.0)
        loss = 1 - len(received) / len(recent)
        if send_span < 0.25:
            self.loss = loss
            return False  # too short a window to tell a queue from a receiver's hiccup
        self.sent_bps = sum(p[2] for p in by_send[:-1]) * 8 / send_span
        if len(received) >= 2:
            span = (received[-1][3] or 0.0) - (received[0][3] or 0.0)
            if span > 0:
                self.acked_bps = sum(p[2] for p in received[1:]) * 8 / span
        self.loss = loss
        if now_s - self._probe_end_s < self.window_s + 0.2:
            return False  # the probe's own queue and drops, measured by the probe itself
        if loss >= self.loss_high and len(recent) >= 20:
            return True
        return (
            self.queue_s > self.queue_delay_s
            and self.acked_bps is not None
            and self.acked_bps < self.overuse_ratio * self.sent_bps
        )

    def _probe_feedback(self, now_s: float, packets: Sequence[Reported]) -> float | None:
        probe = self.probe
        if probe is None:
            return None
        probe.packets += [
            p
            for p in packets
            if p[0] >= probe.first_seq and (probe.last_seq is None or p[0] <= probe.last_seq)
        ]
        done = probe.last_seq is not None and any(p[0] >= probe.last_seq for p in packets)
        if not done and now_s - probe.started_s < self.probe_timeout_s:
            return None
        self.probe = None
        measured = probe_rate(probe.packets) if done else None
        # A probe nobody reported on says nothing: the chooser counts it failed by its time.
        return None if measured is None else measured[1]
