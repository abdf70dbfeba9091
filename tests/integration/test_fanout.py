"""Direct fan-out (server/fanout.py): audiences exact, order kept, nobody held up by a laggard."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from engineio.async_socket import AsyncSocket
from socketio.async_pubsub_manager import AsyncPubSubManager

from server.fanout import DirectFanout, RedisDirectFanout, missing_touch_points
from server.keys import SIGNALLING
from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer, running_server
from tests.integration.peers import Peer, host_in_room, peers, sign_in
from tests.integration.test_classroom import classroom

# Characters that JSON-encode to 12 bytes each: about the largest chat frame there is (~24 KB).
BIG = "\U0001f600" * 1990


@asynccontextmanager
async def server_with(
    tmp_path: Path, demo_data: Path, redis: str | None
) -> AsyncIterator[LiveServer]:
    """A fresh server on a copy of the demo school, with the Redis manager when `redis` is set."""
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    async with running_server(data, redis=redis) as server:
        yield server


def sio_of(server: LiveServer) -> socketio.AsyncServer:
    """The server's socket.io server."""
    sio: socketio.AsyncServer = server.app[SIGNALLING].sio
    return sio


def engineio_socket(server: LiveServer, participant_id: str) -> AsyncSocket:
    """The engine.io socket a participant is connected through."""
    signalling = server.app[SIGNALLING]
    sid = signalling.sid_of[participant_id]
    eio_sid = signalling.sio.manager.eio_sid_from_sid(sid, "/")
    sock: AsyncSocket = signalling.sio.eio.sockets[eio_sid]
    return sock


def chat_texts(peer: Peer) -> list[str]:
    return [d["message"]["text"] for d in peer.seen("chat_message")]


async def wait_chat(peer: Peer, text: str) -> None:
    await peer.wait("chat_message", lambda d: d["message"]["text"] == text)


# -- the library's internals this module leans on ---------------------------------------------


async def test_the_direct_path_is_installed_and_the_library_still_has_what_it_uses(
    live_server: LiveServer,
) -> None:
    sio = sio_of(live_server)
    # An upgrade of python-socketio/engineio that renames what fanout.py touches fails here, by
    # name, instead of quietly falling back to the library's slower emit.
    assert missing_touch_points(sio) == []
    assert type(sio.manager) is DirectFanout
    async with peers("host") as (host,):
        await host_in_room(live_server, host)  # the first connection initialises the manager
        assert sio.manager.direct
    # With Redis, the pub/sub manager's local delivery (`super().emit` in `_handle_emit`, for
    # this node's emits and for other nodes') must resolve to ours.
    mro = RedisDirectFanout.__mro__
    assert mro[mro.index(AsyncPubSubManager) + 1] is DirectFanout
    assert "_handle_emit" in vars(AsyncPubSubManager)
    assert "emit" not in vars(socketio.AsyncRedisManager)


async def test_a_broadcast_is_queued_on_every_socket_at_once_without_a_task_each(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a", "b", "c") as (host, a, b, c):
        room, pupil_ids = await classroom(live_server, host, a, b, c)
        await host.wait("participant_joined", lambda d: d["participant"]["id"] == pupil_ids[-1])
        sockets = [engineio_socket(live_server, pid) for pid in pupil_ids]
        loop = asyncio.get_running_loop()
        default_factory = loop.get_task_factory()
        created: list[Any] = []

        def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            created.append(coro)
            if default_factory is not None:
                return default_factory(loop, coro, **kwargs)
            return asyncio.Task(coro, loop=loop, **kwargs)

        before = [s.queue.qsize() for s in sockets]
        loop.set_task_factory(counting)
        try:
            await sio_of(live_server).emit("probe", {"n": 1}, room=f"room:{room['id']}")
        finally:
            loop.set_task_factory(default_factory)
        assert created == []
        # Queued before anything else ran: every recipient's writer has it waiting.
        assert [s.queue.qsize() for s in sockets] == [n + 1 for n in before]
        received = [asyncio.Event() for _ in sockets]
        for peer, flag in zip((a, b, c), received, strict=True):
            peer.sio.on("probe", lambda _data, flag=flag: flag.set())
        await asyncio.wait_for(asyncio.gather(*(f.wait() for f in received)), 10)


async def test_without_the_internals_it_falls_back_to_the_library_emit(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a") as (host, a):
        _, (a_id,) = await classroom(live_server, host, a)
        await host.wait("participant_joined", lambda d: d["participant"]["id"] == a_id)
        sio_of(live_server).manager.direct = False  # what initialize() does after an upgrade
        assert (await a.call("chat_send", {"text": "through the library"}))["ok"]
        await wait_chat(host, "through the library")
        await wait_chat(a, "through the library")


# -- audiences and order, in one process and through Redis ------------------------------------


@pytest.mark.parametrize("through_redis", [False, True], ids=["memory", "redis"])
async def test_every_audience_gets_exactly_its_events_in_order(
    tmp_path: Path, demo_data: Path, redis_url: str, through_redis: bool
) -> None:
    async with (
        server_with(tmp_path, demo_data, redis_url if through_redis else None) as server,
        peers("host", "a", "b", "c") as (host, a, b, c),
    ):
        _, (a_id, b_id, c_id) = await classroom(server, host, a, b, c)
        host_id = (await host.wait("room_state"))["you"]["id"]
        await host.wait("participant_joined", lambda d: d["participant"]["id"] == c_id)
        # Pupils write to each other privately below: the room must allow it (off by default).
        assert (await host.call("chat_private", {"setting": "classmates"}))["ok"]
        # (sender, text, private recipient or None), sent concurrently so the emits interleave.
        script: dict[Peer, list[tuple[str, str | None]]] = {
            a: [("a0", None), ("a→b", b_id), ("a1", None)],
            b: [("b→host", host_id), ("b0", None), ("b1", None)],
            c: [("c0", None), ("c→a", a_id), ("c1", None)],
            host: [("h0", None), ("host→c", c_id), ("h1", None)],
        }

        async def send(peer: Peer, lines: list[tuple[str, str | None]]) -> None:
            for text, to in lines:
                body = {"text": text} if to is None else {"text": text, "to": to}
                assert (await peer.call("chat_send", body))["ok"]

        await asyncio.gather(*(send(p, lines) for p, lines in script.items()))
        assert (await a.call("hand_raise", {"speak": True}))["ok"]
        await host.wait("hands", lambda d: [h["id"] for h in d["queue"]] == [a_id])
        await a.wait("hand", lambda d: d["position"] == 1)
        assert (await host.call("chat_send", {"text": "end"}))["ok"]
        for peer in (host, a, b, c):
            await wait_chat(peer, "end")

        ids = {host: host_id, a: a_id, b: b_id, c: c_id}
        for peer, me in ids.items():
            expected = {"end"} | {
                text
                for sender, lines in script.items()
                for text, to in lines
                if to is None or me in (to, ids[sender])
            }
            assert set(chat_texts(peer)) == expected, peer.name
            # One socket sees messages in the order the room made them (ids grow), none twice.
            numbers = [d["message"]["id"] for d in peer.seen("chat_message")]
            assert numbers == sorted(set(numbers)), peer.name
        # Hosts see only their own private threads; staff events reach staff only.
        assert "a→b" not in chat_texts(host) and "c→a" not in chat_texts(host)
        for pupil in (b, c):
            assert pupil.seen("hands") == [] and pupil.seen("hand") == []
            assert pupil.seen("lobby") == []


# -- laggards ----------------------------------------------------------------------------------


class PollingPeer:
    """A socket.io client on engine.io's HTTP long-polling transport, which fetches only when told.

    Between its fetches everything for it waits on its engine.io queue: a pupil whose next poll
    is late (a bad mobile link) and whose packets pile up on the server, deterministically.
    """

    def __init__(self, server: LiveServer, token: str) -> None:
        self.http = aiohttp.ClientSession(cookies={SESSION_COOKIE: token})
        self.base = f"{server.url}/socket.io/?EIO=4&transport=polling"
        self.url = self.base
        self.events: list[tuple[str, Any]] = []
        self.acks: dict[int, Any] = {}

    async def open(self) -> None:
        """The engine.io and socket.io handshakes."""
        opened = await self._get()
        assert opened[0].startswith("0"), opened
        self.url = f"{self.base}&sid={json.loads(opened[0][1:])['sid']}"
        await self._post("40")
        assert any(p.startswith("40") for p in await self._get())

    async def call(self, event: str, data: Any, ack_id: int) -> Any:
        """Send a command and fetch until its acknowledgement arrives."""
        await self._post(f"42{ack_id}" + json.dumps([event, data]))
        await self.fetch_until(lambda: ack_id in self.acks)
        return self.acks.pop(ack_id)

    async def fetch_until(self, done: Callable[[], bool]) -> None:
        """Poll until `done()` holds (every poll returns what is queued; a ping is answered)."""
        async with asyncio.timeout(30):
            while not done():
                for packet in await self._get():
                    if packet == "2":
                        await self._post("3")
                    elif packet.startswith("42"):
                        name, data = json.loads(packet[2:])
                        self.events.append((name, data))
                    elif packet.startswith("43"):
                        split = packet.index("[")
                        self.acks[int(packet[2:split])] = json.loads(packet[split:])[0]

    async def _get(self) -> list[str]:
        async with self.http.get(self.url) as response:
            assert response.status == 200, await response.text()
            return (await response.text()).split("\x1e")  # engine.io v4's record separator

    async def _post(self, packet: str) -> None:
        async with self.http.post(self.url, data=packet.encode()) as response:
            assert response.status == 200, await response.text()

    async def close(self) -> None:
        await self.http.close()


async def test_a_laggard_holds_up_nobody_and_later_gets_everything_in_order(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a", "b", "c") as (host, a, b, c):
        room, _ = await classroom(live_server, host, a, b, c)
        late = PollingPeer(live_server, await sign_in(live_server, *live_server.pupils[3]))
        try:
            await late.open()
            ack = await late.call("join", {"v": 1, "room": room["id"], "as": "user"}, ack_id=1)
            assert ack["ok"] and ack["status"] == "joined", ack
            late_socket = engineio_socket(live_server, ack["you"]["id"])
            await late.fetch_until(lambda: any(n == "room_state" for n, _ in late.events))
            # From here the laggard fetches nothing while four people send their whole burst
            # allowance of the largest messages at once.
            senders = (host, a, b, c)
            texts = [f"{i}:{s.name}:{BIG}" for s in senders for i in range(6)]

            async def burst(peer: Peer) -> None:
                for i in range(6):
                    assert (await peer.call("chat_send", {"text": f"{i}:{peer.name}:{BIG}"}))["ok"]

            await asyncio.gather(*(burst(p) for p in senders))
            for peer in senders:
                await peer.wait("chat_message", lambda _, p=peer: set(texts) <= set(chat_texts(p)))
            # Everyone else has every message, while all of them still wait for the laggard.
            assert late_socket.queue.qsize() >= len(texts)

            def late_chat() -> list[dict[str, Any]]:
                return [d["message"] for n, d in late.events if n == "chat_message"]

            await late.fetch_until(lambda: len(late_chat()) == len(texts))
            received = late_chat()
            assert sorted(m["text"] for m in received) == sorted(texts)
            assert [m["id"] for m in received] == sorted(m["id"] for m in received)
        finally:
            await late.close()


async def test_a_client_silent_past_its_ping_timeout_is_closed_and_the_rest_still_get_events(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a", "b") as (host, a, b):
        _, (a_id, b_id) = await classroom(live_server, host, a, b)
        await host.wait("participant_joined", lambda d: d["participant"]["id"] == b_id)
        gone = engineio_socket(live_server, b_id)
        # As if b's answer to the last ping never came (rather than waiting ~20 s for it).
        gone.last_ping = time.time() - 10 * gone.server.ping_timeout
        assert (await a.call("chat_send", {"text": "still here?"}))["ok"]
        await wait_chat(host, "still here?")
        await wait_chat(a, "still here?")
        await host.wait("participant_left", lambda d: d["participant"] == b_id)
        assert "still here?" not in chat_texts(b)
        assert (await a.call("chat_send", {"text": "yes"}))["ok"]
        await wait_chat(host, "yes")
        assert a_id in {d["participant"]["id"] for d in host.seen("participant_joined")}


async def test_messages_for_other_nodes_are_published_before_shutdown(redis_url: str) -> None:
    from redis.asyncio import Redis

    listener = Redis.from_url(redis_url)
    pubsub = listener.pubsub()
    await pubsub.subscribe("socketio")
    await pubsub.get_message(timeout=1)  # the subscription's own confirmation
    manager = RedisDirectFanout(redis_url)
    try:
        # Queued faster than Redis takes them; flush() (called at shutdown) must not drop any.
        for number in range(300):
            await manager._publish({"method": "emit", "event": "n", "data": number})
        await manager.flush()
        assert manager._publisher is None
        received: list[int] = []
        while len(received) < 300:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
            assert message is not None, f"only {len(received)} of 300 reached other nodes"
            received.append(json.loads(message["data"])["data"])
        assert received == list(range(300))
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        await listener.aclose()
        if manager.redis is not None:
            await manager.redis.aclose()
