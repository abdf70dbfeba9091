"""The SFU through the real server when clients misbehave or lose their connection."""

from __future__ import annotations

import dataclasses
import time

import pytest

from media.consumer import AiortcConsumer
from media.router import AiortcRouter
from tests.conftest import LiveServer
from tests.integration.peers import peers, sign_in

from .sio_media import MediaClient
from .test_signalling import hub, media_clients, no_tiles_of, receives, routers, tiles_are

# Short enough for a test, long enough for an answering aiortc viewer on a loaded machine.
OFFER_TIMEOUT_S = 5.0


async def on_air(
    server: LiveServer, teacher: MediaClient, pupil: MediaClient
) -> tuple[AiortcRouter, list[AiortcConsumer]]:
    """The teacher publishes mic and camera and the pupil receives both: the room's router and
    its consumers at that moment (there are some)."""
    assert (await teacher.publish("mic", "camera"))["ok"]
    await pupil.wait_for(receives(pupil, teacher.participant_id, camera=10, mic=10))
    (router,) = routers(server)
    consumers = [c for p in router.producers() for c in p.consumers]
    assert consumers
    return router, consumers


@pytest.mark.timeout(90)
async def test_a_viewer_that_never_answers_is_closed_and_holds_nobody_up(
    live_server: LiveServer,
) -> None:
    media = hub(live_server)
    media.settings = dataclasses.replace(media.settings, offer_timeout_s=OFFER_TIMEOUT_S)
    async with peers("host", "a", "b") as (host, a, b):
        teacher, silent, viewer = await media_clients(live_server, host, a, b)
        silent.answering = False
        tid, sid = teacher.participant_id, silent.participant_id
        try:
            assert (await teacher.publish("camera"))["ok"]
            await viewer.wait_for(receives(viewer, tid, camera=10))
            await silent.wait_for(lambda: silent.ignored == 1)

            # A new producer while the silent viewer's offer is still open: the other viewer
            # is offered it at once, not after the silent one's timeout.
            published = time.monotonic()
            assert (await teacher.publish("mic"))["ok"]
            await viewer.wait_for(tiles_are(viewer, tid, {"camera", "mic"}), OFFER_TIMEOUT_S)
            assert time.monotonic() - published < OFFER_TIMEOUT_S
            assert silent.closed_connections == []  # the viewer did not wait for its timeout
            await viewer.wait_for(receives(viewer, tid, mic=10))

            # The unanswered offer is abandoned: the silent viewer's subscribe side is closed,
            # with a reason the client acts on, and its consumers are gone from the router.
            await silent.wait_for(
                lambda: silent.closed_connections == [("subscribe", "offer_timeout")]
            )
            assert silent.ignored == 1  # the mic never reached it: its view was stalled
            (router,) = routers(live_server)
            assert not [t for t in router.transports if t.participant_id == sid]
            assert not [c for p in router.producers() for c in p.consumers if c.viewer_id == sid]
            assert len([c for p in router.producers() for c in p.consumers]) == 2  # the viewer's

            # It starts answering and starts over: it gets everything there is to see.
            silent.answering = True
            await silent.restart()
            await silent.wait_for(receives(silent, tid, camera=10, mic=10))
            assert silent.live_tiles(tid) == {"camera", "mic"}

            # Later changes reach both viewers again.
            assert (await host.call("media_unpublish", {"source": "mic"}))["ok"]
            for client in (silent, viewer):
                await client.wait_for(tiles_are(client, tid, {"camera"}))
            assert silent.closed_connections == [("subscribe", "offer_timeout")]
        finally:
            for c in (teacher, silent, viewer):
                await c.close()


@pytest.mark.timeout(90)
async def test_publisher_back_after_a_network_blip_is_seen_again_and_leaves_nothing_behind(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a", "back") as (host, a, back):
        teacher, pupil = await media_clients(live_server, host, a)
        old = teacher.participant_id
        again: MediaClient | None = None
        try:
            router, old_consumers = await on_air(live_server, teacher, pupil)
            resume = host.seen("room_state")[-1]["resume"]
            room_id = host.seen("room_state")[-1]["room"]["id"]

            # The connection drops (no socket.io goodbye) and the client comes straight back on
            # a new socket with its resume token, while its old peer connections still exist.
            assert host.sio.eio.ws is not None
            await host.sio.eio.ws.close()
            await back.connect(live_server, await sign_in(live_server, *live_server.teacher))
            ack = await back.call("join", {"v": 1, "room": room_id, "as": "user", "resume": resume})
            assert ack["ok"] and ack["status"] == "joined", ack
            new = ack["you"]["id"]
            assert ack["you"]["role"] == "host"

            # The old connection's media is gone, for the viewer and in the router.
            await pupil.wait_for(no_tiles_of(pupil, old))
            assert all(c.closed for c in old_consumers)
            assert not [t for t in router.transports if t.participant_id == old]
            assert not [p for p in router.producers() if p.participant_id == old]
            assert not [c for t in router.transports for c in t.consumers if c.viewer_id == old]
            await teacher.close()  # the client drops its old peer connections too

            # media_start + publish again: everyone receives the new producers.
            again = MediaClient(back, new, [])
            await again.start()
            assert (await again.publish("mic", "camera"))["ok"]
            await pupil.wait_for(receives(pupil, new, camera=10, mic=10))
            assert pupil.live_tiles(new) == {"mic", "camera"}
            assert {p.participant_id for p in router.producers()} == {new}
            assert [
                t.participant_id
                for t in router.transports
                if t.participant_id != pupil.participant_id
            ] == [new, new]
        finally:
            for c in (teacher, pupil, *([again] if again else [])):
                await c.close()


@pytest.mark.timeout(90)
async def test_publisher_back_before_the_server_noticed_the_drop_leaves_nothing_behind(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a", "back") as (host, a, back):
        teacher, pupil = await media_clients(live_server, host, a)
        old = teacher.participant_id
        again: MediaClient | None = None
        try:
            router, old_consumers = await on_air(live_server, teacher, pupil)
            state = host.seen("room_state")[-1]

            # A half-open drop: the client gave up on its socket (as after a network change)
            # but the server will only notice at its ping timeout (tens of seconds): here the
            # old socket simply stays open. The client closes its old peer connections
            # (web/src/media.js restart()) and comes back on a new socket with its token.
            await teacher.close()
            await back.connect(live_server, await sign_in(live_server, *live_server.teacher))
            join = {"v": 1, "room": state["room"]["id"], "as": "user", "resume": state["resume"]}
            ack = await back.call("join", join)
            assert ack["ok"] and ack["status"] == "joined", ack
            new = ack["you"]["id"]

            # The server closes the old connections when the client closes them: their
            # producers go, and so do the viewer's tiles of them, without waiting for the
            # old socket's timeout.
            await pupil.wait_for(no_tiles_of(pupil, old))
            assert host.sio.connected  # the old socket is still there
            lost = ("publish", "connection_lost")  # what a client still on it would be told
            await teacher.wait_for(lambda: lost in teacher.closed_connections)
            assert all(c.closed for c in old_consumers)
            assert not [p for p in router.producers() if p.participant_id == old]
            # The same person joined again, so the old participant was replaced at once: none
            # of its connections is left (not even the subscribe one that never connected),
            # and the old socket was told not to come back.
            assert [t.role for t in router.transports if t.participant_id == old] == []
            await host.wait("replaced")

            again = MediaClient(back, new, [])
            await again.start()
            assert (await again.publish("mic", "camera"))["ok"]
            await pupil.wait_for(receives(pupil, new, camera=10, mic=10))
            assert {p.participant_id for p in router.producers()} == {new}
        finally:
            for c in (teacher, pupil, *([again] if again else [])):
                await c.close()
