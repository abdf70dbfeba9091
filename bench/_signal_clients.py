"""Worker of bench.signal: many socket.io guests in one process, measuring chat fan-out.

The clients speak engine.io v4 / socket.io v5 framing directly over aiohttp websockets: a full
python-socketio client costs several times more CPU per received message, and on a 2-core
machine the clients would then measure themselves rather than the server.

Line protocol on stdout: `ready {}` once every client has joined, then (after a line on stdin)
`result {...}`. Each chat text carries its send time; receivers subtract it (same clock).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from typing import Any

import aiohttp

OPEN, PING, PONG, MESSAGE = "0", "2", "3", "4"
CONNECT, EVENT, ACK = "0", "2", "3"


class Client:
    """One guest in the room, on a raw socket.io websocket."""

    def __init__(self, index: int, http: aiohttp.ClientSession) -> None:
        self.index = index
        self.http = http
        # (arrival time, frame) kept raw: parsing JSON here would make the 150th client of a
        # worker wait for 149 parses and so measure the worker rather than the server.
        self.arrivals: list[tuple[float, str]] = []
        self.errors = 0
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_ack = 0
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None

    async def join(self, url: str, room: str) -> None:
        ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self._ws = await self.http.ws_connect(ws_url)
        opened = await self._ws.receive_str()
        assert opened.startswith(OPEN), opened
        await self._ws.send_str(MESSAGE + CONNECT)
        connected = await self._ws.receive_str()
        assert connected.startswith(MESSAGE + CONNECT), connected
        self._reader = asyncio.create_task(self._read())
        ack = await self.call(
            "join",
            {
                "v": 1,
                "room": room,
                "as": "guest",
                "name": f"Bench {self.index}",
                "institution": "bench",
            },
        )
        if not ack.get("ok") or ack.get("status") != "joined":
            raise RuntimeError(f"client {self.index} could not join: {ack}")

    async def call(self, event: str, data: dict[str, Any]) -> Any:
        """Emit with an acknowledgement and wait for it."""
        assert self._ws is not None
        self._next_ack += 1
        ack_id = self._next_ack
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = done
        await self._ws.send_str(f"{MESSAGE}{EVENT}{ack_id}{json.dumps([event, data])}")
        return await asyncio.wait_for(done, 30)

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            text: str = msg.data
            if text == PING:
                await self._ws.send_str(PONG)
            elif text.startswith(MESSAGE + EVENT):
                self.arrivals.append((time.time(), text))
            elif text.startswith(MESSAGE + ACK):
                body = text[2:]
                split = body.index("[")
                future = self._acks.pop(int(body[:split]), None)
                if future is not None and not future.done():
                    future.set_result(json.loads(body[split:])[0])

    def latencies_ms(self) -> list[float]:
        """Send-to-arrival times of the chat messages this client received."""
        latencies = []
        for arrived, text in self.arrivals:
            name, payload = json.loads(text[2:])
            if name == "chat_message" and payload["message"]["text"].startswith("t="):
                sent_at = float(payload["message"]["text"][2:].split()[0])
                latencies.append((arrived - sent_at) * 1000)
        return latencies

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
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await self._reader


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
    args = parser.parse_args()

    # limit=0: every websocket holds its connection, and the default pool stops at 100.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        clients = [Client(args.first + i, http) for i in range(args.count)]
        # Join in small batches: a burst of hundreds of handshakes would measure the burst.
        for batch in range(0, len(clients), 20):
            await asyncio.gather(
                *(c.join(args.url, args.room) for c in clients[batch : batch + 20])
            )
        gc.freeze()  # the clients' long-lived state: no full GC passes during the measurement
        print("ready {}", flush=True)
        # "go <wall-clock start>": every worker schedules its sends from the same instant.
        go = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        start = float(go.split()[1])

        # The room gets a steady stream, not a burst of every sender at once each period:
        # sender g (numbered across all workers) sends at start + g·period/S + k·period.
        period = 1.0 / args.rate
        senders = clients[: args.senders]
        sending = (
            c.send_for(start, args.seconds, c.index * period / max(1, args.all_senders), period)
            for c in senders
        )
        # Workers without senders listen for the same time as the others send.
        listening = asyncio.create_task(asyncio.sleep(max(0.0, start + args.seconds - time.time())))
        sent = sum(await asyncio.gather(*sending))
        await listening
        await asyncio.sleep(2.0)  # drain: messages still in flight are counted, not lost
        result = {
            "sent": sent,
            "errors": sum(c.errors for c in clients),
            "latencies_ms": [round(x, 3) for c in clients for x in c.latencies_ms()],
        }
        print("result " + json.dumps(result), flush=True)
        for client in clients:
            await client.close()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
