"""Each pupil's connection over a lesson is kept with it (server/quality_log.py): written at
their leaves — a drop-out, leaving, the lesson's end — one row per session and person; the
lesson page and a pupil's page show it, with "poor in the last 3 lessons" (issue 14)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from server import media_signalling
from server.db.tables import ConnectionQualityRecord
from server.keys import ENGINE, SIGNALLING
from server.quality_log import QualityLog
from tests.conftest import LiveServer
from tests.integration.peers import Peer, peers, sign_in
from tests.media.test_signalling import _TestClock

from .helpers import api, code, new_lesson, other_teacher


def reading(level: str, delay: int, loss: float = 0.0, video: str = "ok") -> dict[str, Any]:
    return {"level": level, "delay_ms": delay, "rtt_ms": 20, "loss_pct": loss, "video": video}


class Lesson:
    """A started lesson of the demo class and the readings its pupils' pages send."""

    def __init__(self, server: LiveServer, teacher: str, clock: _TestClock) -> None:
        self.server, self.teacher, self.clock = server, teacher, clock
        self.id = 0
        self.room = ""

    async def start(self, starts_in_s: float) -> None:
        lesson = await new_lesson(self.server, self.teacher, starts_in_s=starts_in_s)
        self.id = lesson["id"]
        status, started = await api(
            self.server, self.teacher, "POST", f"/api/lessons/{self.id}/start"
        )
        assert status == 200, started
        self.room = started["invite_url"].rsplit("/", 1)[1]

    async def join(self, peer: Peer, pupil: int) -> None:
        await peer.connect(self.server, await sign_in(self.server, *self.server.pupils[pupil]))
        ack = await peer.call("join", {"v": 1, "room": self.room, "as": "user"})
        assert ack["status"] == "joined", ack

    async def report(self, peer: Peer, *readings: dict[str, Any]) -> None:
        """Readings 2 s apart on the server's clock (the page's interval)."""
        for r in readings:
            self.clock.now += 2
            ack = await peer.call("media_quality", r)
            assert ack["ok"], ack

    async def detail(self) -> dict[str, Any]:
        status, journal = await api(self.server, self.teacher, "GET", f"/api/lessons/{self.id}")
        assert status == 200, journal
        return dict(journal)


async def rows(server: LiveServer) -> int:
    async with server.app[ENGINE].connect() as db:
        return int(await db.scalar(select(func.count()).select_from(ConnectionQualityRecord)) or 0)


async def wait_rows(server: LiveServer, n: int) -> None:
    """The archive writes in the background: wait (bounded) until n rows exist."""
    async with asyncio.timeout(10):
        while await rows(server) < n:
            await asyncio.sleep(0.02)


@pytest.mark.timeout(120)
async def test_a_lessons_connections_are_kept_and_three_poor_lessons_are_marked(
    any_db_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = any_db_server
    clock = _TestClock()
    monkeypatch.setattr(media_signalling, "time", clock)
    server.app[SIGNALLING].quality_log = QualityLog(clock.monotonic)
    teacher = await sign_in(server, *server.teacher)
    lessons = [Lesson(server, teacher, clock) for _ in range(3)]

    # Two earlier lessons in which pupil 0's line was poor throughout.
    for i, lesson in enumerate(lessons[:2]):
        await lesson.start(starts_in_s=-600 + 100 * i)
        async with peers("a") as (a,):
            await lesson.join(a, 0)
            await lesson.report(a, reading("poor", 800), reading("poor", 900, 12.0))
            assert (await a.call("leave", {}))["ok"]
        await wait_rows(server, i + 1)
    first = await lessons[0].detail()
    (line,) = first["connections"]
    assert line["poor_streak"] == 1 and line["verdict"] == "poor"

    # The third: pupil 0 drops out once and comes back; pupil 1 is fine and stays to the end.
    third = lessons[2]
    await third.start(starts_in_s=-300)
    async with peers("a", "a2", "b") as (a, a2, b):
        await third.join(a, 0)
        await third.join(b, 1)
        await third.report(a, reading("good", 40), reading("poor", 900, 11.0, "lost"))
        await third.report(b, reading("good", 35), reading("good", 45))
        await a.close()  # a network drop: written at once, as a leave
        await wait_rows(server, 3)
        await third.join(a2, 0)
        await third.report(a2, reading("poor", 1200, 15.0), reading("fair", 1000, 4.0))
        assert (await a2.call("leave", {}))["ok"]
        status, ended = await api(server, teacher, "POST", f"/api/lessons/{third.id}/end", {})
        assert status == 200, ended
        await wait_rows(server, 4)

    # One row per person and session, whatever the number of leaves (a had two).
    assert await rows(server) == 4
    detail = await third.detail()
    lines = {c["name"]: c for c in detail["connections"]}
    a_name, b_name = "Aigerim Nurlanova", "Daniyar Seitkali"
    assert set(lines) == {a_name, b_name}
    mine = lines[a_name]
    # Readings 40, 900, 1200, 1000: nearest-rank median 900, p95 1200; 4 readings of 2 s.
    assert (mine["samples"], mine["delay_p50_ms"], mine["delay_p95_ms"]) == (4, 900, 1200)
    assert mine["loss_pct"] == pytest.approx(7.5) and mine["loss_p95_pct"] == 15.0
    assert (mine["good_s"], mine["fair_s"], mine["poor_s"]) == (2, 2, 4)
    assert mine["video_lost_s"] == 2 and mine["disconnections"] == 1
    assert mine["verdict"] == "poor" and mine["poor_streak"] == 3
    theirs = lines[b_name]
    assert (theirs["verdict"], theirs["poor_streak"], theirs["disconnections"]) == ("good", 0, 0)
    assert (theirs["delay_p50_ms"], theirs["good_s"]) == (35, 4)
    # Worst streak first.
    assert [c["name"] for c in detail["connections"]] == [a_name, b_name]

    # The pupil's page: newest first, and the mark.
    pupil_id = mine["pupil_id"]
    status, page = await api(server, teacher, "GET", f"/api/pupils/{pupil_id}/connections")
    assert status == 200, page
    assert page["pupil"] == {"id": pupil_id, "name": a_name} and page["class_name"] == "7A"
    assert [x["lesson_id"] for x in page["lessons"]] == [third.id, lessons[1].id, lessons[0].id]
    assert [x["poor_streak"] for x in page["lessons"]] == [3, 2, 1]
    assert page["poor_last_3"] is True
    status, fine = await api(
        server, teacher, "GET", f"/api/pupils/{theirs['pupil_id']}/connections"
    )
    assert status == 200 and fine["poor_last_3"] is False and len(fine["lessons"]) == 1

    # Only a teacher of the pupil's class (or an administrator) may look.
    stranger = await other_teacher(server)
    status, refused = await api(server, stranger, "GET", f"/api/pupils/{pupil_id}/connections")
    assert status == 403 and code(refused) == "not_permitted"
    status, refused = await api(server, teacher, "GET", "/api/pupils/999999/connections")
    assert status == 400 and code(refused) == "unknown_pupil"
    pupil = await sign_in(server, *server.pupils[0])
    status, refused = await api(server, pupil, "GET", f"/api/pupils/{pupil_id}/connections")
    assert status == 403


def test_summary_keeps_percentiles_over_long_lessons_with_bounded_memory() -> None:
    from server.media_signalling import MediaQuality
    from server.quality_log import MAX_SAMPLES, Summary

    s = Summary("user:1", 1, "A")
    for i in range(3 * MAX_SAMPLES):
        q = MediaQuality.model_validate(
            {"level": "good", "delay_ms": i % 100, "rtt_ms": 1, "loss_pct": 0.0}
        )
        s.add(q, float(i * 2))
    assert len(s.delays) < MAX_SAMPLES
    data = s.record(0.0).data
    assert 45 <= data["delay_p50_ms"] <= 55 and 90 <= data["delay_p95_ms"] <= 99
    assert data["good_s"] == 3 * MAX_SAMPLES * 2  # the time counts every reading
