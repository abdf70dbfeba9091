"""Room leases in the real Redis (server/ownership.py): placement, renewal, loss, release."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from server.ownership import Elsewhere, Here, Ownership, choose, room_key


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_room_is_placed_once_renewed_by_its_node_and_lost_to_another(redis: Redis) -> None:
    lost: list[str] = []

    async def on_lost(room_id: str) -> None:
        lost.append(room_id)

    a = Ownership(redis, "http://a", node_id="node-a")
    b = Ownership(redis, "http://b", node_id="node-b")
    await a.start(on_lost)
    await b.start(on_lost)
    try:
        # Rendezvous hashing: both nodes agree where a free room goes, without asking anyone.
        room = next(r for r in (f"room-{i}" for i in range(50)) if choose(r, ["node-a", "node-b"])
                    == "node-a")  # fmt: skip
        assert isinstance(await b.locate(room), Elsewhere)  # not taken by asking the wrong node
        assert await redis.get(room_key(room)) is None
        assert isinstance(await a.locate(room), Here)
        assert await b.locate(room) == Elsewhere("node-a", "http://a")

        # The heartbeat renews only a lease that is still ours.
        await redis.pexpire(room_key(room), 500)
        await a.beat()
        assert await redis.pttl(room_key(room)) > 5_000
        # The lease lapsed (Redis away too long) and node B took the room: A lets it go.
        await redis.delete(room_key(room))
        assert await redis.set(room_key(room), "node-b", nx=True, px=10_000)
        await a.beat()
        assert lost == [room] and not a.holds(room)
        assert await redis.get(room_key(room)) == b"node-b"  # A did not renew B's lease

        # Releasing someone else's lease changes nothing (compare-and-delete).
        await a.release(room)
        assert await redis.get(room_key(room)) == b"node-b"
    finally:
        await a.stop()
        await b.stop()
