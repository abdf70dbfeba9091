"""Which node serves a room: a lease in Redis, renewed by a heartbeat (docs/scaling.md).

python-socketio's Redis manager shares emits, not sessions, and the SFU's peer connections end
in one process: a room is served by exactly one node, and every join for it is sent there. The
node that first serves a room takes a lease on it (`SET NX PX`); a heartbeat renews its leases
and its own node key while the process lives, with a compare-and-renew script so that a node
never extends a lease another node holds; a room that empties is released with a
compare-and-delete. A node that dies stops renewing: after at most `LEASE_MS` its rooms are
free and the next join places them on a live node.

Placement of a free room is rendezvous hashing over the live nodes: every node computes the
same choice without asking anyone, rooms spread evenly, and a node that goes away moves only
its own rooms.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# A dead node's rooms are free this long after its last heartbeat (the takeover delay).
LEASE_MS = 10_000
# Three renewals per lease: one lost round trip does not lose a room.
HEARTBEAT_S = LEASE_MS / 1000 / 3
PREFIX = "sabaq:"

# Renew only what is still ours: a lease that expired and was taken by another node stays theirs.
# The same step notes when the room's node was last alive (a takeover ends intervals there).
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# How long the last-alive time of a room outlives its lease (as its saved state does).
ALIVE_KEEP_MS = 2 * 3600 * 1000
# Release only what is ours, in one step (a GET then DEL could delete a new owner's lease).
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Here:
    """This node serves the room (it holds the lease)."""


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """Another node serves the room, or should: the client goes to `url`."""

    node: str
    url: str


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Redis cannot be asked now: the join is to be tried again shortly."""

    why: str


Placement = Here | Elsewhere | Unavailable


def room_key(room_id: str) -> str:
    """The Redis key of a room's lease (value: the owner's node id)."""
    return f"{PREFIX}room:{room_id}:owner"


def alive_key(room_id: str) -> str:
    """The Redis key of when the room's node was last known alive (Unix ms)."""
    return f"{PREFIX}room:{room_id}:alive"


def node_key(node_id: str) -> str:
    """The Redis key of a live node (value: the URL that reaches it)."""
    return f"{PREFIX}node:{node_id}"


def choose(room_id: str, nodes: list[str]) -> str:
    """Rendezvous (highest random weight) hashing: the node a free room goes to."""

    def weight(node: str) -> bytes:
        return hashlib.sha256(f"{room_id}\0{node}".encode()).digest()

    return max(nodes, key=weight)


def new_node_id() -> str:
    """A node id people can read in logs: host, process, and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Ownership:
    """This node's leases on rooms, and where the rooms of other nodes are."""

    def __init__(
        self,
        redis: Redis,
        url: str,
        node_id: str | None = None,
        lease_ms: int = LEASE_MS,
    ) -> None:
        self.redis = redis
        self.url = url
        self.node_id = node_id or new_node_id()
        self.lease_ms = lease_ms
        self.owned: set[str] = set()
        # Whether the last talk with Redis worked: joins are refused (retryably) while not.
        self.healthy = False
        self._renew = redis.register_script(RENEW)
        self._release = redis.register_script(RELEASE)
        self._beat: asyncio.Task[None] | None = None
        self._on_lost: Callable[[str], Awaitable[None]] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, on_lost: Callable[[str], Awaitable[None]]) -> None:
        """Announce this node and keep its leases alive; `on_lost(room)` when one is lost."""
        self._on_lost = on_lost
        with contextlib.suppress(RedisError, OSError):
            await self._announce()
        self._beat = asyncio.create_task(self._heartbeat(), name="ownership heartbeat")

    async def stop(self) -> None:
        """Stop renewing and give every room and the node key back (a clean exit)."""
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
            self._beat = None
        for room_id in list(self.owned):
            await self.release(room_id)
        with contextlib.suppress(RedisError, OSError):
            await self.redis.delete(node_key(self.node_id))

    async def _announce(self) -> None:
        await self.redis.set(node_key(self.node_id), self.url, px=self.lease_ms)
        self.healthy = True

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            await self.beat()

    async def beat(self) -> None:
        """Renew the node key and every lease once (the heartbeat's step)."""
        try:
            await self._announce()
            lost = []
            for room_id in list(self.owned):
                renewed = await self._renew(
                    keys=[room_key(room_id), alive_key(room_id)],
                    args=[self.node_id, self.lease_ms, int(time.time() * 1000), ALIVE_KEEP_MS],
                )
                # Lapsed during an outage and nobody took it: ours again, still serving it.
                if not renewed and not await self._claim(room_id):
                    lost.append(room_id)
        except (RedisError, OSError) as exc:
            if self.healthy:
                log.error("Redis unreachable (%s): new joins are refused until it is back", exc)
            self.healthy = False
            return
        for room_id in lost:
            self.owned.discard(room_id)
            log.error("room %s: its lease went to another node; moving its people there", room_id)
            if self._on_lost is not None:
                await self._on_lost(room_id)

    # -- rooms -----------------------------------------------------------------------------

    async def _claim(self, room_id: str) -> bool:
        taken = await self.redis.set(room_key(room_id), self.node_id, nx=True, px=self.lease_ms)
        if taken:
            self.owned.add(room_id)
        return bool(taken)

    async def _live_nodes(self) -> dict[str, str]:
        """Node id → URL of every node whose key is alive (this one included)."""
        keys = [k async for k in self.redis.scan_iter(match=node_key("*"), count=100)]
        urls = await self.redis.mget(keys) if keys else []
        found = {
            (k.decode() if isinstance(k, bytes) else str(k)).removeprefix(node_key("")): (
                u.decode() if isinstance(u, bytes) else str(u)
            )
            for k, u in zip(keys, urls, strict=True)
            if u is not None
        }
        found[self.node_id] = self.url
        return found

    async def locate(self, room_id: str) -> Placement:
        """Where a join for this room goes; a free room is placed (and taken, if here)."""
        try:
            if not self.healthy:  # one quick look, so that a join sees Redis come back at once
                await self._announce()
            for _ in range(3):  # a lease can change hands between our reads: look again
                owner = await self.redis.get(room_key(room_id))
                if owner is not None:
                    node = owner.decode() if isinstance(owner, bytes) else str(owner)
                    if node == self.node_id:
                        self.owned.add(room_id)
                        return Here()
                    url = await self.redis.get(node_key(node))
                    if url is None:
                        # The owner stopped beating but its lease runs a little longer.
                        return Unavailable("the room's node stopped; it is being taken over")
                    return Elsewhere(node, url.decode() if isinstance(url, bytes) else str(url))
                nodes = await self._live_nodes()
                chosen = choose(room_id, sorted(nodes))
                if chosen != self.node_id:
                    return Elsewhere(chosen, nodes[chosen])
                if await self._claim(room_id):
                    log.info("room %s: served by this node (%s)", room_id, self.node_id)
                    return Here()
            return Unavailable("the room changed hands meanwhile")
        except (RedisError, OSError) as exc:
            self.healthy = False
            return Unavailable(f"Redis is unreachable ({type(exc).__name__})")

    async def release(self, room_id: str) -> None:
        """The room emptied here: let the next lesson be placed afresh."""
        self.owned.discard(room_id)
        try:
            await self._release(keys=[room_key(room_id)], args=[self.node_id])
        except (RedisError, OSError) as exc:  # the lease runs out by itself
            log.warning("room %s: lease not released (%s); it lapses by itself", room_id, exc)

    def holds(self, room_id: str) -> bool:
        """Whether this node holds the room's lease (as far as it knows)."""
        return room_id in self.owned
