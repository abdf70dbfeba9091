"""One viewer's narrow line inside a benchmark's network namespace: a shaper on `lo`.

Everything in the namespace talks over `lo`, so a viewer's downlink is the datagrams sent to its
UDP port. An HTB class at the line's rate with a byte-limited FIFO holds them: what exceeds the
rate waits in the queue (delay rises, as on a real narrow line — a school's ADSL, a village's
mobile cell) and what overflows the queue is dropped at its tail. Everything else (other
viewers, the publisher, signalling over TCP) is unclassified and goes straight through (HTB's
`default 0`: no class, no shaping).

Why a shaper and not an iptables policer (hashlimit above a rate → DROP): iptables-legacy here
refuses a hashlimit burst below 37,888 bytes, i.e. at 300 kbit/s it would let a full second of
excess through before dropping, and then drop without any delay building first. A real
bottleneck queues, and a congestion estimator (Chromium's, or a server's choosing a layer)
reads that queueing delay before it sees loss. The kernel here has `tc`'s htb and bfifo (not
netem), and a kernel shaper needs no process of ours in the packet path, whose scheduling on a
loaded 2-core machine would add its own delay.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TC = shutil.which("tc") or "/usr/sbin/tc"
IP = shutil.which("ip") or "/usr/sbin/ip"
# An IPv4 packet of 1500 bytes plus the link header: the smallest bucket and queue that pass one
# full-size datagram at all.
PACKET = 1514
QUEUE_HANDLE = "10:"


@dataclass(frozen=True)
class Line:
    """A narrow downlink: `kbps` (1000 bit/s) and a queue holding `queue_ms` of it."""

    kbps: float
    queue_ms: float

    def queue_bytes(self) -> int:
        """The FIFO's size: `queue_ms` at the line's rate, at least two full packets."""
        return max(2 * PACKET, round(self.kbps * 1000 / 8 * self.queue_ms / 1000))


@dataclass(frozen=True)
class QueueStats:
    """Counters of the line's queue (tc's view): what passed, what it dropped."""

    sent_bytes: int
    sent_packets: int
    dropped_packets: int
    backlog_bytes: int


def commands(line: Line, port: int) -> list[list[str]]:
    """tc argv (without the namespace prefix) that put UDP to `port` on `lo` through `line`."""
    rate = f"{round(line.kbps * 1000)}bit"
    steps = [
        # default 0: unclassified packets skip the shaper entirely.
        "qdisc add dev lo root handle 1: htb default 0",
        # burst = one packet: the line never sends faster than its rate for longer than that.
        f"class add dev lo parent 1: classid 1:10 htb rate {rate} ceil {rate}"
        f" burst {PACKET} cburst {PACKET} quantum {PACKET}",
        f"qdisc add dev lo parent 1:10 handle {QUEUE_HANDLE} bfifo limit {line.queue_bytes()}",
        # IPv4 (the namespace's loopback), UDP, destination port.
        "filter add dev lo parent 1: protocol ip prio 1 u32 match ip protocol 17 0xff"
        f" match ip dport {port} 0xffff flowid 1:10",
    ]
    return [[TC, *step.split()] for step in steps]


def parse_queue_stats(tc_json: str) -> QueueStats | None:
    """The line's FIFO in `tc -j -s qdisc show dev lo` output; None when it is not there."""
    for qdisc in json.loads(tc_json or "[]"):
        if qdisc.get("kind") == "bfifo" and qdisc.get("handle") == QUEUE_HANDLE:
            return QueueStats(
                sent_bytes=int(qdisc["bytes"]),
                sent_packets=int(qdisc["packets"]),
                dropped_packets=int(qdisc["drops"]),
                backlog_bytes=int(qdisc["backlog"]),
            )
    return None


def _in_ns(ns: str, argv: list[str]) -> list[str]:
    return [IP, "netns", "exec", ns, *argv]


def queue_stats(ns: str) -> QueueStats | None:
    """The line's counters now (None when no line is set in `ns`)."""
    shown = subprocess.run(
        _in_ns(ns, [TC, "-j", "-s", "qdisc", "show", "dev", "lo"]),
        check=True,
        capture_output=True,
        text=True,
    )
    return parse_queue_stats(shown.stdout)


@contextmanager
def limited(ns: str, port: int, line: Line) -> Iterator[None]:
    """UDP to `port` in namespace `ns` goes through `line` until the block ends."""
    if not Path(TC).exists():
        raise RuntimeError("iproute2's `tc` is missing: cannot limit a viewer's line")
    try:
        for argv in commands(line, port):
            subprocess.run(_in_ns(ns, argv), check=True, capture_output=True)
        yield
    finally:
        # Deleting the root qdisc removes its classes, queue and filter with it.
        subprocess.run(
            _in_ns(ns, [TC, "qdisc", "del", "dev", "lo", "root"]), check=False, capture_output=True
        )
