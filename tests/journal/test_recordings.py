"""A lesson's recordings after the lesson: who may list and watch them (session-checked, files
too, with ranges for seeking), and the retention sweep that deletes old ones into the audit log."""

from __future__ import annotations

import json
import time
from pathlib import Path

import aiohttp
from sqlalchemy import select

from server.db.engine import sessions
from server.db.tables import AuditRow
from server.keys import ENGINE
from server.recordings_api import sweep
from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.integration.peers import sign_in
from tests.journal.helpers import admin, api, code, new_lesson, teacher_of_another_class

WEBM = bytes(range(256)) * 40  # stands in for a recorded file: bytes are served as they are


def fake_recording(server: LiveServer, room_id: str, name: str, wall: float) -> Path:
    folder = server.settings.data / "recordings" / room_id / name
    folder.mkdir(parents=True)
    (folder / "teacher1-camera-1.webm").write_bytes(WEBM)
    lines = [
        {"t": 0, "type": "recording_started", "wall": wall},
        {
            "t": 40,
            "type": "track",
            "file": "teacher1-camera-1.webm",
            "participant_id": "teacher1",
            "source": "camera",
            "kind": "video",
            "codec": "video/vp8",
        },
        {"t": 5000, "type": "page_changed", "data": {"document": "d", "page": 2}},
    ]
    (folder / "timeline.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return folder


async def ranged(server: LiveServer, token: str | None, path: str) -> tuple[int, bytes]:
    cookies = {SESSION_COOKIE: token} if token else {}
    async with (
        aiohttp.ClientSession(cookies=cookies) as http,
        http.get(server.url + path, headers={"Range": "bytes=256-511"}) as response,
    ):
        return response.status, await response.read()


async def test_the_class_watches_after_the_lesson_and_nobody_else(live_server: LiveServer) -> None:
    server = live_server
    teacher = await sign_in(server, *server.teacher)
    pupil = await sign_in(server, *server.pupils[0])
    lesson = await new_lesson(server, teacher)
    lid = lesson["id"]
    started = (await api(server, teacher, "POST", f"/api/lessons/{lid}/start"))[1]
    room_id = started["lesson"]["room_id"]
    fake_recording(server, room_id, "20261205T040000Z-abcd", time.time())
    listing = f"/api/lessons/{lid}/recordings"

    status, answer = await api(server, pupil, "GET", listing)
    assert status == 403 and code(answer) == "not_permitted", answer
    assert "after the lesson" in answer["error"]["message"]
    status, answer = await api(server, teacher, "GET", listing)
    assert status == 200, answer
    (recording,) = answer["recordings"]
    assert recording["id"] == "20261205T040000Z-abcd" and recording["duration_ms"] == 5000
    (track,) = recording["tracks"]
    assert track["source"] == "camera" and track["start_ms"] == 40

    assert (await api(server, teacher, "POST", f"/api/lessons/{lid}/end", {}))[0] == 200
    status, answer = await api(server, pupil, "GET", listing)
    assert status == 200 and answer["recordings"][0]["tracks"] == [track]
    # The file itself: session-checked, and a range (what a player asks for when seeking).
    status, body = await ranged(server, pupil, track["url"])
    assert status == 206 and body == WEBM[256:512]
    status, body = await ranged(server, None, track["url"])
    assert status == 401
    other, _, _ = await teacher_of_another_class(server)
    status, answer = await api(server, other, "GET", listing)
    assert status == 403, answer
    status, body = await ranged(server, other, track["url"])
    assert status == 403
    # Only a recording's own files, by name: nothing else under the data folder.
    for bad in ("..%2F..%2Fsabaq.db", "secret.key", "timeline.json"):
        status, _ = await ranged(server, teacher, f"{listing}/20261205T040000Z-abcd/{bad}")
        assert status == 404, bad


async def test_recordings_past_the_retention_period_are_deleted_and_logged(
    live_server: LiveServer,
) -> None:
    server = live_server
    boss = await admin(server)
    status, _ = await api(server, boss, "PUT", "/api/admin/school", {"recording_retention_days": 7})
    assert status == 200
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now - 8 * 86400))
    recent = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now - 6 * 86400))
    old = fake_recording(server, "room1", f"{stamp}-aaaa", now - 8 * 86400)
    kept = fake_recording(server, "room1", f"{recent}-bbbb", now - 6 * 86400)
    deleted = await sweep(server.app, now)
    assert deleted == [f"room1/{old.name}"]
    assert not old.exists() and kept.exists()
    async with sessions(server.app[ENGINE])() as s:
        rows = list(await s.scalars(select(AuditRow).where(AuditRow.action == "recording_deleted")))
    assert len(rows) == 1 and rows[0].actor == "retention" and rows[0].target == "room1"
    detail = json.loads(rows[0].detail)
    assert detail["recording"] == old.name and detail["retention_days"] == 7
    assert detail["bytes"] > len(WEBM)
    # The administrators' audit page lists it.
    status, answer = await api(server, boss, "GET", "/api/admin/audit")
    assert status == 200 and any(e["action"] == "recording_deleted" for e in answer["entries"])
