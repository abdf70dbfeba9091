"""Recording through the product: the school's rule, the host's command, everyone told, the
files and the timeline with the pages at the times they changed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import av
import pytest

from tests.conftest import LiveServer
from tests.documents import samples
from tests.integration.peers import peers
from tests.integration.test_documents import _access, _upload
from tests.journal.helpers import admin, api

from .test_signalling import media_clients, receives

pytestmark = pytest.mark.timeout(90)


async def allow_recording(server: LiveServer, rule: str, quota_mb: int = 2000) -> None:
    boss = await admin(server)
    body = {"recording": rule, "recording_quota_mb": quota_mb}
    status, settings = await api(server, boss, "PUT", "/api/admin/school", body)
    assert status == 200 and settings["recording"] == rule, settings


async def test_recording_is_refused_where_the_school_does_not_allow_it(
    live_server: LiveServer,
) -> None:
    async with peers("host", "a") as (host, a):
        teacher, pupil = await media_clients(live_server, host, a)
        try:
            state = await a.wait("room_state")
            assert state["recording"]["allowed"] is False and state["recording"]["on"] is False
            refused = await host.call("start_recording", {})
            assert refused["error"]["code"] == "not_permitted", refused
            assert refused["error"]["message"]
            assert a.seen("recording") == []
        finally:
            for c in (teacher, pupil):
                await c.close()


async def test_the_host_records_a_lesson_and_its_pages(
    live_server: LiveServer, tmp_path: Path
) -> None:
    await allow_recording(live_server, "hosts")
    async with peers("host", "a") as (host, a):
        teacher, pupil = await media_clients(live_server, host, a)
        try:
            room_id = (await host.wait("room_state"))["room"]["id"]
            pdf = samples.pdf(tmp_path / "x", 3).read_bytes()
            status, answer = await _upload(live_server, room_id, await _access(host), pdf)
            assert status == 201, answer
            await host.wait("document_progress", lambda d: d["page"] == 3)
            assert (await pupil.peer.call("start_recording", {}))["error"]["code"] == (
                "not_permitted"
            )
            assert (await host.call("start_recording", {}))["ok"]
            told = await a.wait("recording", lambda d: d["recording"]["on"])
            assert told["recording"]["by"]
            assert (await teacher.publish("mic", "camera"))["ok"]
            tid = teacher.participant_id
            await pupil.wait_for(receives(pupil, tid, camera=30, mic=30))
            shared = await host.call("share_document", {"document": answer["document"]["id"]})
            assert shared["ok"], shared
            pages: list[tuple[float, float]] = []
            for page, frames in ((2, 60), (3, 90)):
                await pupil.wait_for(receives(pupil, tid, camera=frames))
                before = time.time()
                assert (await host.call("set_page", {"page": page}))["ok"]
                pages.append((before, time.time()))
            await pupil.wait_for(receives(pupil, tid, camera=120))
            assert (await a.call("chat_send", {"text": "a question"}))["ok"]
            await host.wait("chat_message")
            assert (await host.call("stop_recording", {}))["ok"]
            await a.wait("recording", lambda d: not d["recording"]["on"])
        finally:
            for c in (teacher, pupil):
                await c.close()
    (folder,) = (live_server.settings.data / "recordings" / room_id).iterdir()
    events = [json.loads(line) for line in (folder / "timeline.jsonl").read_text().splitlines()]
    started = events[0]["wall"]
    assert events[-1]["type"] == "recording_stopped"
    page_events = [e for e in events if e["type"] == "page_changed"]
    assert [e["data"]["page"] for e in page_events] == [2, 3]
    for event, (before, after) in zip(page_events, pages, strict=True):
        # On the recording's clock: between the host's call and its answer.
        assert (before - started) * 1000 - 5 <= event["t"] <= (after - started) * 1000 + 5
    assert any(e["type"] == "chat_message" for e in events)
    tracks = {e["source"]: e for e in events if e["type"] == "track"}
    assert set(tracks) == {"mic", "camera"}
    with av.open(str(folder / tracks["camera"]["file"])) as f:
        times = [
            float(p.pts * p.time_base) * 1000
            for p in f.demux(video=0)
            if p.size and p.pts is not None and p.time_base is not None
        ]
    # The pages changed while the camera was being recorded, 30 frames apart or more.
    assert times[0] < page_events[0]["t"] < page_events[1]["t"] < times[-1]
    assert len([t for t in times if page_events[0]["t"] <= t < page_events[1]["t"]]) >= 25


async def test_a_spent_quota_stops_the_recording_and_the_host_is_told(
    live_server: LiveServer,
) -> None:
    await allow_recording(live_server, "hosts", quota_mb=0)
    async with peers("host", "a") as (host, a):
        teacher, pupil = await media_clients(live_server, host, a)
        try:
            assert (await host.call("start_recording", {}))["ok"]
            stopped = await host.wait("recording", lambda d: d["recording"]["stopped_because"])
            assert stopped["recording"]["on"] is False
            assert stopped["recording"]["stopped_because"] == "quota"
            await a.wait("recording", lambda d: d["recording"]["stopped_because"] == "quota")
            # The room knows it stopped: the host may try again (and is told again).
            assert (await host.call("start_recording", {}))["ok"]
        finally:
            for c in (teacher, pupil):
                await c.close()
