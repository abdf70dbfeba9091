"""`join` with `media: true`: the subscribe side opens with the join, and the first offer comes
without a `media_start` (one round trip less between opening a lesson and its first frame)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from server.keys import SIGNALLING, STORE
from tests.conftest import LiveServer
from tests.integration.peers import guest_join, host_in_room, peers, sign_in

from .sio_media import MediaClient


@asynccontextmanager
async def publishing_teacher(
    server: LiveServer, host: Any, pupil: Any
) -> AsyncIterator[tuple[dict[str, Any], str]]:
    """The host's room with their camera published, and the pupil signed in (not joined):
    (room, the host's participant id). The camera is unpublished on every path."""
    room = await host_in_room(server, host)
    host_id = (await host.wait("room_state"))["you"]["id"]
    teacher = MediaClient(host, host_id, [])
    try:
        assert (await teacher.publish("camera"))["ok"]
        await pupil.connect(server, await sign_in(server, *server.pupils[0]))
        yield room, host_id
    finally:
        await teacher.close()


@pytest.mark.timeout(60)
async def test_a_join_with_media_gets_the_offer_without_media_start(
    live_server: LiveServer,
) -> None:
    server = live_server
    async with (
        peers("host", "pupil", "guest") as (host, pupil, guest),
        publishing_teacher(server, host, pupil) as (room, host_id),
    ):
        viewer = MediaClient(pupil, "", [])
        ack = await pupil.call("join", {"v": 1, "room": room["id"], "as": "user", "media": True})
        assert ack["ok"] and ack["status"] == "joined" and ack["ice_servers"] == []
        viewer.participant_id = ack["you"]["id"]
        # Never sent media_start: the offer comes by itself and its frames decode.
        await viewer.wait_for(lambda: viewer.answers >= 1)
        assert {t["participant_id"] for t in viewer.tiles.values()} == {host_id}
        await viewer.wait_for(lambda: viewer.frames(host_id, "camera") >= 5)
        await viewer.close()

        # A knocker has no media yet: `media` does nothing until they are let in.
        await guest.connect(server)
        waiting = await guest.call("join", {**guest_join(room["id"]), "media": True})
        assert waiting["ok"] and waiting["status"] == "waiting"
        peer = server.app[SIGNALLING].media._peers.get(waiting["you"]["id"])
        assert peer is None or peer.subscribe is None
        # Only a boolean is taken.
        bad = await guest.call("join", {**guest_join(room["id"]), "media": "yes"})
        assert bad["ok"] is False and bad["error"]["code"] == "invalid_payload"


async def test_a_join_that_may_not_knock_leaves_no_knock(live_server: LiveServer) -> None:
    # The room page tries `knock: false` before it knows who may go straight in.
    server = live_server
    async with peers("host", "pupil", "stranger", "guest") as (host, pupil, stranger, guest):
        room = await host_in_room(server, host, class_id=server.class_id)
        await server.app[STORE].create_user("stranger", "Other Pupil", "pupil", "pw-stranger-123")
        await stranger.connect(server, await sign_in(server, "stranger", "pw-stranger-123"))
        await guest.connect(server)
        for comer, payload in (
            (stranger, {"v": 1, "room": room["id"], "as": "user", "knock": False}),
            (guest, {**guest_join(room["id"]), "knock": False}),
        ):
            ack = await comer.call("join", payload)
            assert ack["ok"] is False and ack["error"]["code"] == "not_expected", ack
        # The same socket may still knock the ordinary way.
        ack = await stranger.call("join", {"v": 1, "room": room["id"], "as": "user"})
        assert ack["ok"] and ack["status"] == "waiting"
        lobby = await host.wait("lobby", lambda d: d["lobby"])
        assert [k["name"] for k in lobby["lobby"]] == ["Other Pupil"]

        await pupil.connect(server, await sign_in(server, *server.pupils[0]))
        ack = await pupil.call(
            "join", {"v": 1, "room": room["id"], "as": "user", "knock": False, "media": True}
        )
        assert ack["ok"] and ack["status"] == "joined"


@pytest.mark.timeout(60)
async def test_the_first_offer_comes_before_the_joins_ack(live_server: LiveServer) -> None:
    # The room page draws the room when the join's ack comes; an offer that is already there
    # is answered first, so ICE and DTLS come up while the page draws (docs/entry.md).
    server = live_server
    async with (
        peers("host", "pupil") as (host, pupil),
        publishing_teacher(server, host, pupil) as (room, _),
    ):
        order: list[str] = []
        pupil.sio.on("media_offer", lambda _data: order.append("media_offer"))
        ack = await pupil.call("join", {"v": 1, "room": room["id"], "as": "user", "media": True})
        order.append("ack")
        assert ack["ok"] and ack["status"] == "joined"
        assert order == ["media_offer", "ack"]
        # Offered once: the subscribe side has nothing more pending.
        peer = server.app[SIGNALLING].media._peers[ack["you"]["id"]]
        assert peer.offers == 1 and peer.subscribe is not None
        assert peer.subscribe.awaiting_answer
