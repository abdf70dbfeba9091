"""The teacher's journal over HTTP on SQLite and PostgreSQL: schedule, lesson page, topic, marks,
assignments, the pupil's diary — and every refusal of bad input."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from server.db.engine import sessions
from server.db.tables import Lesson, RoomRecord
from server.journal.weeks import day_of, week_of
from server.keys import COURIER, ENGINE, SCHOOL_ADMIN, STORE
from tests.conftest import LiveServer
from tests.integration.peers import peers, sign_in
from tests.journal.helpers import (
    admin,
    api,
    code,
    new_lesson,
    other_teacher,
    teacher_of_another_class,
)


async def _delivered(server: LiveServer) -> None:
    """Wait until the courier has delivered every queued attendance record."""
    courier = server.app[COURIER]
    async with asyncio.timeout(20):
        while await courier.letters("pending"):
            courier.notify()
            await asyncio.sleep(0.05)  # the outbox is a table: polled, there is no event


async def test_schedule_shows_the_demo_week_and_any_week_asked_for(
    any_db_server: LiveServer,
) -> None:
    server = any_db_server
    teacher = await sign_in(server, *server.teacher)
    status, week = await api(server, teacher, "GET", "/api/schedule")
    zone = (await server.app[SCHOOL_ADMIN].settings()).zone
    today = day_of(time.time(), zone)
    assert status == 200 and week["week"] == week_of(today)
    years = (await api(server, teacher, "GET", "/api/years"))[1]["years"]
    current = [
        p["name"]
        for y in years
        for p in y["periods"]
        if p["starts_on"] <= today.isoformat() <= p["ends_on"]
    ]
    assert week["period"] == (current[0] if current else None)
    assert (week["week_number"] is None) == (week["period"] is None)
    assert week["week_number"] is None or 1 <= week["week_number"] <= 20
    assert week["lessons"], "the demo school has lessons this week"
    assert all(lesson["week"] == week["week"] for lesson in week["lessons"])
    assert {lesson["teacher_name"] for lesson in week["lessons"]} == {"Gulnara Sadykova"}
    starts = [lesson["starts_at"] for lesson in week["lessons"]]
    assert starts == sorted(starts)
    status, empty = await api(server, teacher, "GET", "/api/schedule?week=2001-W01")
    assert (status, empty["lessons"]) == (200, [])
    for bad in ("2026-W99", "next", "2026-W1"):
        status, body = await api(server, teacher, "GET", f"/api/schedule?week={bad}")
        assert (status, code(body)) == (400, "invalid_payload"), bad
    status, body = await api(server, teacher, "GET", "/api/schedule?weeks=2026-W47")
    assert (status, code(body)) == (400, "invalid_payload")
    pupil = await sign_in(server, *server.pupils[0])
    assert (await api(server, pupil, "GET", "/api/schedule"))[0] == 403
    assert (await api(server, None, "GET", "/api/schedule"))[0] == 401


async def test_lesson_page_topic_marks_and_assignments(any_db_server: LiveServer) -> None:
    server = any_db_server
    teacher = await sign_in(server, *server.teacher)
    week = (await api(server, teacher, "GET", "/api/schedule"))[1]
    planned = next(lesson for lesson in week["lessons"] if lesson["subject_id"] is not None)
    lid = planned["id"]
    status, page = await api(server, teacher, "GET", f"/api/lessons/{lid}")
    assert status == 200
    assert set(page) == {
        "lesson",
        "attendance",
        "marks",
        "assignments",
        "pupils",
        "plan",
        "mark_scale",
        "guests",
        "documents",
        "connections",
    }
    assert page["documents"] == []  # nothing was shared
    assert page["connections"] == []  # nobody connected
    assert page["mark_scale"] == {"mark_min": 1, "mark_max": 5}
    assert page["guests"] == []  # the lesson's room was never opened
    assert len(page["pupils"]) == 4 and len(page["plan"]) >= 2
    aigerim, daniyar = page["pupils"][0]["id"], page["pupils"][1]["id"]

    topic = page["plan"][1]
    status, body = await api(
        server, teacher, "PUT", f"/api/lessons/{lid}/topic", {"topic_id": topic["id"]}
    )
    assert status == 200 and body["lesson"]["topic"] == topic["title"]
    assert body["lesson"]["topic_id"] == topic["id"]
    status, body = await api(
        server, teacher, "PUT", f"/api/lessons/{lid}/topic", {"topic": "Revision"}
    )
    assert (status, body["lesson"]["topic"], body["lesson"]["topic_id"]) == (200, "Revision", None)
    for bad, expected in (
        ({"topic_id": 999999}, (404, "unknown_topic")),
        ({"topic_id": topic["id"], "topic": "both"}, (400, "invalid_payload")),
        ({}, (400, "invalid_payload")),
        ({"topic": ""}, (400, "invalid_payload")),
        ({"topic": "x" * 201}, (400, "invalid_payload")),
        ({"topic_id": "1"}, (400, "invalid_payload")),
    ):
        status, body = await api(server, teacher, "PUT", f"/api/lessons/{lid}/topic", bad)
        assert (status, code(body)) == expected, bad

    path = f"/api/lessons/{lid}/marks/{aigerim}"
    status, body = await api(server, teacher, "PUT", path, {"value": 5, "comment": "Well done"})
    assert status == 200 and body["mark"]["value"] == 5
    status, body = await api(server, teacher, "PUT", path, {"value": 4})
    assert (status, body["mark"]["value"], body["mark"]["comment"]) == (200, 4, None)
    for bad, expected in (
        ({"value": 6}, (400, "out_of_range")),
        ({"value": 0}, (400, "out_of_range")),
        ({"value": "5"}, (400, "invalid_payload")),
        ({"value": 4.5}, (400, "invalid_payload")),
        ({"value": True}, (400, "invalid_payload")),
        ({"value": 5, "comment": "x" * 501}, (400, "invalid_payload")),
        ({"value": 5, "pupil_id": 1}, (400, "invalid_payload")),
    ):
        status, body = await api(server, teacher, "PUT", path, bad)
        assert (status, code(body)) == expected, bad
    status, body = await api(
        server, teacher, "PUT", f"/api/lessons/{lid}/marks/999999", {"value": 3}
    )
    assert (status, code(body)) == (400, "unknown_pupil")
    status, body = await api(server, teacher, "PUT", f"/api/lessons/{lid}/marks/abc", {"value": 3})
    assert (status, code(body)) == (400, "invalid_payload")
    status, body = await api(
        server, teacher, "PUT", f"/api/lessons/999999/marks/{aigerim}", {"value": 3}
    )
    assert (status, code(body)) == (404, "unknown_lesson")

    status, made = await api(
        server,
        teacher,
        "POST",
        f"/api/lessons/{lid}/assignments",
        {"kind": "homework", "difficulty": "advanced", "text": "Ex. 12-15", "due_on": "2030-01-15"},
    )
    assert status == 201 and made["assignment"]["pupil_ids"] is None
    status, chosen = await api(
        server,
        teacher,
        "POST",
        f"/api/lessons/{lid}/assignments",
        {"kind": "homework", "text": "Extra task", "pupil_ids": [daniyar]},
    )
    assert status == 201 and chosen["assignment"]["pupil_ids"] == [daniyar]
    assert chosen["assignment"]["difficulty"] == "basic"
    good = {"kind": "classwork", "text": "Task"}
    for bad, expected in (
        ({**good, "kind": "essay"}, (400, "invalid_payload")),
        ({**good, "difficulty": "hard"}, (400, "invalid_payload")),
        ({**good, "text": ""}, (400, "invalid_payload")),
        ({**good, "text": "x" * 2001}, (400, "invalid_payload")),
        ({**good, "due_on": 1790000000}, (400, "invalid_payload")),
        ({**good, "due_on": "15.01.2030"}, (400, "invalid_payload")),
        ({**good, "pupil_ids": []}, (400, "invalid_payload")),
        ({**good, "pupil_ids": ["1"]}, (400, "invalid_payload")),
        ({**good, "pupil_ids": [999999]}, (400, "unknown_pupil")),
    ):
        status, body = await api(server, teacher, "POST", f"/api/lessons/{lid}/assignments", bad)
        assert (status, code(body)) == expected, bad

    page = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]
    assert [(m["pupil_id"], m["value"]) for m in page["marks"]] == [(aigerim, 4)]
    assert [a["text"] for a in page["assignments"]] == ["Ex. 12-15", "Extra task"]
    aid = chosen["assignment"]["id"]
    assert (await api(server, teacher, "DELETE", f"/api/lessons/{lid}/assignments/{aid}"))[0] == 204
    status, body = await api(server, teacher, "DELETE", f"/api/lessons/{lid}/assignments/{aid}")
    assert (status, code(body)) == (404, "unknown_assignment")
    assert (await api(server, teacher, "DELETE", path))[0] == 204
    page = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]
    assert page["marks"] == [] and len(page["assignments"]) == 1


async def test_another_teachers_lesson_is_refused_and_left_unchanged(
    any_db_server: LiveServer,
) -> None:
    server = any_db_server
    teacher = await sign_in(server, *server.teacher)
    lesson = await new_lesson(server, teacher)
    lid = lesson["id"]
    pupil = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]["pupils"][0]["id"]
    other = await other_teacher(server)
    for method, path, body in (
        ("GET", f"/api/lessons/{lid}", None),
        ("PUT", f"/api/lessons/{lid}/topic", {"topic": "Mine now"}),
        ("PUT", f"/api/lessons/{lid}/marks/{pupil}", {"value": 2}),
        ("DELETE", f"/api/lessons/{lid}/marks/{pupil}", None),
        ("POST", f"/api/lessons/{lid}/assignments", {"kind": "homework", "text": "x"}),
        ("DELETE", f"/api/lessons/{lid}/assignments/1", None),
    ):
        status, answer = await api(server, other, method, path, body)
        assert (status, code(answer)) == (403, "not_permitted"), path
    page = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]
    assert page["lesson"]["topic"] is None and page["marks"] == [] and page["assignments"] == []
    pupil_token = await sign_in(server, *server.pupils[0])
    status, answer = await api(server, pupil_token, "GET", f"/api/lessons/{lid}")
    assert (status, code(answer)) == (403, "not_permitted")


# Every lesson route by who calls it: (method, path, body, status when allowed). The path's
# {lesson}, {pupil} and {assignment} are those of a fresh lesson of the demo class (7A).
LESSON_ROUTES: list[tuple[str, str, Any, int]] = [
    ("POST", "/api/lessons", None, 201),  # the body is made per caller below
    ("GET", "/api/lessons/{lesson}", None, 200),
    ("POST", "/api/lessons/{lesson}/start", None, 200),
    ("GET", "/api/lessons/{lesson}/attendance", None, 200),
    ("POST", "/api/lessons/{lesson}/end", {}, 200),
    ("PUT", "/api/lessons/{lesson}/topic", {"topic": "Mine"}, 200),
    ("PUT", "/api/lessons/{lesson}/marks/{pupil}", {"value": 2}, 200),
    ("DELETE", "/api/lessons/{lesson}/marks/{pupil}", None, 204),
    ("POST", "/api/lessons/{lesson}/assignments", {"kind": "homework", "text": "x"}, 201),
    ("DELETE", "/api/lessons/{lesson}/assignments/{assignment}", None, 204),
]
REFUSED = {
    "teacher of another class": (403, "not_permitted"),
    "pupil": (403, "not_permitted"),
    "anonymous": (401, "not_signed_in"),
}


async def test_lesson_routes_by_who_teaches_the_class(live_server: LiveServer) -> None:
    server = live_server
    owner = await sign_in(server, *server.teacher)
    owner_id = (await api(server, owner, "GET", "/api/me"))[1]["user"]["id"]
    callers = {
        "administrator": await admin(server),
        "teacher of the class": owner,
        "teacher of another class": (await teacher_of_another_class(server))[0],
        "pupil": await sign_in(server, *server.pupils[0]),
        "anonymous": None,
    }
    for method, template, body, allowed in LESSON_ROUTES:
        for who, token in callers.items():
            lid = (await new_lesson(server, owner))["id"]
            if template.endswith("/end"):  # only a started lesson can be ended
                await api(server, owner, "POST", f"/api/lessons/{lid}/start")
            page = (await api(server, owner, "GET", f"/api/lessons/{lid}"))[1]
            pupil = page["pupils"][0]["id"]
            made = await api(
                server,
                owner,
                "POST",
                f"/api/lessons/{lid}/assignments",
                {"kind": "homework", "text": "y"},
            )
            path = template.format(lesson=lid, pupil=pupil, assignment=made[1]["assignment"]["id"])
            if template == "/api/lessons":
                start = time.time()
                body = {
                    "class_id": server.class_id,
                    "subject": "Algebra",
                    "starts_at": start,
                    "ends_at": start + 2700,
                    **({"teacher_id": owner_id} if who == "administrator" else {}),
                }
            status, answer = await api(server, token, method, path, body)
            expected = REFUSED.get(who)
            if expected is None:
                assert status == allowed, (who, method, path, answer)
            else:
                assert (status, code(answer)) == expected, (who, method, path)
                after = (await api(server, owner, "GET", f"/api/lessons/{lid}"))[1]
                assert after == page | {"assignments": after["assignments"]}, (who, path)
                assert len(after["assignments"]) == 1


# Rooms by who asks. A room of a class lets the class's pupils in without knocking, so making
# one takes what a lesson of the class takes: the teaching table (any subject). Rooms are a
# teacher's; an administrator opens one only through a lesson (POST /api/lessons/{id}/start).
ROOM_OF_7A = {
    "administrator": (403, "not_permitted"),
    "teacher of the class": (201, None),
    "teacher of another class": (403, "not_permitted"),
    "pupil": (403, "not_permitted"),
    "anonymous": (401, "not_signed_in"),
}


async def test_room_routes_by_who_teaches_the_class(live_server: LiveServer) -> None:
    # The finding: a teacher of 7B made a room "for" 7A, and 7A's pupils walked in unasked.
    server = live_server
    other, _, class_7b = await teacher_of_another_class(server)
    callers = {
        "administrator": await admin(server),
        "teacher of the class": await sign_in(server, *server.teacher),
        "teacher of another class": other,
        "pupil": await sign_in(server, *server.pupils[0]),
        "anonymous": None,
    }
    # Whom a room may be for: one's own classes, every class for an administrator.
    classes = {
        "administrator": ["7A", "7B"],
        "teacher of the class": ["7A"],
        "teacher of another class": ["7B"],
    }
    for who, token in callers.items():
        status, answer = await api(server, token, "GET", "/api/classes")
        if who in classes:
            assert status == 200, (who, answer)
            assert [c["name"] for c in answer["classes"]] == classes[who], who
        else:
            assert (status, code(answer)) == ROOM_OF_7A[who], who
    room_7a = {"title": "Algebra 7A", "class_id": server.class_id, "guest_policy": "ask_host"}
    for who, token in callers.items():
        status, answer = await api(server, token, "POST", "/api/rooms", room_7a)
        error = answer.get("error", {})
        assert (status, error.get("code")) == ROOM_OF_7A[who], (who, answer)
        if status == 201:
            assert answer["room"]["class_id"] == server.class_id, answer
        else:
            assert error["message"], who
    # Nothing was made by a refusal; their own class and no class at all are theirs.
    assert (await api(server, other, "GET", "/api/rooms"))[1]["rooms"] == []
    for class_id in (class_7b, None):
        status, answer = await api(
            server, other, "POST", "/api/rooms", room_7a | {"class_id": class_id}
        )
        assert status == 201 and answer["room"]["class_id"] == class_id, answer
    # A class that does not exist is a bad request, as before, for whoever asks.
    status, answer = await api(server, other, "POST", "/api/rooms", room_7a | {"class_id": 9999})
    assert (status, code(answer)) == (400, "invalid_payload")


async def test_a_room_of_a_class_its_owner_does_not_teach_lets_nobody_in_unasked(
    live_server: LiveServer,
) -> None:
    # A room of 7A owned by the teacher of 7B, as made before POST /api/rooms checked the
    # teaching table (or kept after 7A was taken from them): 7A's pupil knocks. The same
    # teacher's room of 7B, which the table gives them, lets 7B's pupil straight in.
    server = live_server
    other, other_id, class_7b = await teacher_of_another_class(server)
    async with sessions(server.app[ENGINE])() as s:
        s.add_all(
            RoomRecord(
                id=room_id,
                title="Algebra",
                owner_id=other_id,
                class_id=class_id,
                guest_policy="ask_host",
                created_at=datetime.now(UTC),
            )
            for room_id, class_id in (("room-of-7a", server.class_id), ("room-of-7b", class_7b))
        )
        await s.commit()
    pupil_7a = await sign_in(server, *server.pupils[0])
    pupil_7b = await sign_in(server, "pupil7b", "pw-pupil-7b-1234")
    for room_id, pupil, status in (
        ("room-of-7a", pupil_7a, "waiting"),
        ("room-of-7b", pupil_7b, "joined"),
    ):
        async with peers("host", "pupil") as (host, comer):
            await host.connect(server, other)
            ack = await host.call("join", {"v": 1, "room": room_id, "as": "user"})
            assert ack["ok"] and ack["you"]["role"] == "host", ack
            await comer.connect(server, pupil)
            ack = await comer.call("join", {"v": 1, "room": room_id, "as": "user"})
            assert ack["ok"] and ack["status"] == status, (room_id, ack)


async def test_a_teacher_of_another_class_cannot_reach_its_pupils(
    any_db_server: LiveServer,
) -> None:
    # The finding: a teacher of 7B made a lesson for 7A, read 7A's pupils on its page and put
    # a mark in a 7A pupil's diary.
    server = any_db_server
    other, other_id, class_7b = await teacher_of_another_class(server)
    start = time.time() - 60
    lesson_7a = {
        "class_id": server.class_id,
        "subject": "Algebra",
        "starts_at": start,
        "ends_at": start + 2700,
    }
    status, answer = await api(server, other, "POST", "/api/lessons", lesson_7a)
    assert (status, code(answer)) == (403, "not_permitted")
    # A typed subject does not get round the table either; their own class is theirs.
    typed = {**lesson_7a, "subject": "Chess club"}
    assert (await api(server, other, "POST", "/api/lessons", typed))[0] == 403
    own = await api(server, other, "POST", "/api/lessons", {**lesson_7a, "class_id": class_7b})
    assert own[0] == 201 and own[1]["lesson"]["class_id"] == class_7b
    # An administrator may act for any class, but only for a teacher the table gives it to.
    boss = await admin(server)
    status, answer = await api(
        server, boss, "POST", "/api/lessons", {**lesson_7a, "teacher_id": other_id}
    )
    assert (status, code(answer)) == (403, "not_permitted")
    status, answer = await api(server, boss, "POST", "/api/lessons", lesson_7a)
    assert (status, code(answer)) == (400, "invalid_payload")  # whose lesson? teacher_id
    status, answer = await api(
        server, other, "POST", "/api/lessons", {**lesson_7a, "teacher_id": other_id}
    )
    assert (status, code(answer)) == (400, "invalid_payload")  # a teacher never names one
    # A lesson of 7A already in the database under their name (made before this check, or
    # kept after the administrator took 7A from them) is not theirs to open or mark either.
    async with sessions(server.app[ENGINE])() as s:
        row = Lesson(
            class_id=server.class_id,
            teacher_id=other_id,
            subject="Algebra",
            starts_at=start,
            ends_at=start + 2700,
            state="scheduled",
        )
        s.add(row)
        await s.commit()
        legacy = row.id
    pupil = await sign_in(server, *server.pupils[0])
    pupil_id = (await api(server, pupil, "GET", "/api/me"))[1]["user"]["id"]
    for method, path, body in (
        ("GET", f"/api/lessons/{legacy}", None),
        ("GET", f"/api/lessons/{legacy}/attendance", None),
        ("PUT", f"/api/lessons/{legacy}/marks/{pupil_id}", {"value": 1}),
        ("POST", f"/api/lessons/{legacy}/start", None),
    ):
        status, answer = await api(server, other, method, path, body)
        assert (status, code(answer)) == (403, "not_permitted"), path
    diary = (await api(server, pupil, "GET", "/api/diary"))[1]
    assert all(not day_lesson.get("mark") for day in diary["days"] for day_lesson in day["lessons"])


async def test_absent_pupils_cannot_be_marked_once_the_journal_has_them_absent(
    any_db_server: LiveServer,
) -> None:
    server = any_db_server
    teacher = await sign_in(server, *server.teacher)
    lesson = await new_lesson(server, teacher)
    lid = lesson["id"]
    pupils = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]["pupils"]
    present, absent = pupils[0]["id"], pupils[1]["id"]
    # While the lesson runs any pupil of the class can be marked (the room's mark button).
    assert (await api(server, teacher, "PUT", f"/api/lessons/{lid}/marks/{absent}", {"value": 3}))[
        0
    ] == 200
    await api(server, teacher, "POST", f"/api/lessons/{lid}/start")
    status, _ = await api(
        server,
        teacher,
        "POST",
        f"/api/lessons/{lid}/end",
        {"corrections": [{"pupil_id": present, "status": "present"}]},
    )
    assert status == 200
    # Refused before and after the builtin journal got the records (outbox, then table).
    status, answer = await api(
        server, teacher, "PUT", f"/api/lessons/{lid}/marks/{absent}", {"value": 4}
    )
    assert (status, code(answer)) == (409, "pupil_absent")
    await _delivered(server)
    status, answer = await api(
        server, teacher, "PUT", f"/api/lessons/{lid}/marks/{absent}", {"value": 4}
    )
    assert (status, code(answer)) == (409, "pupil_absent")
    status, answer = await api(
        server,
        teacher,
        "PUT",
        f"/api/lessons/{lid}/marks/{present}",
        {"value": 5, "comment": "Good"},
    )
    assert status == 200 and answer["mark"]["comment"] == "Good"
    page = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]
    assert {a["pupil_id"]: a["status"] for a in page["attendance"]}[absent] == "absent"
    assert {m["pupil_id"]: m["value"] for m in page["marks"]} == {absent: 3, present: 5}


async def test_diary_shows_only_the_pupils_own_class_marks_and_homework(
    any_db_server: LiveServer,
) -> None:
    server = any_db_server
    teacher = await sign_in(server, *server.teacher)
    lesson = await new_lesson(server, teacher, topic="Quadratic equations")
    lid = lesson["id"]
    pupils = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]["pupils"]
    me, classmate = pupils[0]["id"], pupils[1]["id"]
    await api(
        server, teacher, "PUT", f"/api/lessons/{lid}/marks/{me}", {"value": 5, "comment": "Bravo"}
    )
    await api(server, teacher, "PUT", f"/api/lessons/{lid}/marks/{classmate}", {"value": 2})
    for body in (
        {"kind": "homework", "text": "For all"},
        {"kind": "homework", "text": "For me", "pupil_ids": [me]},
        {"kind": "homework", "text": "For my classmate", "pupil_ids": [classmate]},
        {"kind": "classwork", "text": "Done in class"},
    ):
        assert (await api(server, teacher, "POST", f"/api/lessons/{lid}/assignments", body))[
            0
        ] == 201
    started = (await api(server, teacher, "POST", f"/api/lessons/{lid}/start"))[1]

    me_token = await sign_in(server, *server.pupils[0])
    status, diary = await api(server, me_token, "GET", "/api/diary")
    assert status == 200 and diary["week"] == lesson["week"] and diary["class_name"] == "7A"
    entries = [e for day in diary["days"] for e in day["lessons"]]
    entry = next(e for e in entries if e["lesson_id"] == lid)
    assert entry["topic"] == "Quadratic equations" and entry["teacher"] == "Gulnara Sadykova"
    assert entry["mark"]["value"] == 5 and entry["mark"]["comment"] == "Bravo"
    assert sorted(h["text"] for h in entry["homework"]) == ["For all", "For me"]
    assert entry["room_url"] == started["invite_url"]
    assert entry["attendance"] is None
    assert len(entries) > 1, "the demo week's lessons are in the diary too"
    assert [d["date"] for d in diary["days"]] == sorted(d["date"] for d in diary["days"])

    # A pupil of another class sees none of 7A's lessons, marks or homework.
    store = server.app[STORE]
    stranger = await store.create_user("stranger", "Other Pupil", "pupil", "pw-stranger-123")
    await store.create_class("8B", [stranger.id])
    stranger_token = await sign_in(server, "stranger", "pw-stranger-123")
    status, theirs = await api(server, stranger_token, "GET", "/api/diary")
    assert (status, theirs["days"], theirs["class_name"]) == (200, [], "8B")
    status, answer = await api(server, stranger_token, "GET", f"/api/lessons/{lid}")
    assert (status, code(answer)) == (403, "not_permitted")

    assert (await api(server, teacher, "GET", "/api/diary"))[0] == 403
    for bad in ("?week=2026-W60", "?week=x", "?pupil_id=3"):
        status, answer = await api(server, me_token, "GET", "/api/diary" + bad)
        assert (status, code(answer)) == (400, "invalid_payload"), bad
    # Read-only: there is no way to write through the diary.
    assert (await api(server, me_token, "PUT", "/api/diary", {"mark": 5}))[0] == 405
    async with asyncio.timeout(5):
        ended = await api(server, teacher, "POST", f"/api/lessons/{lid}/end", {})
    assert ended[0] == 200
    await _delivered(server)
    entry = next(
        e
        for day in (await api(server, me_token, "GET", f"/api/diary?week={lesson['week']}"))[1][
            "days"
        ]
        for e in day["lessons"]
        if e["lesson_id"] == lid
    )
    assert entry["room_url"] is None and entry["attendance"] == "absent"


async def test_room_info_names_its_lesson(any_db_server: LiveServer) -> None:
    server = any_db_server
    teacher = await sign_in(server, *server.teacher)
    lesson = await new_lesson(server, teacher)
    started = (await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/start"))[1]
    room_id = started["invite_url"].rsplit("/", 1)[1]
    status, info = await api(server, None, "GET", f"/api/rooms/{room_id}")
    assert status == 200 and info["room"]["lesson_id"] == lesson["id"]
    assert started["lesson"]["invite_url"] == started["invite_url"]
    status, created = await api(
        server, teacher, "POST", "/api/rooms", {"title": "Club", "class_id": None}
    )
    status, info = await api(server, None, "GET", f"/api/rooms/{created['room']['id']}")
    assert status == 200 and info["room"]["lesson_id"] is None


async def test_plans_belong_to_the_teacher_who_teaches_the_class_and_subject(
    live_server: LiveServer,
) -> None:
    server = live_server
    teacher = await sign_in(server, *server.teacher)
    mine: Any = (await api(server, teacher, "GET", "/api/teaching"))[1]
    algebra = next(t for t in mine["teaching"] if t["subject_name"] == "Algebra")
    query = f"?class_id={algebra['class_id']}&subject_id={algebra['subject_id']}"
    status, plan = await api(server, teacher, "GET", "/api/plan" + query)
    assert status == 200 and len(plan["topics"]) >= 3
    kept = plan["topics"][0]
    new = [
        {"id": kept["id"], "title": "Linear equations (revised)", "hours": 3},
        {"title": "Review"},
    ]
    status, saved = await api(server, teacher, "PUT", "/api/plan" + query, {"topics": new})
    assert status == 200
    assert [(t["title"], t["position"]) for t in saved["topics"]] == [
        ("Linear equations (revised)", 1),
        ("Review", 2),
    ]
    assert saved["topics"][0]["id"] == kept["id"]
    for bad, expected in (
        ("?class_id=1", (400, "invalid_payload")),
        ("?class_id=abc&subject_id=1", (400, "invalid_payload")),
        (f"?class_id=999999&subject_id={algebra['subject_id']}", (404, "unknown_class")),
        (f"?class_id={algebra['class_id']}&subject_id=999999", (404, "unknown_subject")),
    ):
        status, answer = await api(server, teacher, "GET", "/api/plan" + bad)
        assert (status, code(answer)) == expected, bad
    status, answer = await api(
        server, teacher, "PUT", "/api/plan" + query, {"topics": [{"id": 999999, "title": "x"}]}
    )
    assert (status, code(answer)) == (404, "unknown_topic")
    other = await other_teacher(server)
    status, answer = await api(server, other, "GET", "/api/plan" + query)
    assert (status, code(answer)) == (403, "not_permitted")


async def test_marks_given_at_the_same_moment_leave_one_mark(any_db_server: LiveServer) -> None:
    server = any_db_server
    teacher = await sign_in(server, *server.teacher)
    lesson = await new_lesson(server, teacher)
    lid = lesson["id"]
    pupil = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]["pupils"][2]["id"]
    path = f"/api/lessons/{lid}/marks/{pupil}"
    answers = await asyncio.gather(
        *(api(server, teacher, "PUT", path, {"value": v}) for v in (1, 2, 3, 4, 5))
    )
    assert [status for status, _ in answers] == [200] * 5
    marks = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]["marks"]
    assert len(marks) == 1 and marks[0]["value"] in {1, 2, 3, 4, 5}
