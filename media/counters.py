"""Counters of what the SFU did, summed over live and closed producers and consumers.

Each producer and consumer counts in plain ints on its own hot path (an attribute increment is
the cheapest thing Python does); nothing here runs per packet. When one closes, its counts are
added to `RETIRED`, so a process-wide total read at any moment never goes backwards — what a
Prometheus counter needs (server/metrics.py reads this at scrape time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .consumer import AiortcConsumer
    from .producer import AiortcProducer


@dataclass(slots=True)
class MediaCounters:
    """Totals since the process started."""

    packets_received: int = 0  # RTP from publishers (retransmissions included)
    packets_forwarded: int = 0  # RTP written to viewers (retransmissions not included)
    bytes_forwarded: int = 0  # their payload bytes
    nacks_sent: int = 0  # NACK packets to publishers
    nacks_received: int = 0  # NACK packets from viewers
    plis_sent: int = 0  # keyframe requests (PLI) to publishers, after coalescing
    keyframe_requests_received: int = 0  # PLI/FIR from viewers
    retransmissions: int = 0  # packets resent to viewers (RTX or plain)
    layer_switches: int = 0  # a viewer moved to another layer of a producer

    def add_producer(self, p: AiortcProducer) -> None:
        """Add one producer's own counts."""
        self.packets_received += p.packets_received
        self.nacks_sent += p.nacks_sent
        self.plis_sent += p.keyframe_requests_sent

    def add_consumer(self, c: AiortcConsumer) -> None:
        """Add one consumer's own counts."""
        self.packets_forwarded += c.packets_sent
        self.bytes_forwarded += c.octets_sent
        self.nacks_received += c.nacks_received
        self.keyframe_requests_received += c.keyframe_requests_received
        self.retransmissions += c.retransmissions
        self.layer_switches += c.layer_switches

    def plus(self, other: MediaCounters) -> MediaCounters:
        """The sum of two sets of totals."""
        return MediaCounters(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )


# Counts of producers and consumers already closed, for the whole process.
RETIRED = MediaCounters()


def totals(producers: Iterable[AiortcProducer]) -> MediaCounters:
    """RETIRED plus the counts of these live producers and of their consumers."""
    live = MediaCounters()
    for p in producers:
        live.add_producer(p)
        for c in p.consumers:
            live.add_consumer(c)
    return RETIRED.plus(live)
