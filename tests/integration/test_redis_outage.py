"""Redis stopped for 15 s mid-lesson (our own redis-server, never the shared one)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import aiohttp
import pytest

from media.aiortc_hooks import install_host_address
from rooms.refusals import MESSAGES, Reason
from tests.integration.nodes import Follower
from tests.integration.peers import create_room, peers, sign_in
from tests.integration.server_process import free_port, server_process
from tests.journal.receiver import running_receiver
from tests.journal.test_bridge import api
from tests.media.sio_media import MediaClient

OUTAGE_S = 15.0
SECRET = b"0123456789abcdef-outage-secret"


class OwnRedis:
    """A redis-server of this test's own on a free loopback port, to stop and start again."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
            "--appendonly", "no", "--dir", str(self.folder),
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        async with asyncio.timeout(10):
            while True:  # until it takes connections (its start-up has no event to wait on)
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return
                except OSError:
                    await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


@asynccontextmanager
async def own_redis(folder: Path) -> AsyncIterator[OwnRedis]:
    redis = OwnRedis(free_port(), folder)
    await redis.start()
    try:
        yield redis
    finally:
        await redis.stop()


async def readiness(url: str) -> int:
    return (await readyz(url))[0]


async def readyz(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/readyz") as response:
        return response.status, await response.json()


def journal_rows(data: Path) -> dict[str, str]:
    """Idempotency key → state of every outbox row for the HTTP journal."""
    with closing(sqlite3.connect(data / "sabaq.db")) as db:
        rows = db.execute("SELECT key, state FROM outbox WHERE destination = 'http'").fetchall()
    return {str(k): str(v) for k, v in rows}


async def until_ready_is(url: str, status: int, within: float) -> float:
    """Poll /readyz (what a load balancer does) until it answers `status`; returns when."""
    async with asyncio.timeout(within):
        while await readiness(url) != status:
            await asyncio.sleep(0.1)
    return time.monotonic()


@pytest.mark.timeout(150)
async def test_a_lesson_goes_on_while_redis_is_away_and_new_joins_wait_for_it(
    data: Path, tmp_path: Path
) -> None:
    install_host_address("127.0.0.1")
    async with (
        own_redis(tmp_path) as redis,
        running_receiver(SECRET) as (receiver, journal_url),
        server_process(
            data, "--redis", redis.url, "--workers", "1", "--journal-url", journal_url,
            env={"SABAQ_JOURNAL_SECRET": SECRET.decode()},
        ) as child,
        peers("host", "pupil", "late") as (host, pupil, late),
    ):  # fmt: skip
        server = child.server
        token = await sign_in(server, *server.teacher)
        room = await create_room(server, token)
        join = {"v": 1, "room": room["id"], "as": "user"}
        assert (await Follower(host, server.url, token).join(join))["ok"]
        pupil_token = await sign_in(server, *server.pupils[0])
        pupil_id = (await Follower(pupil, server.url, pupil_token).join(join))["you"]["id"]
        host_id = (await host.wait("room_state"))["you"]["id"]
        # A lesson of the journal, started now and ended while Redis is away.
        now = time.time()
        lesson = {"class_id": server.class_id, "subject": "Algebra", "starts_at": now,
                  "ends_at": now + 2700}  # fmt: skip
        status, made = await api(server, token, "POST", "/api/lessons", lesson)
        assert status == 201, made
        path = f"/api/lessons/{made['lesson']['id']}"
        assert (await api(server, token, "POST", f"{path}/start"))[0] == 200
        late_token = await sign_in(server, *server.pupils[1])

        camera = MediaClient(host, host_id, [])
        viewer = MediaClient(pupil, pupil_id, [])
        try:
            assert (await camera.publish("camera"))["ok"]
            await viewer.start()
            await viewer.wait_for(lambda: viewer.frames(host_id, "camera") >= 5)

            await redis.stop()
            stopped = time.monotonic()
            await until_ready_is(server.url, 503, within=5)
            _, body = await readyz(server.url)
            assert str(body["checks"]).count("error") == 1 and "redis" in str(body), body

            # The lesson in progress: chat, hands and media go on in the node that serves it.
            assert (await pupil.call("chat_send", {"text": "still here"}))["ok"]
            await host.wait("chat_message", lambda d: d["message"]["text"] == "still here")
            assert (await pupil.call("hand_raise", {"speak": True}))["ok"]
            await host.wait("hands", lambda d: [h["id"] for h in d["queue"]] == [pupil_id])
            frames = viewer.frames(host_id, "camera")
            await viewer.wait_for(lambda: viewer.frames(host_id, "camera") >= frames + 20)

            # A newcomer is refused with a retryable code and a sentence, and tries again.
            comer = Follower(late, server.url, late_token)
            entering = asyncio.create_task(comer.join(join, within=OUTAGE_S + 30))
            async with asyncio.timeout(10):
                while not comer.refusals:
                    await asyncio.sleep(0.05)  # until the refusal is recorded
            refusal = comer.refusals[0]
            assert refusal["code"] == "try_again_soon"
            assert refusal["retry_after_ms"] > 0
            assert refusal["message"] == MESSAGES[Reason.TRY_AGAIN_SOON]  # a sentence

            # The journal's delivery is queued while Redis is away (in the database).
            status, ended = await api(server, token, "POST", f"{path}/end", {})
            assert status == 200 and ended["queued"] > 0, ended

            queued = journal_rows(data)
            assert queued, "nothing was queued for the journal"
            # The outage lasts its 15 s: this waits for time, not for an event.
            await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
            assert not entering.done(), "a join got in while Redis was away"
            await redis.start()
            back = time.monotonic()
            # Ready again by itself, and the waiting newcomer gets in.
            await until_ready_is(server.url, 200, within=10)
            ack = await entering
            assert ack["ok"] and ack["status"] == "joined", ack
            assert time.monotonic() - back < 10
            assert (await late.call("chat_send", {"text": "made it"}))["ok"]
            await host.wait("chat_message", lambda d: d["message"]["text"] == "made it")
        finally:
            await camera.close()
            await viewer.close()

        await receiver.wait_for(lambda: len(receiver.records) >= len(queued))
        async with asyncio.timeout(10):  # the courier marks them delivered after the answers
            while set(journal_rows(data).values()) != {"delivered"}:
                await asyncio.sleep(0.05)
    # Nothing lost, nothing sent twice.
    states = journal_rows(data)
    assert set(states) == set(queued) == set(receiver.records)
    assert all(n == 1 for n in receiver.posts.values()), receiver.posts
