"""The lesson bridge end to end over HTTP and socket.io: schedule → start → join → end → journal."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from server.keys import STORE
from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.integration.peers import admit_guest, peers, sign_in


async def api(
    server: LiveServer, token: str, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(cookies={SESSION_COOKIE: token}) as http,
        http.request(method, server.url + path, json=body) as response,
    ):
        return response.status, await response.json()


async def clock_passes(moment: float) -> None:
    """Attendance is about wall-clock time: let it pass (this waits for time, not for an event)."""
    await asyncio.sleep(max(0.0, moment - time.time()))


async def test_pupil_present_classmates_absent_exactly_once(any_db_server: LiveServer) -> None:
    live_server = any_db_server
    teacher = await sign_in(live_server, *live_server.teacher)
    start = time.time() - 0.2
    status, body = await api(
        live_server,
        teacher,
        "POST",
        "/api/lessons",
        {
            "class_id": live_server.class_id,
            "subject": "Algebra",
            "starts_at": start,
            "ends_at": start + 2700,
            "topic": "Linear equations",
        },
    )
    assert status == 201 and body["lesson"]["state"] == "scheduled"
    lesson = body["lesson"]["id"]
    status, started = await api(live_server, teacher, "POST", f"/api/lessons/{lesson}/start")
    assert status == 200 and started["lesson"]["state"] == "open"
    room_id = started["invite_url"].rsplit("/", 1)[1]
    # Starting again gives the same room.
    again = (await api(live_server, teacher, "POST", f"/api/lessons/{lesson}/start"))[1]
    assert again["invite_url"] == started["invite_url"]

    async with peers("pupil") as (pupil,):
        await pupil.connect(live_server, await sign_in(live_server, *live_server.pupils[0]))
        ack = await pupil.call("join", {"v": 1, "room": room_id, "as": "user"})
        assert ack["status"] == "joined"
        joined = time.time()
        status, proposal = await api(
            live_server, teacher, "GET", f"/api/lessons/{lesson}/attendance"
        )
        live = {p["name"]: p for p in proposal["attendance"]}
        assert live["Aigerim Nurlanova"]["in_room_now"] is True
        assert [n for n, p in live.items() if not p["in_room_now"]] == sorted(
            ["Daniyar Seitkali", "Madina Omarova", "Timur Akhmetov"]
        )
        await clock_passes(2 * joined - start + 0.2)  # the pupil's share passes 50 %
        pupil2 = live["Daniyar Seitkali"]["pupil_id"]
        status, ended = await api(
            live_server,
            teacher,
            "POST",
            f"/api/lessons/{lesson}/end",
            {
                "corrections": [{"pupil_id": pupil2, "comment": "ill, excused"}],
            },
        )
        assert status == 200 and ended == {"queued": 4}

    async with asyncio.timeout(20):
        while True:
            journal = (await api(live_server, teacher, "GET", f"/api/lessons/{lesson}"))[1]
            if len(journal["attendance"]) == 4:
                break
            await asyncio.sleep(0.05)
    marks = {a["name"]: a for a in journal["attendance"]}
    assert marks["Aigerim Nurlanova"]["status"] == "present"
    assert {marks[n]["status"] for n in marks if n != "Aigerim Nurlanova"} == {"absent"}
    assert marks["Daniyar Seitkali"]["comment"] == "ill, excused"
    assert journal["lesson"]["state"] == "closed"
    status, twice = await api(live_server, teacher, "POST", f"/api/lessons/{lesson}/end", {})
    assert status == 409 and twice["error"]["code"] == "lesson_closed"


async def test_lesson_api_refuses_bad_input_and_other_teachers(live_server: LiveServer) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    now = time.time()
    good = {
        "class_id": live_server.class_id,
        "subject": "Physics",
        "starts_at": now,
        "ends_at": now + 2700,
    }
    for bad, code in (
        ({**good, "ends_at": now - 1}, "invalid_payload"),
        ({**good, "class_id": 999}, "invalid_payload"),
        ({**good, "subject": ""}, "name_required"),
        ({**good, "starts_at": "tomorrow"}, "invalid_payload"),
        ({**good, "teacher_id": 1}, "invalid_payload"),
    ):
        status, body = await api(live_server, teacher, "POST", "/api/lessons", bad)
        assert (status, body["error"]["code"]) == (400, code), bad
    lesson = (await api(live_server, teacher, "POST", "/api/lessons", good))[1]["lesson"]["id"]
    assert (await api(live_server, teacher, "GET", "/api/lessons/99999"))[0] == 404
    assert (await api(live_server, teacher, "GET", "/api/lessons/abc"))[0] == 400
    assert (await api(live_server, teacher, "POST", f"/api/lessons/{lesson}/start"))[0] == 200
    status, body = await api(
        live_server,
        teacher,
        "POST",
        f"/api/lessons/{lesson}/end",
        {
            "corrections": [{"pupil_id": 424242, "status": "present"}],
        },
    )
    assert (status, body["error"]["code"]) == (400, "unknown_pupil")
    assert (await api(live_server, teacher, "GET", f"/api/lessons/{lesson}"))[1]["lesson"][
        "state"
    ] == "open"  # the refused end changed nothing

    await live_server.app[STORE].create_user("other", "Other Teacher", "teacher", "pw-other-1234")
    other = await sign_in(live_server, "other", "pw-other-1234")
    for method, path in (
        ("GET", f"/api/lessons/{lesson}"),
        ("POST", f"/api/lessons/{lesson}/start"),
        ("POST", f"/api/lessons/{lesson}/end"),
    ):
        status, body = await api(live_server, other, method, path, {} if method == "POST" else None)
        assert (status, body["error"]["code"]) == (403, "not_permitted")
    pupil = await sign_in(live_server, *live_server.pupils[0])
    assert (await api(live_server, pupil, "GET", "/api/lessons"))[0] == 403


async def test_lessons_nobody_ended_are_finalised_after_the_grace_period(
    live_server: LiveServer,
) -> None:
    from server.keys import LESSONS

    teacher = await sign_in(live_server, *live_server.teacher)
    now = time.time()
    body = {
        "class_id": live_server.class_id,
        "subject": "History",
        "starts_at": now - 60,
        "ends_at": now + 40 * 60,
    }
    lesson = (await api(live_server, teacher, "POST", "/api/lessons", body))[1]["lesson"]["id"]
    fresh = (
        await api(
            live_server,
            teacher,
            "POST",
            "/api/lessons",
            {**body, "ends_at": now + 120 * 60},
        )
    )[1]["lesson"]["id"]
    for lid in (lesson, fresh):
        await api(live_server, teacher, "POST", f"/api/lessons/{lid}/start")
    lessons = live_server.app[LESSONS]
    then = now + 60 * 60  # the finaliser's clock: the first lesson ended 20 minutes before
    assert await lessons.finalise_overdue(then, grace_s=15 * 60) == [lesson]
    assert await lessons.finalise_overdue(then, grace_s=15 * 60) == []
    states = {
        lid: (await api(live_server, teacher, "GET", f"/api/lessons/{lid}"))[1]["lesson"]["state"]
        for lid in (lesson, fresh)
    }
    assert states == {lesson: "closed", fresh: "open"}


async def test_guests_go_to_the_guest_log_not_to_attendance(live_server: LiveServer) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    start = time.time() - 1
    body = {"class_id": live_server.class_id, "subject": "Art", "starts_at": start}
    status, created = await api(
        live_server, teacher, "POST", "/api/lessons", {**body, "ends_at": start + 2700}
    )
    assert status == 201
    lesson = created["lesson"]["id"]
    started = (await api(live_server, teacher, "POST", f"/api/lessons/{lesson}/start"))[1]
    room_id = started["invite_url"].rsplit("/", 1)[1]
    async with peers("host", "guest") as (host, guest):
        await host.connect(live_server, teacher)
        assert (await host.call("join", {"v": 1, "room": room_id, "as": "user"}))["ok"]
        await admit_guest(live_server, host, guest, room_id)
        await guest.call("leave", {})
    # Presence is written by the archive's background writer: poll the database state.
    async with asyncio.timeout(20):
        while True:
            detail = (await api(live_server, teacher, "GET", f"/api/lessons/{lesson}"))[1]
            if detail["guests"] and detail["guests"][0]["left_at"] is not None:
                break
            await asyncio.sleep(0.05)
    [visit] = detail["guests"]  # the teacher is not a guest of their own lesson
    assert (visit["name"], visit["institution"], visit["kind"]) == (
        "Asel Bekova",
        "School 12",
        "guest",
    )
    assert visit["joined_at"] <= visit["left_at"]
    proposal = (await api(live_server, teacher, "GET", f"/api/lessons/{lesson}/attendance"))[1]
    assert "Asel Bekova" not in {p["name"] for p in proposal["attendance"]}
    assert len(proposal["attendance"]) == 4


async def test_a_pupil_who_enters_again_elsewhere_is_one_presence(live_server: LiveServer) -> None:
    """A second window (or a new connection after an unnoticed drop) replaces the first join:
    the lesson sees one pupil, present the whole time, never a leave and a second arrival."""
    teacher = await sign_in(live_server, *live_server.teacher)
    start = time.time() - 0.2
    lesson_body = {
        "class_id": live_server.class_id,
        "subject": "Physics",
        "starts_at": start,
        "ends_at": start + 2700,
    }
    lesson = (await api(live_server, teacher, "POST", "/api/lessons", lesson_body))[1]["lesson"]
    started = (await api(live_server, teacher, "POST", f"/api/lessons/{lesson['id']}/start"))[1]
    room_id = started["invite_url"].rsplit("/", 1)[1]
    token = await sign_in(live_server, *live_server.pupils[0])
    async with peers("first window", "second window") as (first, second):
        for window in (first, second):
            await window.connect(live_server, token)
            assert (await window.call("join", {"v": 1, "room": room_id, "as": "user"}))["ok"]
        await first.wait("replaced")
        # (The attendance API saves the room's last moments first: no waiting for its writer.)
        row = await pupil_row(live_server, teacher, lesson["id"])
        assert (row["in_room_now"], row["left_early"], row["network_lost_min"]) == (True, False, 0)
        assert (await second.call("leave", {}))["ok"]
        row = await pupil_row(live_server, teacher, lesson["id"])
        # One stretch, ended by leaving: both joins closed, the first one without a "drop" (the
        # proposal assesses the lesson as if it ended now, so this is no early leave yet).
        assert (row["in_room_now"], row["left_early"], row["network_lost_min"]) == (False, False, 0)


async def pupil_row(server: LiveServer, teacher: str, lesson: int) -> dict[str, Any]:
    """The first demo pupil's row of the lesson's attendance proposal."""
    status, proposal = await api(server, teacher, "GET", f"/api/lessons/{lesson}/attendance")
    assert status == 200, proposal
    (row,) = [p for p in proposal["attendance"] if p["name"] == "Aigerim Nurlanova"]
    return dict(row)
