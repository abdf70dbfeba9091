"""`python -m tests.e2e.udp_flood --ports P Q --kbps R --seconds S`, run inside a namespace.

Sends 1200-byte UDP datagrams on 127.0.0.1 to each port at R kbit/s for S seconds, reads them
back, and prints one JSON object: per port, bytes sent and received and the span between the
first and last arrival as the kernel stamped them (SO_TIMESTAMPNS), so the reader's own
scheduling on a loaded machine does not enter the measured rate.
"""

from __future__ import annotations

import argparse
import json
import select
import socket
import struct
import threading
import time
from typing import Any

PAYLOAD = 1200
IDLE_S = 2.0  # nothing more arrives for this long after sending ended: the queue has drained
# Linux's value (asm-generic/socket.h); Python 3.11's socket module does not name it. The
# ancillary message carries a struct timespec (two 64-bit fields here).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def send(ports: list[int], kbps: float, seconds: float, sent: dict[int, int]) -> None:
    """Paced by the clock, not by sleeps adding up: a late wake-up sends what is due."""
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    per_s = kbps * 1000 / 8 / PAYLOAD
    start = time.monotonic()
    done = 0
    while (now := time.monotonic()) < start + seconds:
        due = int((now - start) * per_s) + 1
        for _ in range(due - done):
            for port in ports:
                out.sendto(b"x" * PAYLOAD, ("127.0.0.1", port))
                sent[port] += PAYLOAD
        done = max(done, due)
        time.sleep(0.005)
    out.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ports", type=int, nargs="+", required=True)
    parser.add_argument("--kbps", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    readers: dict[socket.socket, int] = {}
    for port in args.ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind(("127.0.0.1", port))
        readers[s] = port
    sent = dict.fromkeys(args.ports, 0)
    got: dict[int, dict[str, Any]] = {p: {"bytes": 0, "first_ns": None, "last_ns": None}
                                      for p in args.ports}  # fmt: skip
    sender = threading.Thread(target=send, args=(args.ports, args.kbps, args.seconds, sent))
    sender.start()
    last_arrival = time.monotonic()
    while sender.is_alive() or time.monotonic() - last_arrival < IDLE_S:
        ready, _, _ = select.select(list(readers), [], [], 0.2)
        for s in ready:
            data, ancillary, _, _ = s.recvmsg(65536, 256)
            stamp = next(
                struct.unpack("qq", d[:16])
                for level, kind, d in ancillary
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS
            )
            at = stamp[0] * 1_000_000_000 + stamp[1]
            port = got[readers[s]]
            port["bytes"] += len(data)
            port["first_ns"] = at if port["first_ns"] is None else port["first_ns"]
            port["last_ns"] = at
            last_arrival = time.monotonic()
    print(json.dumps({str(p): {**got[p], "sent": sent[p]} for p in args.ports}))


if __name__ == "__main__":
    main()
