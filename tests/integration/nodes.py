"""Several `sabaq serve --redis` processes on one data folder, and clients that follow a join to
the node serving the room (what web/src/protocol.js does on `room_elsewhere`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import socketio

from server.signalling import SESSION_COOKIE
from tests.integration.peers import Peer
from tests.integration.server_process import ServerProcess, server_process

# After a node could not be reached, the wait before starting over at the entry.
RETRY_S = 1.0


@asynccontextmanager
async def nodes(
    data: Path,
    redis_url: str,
    count: int = 2,
    *flags: str,
    each: Sequence[Sequence[str]] = (),
) -> AsyncIterator[list[ServerProcess]]:
    """`count` server processes sharing Redis and the data folder (SQLite, the secret key); node K
    also gets the flags `each[K]` when given.

    Started one after the other: the first applies the migrations and makes the demo school.
    """
    async with AsyncExitStack() as stack:
        started = [
            await stack.enter_async_context(
                # One worker each: these are the nodes (--workers has its own test).
                server_process(
                    data,
                    *("--redis", redis_url, "--workers", "1", *flags),
                    *(each[k] if k < len(each) else ()),
                )
            )
            for k in range(count)
        ]
        yield started


async def connect_to(peer: Peer, url: str, token: str | None = None) -> None:
    """Open the peer's socket to one node's URL, with the session cookie when signed in.

    A node URL may have a path (one node behind a proxy, docs/nginx-sabaq.conf): socket.io is
    under it, as web/src/protocol.js's nodeAddress puts it (the client drops a URL's path)."""
    headers = {"Cookie": f"{SESSION_COOKIE}={token}"} if token else {}
    path = urlsplit(url).path.rstrip("/") + "/socket.io"
    await peer.sio.connect(
        url, headers=headers, transports=["websocket"], wait_timeout=10, socketio_path=path
    )


class Follower:
    """A peer's joins, following `room_elsewhere` to the node that serves the room.

    `redirects` lists the node URLs it was sent to; `url` is where it is now.
    """

    def __init__(self, peer: Peer, url: str, token: str | None = None) -> None:
        self.peer = peer
        self.entry = self.url = url
        self.token = token
        self.redirects: list[str] = []
        self.refusals: list[dict[str, Any]] = []

    async def join(self, payload: dict[str, Any], within: float = 40) -> dict[str, Any]:
        """Join through the current node; on `room_elsewhere` connect there and join again;
        on a retryable refusal wait as told and try again (up to `within` seconds)."""
        async with asyncio.timeout(within):
            while True:
                if not self.peer.sio.connected:
                    try:
                        await connect_to(self.peer, self.url, self.token)
                    except socketio.exceptions.ConnectionError:
                        if self.url == self.entry:
                            raise
                        # Sent to a node that is gone (its lease not yet lapsed): start over
                        # at the entry after a moment, as the room page does.
                        self.url = self.entry
                        await asyncio.sleep(RETRY_S)
                        continue
                ack = await self.peer.call("join", payload)
                if ack["ok"]:
                    return ack
                error = ack["error"]
                if error["code"] == "room_elsewhere":
                    self.redirects.append(error["node"])
                    await self.peer.sio.disconnect()
                    self.url = error["node"]
                elif "retry_after_ms" in error:
                    self.refusals.append(error)
                    await asyncio.sleep(error["retry_after_ms"] / 1000)  # as the server says
                else:
                    return ack
