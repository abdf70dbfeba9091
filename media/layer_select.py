"""Pure choice of the simulcast layer one viewer gets: what its link can carry, from its own
receiver reports. No clock, no I/O: times (ms) and counters are passed in.

The signal is loss, as GCC's loss-based controller uses it: a Chromium viewer sends receiver
reports on every stream it receives (about one a second, and with each NACK), and a link that
cannot carry a layer loses packets — a shaper or policer drops what exceeds its rate. What the
viewer received over a window, `sent * (1 - loss)`, is then what the link carried, and the
estimate goes there at once (down quickly: every second on too high a layer is a broken
picture). A clean link lets the estimate grow 8 % a second from what it carried cleanly, and
going up waits until the link has been clean for `up_hold_ms`, which doubles each time an
up-switch met loss soon after (each failed try costs the viewer a second of broken picture).
Audio is reserved for before a layer is fitted; the lowest layer is the floor (the viewer keeps
a picture, and never loses audio to video: the server never drops audio).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_SEQ_WINDOW_MS = 500.0


@dataclass(slots=True)
class LossWindow:
    """Loss over windows of at least `min_ms`, from a receiver report's cumulative counters
    (RFC 3550: cumulative lost, extended highest sequence number): reports that come with every
    NACK cover a few packets each, too few for a fraction."""

    min_ms: float = _SEQ_WINDOW_MS
    _mark: tuple[float, int, int] | None = None

    def report(self, now_ms: float, highest_seq: int, cumulative_lost: int) -> float | None:
        """The fraction lost since the last window closed, when one closes now; else None."""
        if self._mark is None:
            self._mark = (now_ms, highest_seq, cumulative_lost)
            return None
        since, seq, lost = self._mark
        if now_ms - since < self.min_ms:
            return None
        expected = highest_seq - seq
        self._mark = (now_ms, highest_seq, cumulative_lost)
        if expected <= 0:
            return None  # nothing new arrived (or the counters restarted)
        return min(1.0, max(0.0, (cumulative_lost - lost) / expected))


@dataclass(slots=True)
class LayerChoice:
    """The estimate of one viewer's link and the layer it should get."""

    audio_bps: float = 64_000.0  # kept free for the viewer's audio before a layer is fitted
    loss_high: float = 0.10  # at or above: the link is full
    loss_low: float = 0.02  # below: clean, the estimate may grow
    growth_per_s: float = 1.08
    headroom: float = 1.15  # going up needs the layer + audio to fit this many times over
    first_up_hold_ms: float = 8_000.0
    max_up_hold_ms: float = 120_000.0
    failed_up_ms: float = 6_000.0  # loss this soon after an up-switch: it was too early
    estimate_bps: float | None = None  # None: no limit seen yet
    up_hold_ms: float = 8_000.0
    last_loss_ms: float | None = None
    last_up_ms: float | None = None
    last_report_ms: float | None = None

    def report(self, now_ms: float, loss: float, sent_bps: float) -> None:
        """One window of the viewer's reports: fraction lost, and our sending rate over it."""
        if loss >= self.loss_high:
            carried = sent_bps * (1.0 - loss)
            gentle = None if self.estimate_bps is None else self.estimate_bps * (1 - 0.5 * loss)
            self.estimate_bps = carried if gentle is None else min(carried, gentle)
            self.last_loss_ms = now_ms
            if self.last_up_ms is not None and now_ms - self.last_up_ms < self.failed_up_ms:
                self.up_hold_ms = min(self.max_up_hold_ms, self.up_hold_ms * 2)
                self.last_up_ms = None
        elif loss < self.loss_low and self.estimate_bps is not None:
            since = self.last_report_ms if self.last_report_ms is not None else now_ms
            elapsed_s = min(2.0, max(0.0, (now_ms - since) / 1000))
            # What just went through cleanly is carried for sure: the floor to grow from
            # (a window of near-total loss may have put the estimate far below it).
            self.estimate_bps = max(self.estimate_bps, sent_bps) * self.growth_per_s**elapsed_s
        self.last_report_ms = now_ms

    def choose(self, now_ms: float, layer_bps: Sequence[float], current: int) -> int:
        """The layer to forward: the highest that fits the estimate, among the layers that are
        being sent (measured rate > 0), the lowest at worst; up only after a clean stretch."""
        active = [i for i, bps in enumerate(layer_bps) if bps > 0]
        if not active:
            return current
        if self.estimate_bps is None:
            best = active[-1]
        else:
            fits = [i for i in active if layer_bps[i] + self.audio_bps <= self.estimate_bps]
            best = fits[-1] if fits else active[0]
        if best > current and current in active:
            clean = self.last_loss_ms is None or now_ms - self.last_loss_ms >= self.up_hold_ms
            roomy = (
                self.estimate_bps is None
                or (layer_bps[best] + self.audio_bps) * self.headroom <= self.estimate_bps
            )
            if not (clean and roomy):
                return current
            self.last_up_ms = now_ms
        if self.estimate_bps is not None and self.estimate_bps > 4 * max(layer_bps):
            self.estimate_bps = None  # far above the top layer: no limit to remember
        return best


@dataclass(slots=True)
class ProbedChoice:
    """The layer for a viewer whose link is measured by transport feedback (`bwe.LinkEstimate`).

    Down at once to the highest layer the estimate fits. Never up on a guess: going up needs
    an estimate that covers the higher layer `headroom` times over, and the only thing that
    raises the estimate above what is being sent is a probe at that rate (`probe_bps` in the
    answer). A probe that fails costs a brief queue on the link, not a broken picture, but it
    is still spaced: `probe_hold_s` after the last trouble or probe, doubling per failure.
    """

    audio_bps: float = 64_000.0
    headroom: float = 1.15
    probe_over: float = 1.1  # a probe is sent this much above what the layer needs
    first_probe_hold_s: float = 4.0
    max_probe_hold_s: float = 60.0
    failed_up_s: float = 6.0  # overuse this soon after an up-switch: it was too early
    probe_timeout_s: float = 2.5
    probe_hold_s: float = 4.0
    last_trouble_s: float | None = None
    last_up_s: float | None = None
    probe_asked_s: float | None = None  # a probe is under way since
    probe_need_bps: float = 0.0
    last_probe_s: float | None = None

    def trouble(self, now_s: float) -> None:
        """The link showed overuse now."""
        self.last_trouble_s = now_s
        if self.last_up_s is not None and now_s - self.last_up_s < self.failed_up_s:
            self.probe_hold_s = min(self.max_probe_hold_s, self.probe_hold_s * 2)
            self.last_up_s = None

    def probe_done(self, now_s: float, estimate_bps: float) -> bool:
        """The probe asked for came back with this estimate; True if it covers the need."""
        self.probe_asked_s = None
        self.last_probe_s = now_s
        ok = estimate_bps >= self.probe_need_bps / self.probe_over
        if not ok:
            self.probe_hold_s = min(self.max_probe_hold_s, self.probe_hold_s * 2)
        return ok

    def choose(
        self,
        now_s: float,
        estimate_bps: float | None,
        layer_bps: Sequence[float],
        current: int,
        others_bps: float = 0.0,
    ) -> tuple[int, float | None]:
        """(the layer to forward, the rate to probe at now or None). `others_bps`: what the
        same link carries for this viewer's other videos."""
        active = [i for i, bps in enumerate(layer_bps) if bps > 0]
        if not active:
            return current, None
        if estimate_bps is None:
            return active[-1], None
        budget = estimate_bps - self.audio_bps - others_bps
        fits = [i for i in active if layer_bps[i] <= budget]
        best = fits[-1] if fits else active[0]
        if best < current or current not in active:
            return best, None
        if best > current and (
            (layer_bps[best] + self.audio_bps + others_bps) * self.headroom <= estimate_bps
        ):
            self.last_up_s = now_s
            return best, None
        if self.probe_asked_s is not None:
            if now_s - self.probe_asked_s < self.probe_timeout_s:
                return current, None
            self.probe_done(now_s, 0.0)  # no answer: as good as a failure
        since = max(
            self.last_trouble_s if self.last_trouble_s is not None else -1e9,
            self.last_probe_s if self.last_probe_s is not None else -1e9,
        )
        higher = [i for i in active if i > current]
        if not higher or now_s - since < self.probe_hold_s:
            return current, None
        need = (layer_bps[higher[0]] + self.audio_bps + others_bps) * self.headroom
        self.probe_asked_s = now_s
        self.probe_need_bps = need * self.probe_over
        return current, self.probe_need_bps
