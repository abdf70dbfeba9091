"""How fast this host is right now, in the units the SFU's cost is made of.

The machines here are shared and their speed drifts (the same code measured 18-28 µs per
forwarded packet one day and 46-57 µs the next, the MediaRelay baseline slowing alike). Printed
with every benchmark so that figures from different days can be told apart from code changes.
"""

from __future__ import annotations

import contextlib
import socket
import time

LOOPS = 2_000_000
DATAGRAMS = 20_000
PAYLOAD = b"\x80" * 1200  # about a video RTP packet


def _python_ns_per_loop() -> float:
    total = 0
    started = time.process_time()
    for i in range(LOOPS):
        total += i & 7
    return (time.process_time() - started) * 1e9 / LOOPS


def _udp_send_us() -> float:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver,
    ):
        receiver.bind(("127.0.0.1", 0))
        receiver.setblocking(False)
        target = receiver.getsockname()
        started = time.process_time()
        for _ in range(DATAGRAMS):
            sender.sendto(PAYLOAD, target)
            with contextlib.suppress(BlockingIOError):  # drained as it goes: never fills up
                receiver.recv(2048)
        return (time.process_time() - started) * 1e6 / DATAGRAMS


def host_speed(repeats: int = 3) -> dict[str, float]:
    """CPU time of a pure-Python loop step (ns) and of one loopback datagram sent and read (µs);
    the best of `repeats` tries, since interruptions only ever add."""
    return {
        "python_ns_per_loop": round(min(_python_ns_per_loop() for _ in range(repeats)), 1),
        "udp_datagram_us": round(min(_udp_send_us() for _ in range(repeats)), 2),
    }
