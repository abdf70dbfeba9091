"""Broadcasts encoded once and queued on each recipient's socket without a task per recipient.

python-socketio's `AsyncManager.emit` starts one asyncio task per recipient (each then awaits the
engine.io socket's `send`, which only puts the packet on the socket's queue) and waits for them
all: a 300-person room cost ~20 ms of wall time per chat message. Here the packet is encoded once
and put straight on every recipient socket's queue, synchronously. Each socket's own engine.io
writer task still writes it out, so a slow or stalled reader holds up nobody but itself, and
because every packet for a socket goes through that one queue, a socket sees events in the order
they were emitted.

This leans on a few internals of python-socketio / python-engineio (listed in `TOUCH_POINTS` and
checked by `missing_touch_points`). If an upgrade removes one, the manager logs an error and falls
back to the library's own emit: slower, never wrong. tests/integration/test_fanout.py fails loudly
when that happens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import socketio
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from socketio import packet as sio_packet

log = logging.getLogger(__name__)
# Messages for other nodes waiting while Redis is slow or away; beyond this they are dropped.
OUTBOX_LIMIT = 10_000

# What the fast path uses, besides the public `get_participants`: (owner, attribute).
TOUCH_POINTS: tuple[tuple[str, str], ...] = (
    ("socketio.AsyncServer", "packet_class"),
    ("socketio.AsyncServer", "eio"),
    ("engineio.AsyncServer", "sockets"),
    ("engineio.AsyncServer", "ping_timeout"),
    ("engineio.AsyncSocket", "queue"),
    ("engineio.AsyncSocket", "closed"),
    ("engineio.AsyncSocket", "closing"),
    ("engineio.AsyncSocket", "last_ping"),
    ("engineio.AsyncSocket", "check_ping_timeout"),
)


def missing_touch_points(server: socketio.AsyncServer) -> list[str]:
    """The internals this module needs that `server` (and one of its sockets' class) lack."""
    eio = getattr(server, "eio", None)
    owners: dict[str, object] = {
        "socketio.AsyncServer": server,
        "engineio.AsyncServer": eio,
        # Instance attributes are set in __init__: look at a throwaway socket.
        "engineio.AsyncSocket": AsyncSocket(eio, "touch-point-probe") if eio else None,
    }
    return [f"{o}.{a}" for o, a in TOUCH_POINTS if not hasattr(owners[o], a)]


class DirectFanout(socketio.AsyncManager):  # type: ignore[misc]  # socketio is untyped
    """The in-process client manager, with emits that queue packets directly."""

    def __init__(self) -> None:
        super().__init__()
        self.direct = True

    async def flush(self, timeout: float = 5.0) -> None:
        """At shutdown: nothing is queued for other nodes here (see RedisDirectFanout)."""

    def initialize(self) -> None:
        super().initialize()
        missing = missing_touch_points(self.server)
        if missing:
            self.direct = False
            log.error(
                "python-socketio/engineio changed (missing %s): broadcasts fall back to the "
                "library's slower emit",
                ", ".join(missing),
            )

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        """Emit to a socket, a room or a list of rooms (same meaning as the library's emit)."""
        if callback is not None or not self.direct:
            # Acknowledged emits need one packet id per recipient: the library does that.
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to
            )
            return
        room = to or room
        if namespace not in self.rooms:
            return
        # A tuple means several arguments, None none, as in the library.
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        if isinstance(encoded, list):  # binary attachments: rare, leave them to the library
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid)
            return
        pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        pkt.encode()  # cached inside the packet: every writer reuses the same text
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        sockets = self.server.eio.sockets
        now = time.time()
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            socket = sockets.get(eio_sid)
            if socket is None or socket.closed:
                continue  # gone between joining the room and now; its disconnect is on its way
            last_ping = socket.last_ping
            if last_ping and now - last_ping > self.server.eio.ping_timeout:
                # What engine.io's own send does for a silent client: close it, send nothing.
                if not socket.closing:  # once is enough
                    self.server.start_background_task(socket.check_ping_timeout)
                continue
            socket.queue.put_nowait(pkt)


class RedisDirectFanout(socketio.AsyncRedisManager, DirectFanout):  # type: ignore[misc]
    """Redis fan-out between nodes; each node delivers to its own sockets the direct way.

    In the method order this puts `DirectFanout` between the pub/sub manager and
    `AsyncManager`, so the pub/sub manager's local delivery (`super().emit` in its
    `_handle_emit`, for this node's emits and for those arriving from other nodes) is ours.

    Publishing to Redis goes through one ordered outbox instead of being awaited in `emit`:
    otherwise every emit suspends on the Redis round trip, other commands' events slip in
    between the events of one outcome, and a socket sees them out of the order the room made
    them in. The library's publish only ever logged its failures, so nothing is lost by that.
    """

    def __init__(self, url: str) -> None:
        socketio.AsyncRedisManager.__init__(self, url)
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._publisher: asyncio.Task[None] | None = None

    async def _publish(self, data: dict[str, Any]) -> None:
        if self._outbox.qsize() >= OUTBOX_LIMIT:
            log.error(
                "Redis is not keeping up: a %s message for other nodes dropped", data["method"]
            )
            return
        self._outbox.put_nowait(data)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish_in_order(), name="redis publish")

    async def _publish_in_order(self) -> None:
        while True:
            data = await self._outbox.get()
            try:
                await super()._publish(data)
            finally:
                self._outbox.task_done()

    async def flush(self, timeout: float = 5.0) -> None:
        """At shutdown: publish what other nodes have not been sent yet, then stop publishing
        (the rooms' last events, e.g. "room closed", would otherwise die with the task)."""
        if self._publisher is None:
            return
        try:
            await asyncio.wait_for(self._outbox.join(), timeout)
        except TimeoutError:
            log.error(
                "Redis did not take %d messages for other nodes before shutdown",
                self._outbox.qsize(),
            )
        self._publisher.cancel()
        self._publisher = None


async def emit_local(server: socketio.AsyncServer, event: str, data: Any, sid: str) -> None:
    """Emit to one socket of this process without going through Redis (a node's own news)."""
    manager = server.manager
    if isinstance(manager, DirectFanout):
        # The class's own emit, not the pub/sub manager's in front of it in the method order.
        await DirectFanout.emit(manager, event, data, "/", to=sid)
    else:
        await server.emit(event, data, to=sid)


def client_manager(redis_url: str | None) -> socketio.AsyncManager:
    """The client manager for this process: Redis-backed when a URL is given."""
    if redis_url:
        return RedisDirectFanout(redis_url)
    return DirectFanout()
