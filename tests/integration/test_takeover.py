"""kill -9 of the node serving a room: the other node takes it over, and everyone resumes there
with roster, roles, hands, grants, the poll, the chat, the shared page and the lobby's decisions
as they were; attendance shows one gap."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from rooms.attendance import Departure, Presence, merge
from server.room_state import state_key
from tests.documents import samples
from tests.integration.nodes import Follower, nodes
from tests.integration.peers import Peer, create_room, guest_join, peers, sign_in
from tests.integration.server_process import free_port, server_process
from tests.integration.test_documents import _access, _upload

RESUME_WITHIN_S = 30.0


async def saved_state(redis_url: str, room_id: str) -> dict[str, Any]:
    client = Redis.from_url(redis_url)
    try:
        text = await client.hget(state_key(room_id), "room")  # type: ignore[misc]  # sync|async
    finally:
        await client.aclose()
    return {} if text is None else dict(json.loads(text))


def presence_of(data: Path, user_id: int) -> list[Presence]:
    with closing(sqlite3.connect(data / "sabaq.db")) as db:
        rows = db.execute(
            "SELECT joined_at, left_at, how FROM presence WHERE user_id = ? ORDER BY id", (user_id,)
        ).fetchall()
    return [Presence(j, left if left is not None else time.time(), Departure(how or "still_in"))
            for j, left, how in rows]  # fmt: skip


def last_resume(peer: Peer) -> str:
    token: str = peer.seen("room_state")[-1]["resume"]
    return token


@pytest.mark.timeout(150)
async def test_kill_9_of_the_rooms_node_and_everyone_resumes_on_the_other(
    data: Path, redis_url: str
) -> None:
    async with (
        nodes(data, redis_url) as (a, b),
        peers("host", "asker", "speaker") as (host, asker, speaker),
    ):
        token = await sign_in(a.server, *a.server.teacher)
        room = await create_room(a.server, token)
        join = {"v": 1, "room": room["id"], "as": "user"}
        teacher = Follower(host, a.server.url, token)
        assert (await teacher.join(join))["ok"]
        pupils = [
            Follower(peer, b.server.url, await sign_in(b.server, *b.server.pupils[i]))
            for i, peer in enumerate((asker, speaker))
        ]
        asker_id = (await pupils[0].join(join))["you"]["id"]
        speaker_id = (await pupils[1].join(join))["you"]["id"]
        owner, survivor = (a, b) if teacher.url == a.server.url else (b, a)

        # The lesson so far: chat, a raised hand, a grant, a poll with a vote.
        assert (await asker.call("chat_send", {"text": "before the crash"}))["ok"]
        assert (await asker.call("hand_raise", {"speak": True}))["ok"]
        await host.wait("hands", lambda d: [h["id"] for h in d["queue"]] == [asker_id])
        grant = {"participant": speaker_id, "speak": True, "video": False}
        assert (await host.call("rights_grant", grant))["ok"]
        poll = {"kind": "yes_no", "question": "Ready?", "launch": True}
        assert (await host.call("poll_create", poll))["ok"]
        poll_id = (await asker.wait("poll_opened"))["poll"]["id"]
        assert (await asker.call("poll_vote", {"poll": poll_id, "choices": [0]}))["ok"]
        # The state is written behind the changes: the crash comes once the vote is in Redis.
        async with asyncio.timeout(5):
            while not any(p["answers"] for p in (await saved_state(redis_url, room["id"]))
                          .get("polls", {}).values()):  # fmt: skip
                await asyncio.sleep(0.02)
        tokens = [last_resume(p) for p in (host, asker, speaker)]

        owner.process.kill()  # kill -9: no drain, no goodbye, no last write
        killed = time.monotonic()
        for peer in (host, asker, speaker):
            await peer.wait("disconnect")
            # python-socketio marks the client disconnected only after its handlers ran.
            while peer.sio.connected:
                await asyncio.sleep(0.01)
        # Each comes back through the surviving node, as the room page does after a lost node.
        for follower, resume in zip((teacher, *pupils), tokens, strict=True):
            follower.entry = follower.url = survivor.server.url
            follower.peer.events.clear()
            ack = await follower.join({**join, "resume": resume}, within=RESUME_WITHIN_S)
            assert ack["ok"] and ack["status"] == "joined", ack
        took = time.monotonic() - killed
        assert took < RESUME_WITHIN_S, survivor.output()
        assert f"room {room['id']} taken over: 3 people held" in survivor.output()

        # Roster and roles: everyone, as they were; the grant kept.
        state = await speaker.wait("room_state")
        people = {p["name"]: p for p in state["participants"]}
        assert len(people) == 3 and sorted(p["role"] for p in people.values()) == [
            "host", "participant", "participant"]  # fmt: skip
        assert state["you"]["mic"] is True  # the speaker's grant
        # Chat and the poll with its vote.
        assert [m["text"] for m in state["chat"]["messages"]] == ["before the crash"]
        host_state = host.seen("room_state")[-1]
        assert host_state["polls"][0]["results"]["voters"] == 1
        asker_state = asker.seen("room_state")[-1]
        assert asker_state["polls"][0]["your_answer"] is not None
        # The hand, back in the queue under the asker's new connection.
        asker_now = asker_state["you"]["id"]
        await host.wait("hands", lambda d: [h["id"] for h in d["queue"]] == [asker_now])
        assert asker_state["hand"]["position"] == 1
        # A clean stop writes what the survivor still had queued (a kill would lose it).
        survivor.signal(signal.SIGTERM)
        assert await survivor.exited(within=20) == 0, survivor.output()

    # Attendance: one stretch cut by the crash and resumed: one gap, not a leave and a join.
    with closing(sqlite3.connect(data / "sabaq.db")) as db:
        (user_id,) = db.execute(
            "SELECT user_id FROM presence WHERE name = ? LIMIT 1", (asker_state["you"]["name"],)
        ).fetchone()
    stretches = presence_of(data, user_id)
    assert len(stretches) == 2 and stretches[0].how is Departure.DISCONNECTED, stretches
    merged, gaps = merge(stretches, grace_s=60)
    assert len(merged) == 1 and len(gaps) == 1, (merged, gaps)


@pytest.mark.timeout(120)
async def test_a_drained_rooms_state_is_taken_up_by_the_next_process(
    data: Path, redis_url: str
) -> None:
    port = free_port()
    flags = ("--redis", redis_url, "--workers", "1", "--drain-seconds", "4")
    async with (
        server_process(data, *flags, port=port) as old,
        peers("host", "pupil") as (
            host,
            pupil,
        ),
    ):
        token = await sign_in(old.server, *old.server.teacher)
        room = await create_room(old.server, token)
        join = {"v": 1, "room": room["id"], "as": "user"}
        assert (await Follower(host, old.server.url, token).join(join))["ok"]
        pupil_token = await sign_in(old.server, *old.server.pupils[0])
        assert (await Follower(pupil, old.server.url, pupil_token).join(join))["ok"]
        assert (await pupil.call("chat_send", {"text": "before the restart"}))["ok"]
        assert (await pupil.call("hand_raise", {"speak": True}))["ok"]
        await host.wait("hands", lambda d: d["queue"])
        resume = last_resume(pupil)
        old.signal(signal.SIGTERM)
        await pupil.wait("server_restarting")
        for peer in (host, pupil):  # as the room page does at the news
            await peer.close()
        assert await old.exited(within=10) == 0, old.output()
    async with server_process(data, *flags, port=port) as new, peers("back") as (back,):
        comer = Follower(back, new.server.url, pupil_token)
        ack = await comer.join({**join, "resume": resume})
        assert ack["ok"] and ack["status"] == "joined", new.output()
        state = await back.wait("room_state")
        # The hand and the chat the drained process had, from its last state in Redis.
        assert state["hand"]["position"] == 1
        assert [m["text"] for m in state["chat"]["messages"]] == ["before the restart"]


async def saved_until(redis_url: str, room_id: str, done: Callable[[dict[str, Any]], bool]) -> None:
    """Wait until the room's state in Redis shows `done` (it is written behind the changes)."""
    async with asyncio.timeout(5):
        while not done(await saved_state(redis_url, room_id)):
            await asyncio.sleep(0.02)


async def back_on(follower: Follower, node: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The follower's join through the surviving node, once its socket to the dead one closed."""
    if follower.peer.sio.connected:
        await follower.peer.wait("disconnect")
    while follower.peer.sio.connected:  # marked disconnected only after its handlers ran
        await asyncio.sleep(0.01)
    follower.entry = follower.url = node
    follower.peer.events.clear()
    return await follower.join(payload, within=RESUME_WITHIN_S)


@pytest.mark.timeout(150)
async def test_the_shared_page_and_the_lobbys_decisions_outlive_a_kill_9(
    data: Path, redis_url: str, tmp_path: Path
) -> None:
    async with (
        nodes(data, redis_url) as (a, b),
        peers("host", "admitted", "removed", "denied") as (host, admitted, removed, denied),
    ):
        token = await sign_in(a.server, *a.server.teacher)
        room = await create_room(a.server, token)
        teacher = Follower(host, a.server.url, token)
        assert (await teacher.join({"v": 1, "room": room["id"], "as": "user"}))["ok"]
        owner, survivor = (a, b) if teacher.url == a.server.url else (b, a)

        # A three-page PDF on the stage, moved to page 2.
        pdf = samples.pdf(tmp_path / "lesson.pdf", 3).read_bytes()
        status, answer = await _upload(owner.server, room["id"], await _access(host), pdf)
        assert status == 201, answer
        document = answer["document"]["id"]
        await host.wait("document_progress", lambda d: d["page"] == 3)
        assert (await host.call("share_document", {"document": document}))["ok"]
        assert (await host.call("set_page", {"page": 2}))["ok"]

        # The lobby: one guest admitted, one admitted then removed, one denied at the door.
        guests = {
            peer: Follower(peer, owner.server.url)
            for peer in (admitted, removed, denied)
        }  # fmt: skip
        resumes: dict[Peer, str] = {}
        for peer, follower in guests.items():
            ack = await follower.join(guest_join(room["id"], name=peer.name))
            assert ack["status"] == "waiting", ack
            knock = ack["you"]["id"]
            await host.wait("lobby", lambda d, k=knock: [x["id"] for x in d["lobby"]] == [k])
            if peer is denied:
                assert (await host.call("deny", {"participant": knock}))["ok"]
                await denied.wait("denied")
                continue
            assert (await host.call("admit", {"participant": knock}))["ok"]
            await peer.wait("room_state")
            resumes[peer] = last_resume(peer)
        removed_id = removed.seen("room_state")[-1]["you"]["id"]
        assert (await host.call("remove", {"participant": removed_id}))["ok"]
        await removed.wait("removed")
        await saved_until(
            redis_url,
            room["id"],
            lambda s: bool(s.get("removed")) and (s.get("share") or {}).get("page") == 2,
        )
        host_resume = last_resume(host)

        owner.process.kill()  # kill -9
        join = {"v": 1, "room": room["id"], "as": "user", "resume": host_resume}
        ack = await back_on(teacher, survivor.server.url, join)
        assert ack["ok"] and ack["status"] == "joined", ack
        # The document and its page, as the host left them.
        share = (await host.wait("room_state"))["share"]
        assert share is not None, survivor.output()
        assert (share["document"]["id"], share["page"]) == (document, 2)

        # The admitted guest comes back in without knocking ...
        back = guest_join(room["id"], name=admitted.name) | {"resume": resumes[admitted]}
        ack = await back_on(guests[admitted], survivor.server.url, back)
        assert ack["status"] == "joined", ack
        assert (await admitted.wait("room_state"))["share"]["page"] == 2
        # ... the removed one knocks again, though it holds a resume token ...
        back = guest_join(room["id"], name=removed.name) | {"resume": resumes[removed]}
        ack = await back_on(guests[removed], survivor.server.url, back)
        assert ack["status"] == "waiting", ack
        # ... and a denial is an answer to one knock, not a ban: the denied guest knocks again.
        ack = await back_on(
            guests[denied], survivor.server.url, guest_join(room["id"], name=denied.name)
        )
        assert ack["status"] == "waiting", ack
        await host.wait(
            "lobby", lambda d: sorted(k["name"] for k in d["lobby"]) == ["denied", "removed"]
        )

        # The page images are in the shared data folder: the surviving node serves them.
        url = f"{survivor.server.url}/api/rooms/{room['id']}/documents/{document}/2-1280.webp"
        async with aiohttp.ClientSession() as http:
            page = await http.get(url, params={"access": await _access(admitted)})
            assert page.status == 200 and (await page.read())[8:12] == b"WEBP"
