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
