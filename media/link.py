"""ViewerLink: one viewer's subscribe connection as a link with a measured capacity.

Holds the transport-wide numbering of the video forwarded on that connection (`bwe.SendLog`,
written by each consumer's hot path), reads the viewer's transport feedback from the
connection's RTCP tap, keeps the estimate (`bwe.LinkEstimate`) and sends probes: for a few
ticks, RTX padding on one consumer's RTX stream tops what is forwarded up to the rate asked
for. The layer choice stays with each consumer (`layer_select.ProbedChoice`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from .bwe import LinkEstimate, SendLog
from .twcc import parse_feedback

if TYPE_CHECKING:
    from .consumer import AiortcConsumer

logger = logging.getLogger(__name__)

# A probe: PROBE_TICKS + 1 sends PROBE_TICK_S apart (~40 ms). Short, because on a link that
# cannot carry it the probe queues: 40 ms at 2-3x a 300 kbit/s link's rate adds ~60-80 ms of
# queueing, below a 200 ms queue's overflow.
PROBE_TICK_S = 0.01
PROBE_TICKS = 4
PADDING = 255  # bytes of RTP padding per padding-only packet (the most one packet can say)


class ViewerLink:
    """Transport-wide numbering, feedback and probes of one subscribe connection."""

    def __init__(self) -> None:
        self.log = SendLog()
        self.estimate = LinkEstimate()
        self.ext_id = 0  # the transport-wide sequence number's ID the viewer agreed; 0: none
        self.consumers: list[AiortcConsumer] = []  # video copies numbered on this link
        self.feedbacks = 0
        self.last_feedback_s: float | None = None
        self.probes = 0
        self.padding_packets = 0
        self._asker: AiortcConsumer | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._probe_rate = 0.0
        self._probe_start = 0.0
        self._tick = 0

    @property
    def probing(self) -> bool:
        """True while a probe cluster is being sent."""
        return self._timer is not None

    def on_feedback(self, packet: bytes) -> None:
        """One transport-feedback packet from the viewer (from the RTCP tap)."""
        parsed = parse_feedback(packet)
        if parsed is None:
            return
        self.feedbacks += 1
        now = self.last_feedback_s = time.monotonic()
        overuse, result = self.estimate.feedback(now, self.log.reported(*parsed))
        if overuse:
            e = self.estimate
            # The first feedback of a stretch of overuse at INFO, the rest at DEBUG.
            first = e.overusing == e.overuse_feedbacks
            logger.log(
                logging.INFO if first else logging.DEBUG,
                "link overuse: loss %.2f queue %.0f ms acked %s sent %s -> estimate %s",
                e.loss,
                e.queue_s * 1000,
                e.acked_bps,
                e.sent_bps,
                e.estimate_bps,
            )
        asker = self._asker if result is not None else None
        if asker is not None:
            self._asker = None
        for consumer in list(self.consumers):
            consumer.link_feedback(now, overuse, result if consumer is asker else None)

    def others_bps(self, consumer: AiortcConsumer) -> float:
        """What this link carries for the viewer's other video copies (bit/s)."""
        return sum(c.rate_bps for c in self.consumers if c is not consumer)

    def probe(self, consumer: AiortcConsumer, rate_bps: float) -> bool:
        """Send a probe cluster at `rate_bps` (forwarded media + padding on `consumer`'s RTX
        stream); its result comes back through `consumer.link_feedback`."""
        if self._timer is not None or self.estimate.probe is not None:
            return False
        self.probes += 1
        self._asker = consumer
        self._probe_rate = rate_bps
        self._probe_start = time.monotonic()
        self._tick = 0
        self.estimate.start_probe(self.log.next_seq, rate_bps, self._probe_start)
        self._send_probe()
        return True

    def _send_probe(self) -> None:
        self._timer = None
        consumer = self._asker
        if consumer is None or consumer.closed:
            self.estimate.probe = None
            return
        now = time.monotonic()
        # What the cluster should have sent by now at its rate, less what went out (media
        # included) since it started: a late timer catches up, so the rate is the one asked.
        elapsed = now - self._probe_start
        due = self._probe_rate / 8 * elapsed
        first = self.estimate.probe.first_seq if self.estimate.probe is not None else 0
        sent = sum(self.log.size[n & 0xFFFF] for n in range(first, self.log.next_seq))
        while sent < due or self.log.next_seq == first:
            size = consumer.send_padding(PADDING)
            if size <= 0:
                break
            self.padding_packets += 1
            sent += size
        if elapsed >= PROBE_TICKS * PROBE_TICK_S:
            self.estimate.end_probe(self.log.next_seq - 1, now)
            return
        self._tick += 1
        self._timer = asyncio.get_running_loop().call_later(PROBE_TICK_S, self._send_probe)

    def close(self) -> None:
        """Stop a probe under way (idempotent)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.consumers.clear()
        self._asker = None
