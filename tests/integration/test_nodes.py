"""Two `sabaq serve --redis` processes: one room lives on one node and is reachable from both."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from media.aiortc_hooks import install_host_address
from server.ownership import room_key
from tests.integration.nodes import Follower, nodes
from tests.integration.peers import create_room, peers, sign_in
from tests.media.sio_media import MediaClient


@pytest.mark.timeout(120)
async def test_teacher_on_one_node_and_pupil_on_the_other_share_one_room(
    data: Path, redis_url: str
) -> None:
    install_host_address("127.0.0.1")  # the test's aiortc peers gather on loopback only
    async with nodes(data, redis_url) as (a, b), peers("host", "pupil") as (host, pupil):
        token = await sign_in(a.server, *a.server.teacher)
        room = await create_room(a.server, token)
        join = {"v": 1, "room": room["id"], "as": "user"}
        # The teacher comes in through node A, the pupil through node B.
        teacher = Follower(host, a.server.url, token)
        assert (await teacher.join(join))["you"]["role"] == "host"
        learner = Follower(pupil, b.server.url, await sign_in(b.server, *b.server.pupils[0]))
        pupil_id = (await learner.join(join))["you"]["id"]

        # One of them was sent to the other node, and both are where the lease says.
        assert len(teacher.redirects) + len(learner.redirects) == 1
        assert teacher.url == learner.url
        client = Redis.from_url(redis_url)
        owner = (await client.get(room_key(room["id"])) or b"").decode()
        url = (await client.get(f"sabaq:node:{owner}") or b"").decode()
        await client.aclose()
        assert url == teacher.url

        # The pupil's list has the teacher (the broken room of issue 15 showed only himself).
        state = await pupil.wait("room_state")
        assert {p["role"] for p in state["participants"]} == {"host", "participant"}
        await host.wait("participant_joined", lambda d: d["participant"]["id"] == pupil_id)

        # Chat both ways.
        assert (await pupil.call("chat_send", {"text": "hello from B"}))["ok"]
        await host.wait("chat_message", lambda d: d["message"]["text"] == "hello from B")
        assert (await host.call("chat_send", {"text": "hello from A"}))["ok"]
        await pupil.wait("chat_message", lambda d: d["message"]["text"] == "hello from A")

        # A hand, seen by the teacher and granted.
        assert (await pupil.call("hand_raise", {"speak": True}))["ok"]
        hands = await host.wait("hands", lambda d: d["queue"])
        assert [h["id"] for h in hands["queue"]] == [pupil_id]
        grant = {"participant": pupil_id, "speak": True, "video": False}
        assert (await host.call("rights_grant", grant))["ok"]
        await pupil.wait("participant_updated", lambda d: d["participant"]["mic"])

        # A poll answered.
        poll = {"kind": "yes_no", "question": "Ready?", "launch": True}
        assert (await host.call("poll_create", poll))["ok"]
        opened = (await pupil.wait("poll_opened"))["poll"]
        assert (await pupil.call("poll_vote", {"poll": opened["id"], "choices": [0]}))["ok"]
        await host.wait("poll_updated", lambda d: d["poll"]["results"]["voters"] == 1)

        # Media: the teacher's camera reaches the pupil, the pupil's mic the teacher.
        host_id = state_host = next(p["id"] for p in state["participants"] if p["role"] == "host")
        camera = MediaClient(host, host_id, [])
        viewer = MediaClient(pupil, pupil_id, [])
        try:
            assert (await camera.publish("camera"))["ok"]
            await viewer.start()
            await viewer.wait_for(lambda: viewer.frames(state_host, "camera") >= 5)
            assert (await viewer.publish("mic"))["ok"]
            await camera.start()
            await camera.wait_for(lambda: camera.frames(pupil_id, "mic") >= 5)
        finally:
            await camera.close()
            await viewer.close()


@pytest.mark.timeout(60)
async def test_an_unknown_room_takes_no_lease(data: Path, redis_url: str) -> None:
    async with nodes(data, redis_url, 1) as (a,), peers("guest") as (guest,):
        comer = Follower(guest, a.server.url)
        ack = await comer.join({"v": 1, "room": "no-such-room", "as": "guest", "name": "A",
                                "institution": "B"})  # fmt: skip
        assert ack["error"]["code"] == "unknown_room"
        client = Redis.from_url(redis_url)
        assert await client.get(room_key("no-such-room")) is None
        await client.aclose()
