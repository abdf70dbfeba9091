"""The SFU wired into the product: aiortc clients through the real server and socket.io."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import server.media_signalling
import server.signalling
from media.router import AiortcRouter
from rooms.commands import Tick
from server.keys import SIGNALLING
from server.media_signalling import MediaSignalling
from tests.conftest import LiveServer
from tests.integration.peers import Peer, peers
from tests.integration.test_classroom import classroom

from .sio_media import MediaClient
from .test_no_transcoding import CodecSpy


def hub(server: LiveServer) -> MediaSignalling:
    return server.app[SIGNALLING].media


def routers(server: LiveServer) -> list[AiortcRouter]:
    return list(hub(server)._routers.values())


async def media_clients(server: LiveServer, host: Peer, *pupils: Peer) -> list[MediaClient]:
    """A classroom (host + pupils of the class), everyone's subscribe side started."""
    _, ids = await classroom(server, host, *pupils)
    host_id = (await host.wait("room_state"))["you"]["id"]
    clients = [
        MediaClient(peer, pid, [])
        for peer, pid in zip((host, *pupils), (host_id, *ids), strict=True)
    ]
    for client in clients:
        await client.start()
    return clients


def receives(client: MediaClient, pid: str, **frames: int) -> Callable[[], bool]:
    """Condition: the client decoded at least this many frames of each of pid's sources."""
    return lambda: all(client.frames(pid, source) >= n for source, n in frames.items())


def tiles_are(client: MediaClient, pid: str, sources: set[str]) -> Callable[[], bool]:
    """Condition: the client's latest offer has exactly these tiles of pid."""
    return lambda: client.live_tiles(pid) == sources


def no_tiles_of(client: MediaClient, pid: str) -> Callable[[], bool]:
    """Condition: the client's latest offer has no tile of pid."""
    return lambda: not client.live_tiles(pid)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch, live_server: LiveServer) -> Iterator[CodecSpy]:
    yield CodecSpy(AiortcRouter(), more=lambda: routers(live_server)).install(monkeypatch)


@pytest.mark.timeout(60)
async def test_teacher_publishes_pupils_decode(live_server: LiveServer, spy: CodecSpy) -> None:
    async with peers("host", "a", "b") as (host, a, b):
        teacher, pupil_a, pupil_b = await media_clients(live_server, host, a, b)
        try:
            ack = await teacher.publish("mic", "camera")
            assert ack["ok"], ack
            tid = teacher.participant_id
            for pupil in (pupil_a, pupil_b):
                await pupil.wait_for(receives(pupil, tid, camera=20, mic=20))
                assert pupil.live_tiles(tid) == {"mic", "camera"}
            # Hard rule: every connection, both ends, on 127.0.0.1.
            assert all(c.loopback_only() for c in (teacher, pupil_a, pupil_b))
            # The clients encode and decode; the server never does, on the wired path too.
            assert "encoder video/VP8" in spy.client and "decoder video/VP8" in spy.client
            assert "decoder audio/opus" in spy.client
            assert spy.server == []

            unpublished = await host.call("media_unpublish", {"source": "mic"})
            assert unpublished == {"ok": True, "closed": True}
            for pupil in (pupil_a, pupil_b):
                await pupil.wait_for(tiles_are(pupil, tid, {"camera"}))
        finally:
            for c in (teacher, pupil_a, pupil_b):
                await c.close()


@pytest.mark.timeout(60)
async def test_rights_gate_publishing_and_revoking_closes_the_producer(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a", "b") as (host, a, b):
        teacher, pupil, other = await media_clients(live_server, host, a, b)
        pid = pupil.participant_id
        try:
            refused = await pupil.publish("mic")
            assert refused["ok"] is False and refused["error"]["code"] == "not_permitted"
            assert [p.participant_id for r in routers(live_server) for p in r.producers()] == []
            assert (await pupil.publish("camera"))["error"]["code"] == "not_permitted"

            grant = {"participant": pid, "speak": True, "video": False}
            assert (await host.call("rights_grant", grant))["ok"]
            await a.wait("participant_updated", lambda d: d["participant"]["mic"])
            # Only the new mic is checked: the refused m-lines are inactive now.
            assert (await pupil.publish("mic"))["ok"]
            for viewer in (teacher, other):
                await viewer.wait_for(receives(viewer, pid, mic=20))
            # Video was not granted: still refused; screen sharing is for hosts and presenters.
            assert (await pupil.publish("camera"))["error"]["code"] == "not_permitted"
            assert (await pupil.publish("screen"))["error"]["code"] == "not_permitted"
            assert (await a.call("media_unpublish", {"source": "camera"})) == {
                "ok": True,
                "closed": False,
            }

            answers = other.answers
            assert (await host.call("rights_revoke", {"participant": pid}))["ok"]
            await pupil.wait_for(lambda: "mic" in pupil.closed_sources)
            assert not [p for r in routers(live_server) for p in r.producers()]
            for viewer in (teacher, other):
                await viewer.wait_for(no_tiles_of(viewer, pid))
            assert other.answers > answers

            # A role change takes rights away too: a presenter's camera stops with the role.
            role = {"participant": pid, "role": "presenter"}
            assert (await host.call("set_role", role))["ok"]
            await a.wait("participant_updated", lambda d: d["participant"]["role"] == "presenter")
            assert (await pupil.publish("camera"))["ok"]
            await other.wait_for(receives(other, pid, camera=10))
            assert (await host.call("set_role", {**role, "role": "participant"}))["ok"]
            await pupil.wait_for(lambda: "camera" in pupil.closed_sources)
            await other.wait_for(no_tiles_of(other, pid))
        finally:
            for c in (teacher, pupil, other):
                await c.close()


@pytest.mark.timeout(60)
async def test_leaving_closes_consumers_everywhere_and_the_empty_room_its_router(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a", "b") as (host, a, b):
        teacher, pupil_a, pupil_b = await media_clients(live_server, host, a, b)
        tid = teacher.participant_id
        try:
            assert (await teacher.publish("camera"))["ok"]
            for pupil in (pupil_a, pupil_b):
                await pupil.wait_for(receives(pupil, tid, camera=10))
            (router,) = routers(live_server)
            viewers = [c for p in router.producers() for c in p.consumers]
            assert len(viewers) == 2

            await host.close()  # the teacher's socket drops: they are out of the room
            for pupil in (pupil_a, pupil_b):
                await pupil.wait_for(no_tiles_of(pupil, tid))
            assert all(c.closed for c in viewers)
            assert router.producers() == []
            assert not [t for t in router.transports if t.participant_id == tid]

            assert (await a.call("leave", {}))["ok"]
            assert (await b.call("leave", {}))["ok"]
            assert router.closed and routers(live_server) == []
        finally:
            for c in (teacher, pupil_a, pupil_b):
                await c.close()


@pytest.mark.timeout(30)
async def test_media_events_are_validated(live_server: LiveServer) -> None:
    async with peers("host", "a") as (host, a):
        teacher, pupil = await media_clients(live_server, host, a)
        try:
            bad = await host.call("media_publish", {"sdp": "garbage", "sources": {}})
            assert bad["error"]["code"] == "invalid_sdp"
            wrong = await host.call("media_publish", {"sdp": "v=0", "sources": {"0": "speaker"}})
            assert wrong["error"]["code"] == "invalid_payload"
            extra = await host.call("media_answer", {"sdp": "v=0", "you": "host"})
            assert extra["error"]["code"] == "invalid_payload"
            assert (await a.call("media_answer", {"sdp": "v=0"}))["error"]["code"] == "invalid_sdp"
            # A video m-line labelled as the mic is refused before anything is produced.
            assert teacher.up is None
            ack = await teacher.publish("camera")
            assert ack["ok"]
            assert teacher.up is not None
            mid = teacher.sending["camera"][0]
            mislabelled = await host.call(
                "media_publish", {"sdp": teacher.up.localDescription.sdp, "sources": {mid: "mic"}}
            )
            assert mislabelled["error"]["code"] == "invalid_payload"
            assert (await a.call("leave", {}))["ok"]
            gone = await a.call("media_start", {})
            assert gone["error"]["code"] == "not_joined"
        finally:
            await teacher.close()
            await pupil.close()


class _LaterClock:
    """The server's clock, moved forward: a timed grant runs out without waiting for it."""

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead

    def time(self) -> float:
        return time.time() + self.ahead

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.mark.timeout(60)
async def test_timed_grant_running_out_closes_the_producer(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with peers("host", "a") as (host, a):
        teacher, pupil = await media_clients(live_server, host, a)
        pid = pupil.participant_id
        try:
            grant = {"participant": pid, "speak": True, "video": False, "seconds": 10}
            assert (await host.call("rights_grant", grant))["ok"]
            assert (await pupil.publish("mic"))["ok"]
            await teacher.wait_for(receives(teacher, pid, mic=10))
            # What the room's timer does at the deadline, 11 s early on the server's clock.
            monkeypatch.setattr(server.signalling, "time", _LaterClock(11))
            room_id = next(iter(hub(live_server)._routers))
            await live_server.app[SIGNALLING].apply_to_room(room_id, Tick())
            await pupil.wait_for(lambda: "mic" in pupil.closed_sources)
            await teacher.wait_for(no_tiles_of(teacher, pid))
            assert not [p for r in routers(live_server) for p in r.producers()]
        finally:
            await teacher.close()
            await pupil.close()


class _TestClock:
    """The signalling's monotonic clock, moved only by the test (rate limits without waiting,
    and without a slow machine's pauses lifting them)."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now


@pytest.mark.timeout(30)
async def test_connection_readings_reach_hosts_only(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with peers("host", "a", "b") as (host, a, b):
        _, (a_id, b_id) = await classroom(live_server, host, a, b)
        clock = _TestClock()
        monkeypatch.setattr(server.media_signalling, "time", clock)
        reading = {"level": "poor", "delay_ms": 420, "rtt_ms": 610, "loss_pct": 12.5}
        assert (await a.call("media_quality", reading))["ok"]
        # Each received video's capture-time line (none here: no media), twice a second at most.
        assert await a.call("media_clock", {}) == {"ok": True, "capture": {}}
        assert (await a.call("media_clock", {}))["error"]["code"] == "rate_limited"
        assert (await a.call("media_clock", {"x": 1}))["error"]["code"] == "invalid_payload"
        assert await host.wait("participant_quality") == {"participant": a_id, **reading}
        # Again within a second: refused, and not passed on.
        fair = {**reading, "level": "fair", "loss_pct": 3}
        assert (await a.call("media_quality", fair))["error"]["code"] == "rate_limited"
        clock.now += 1
        assert (await a.call("media_quality", fair))["ok"]
        await host.wait("participant_quality", lambda d: d["level"] == "fair")
        for bad in (
            {**reading, "level": "great"},
            {**reading, "rtt_ms": -1},
            {**reading, "delay_ms": "5"},
            {**reading, "delay_ms": True},
            {**reading, "loss_pct": 101},
            {**reading, "you": a_id},
            {**reading, "jitter_ms": -1},
            {**reading, "kbps_in": 1_000_001},
            {**reading, "kbps_out": 1.5},
            {**reading, "video_height": 4321},
            {**reading, "video": "maybe"},
            {**reading, "encode_ms": {"1/h": -1}},
            {**reading, "encode_ms": {"": 3}},
            {**reading, "encode_ms": {"1/h": "3"}},
            {**reading, "encode_ms": {f"{i}/h": 3 for i in range(17)}},
            {"level": "good"},
            None,
        ):
            ack = await b.call("media_quality", bad)
            assert ack["error"]["code"] == "invalid_payload", bad
            assert ack["error"]["message"], bad
        # The host's view's figures (web/src/linkstats.js) are passed on as sent.
        full = {
            **reading,
            "loss_pct": 0,
            "jitter_ms": 7,
            "kbps_in": 1450,
            "kbps_out": 0,
            "video_height": 480,
            "video": "ok",
        }
        # The publisher's encoding times (media/clock.py StampCheck) stay on the server.
        assert (await b.call("media_quality", {**full, "encode_ms": {"1/h": 6.5}}))["ok"]
        assert await host.wait("participant_quality", lambda d: d["participant"] == b_id) == {
            "participant": b_id,
            **full,
        }
        # Each pupil's ack came after the emit to staff: a pupil in that audience would have
        # seen the event first.
        assert a.seen("participant_quality") == [] and b.seen("participant_quality") == []
        sent = [(d["participant"], d["level"]) for d in host.seen("participant_quality")]
        assert sent == [(a_id, "poor"), (a_id, "fair"), (b_id, "poor")]


@pytest.mark.timeout(30)
async def test_a_viewers_jitter_reading_chooses_how_its_browser_shows_video(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A viewer's page reads its line's jitter (`media_quality.jitter_ms`): a jittery line has
    its subscribe side ask for the browser's own smoothing, a steady one low-latency rendering
    again after three readings (media/playout.py; the packets: test_playout_delay.py)."""
    async with peers("host", "a") as (host, a):
        _, pupil = await media_clients(live_server, host, a)
        clock = _TestClock()
        monkeypatch.setattr(server.media_signalling, "time", clock)
        playout = hub(live_server)._peers[pupil.participant_id].subscribe.playout  # type: ignore[union-attr]
        assert playout is not None and playout.delay_ms == (0, 200)  # the default setting
        reading = {"level": "good", "delay_ms": 40, "rtt_ms": 2, "loss_pct": 0}
        readings = [40, 2, 2, 2]
        seen = []
        for jitter in readings:
            clock.now += 1
            assert (await a.call("media_quality", {**reading, "jitter_ms": jitter}))["ok"]
            seen.append(playout.delay_ms)
        assert seen == [(0, 10_000), (0, 10_000), (0, 10_000), (0, 200)]


@pytest.mark.timeout(60)
async def test_readings_carry_the_layer_the_server_forwards_each_video(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's view learns from the server which layer each viewer is forwarded of each
    video, its picture's height (read from the VP8 keyframe header, not decoded) and what
    holds it there; a viewer without a subscribe side gets no such field."""
    async with peers("host", "a") as (host, a):
        teacher, pupil = await media_clients(live_server, host, a)
        tid, pid = teacher.participant_id, pupil.participant_id
        try:
            clock = _TestClock()
            monkeypatch.setattr(server.media_signalling, "time", clock)
            assert (await teacher.publish("camera", "mic"))["ok"]
            await pupil.wait_for(receives(pupil, tid, camera=10, mic=10))
            reading = {"level": "good", "delay_ms": 40, "rtt_ms": 2, "loss_pct": 0}
            assert (await a.call("media_quality", reading))["ok"]
            got = await host.wait("participant_quality", lambda d: d["participant"] == pid)
            camera = {"from": tid, "source": "camera", "layer": 0, "layers": 1}
            # aiortc publishes one encoding (no simulcast): its only layer, 240 lines.
            assert got == {
                "participant": pid,
                **reading,
                "received": [{**camera, "height": 240, "limit": "none", "paused": False}],
            }
            # The pupil turns others' cameras off: the copy is there, paused.
            assert (await a.call("media_receive", {"cameras": False}))["ok"]
            clock.now += 1
            assert (await a.call("media_quality", reading))["ok"]
            got = await host.wait(
                "participant_quality",
                lambda d: d["participant"] == pid and d["received"][0]["paused"],
            )
            assert got["received"] == [{**camera, "height": 240, "limit": "none", "paused": True}]
            # The teacher's own reading: it receives no video, so the list is empty.
            assert (await host.call("media_quality", reading))["ok"]
            got = await host.wait("participant_quality", lambda d: d["participant"] == tid)
            assert got["received"] == []
        finally:
            await teacher.close()
            await pupil.close()


@pytest.mark.timeout(60)
async def test_a_pupil_turns_cameras_off_and_it_holds_over_a_new_subscribe_side(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with peers("host", "a") as (host, a):
        teacher, pupil = await media_clients(live_server, host, a)
        tid = teacher.participant_id
        try:
            assert (await teacher.publish("camera", "mic"))["ok"]
            await pupil.wait_for(receives(pupil, tid, camera=10, mic=10))
            clock = _TestClock()
            monkeypatch.setattr(server.media_signalling, "time", clock)
            for bad in ({"cameras": "off"}, {"cameras": 0}, {}, {"cameras": False, "mic": True}):
                ack = await a.call("media_receive", bad)
                assert ack["error"]["code"] == "invalid_payload", bad
            assert await a.call("media_receive", {"cameras": False}) == {"ok": True, "changed": 1}
            again = await a.call("media_receive", {"cameras": True})
            assert again["error"]["code"] == "rate_limited"  # a button, not a stream of toggles
            (router,) = routers(live_server)

            def copies(source: str) -> list[Any]:
                return [
                    c
                    for p in router.producers()
                    if p.source == source
                    for c in p.consumers
                    if c.participant_id == pupil.participant_id and not c.closed
                ]

            assert [c.paused for c in copies("camera")] == [True]
            assert [c.paused for c in copies("mic")] == [False]
            # media.js starts its subscribe side over after a network blip: still off.
            await pupil.restart()
            await pupil.wait_for(receives(pupil, tid, mic=10))
            await pupil.wait_for(lambda: len(copies("camera")) == 1)
            assert [c.paused for c in copies("camera")] == [True]
            clock.now += 0.5
            assert await a.call("media_receive", {"cameras": True}) == {"ok": True, "changed": 1}
            assert [c.paused for c in copies("camera")] == [False]
        finally:
            await teacher.close()
            await pupil.close()
