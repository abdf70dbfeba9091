"""Pure clock arithmetic for the sender reports the server sends to viewers.

A viewer's browser turns RTP timestamps into capture times (`requestVideoFrameCallback`'s
`captureTime`, audio/video sync) from sender reports: the NTP time at which the report was
sent and the RTP time of that instant, and it estimates the sender's clock offset from when
the report arrives, less half the round trip. Forwarding the publisher's last report unchanged,
seconds after it was made, made the report look late by that age: the viewer's estimate of the
sender's clock then drifted with it. Here each report says *now* (the server's clock) and the
RTP time of now on the publisher's own NTP↔RTP line.
"""

from __future__ import annotations

from collections import deque

NTP_EPOCH_OFFSET_S = 2_208_988_800  # 1900 → 1970
# A publisher clock further than this from ours (behind us by more, or ahead at all beyond
# a little jitter) is not trusted to be synchronised: its report is anchored at its arrival.
MAX_SKEW_S = 1.0
MIN_SKEW_S = -0.05


def ntp_seconds(ntp: int) -> float:
    """A 64-bit NTP timestamp in seconds since 1900."""
    return (ntp >> 32) + (ntp & 0xFFFFFFFF) / 2**32


def ntp_timestamp(seconds: float) -> int:
    """Seconds since 1900 as a 64-bit NTP timestamp."""
    whole = int(seconds)
    return ((whole & 0xFFFFFFFF) << 32) | int((seconds - whole) * 2**32)


def report_now(
    sr_ntp: int, sr_rtp: int, sr_arrival_s: float, now_s: float, clock_rate: int
) -> tuple[int, int]:
    """(NTP, RTP) for a sender report sent at `now_s` (our clock, NTP seconds) about a stream
    whose publisher reported `sr_ntp` ↔ `sr_rtp`, received at `sr_arrival_s`.

    When the publisher's clock agrees with ours (the report arrived 0-1 s after it says it was
    sent: NTP-synchronised machines, or one host), its line is extended to now: capture times
    stay the publisher's. Otherwise the report is taken as made when it arrived.
    """
    sent = ntp_seconds(sr_ntp)
    skew = sr_arrival_s - sent
    base = sent if MIN_SKEW_S <= skew <= MAX_SKEW_S else sr_arrival_s
    rtp = (sr_rtp + round((now_s - base) * clock_rate)) & 0xFFFFFFFF
    return ntp_timestamp(now_s), rtp


class WindowMin:
    """The smallest value added in the last `window_ms` (a monotonic deque: O(1) per value)."""

    __slots__ = ("_items", "window_ms")

    def __init__(self, window_ms: float) -> None:
        self.window_ms = window_ms
        self._items: deque[tuple[float, float]] = deque()

    def add(self, at_ms: float, value: float) -> None:
        items = self._items
        while items and items[-1][1] >= value:
            items.pop()
        items.append((at_ms, value))

    def get(self, now_ms: float) -> float | None:
        items = self._items
        while items and items[0][0] < now_ms - self.window_ms:
            items.popleft()
        return items[0][1] if items else None


# Long enough to hold a quick frame whatever the load (30 a second), short enough to follow
# the publisher's browser when its stamps move further ahead (measured: 98 → 182 ms in 15 s
# on an overloaded machine; a 10 s window lagged tens of ms behind). Reports come about once
# a second and the network's one-way time changes slowly: a longer window.
FRAME_WINDOW_MS = 2_000.0
REPORT_WINDOW_MS = 10_000.0
# The publisher's page reads its encoding time every 2 s: the quickest of the last five.
ENCODE_WINDOW_MS = 10_000.0


class StampCheck:
    """How much too early a publisher's capture stamps are, from what the server sees.

    Chromium stamps a frame's capture time (its RTP timestamp and the sender reports' line)
    through `rtc::TimestampAligner`, which moves stamps earlier whenever one would lie in the
    future and never moves them back (its "clip bias"): after a burst of slow frame deliveries
    (a busy machine), every later stamp is early by up to that burst's delay. Measured in
    `bench.glass`: the teacher's stamps 4-37 ms before the frame was drawn, varying per run, and
    every captureTime downstream (the viewer's delay figure) as much too long.

    A frame cannot reach the server before it was captured, encoded and carried over the
    network. So over the last seconds: the quickest frame's first packet arrived `gap` after
    its stamp; the quickest sender report took `one_way` (clocks that agree, as `report_now`
    assumes); the publisher's browser says encoding took `encode` ms a frame (the quickest of
    its recent 2 s means: the quickest frame was encoded when the machine was least busy, and a
    mean over a loaded machine's 10-50 ms per frame left the lead a few ms short, measured).
    What of `gap` the network and the encoder do not explain is the stamps' lead. Never
    negative: stamps that are late (the aligner's usual small lag) are left alone.
    """

    __slots__ = ("encodes", "frames", "reports")

    def __init__(
        self,
        frame_window_ms: float = FRAME_WINDOW_MS,
        report_window_ms: float = REPORT_WINDOW_MS,
        encode_window_ms: float = ENCODE_WINDOW_MS,
    ) -> None:
        # first packet of each frame: arrival - capture stamp
        self.frames = WindowMin(frame_window_ms)
        self.reports = WindowMin(report_window_ms)  # each sender report: arrival - send time
        # the publisher's own encoding time per frame, each reading of its page
        self.encodes = WindowMin(encode_window_ms)

    def early_ms(self, now_ms: float) -> float:
        """The stamps' lead now, ms (0 while anything is missing)."""
        gap = self.frames.get(now_ms)
        one_way = self.reports.get(now_ms)
        encode = self.encodes.get(now_ms)
        if gap is None or one_way is None or encode is None:
            return 0.0
        return max(0.0, gap - max(0.0, one_way) - encode)
