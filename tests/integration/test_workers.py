"""`sabaq serve --redis --workers 2`: one public port, rooms spread over two worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from media.aiortc_hooks import install_host_address
from server.ownership import node_key, room_key
from server.settings import Settings
from tests.integration.nodes import Follower
from tests.integration.peers import Peer, create_room, peers, sign_in
from tests.integration.server_process import free_port, server_process
from tests.media.sio_media import MediaClient

# Rooms made until two are served by different workers: each lands on either with p = 1/2.
MAX_ROOMS = 16


def settings(**fields: Any) -> Settings:
    return Settings(**fields)


def test_workers_default_to_the_cores_with_redis_and_one_without() -> None:
    assert settings(redis="redis://127.0.0.1:6379/5").worker_count == len(os.sched_getaffinity(0))
    assert settings().worker_count == 1  # the embedded default: one process, no Redis
    assert settings(redis="redis://127.0.0.1:6379/5", port=0).worker_count == 1
    with pytest.raises(ValueError, match="need --redis"):
        settings(workers=2)


def seen_frames(viewer: MediaClient, participant_id: str) -> bool:
    return viewer.frames(participant_id, "camera") >= 5


async def node_ids(redis_url: str) -> dict[str, str]:
    """Node id → URL of the live nodes (a killed node's key lives on until its lease lapses)."""
    client = Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=node_key("*"))]
        return {
            k.decode().removeprefix(node_key("")): (await client.get(k) or b"").decode()
            for k in keys
        }
    finally:
        await client.aclose()


async def announced(redis_url: str) -> set[str]:
    """The node URLs of the live nodes."""
    client = Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=node_key("*"))]
        return {(await client.get(k) or b"").decode() for k in keys}
    finally:
        await client.aclose()


async def node_url_of(redis_url: str, room_id: str) -> str:
    """The URL of the node holding the room's lease."""
    client = Redis.from_url(redis_url)
    try:
        owner = (await client.get(room_key(room_id)) or b"").decode()
        return (await client.get(node_key(owner)) or b"").decode()
    finally:
        await client.aclose()


async def owners(redis_url: str, *room_ids: str) -> list[str]:
    client = Redis.from_url(redis_url)
    try:
        return [(await client.get(room_key(r)) or b"").decode() for r in room_ids]
    finally:
        await client.aclose()


@pytest.mark.timeout(180)
async def test_two_workers_serve_rooms_on_one_port_and_each_room_has_its_media(
    data: Path, redis_url: str
) -> None:
    install_host_address("127.0.0.1")
    port = free_port()
    flags = ("--redis", redis_url, "--workers", "2")
    async with server_process(data, *flags, port=port) as child:
        server = child.server
        # The public port answers once one worker is up; the second announces itself soon after.
        workers = {f"http://127.0.0.1:{port + 1}", f"http://127.0.0.1:{port + 2}"}
        async with asyncio.timeout(60):
            while await announced(redis_url) != workers:
                assert child.process.poll() is None, child.output()
                await asyncio.sleep(0.05)  # a child's start-up has no event to wait on

        token = await sign_in(server, *server.teacher)
        async with peers(*(f"host{i}" for i in range(MAX_ROOMS))) as hosts:
            rooms: dict[str, tuple[str, Peer]] = {}  # worker URL → (room, its host)
            for host in hosts:
                room = await create_room(server, token)
                follower = Follower(host, server.url, token)  # the one public port
                assert (await follower.join({"v": 1, "room": room["id"], "as": "user"}))["ok"]
                # Served by the worker the connection landed on, or by the one it was sent to.
                served_by = await node_url_of(redis_url, room["id"])
                assert follower.url in (server.url, served_by)
                if served_by in rooms:
                    await host.close()  # its room empties and is given back
                    continue
                rooms[served_by] = (room["id"], host)
                if len(rooms) == 2:
                    break
            assert set(rooms) == workers, child.output()
            (room_a, _), (room_b, _) = rooms.values()
            owner_a, owner_b = await owners(redis_url, room_a, room_b)
            assert owner_a != owner_b
            # Worker processes, not the supervisor: node ids carry their process ids.
            assert str(child.process.pid) not in (owner_a.split("-")[-2], owner_b.split("-")[-2])

            async with peers("pupil_a", "pupil_b") as pupils:
                clients: list[MediaClient] = []
                try:
                    for i, (pupil, (room_id, host)) in enumerate(
                        zip(pupils, rooms.values(), strict=True)
                    ):
                        host_id = (await host.wait("room_state"))["you"]["id"]
                        camera = MediaClient(host, host_id, [])
                        clients.append(camera)
                        assert (await camera.publish("camera"))["ok"]
                        pupil_token = await sign_in(server, *server.pupils[i])
                        follower = Follower(pupil, server.url, pupil_token)
                        ack = await follower.join({"v": 1, "room": room_id, "as": "user"})
                        viewer = MediaClient(pupil, ack["you"]["id"], [])
                        clients.append(viewer)
                        await viewer.start()
                        await viewer.wait_for(partial(seen_frames, viewer, host_id))
                        # Each pupil sees only their own room's teacher.
                        assert {t["participant_id"] for t in viewer.tiles.values()} == {host_id}
                finally:
                    for media in clients:
                        await media.close()

        # A worker killed outright is started again by the supervisor, on the same port.
        before = await node_ids(redis_url)
        victim = next(n for n, url in before.items() if url == f"http://127.0.0.1:{port + 1}")
        os.kill(int(victim.split("-")[-2]), signal.SIGKILL)
        async with asyncio.timeout(60):
            while True:
                now = await node_ids(redis_url)
                again = [n for n, url in now.items() if url == f"http://127.0.0.1:{port + 1}"]
                if any(n not in before for n in again):
                    break
                assert child.process.poll() is None, child.output()
                await asyncio.sleep(0.1)  # the restart has no event to wait on from here
        assert "worker 0 exited" in child.output()
        child.signal(signal.SIGTERM)
        assert await child.exited(within=20) == 0, child.output()
