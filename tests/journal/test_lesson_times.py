"""When a lesson may start and end: any time on its school day until its scheduled end; a
teacher may always end what they started."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import LiveServer
from tests.integration.peers import peers, sign_in
from tests.journal.helpers import api, code, new_lesson


def later_today(zone: str) -> float:
    """Seconds from now to a moment later on this school day (never past its midnight)."""
    now = datetime.now(ZoneInfo(zone))
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return min(3 * 3600, (midnight - now).total_seconds() / 2)


async def test_a_lesson_started_early_can_be_ended(live_server: LiveServer) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    zone = (await api(live_server, teacher, "GET", "/api/school"))[1]["timezone"]
    lesson = await new_lesson(live_server, teacher, starts_in_s=later_today(zone))
    before_start = time.time()
    status, started = await api(live_server, teacher, "POST", f"/api/lessons/{lesson['id']}/start")
    assert status == 200, started
    room_id = started["invite_url"].rsplit("/", 1)[1]
    async with peers("pupil") as (pupil,):
        await pupil.connect(live_server, await sign_in(live_server, *live_server.pupils[0]))
        assert (await pupil.call("join", {"v": 1, "room": room_id, "as": "user"}))["ok"]
        # Attendance is about wall-clock time: let the pupil's share of the lesson held so far
        # pass 50 % (this waits for time, not for an event).
        await asyncio.sleep(max(0.0, 2 * time.time() - before_start + 0.2 - time.time()))
        # What End lesson would record now: the lesson as held so far, the pupil in it since
        # (almost) its start: present, not late — though its scheduled time is still ahead.
        status, proposal = await api(
            live_server, teacher, "GET", f"/api/lessons/{lesson['id']}/attendance"
        )
        assert status == 200, proposal
        rows = {p["name"]: p for p in proposal["attendance"]}
        here = rows.pop("Aigerim Nurlanova")
        assert (here["status"], here["late"], here["in_room_now"]) == ("present", False, True)
        assert here["since"] is not None and here["left_at"] is None
        assert {(p["status"], p["since"], p["left_at"]) for p in rows.values()} == {
            ("absent", None, None)
        }
        status, ended = await api(
            live_server, teacher, "POST", f"/api/lessons/{lesson['id']}/end", {}
        )
        assert (status, ended) == (200, {"queued": 4})
        await pupil.wait("room_closed")
    async with asyncio.timeout(20):
        while len(detail := await lesson_detail(live_server, teacher, lesson["id"])) < 4:
            await asyncio.sleep(0.05)  # the outbox delivers in the background: poll its result
    assert detail["Aigerim Nurlanova"] == "present"
    assert sorted(detail.values()) == ["absent", "absent", "absent", "present"]


async def lesson_detail(server: LiveServer, teacher: str, lesson: int) -> dict[str, str]:
    body = (await api(server, teacher, "GET", f"/api/lessons/{lesson}"))[1]
    return {a["name"]: a["status"] for a in body["attendance"]}


async def test_when_a_lesson_cannot_start_or_end_each_refusal_has_its_own_code(
    live_server: LiveServer,
) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    in_two_days = await new_lesson(live_server, teacher, starts_in_s=2 * 86400)
    over = await new_lesson(live_server, teacher, starts_in_s=-3600, minutes=30)
    running = await new_lesson(live_server, teacher)
    for lesson, expected in ((in_two_days, "lesson_not_today"), (over, "lesson_over")):
        status, answer = await api(
            live_server, teacher, "POST", f"/api/lessons/{lesson['id']}/start"
        )
        assert (status, code(answer)) == (409, expected)
    # Never started: nothing to end.
    status, answer = await api(
        live_server, teacher, "POST", f"/api/lessons/{running['id']}/end", {}
    )
    assert (status, code(answer)) == (409, "lesson_not_started")
    assert (await api(live_server, teacher, "POST", f"/api/lessons/{running['id']}/start"))[
        0
    ] == 200
    assert (await api(live_server, teacher, "POST", f"/api/lessons/{running['id']}/end", {}))[
        0
    ] == 200
    for path in ("start", "end"):
        body: dict[str, object] | None = {} if path == "end" else None
        status, answer = await api(
            live_server, teacher, "POST", f"/api/lessons/{running['id']}/{path}", body
        )
        assert (status, code(answer)) == (409, "lesson_closed"), path
    # Started before its time is over, a lesson can be ended after it (it ran over).
    assert time.time() < running["ends_at"]
