"""Worker of bench.signal: many socket.io guests on one event loop, measuring chat fan-out.

Each guest is a bare `asyncio.Protocol` speaking WebSocket (RFC 6455), engine.io v4 and socket.io
v5 framing itself. A full python-socketio client, or even aiohttp's websocket client, costs tens
of microseconds per received frame; with 150 guests per process the 150th would then be stamped
after 149 others were processed, and on a 2-core machine the clients would compete with the server
they measure. Here a frame is stamped in `data_received`, the moment the event loop hands over the
bytes, and only split off; JSON is parsed after the measurement.

Line protocol: `ready {}` on stdout once every guest has joined; then `go <wall-clock start>` on
stdin; finally `result {...}` on stdout. Each chat text carries its send time (`time.time()`,
the same clock the receivers stamp with).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import hashlib
import json
import os
import sys
import time
from typing import Any, cast
from urllib.parse import urlsplit

OPEN, PING, PONG, MESSAGE = b"0", b"2", b"3", b"4"
CONNECT, EVENT, ACK = b"0", b"2", b"3"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, WS_PING, WS_PONG = 0x1, 0x8, 0x9, 0xA


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (clients must mask; the key comes from os.urandom)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    mask = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")
    return header + key + masked


class Client(asyncio.Protocol):
    """One guest in the room on a raw WebSocket."""

    def __init__(self, index: int) -> None:
        self.index = index
        # (arrival time, socket.io event frame), kept raw until the run is over.
        self.arrivals: list[tuple[float, bytes]] = []
        self.errors = 0
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._key = base64.b64encode(os.urandom(16))
        self._upgraded = False
        self._handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._connected: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_ack = 0
        # Sent on to another node by the one it connected to (bench.signal --nodes).
        self.redirected = False

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        now = time.time()  # before anything else: this is when the frame reached us
        self._buffer += data
        if not self._upgraded:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).decode("latin-1")
            del self._buffer[: end + 4]
            self._check_upgrade(head)
            if not self._upgraded:
                return
        buffer = self._buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length, start = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            if not first & 0x80:
                raise RuntimeError("fragmented frames are not expected from the server")
            self._frame(now, first & 0x0F, payload)

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self._handshake, self._connected, self._closed):
            if not future.done():
                future.set_result(None)

    # -- frames ------------------------------------------------------------------------------

    def _check_upgrade(self, head: str) -> None:
        lines = head.split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        accept = base64.b64encode(hashlib.sha1(self._key + WS_GUID).digest()).decode()
        accepted = {k.lower(): v for k, v in headers.items()}.get("sec-websocket-accept")
        if " 101 " not in lines[0] + " " or accepted != accept:
            self._handshake.set_exception(RuntimeError(f"upgrade refused: {lines[0]}"))
            return
        self._upgraded = True
        self._handshake.set_result(None)

    def _frame(self, now: float, opcode: int, payload: bytes) -> None:
        if opcode == TEXT:
            if payload.startswith(MESSAGE + EVENT):
                self.arrivals.append((now, payload))
            elif payload.startswith(MESSAGE + ACK):
                body = payload[2:]
                split = body.index(b"[")
                future = self._acks.pop(int(body[:split]), None)
                if future is not None and not future.done():
                    future.set_result(json.loads(body[split:])[0])
            elif payload == PING:
                self._send(PONG)
            elif payload.startswith(MESSAGE + CONNECT) and not self._connected.done():
                self._connected.set_result(None)
        elif opcode == WS_PING:
            self._write(ws_frame(WS_PONG, payload))
        elif opcode == CLOSE and self._transport is not None:
            self._transport.close()

    def _write(self, frame: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame)

    def _send(self, text: bytes) -> None:
        self._write(ws_frame(TEXT, text))

    # -- socket.io ---------------------------------------------------------------------------

    async def _open(self, url: str) -> None:
        """Connect to `url` and open the socket.io namespace (a fresh state for each node)."""
        loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._key = base64.b64encode(os.urandom(16))
        self._upgraded = False
        self._handshake = loop.create_future()
        self._connected = loop.create_future()
        self._closed = loop.create_future()
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        await loop.create_connection(lambda: self, host, port)
        assert self._transport is not None
        self._transport.write(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            + f"Host: {host}:{port}\r\n".encode()
            + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + b"Sec-WebSocket-Key: "
            + self._key
            + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await asyncio.wait_for(self._handshake, 30)
        self._send(MESSAGE + CONNECT)
        await asyncio.wait_for(self._connected, 30)

    async def join(self, url: str, room: str) -> None:
        """Join the room through `url`, following `room_elsewhere` to the node serving it."""
        payload = {
            "v": 1,
            "room": room,
            "as": "guest",
            "name": f"Bench {self.index}",
            "institution": "bench",
        }
        for _ in range(3):  # docs/scaling.md: at most a hop or two
            await self._open(url)
            ack = await self.call("join", payload)
            error = ack.get("error") or {}
            if error.get("code") != "room_elsewhere":
                break
            self.redirected = True
            assert self._transport is not None
            self._transport.close()
            await self._closed
            self._transport = None
            self._next_ack = 0
            url = error["node"]
        if not ack.get("ok") or ack.get("status") != "joined":
            raise RuntimeError(f"client {self.index} could not join: {ack}")

    async def call(self, event: str, data: dict[str, Any]) -> Any:
        """Emit with an acknowledgement and wait for it."""
        self._next_ack += 1
        ack_id = self._next_ack
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = done
        self._send(MESSAGE + EVENT + str(ack_id).encode() + json.dumps([event, data]).encode())
        return await asyncio.wait_for(done, 30)

    def deliveries(self) -> list[tuple[float, float]]:
        """(send time, send-to-arrival ms) of the chat messages this client received."""
        found = []
        for arrived, frame in self.arrivals:
            name, payload = json.loads(frame[2:])
            if name == "chat_message" and payload["message"]["text"].startswith("t="):
                sent_at = float(payload["message"]["text"][2:].split()[0])
                found.append((sent_at, (arrived - sent_at) * 1000))
        return found

    async def send_for(self, start: float, seconds: float, offset: float, period: float) -> int:
        """Send one chat message every `period` s from `start + offset` (wall clock) on."""
        sent = 0
        while (due := start + offset + sent * period) < start + seconds:
            await asyncio.sleep(max(0.0, due - time.time()))
            ack = await self.call("chat_send", {"text": f"t={time.time():.6f} #{sent}"})
            if not ack.get("ok"):
                self.errors += 1
            sent += 1
        return sent

    async def close(self) -> None:
        if self._transport is not None:
            self._write(ws_frame(CLOSE, (1000).to_bytes(2, "big")))
            self._transport.close()
            await self._closed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--senders", type=int, default=0, help="senders in this worker")
    parser.add_argument("--all-senders", type=int, default=0, help="senders in all workers")
    parser.add_argument("--rate", type=float, default=1.0, help="messages/s per sender")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--trace", action="store_true", help="report every delivery")
    parser.add_argument("--aligned", action="store_true", help="all senders at the same instant")
    args = parser.parse_args()

    clients = [Client(args.first + i) for i in range(args.count)]
    # Join in small batches: a burst of hundreds of handshakes would measure the burst.
    for batch in range(0, len(clients), 20):
        await asyncio.gather(*(c.join(args.url, args.room) for c in clients[batch : batch + 20]))
    gc.freeze()  # the clients' long-lived state: no full GC passes during the measurement
    print("ready {}", flush=True)
    # "go <wall-clock start>": every worker schedules its sends from the same instant.
    go = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start = float(go.split()[1])

    # The room gets a steady stream, not a burst of every sender at once each period:
    # sender g (numbered across all workers) sends at start + g·period/S + k·period.
    period = 1.0 / args.rate
    senders = clients[: args.senders]
    spread = 0.0 if args.aligned else period / max(1, args.all_senders)
    sending = (c.send_for(start, args.seconds, c.index * spread, period) for c in senders)
    # Workers without senders listen for the same time as the others send.
    listening = asyncio.create_task(asyncio.sleep(max(0.0, start + args.seconds - time.time())))
    sent = sum(await asyncio.gather(*sending))
    await listening
    await asyncio.sleep(2.0)  # drain: messages still in flight are counted, not lost
    deliveries = [(c.index, sent_at, ms) for c in clients for sent_at, ms in c.deliveries()]
    result: dict[str, Any] = {
        "sent": sent,
        "errors": sum(c.errors for c in clients),
        "redirected": sum(c.redirected for c in clients),
        "latencies_ms": [round(ms, 3) for _, _, ms in deliveries],
    }
    if args.trace:
        result["trace"] = [[i, round(sent_at, 6), round(ms, 3)] for i, sent_at, ms in deliveries]
    print("result " + json.dumps(result), flush=True)
    for client in clients:
        await client.close()


if __name__ == "__main__":
    # Real pupils are on other machines: their receiving never takes the CPU from the server.
    # Here each of the server's 300 writes per message wakes a client process, which would
    # preempt the server mid-fan-out; as a batch process it waits for its turn instead. That
    # can only make its own arrival stamps later, never earlier.
    if hasattr(os, "sched_setscheduler"):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
