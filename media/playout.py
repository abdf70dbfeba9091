"""How a viewer's browser is asked to show the video it is forwarded (pure, no I/O).

The playout-delay header extension tells Chromium the least and most it may hold a frame.
With a minimum of 0 and a maximum up to 500 ms it shows each frame as soon as it is decoded
("low-latency rendering"); otherwise its jitter buffer holds each frame to a render time
that evens out the line's jitter, plus a 10 ms render margin. On a steady line that hold
buys nothing and costs a screen refresh (measured: bench.glass, docs/media.md "Low-latency
rendering while the line is steady"); on a jittery one, frames shown as they arrive reach the
glass as unevenly as they came, a visible stutter. So each viewer gets low-latency rendering
while its page reports a steady line, and the browser's own smoothing once it does not.

Audio keeps lip sync either way: Chromium raises a synced video's minimum above 0, which
turns low-latency rendering off for that stream by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

# Chromium's own values when no extension came (libwebrtc VCMTiming: minimum 0, maximum 10 s),
# sent explicitly to go back to them: a frame without the element keeps the last values.
SMOOTHED_MS = (0, 10_000)

# The page's jitter reading (the worst incoming stream's RFC 3550 interarrival jitter, every
# 2 s). Above JITTERY_MS once, frames a third of a 30 fps frame interval early or late cross a
# 60 Hz refresh often enough to show: smooth at once. Back to low latency only after
# STEADY_READINGS readings in a row at or below STEADY_MS (6 s): a line that swings is smoothed.
JITTERY_MS = 10.0
STEADY_MS = 5.0
STEADY_READINGS = 3


@dataclass(slots=True)
class PlayoutChoice:
    """One viewer's rendering: `steady_ms` (min, max) while its line is steady, else
    SMOOTHED_MS. Starts steady: the first reading comes 2 s after the first frame."""

    steady_ms: tuple[int, int]
    low_latency: bool = True
    steady_run: int = 0

    @property
    def delay_ms(self) -> tuple[int, int]:
        """The (min, max) playout delay to ask for now."""
        return self.steady_ms if self.low_latency else SMOOTHED_MS

    def reading(self, jitter_ms: float) -> bool:
        """The viewer's latest jitter reading, in ms; True when the choice changed."""
        if jitter_ms > JITTERY_MS:
            self.steady_run = 0
            changed, self.low_latency = self.low_latency, False
            return changed
        self.steady_run = self.steady_run + 1 if jitter_ms <= STEADY_MS else 0
        if not self.low_latency and self.steady_run >= STEADY_READINGS:
            self.low_latency = True
            return True
        return False
