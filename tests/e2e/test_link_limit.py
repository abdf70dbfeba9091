"""The narrow line bench.glass gives one viewer (bench/_shaper.py) really is that narrow.

No browser: a UDP flood inside a test-made namespace, through the shaper, to two ports of which
only one is limited. Rates are read from the kernel's arrival stamps, not the reader's clock.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench._shaper import Line, limited, queue_stats
from tests.e2e.netns import ROOT, netns

pytestmark = pytest.mark.e2e

FLOOD_KBPS = 2000.0
SECONDS = 3.0


def flood(command: list[str], ports: tuple[int, int]) -> dict[int, dict[str, int]]:
    args = ["--ports", *map(str, ports), "--kbps", str(FLOOD_KBPS), "--seconds", str(SECONDS)]
    done = subprocess.run(
        [*command, sys.executable, "-m", "tests.e2e.udp_flood", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {int(port): figures for port, figures in json.loads(done.stdout).items()}


def kbps(figures: dict[str, int]) -> float:
    """Received rate over the span between the first and the last arrival."""
    span_s = (figures["last_ns"] - figures["first_ns"]) / 1e9
    return figures["bytes"] * 8 / span_s / 1000


@pytest.mark.timeout(120)
def test_a_flood_through_the_line_arrives_at_its_rate_and_other_ports_do_not() -> None:
    limited_port, free_port = 40001, 40002
    line = Line(kbps=300, queue_ms=1000)  # a long queue: a stalled sender leaves no idle gap
    with netns() as ns:
        with limited(ns.name, limited_port, line):
            got = flood(ns.command(), (limited_port, free_port))
            stats = queue_stats(ns.name)
        assert queue_stats(ns.name) is None  # removed with the block
        after = flood(ns.command(), (limited_port, free_port))

    slow, fast = got[limited_port], got[free_port]
    # The line's rate counts the link and IP/UDP headers (42 of 1242 bytes): the payload's
    # is ~3 % under it.
    assert 0.85 * line.kbps <= kbps(slow) <= 1.1 * line.kbps, (slow, kbps(slow))
    assert slow["bytes"] < 0.5 * slow["sent"], slow  # the rest overflowed the queue
    assert fast["bytes"] == fast["sent"], fast  # the other port is not shaped
    assert kbps(fast) > 3 * line.kbps, (fast, kbps(fast))
    # tc's own counters agree: what left the queue is what arrived, and it dropped.
    assert stats is not None
    assert stats.dropped_packets > 0 and stats.backlog_bytes == 0, stats
    assert stats.sent_packets == slow["bytes"] // 1200, (stats, slow)
    # Once the block ended the port is free again.
    assert after[limited_port]["bytes"] == after[limited_port]["sent"], after
