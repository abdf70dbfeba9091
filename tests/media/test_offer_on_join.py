"""`join` with `media: true`: the subscribe side opens with the join, and the first offer comes
without a `media_start` (one round trip less between opening a lesson and its first frame)."""

from __future__ import annotations

import pytest

from server.keys import SIGNALLING
from tests.conftest import LiveServer
from tests.integration.peers import guest_join, host_in_room, peers, sign_in

from .sio_media import MediaClient


@pytest.mark.timeout(60)
async def test_a_join_with_media_gets_the_offer_without_media_start(
    live_server: LiveServer,
) -> None:
    server = live_server
    async with peers("host", "pupil", "guest") as (host, pupil, guest):
        room = await host_in_room(server, host)
        host_id = (await host.wait("room_state"))["you"]["id"]
        teacher = MediaClient(host, host_id, [])
        try:
            assert (await teacher.publish("camera"))["ok"]
            await pupil.connect(server, await sign_in(server, *server.pupils[0]))
            viewer = MediaClient(pupil, "", [])
            ack = await pupil.call(
                "join", {"v": 1, "room": room["id"], "as": "user", "media": True}
            )
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
        finally:
            await teacher.close()
