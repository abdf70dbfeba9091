"""The administrator's API on SQLite and PostgreSQL: school settings drive the attendance rules,
years, subjects, teaching, the dead-letter list, and the CSV import from the web."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from server.db.engine import sessions
from server.db.tables import Lesson, PresenceRecord, User
from server.journal import outbox
from server.keys import COURIER, ENGINE, LESSONS
from tests.conftest import LiveServer
from tests.integration.peers import sign_in
from tests.journal.helpers import admin, api, code, new_lesson


async def test_school_settings_are_the_rules_of_attendance(any_db_server: LiveServer) -> None:
    server = any_db_server
    boss = await admin(server)
    teacher = await sign_in(server, *server.teacher)
    status, settings = await api(server, boss, "GET", "/api/admin/school")
    assert status == 200 and settings["present_ratio"] == 0.5 and settings["late_after_min"] == 10
    # A lesson under way for 1000 s; a pupil joined 700 s in and is still there: 30 % of the
    # time so far, late by 11 min 40 s.
    lesson = await new_lesson(server, teacher, starts_in_s=-1000, minutes=60)
    lid = lesson["id"]
    started = (await api(server, teacher, "POST", f"/api/lessons/{lid}/start"))[1]
    room_id = started["lesson"]["room_id"]
    pupil_id = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]["pupils"][0]["id"]
    async with sessions(server.app[ENGINE])() as s:
        s.add(
            PresenceRecord(
                room_id=room_id,
                session="s1",
                participant_id="p1",
                identity=f"user:{pupil_id}",
                user_id=pupil_id,
                name="Aigerim Nurlanova",
                kind="user",
                joined_at=lesson["starts_at"] + 700,
            )
        )
        await s.commit()

    async def proposed() -> dict[str, Any]:
        rows = (await api(server, teacher, "GET", f"/api/lessons/{lid}/attendance"))[1]
        entry: dict[str, Any] = next(r for r in rows["attendance"] if r["pupil_id"] == pupil_id)
        return entry

    before = await proposed()
    assert (before["status"], before["late"]) == ("absent", True)
    status, changed = await api(
        server, boss, "PUT", "/api/admin/school", {"present_ratio": 0.25, "late_after_min": 15}
    )
    assert status == 200 and changed["present_ratio"] == 0.25 and changed["mark_max"] == 5
    after = await proposed()
    assert (after["status"], after["late"]) == ("present", False)

    # The mark scale is the school's too.
    path = f"/api/lessons/{lid}/marks/{pupil_id}"
    assert (await api(server, teacher, "PUT", path, {"value": 9}))[0] == 400
    await api(server, boss, "PUT", "/api/admin/school", {"mark_max": 10})
    assert (await api(server, teacher, "PUT", path, {"value": 9}))[0] == 200
    page = (await api(server, teacher, "GET", f"/api/lessons/{lid}"))[1]
    assert page["mark_scale"] == {"mark_min": 1, "mark_max": 10}
    status, info = await api(server, teacher, "GET", "/api/school")
    assert (status, info["mark_max"], info["name"]) == (200, 10, "Demo school")
    assert (await api(server, None, "GET", "/api/school"))[0] == 401

    for bad in (
        {"present_ratio": 0},
        {"present_ratio": 1.5},
        {"mark_min": 10},  # not below mark_max
        {"timezone": "Mars/Olympus"},
        {"late_after_min": "10"},
        {"name": ""},
        {"colour": "blue"},
    ):
        status, answer = await api(server, boss, "PUT", "/api/admin/school", bad)
        assert (status, code(answer)) == (400, "invalid_payload"), bad
    assert (await api(server, boss, "GET", "/api/admin/school"))[1]["mark_max"] == 10
    for who in (teacher, None):
        status, answer = await api(server, who, "PUT", "/api/admin/school", {"mark_max": 3})
        assert status in (401, 403)


async def test_finaliser_waits_for_the_schools_grace_period(any_db_server: LiveServer) -> None:
    server = any_db_server
    boss = await admin(server)
    teacher = await sign_in(server, *server.teacher)
    lesson = await new_lesson(server, teacher, starts_in_s=-60, minutes=40)
    await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/start")
    await api(server, boss, "PUT", "/api/admin/school", {"finalise_grace_min": 30})
    lessons = server.app[LESSONS]
    then = lesson["ends_at"] + 20 * 60  # the finaliser's clock: the lesson ended 20 min ago
    assert await lessons.finalise_overdue(then) == []
    await api(server, boss, "PUT", "/api/admin/school", {"finalise_grace_min": 15})
    assert await lessons.finalise_overdue(then) == [lesson["id"]]


async def test_years_subjects_and_teaching(any_db_server: LiveServer) -> None:
    server = any_db_server
    boss = await admin(server)
    teacher = await sign_in(server, *server.teacher)
    year = {
        "name": "2040-2041",
        "starts_on": "2040-09-01",
        "ends_on": "2041-05-25",
        "periods": [
            {"name": "Term 2", "starts_on": "2041-01-10", "ends_on": "2041-05-25"},
            {"name": "Term 1", "starts_on": "2040-09-01", "ends_on": "2040-12-28"},
        ],
    }
    status, made = await api(server, boss, "POST", "/api/admin/years", year)
    assert status == 201 and [p["name"] for p in made["year"]["periods"]] == ["Term 1", "Term 2"]
    listed = (await api(server, teacher, "GET", "/api/years"))[1]["years"]
    assert "2040-2041" in [y["name"] for y in listed]
    # 2040-09-01 is a Saturday: its ISO week (2040-W35) is the first week of Term 1.
    for week, period_and_number in (("2040-W35", ("Term 1", 1)), ("2040-W40", ("Term 1", 6))):
        shown = (await api(server, teacher, "GET", f"/api/schedule?week={week}"))[1]
        assert (shown["period"], shown["week_number"]) == period_and_number, week
    shown = (await api(server, teacher, "GET", "/api/schedule?week=2041-W01"))[1]
    assert (shown["period"], shown["week_number"]) == (None, None)  # the winter holiday
    for bad, expected in (
        (year, (409, "already_exists")),
        ({**year, "name": "x", "ends_on": "2040-08-01"}, (400, "invalid_payload")),
        (
            {**year, "name": "y", "starts_on": "2050-09-01", "ends_on": "2051-05-25"},
            (400, "invalid_payload"),  # periods outside the year
        ),
        (
            {
                **year,
                "name": "z",
                "starts_on": "2060-09-01",
                "ends_on": "2061-05-25",
                "periods": [
                    {"name": "A", "starts_on": "2060-09-01", "ends_on": "2060-12-01"},
                    {"name": "B", "starts_on": "2060-11-01", "ends_on": "2061-01-01"},
                ],
            },
            (400, "invalid_payload"),  # overlapping periods
        ),
        ({**year, "starts_on": 20400901}, (400, "invalid_payload")),
        ({**year, "extra": 1}, (400, "invalid_payload")),
    ):
        status, answer = await api(server, boss, "POST", "/api/admin/years", bad)
        assert (status, code(answer)) == expected, bad
    assert (await api(server, teacher, "POST", "/api/admin/years", year))[0] == 403

    status, made = await api(server, boss, "POST", "/api/admin/subjects", {"name": "Geometry"})
    assert status == 201 and made["subject"]["name"] == "Geometry"
    geometry = made["subject"]["id"]
    status, answer = await api(server, boss, "POST", "/api/admin/subjects", {"name": "Geometry"})
    assert (status, code(answer)) == (409, "already_exists")
    status, answer = await api(server, boss, "POST", "/api/admin/subjects", {"name": 7})
    assert (status, code(answer)) == (400, "invalid_payload")
    names = [s["name"] for s in (await api(server, teacher, "GET", "/api/subjects"))[1]["subjects"]]
    assert "Geometry" in names

    choices = (await api(server, boss, "GET", "/api/admin/teaching"))[1]
    teacher_id = next(t["id"] for t in choices["teachers"] if t["login"] == "teacher")
    row = {"teacher_id": teacher_id, "class_id": server.class_id, "subject_id": geometry}
    status, made = await api(server, boss, "POST", "/api/admin/teaching", row)
    assert status == 201 and made["teaching"]["subject_name"] == "Geometry"
    mine = (await api(server, teacher, "GET", "/api/teaching"))[1]["teaching"]
    assert "Geometry" in [t["subject_name"] for t in mine]
    async with sessions(server.app[ENGINE])() as s:
        pupil_id = await s.scalar(select(User.id).where(User.kind == "pupil").limit(1))
    for bad, expected in (
        (row, (409, "already_exists")),
        ({**row, "teacher_id": 999999}, (404, "unknown_teacher")),
        ({**row, "teacher_id": pupil_id}, (404, "unknown_teacher")),
        ({**row, "class_id": 999999}, (404, "unknown_class")),
        ({**row, "subject_id": 999999}, (404, "unknown_subject")),
        ({**row, "subject_id": "1"}, (400, "invalid_payload")),
    ):
        status, answer = await api(server, boss, "POST", "/api/admin/teaching", bad)
        assert (status, code(answer)) == expected, bad
    # A lesson can name its subject by id.
    lesson = await new_lesson(server, teacher, subject=None, subject_id=geometry)
    assert (lesson["subject"], lesson["subject_id"]) == ("Geometry", geometry)
    lesson = await new_lesson(server, teacher, subject="Geometry")  # by name: the same subject
    assert lesson["subject_id"] == geometry
    lesson = await new_lesson(server, teacher, subject="Chess club")
    assert (lesson["subject"], lesson["subject_id"]) == ("Chess club", None)
    status, answer = await api(
        server,
        teacher,
        "POST",
        "/api/lessons",
        {"class_id": server.class_id, "subject_id": 999999, "starts_at": 0, "ends_at": 60},
    )
    assert (status, code(answer)) == (404, "unknown_subject")


async def test_dead_letters_are_listed_and_retried_once(any_db_server: LiveServer) -> None:
    server = any_db_server
    boss = await admin(server)
    engine_sessions = sessions(server.app[ENGINE])
    async with engine_sessions() as s:
        outbox.add(s, "nowhere:attendance:1:1", "nowhere", {"status": "present"})
        await s.commit()
    courier = server.app[COURIER]
    courier.notify()  # the server's own courier tries it: no such journal, so it is dead

    async def dead_after(attempts: int) -> list[dict[str, Any]]:
        async with asyncio.timeout(20):
            while True:  # the outbox is a table: polled, there is no event
                listed = (await api(server, boss, "GET", "/api/admin/outbox?state=dead"))[1]
                found = [r for r in listed["records"] if r["key"] == "nowhere:attendance:1:1"]
                if found and found[0]["attempts"] == attempts:
                    return found
                await asyncio.sleep(0.05)

    dead = await dead_after(1)
    assert "nowhere" in dead[0]["last_error"]
    rid = dead[0]["id"]
    status, answer = await api(server, boss, "POST", f"/api/admin/outbox/{rid}/retry")
    assert (status, answer) == (200, {"retried": rid})
    await dead_after(2)  # tried once more (still no such journal), and once only

    # A delivered record is not a dead letter: it cannot be retried.
    teacher = await sign_in(server, *server.teacher)
    lesson = await new_lesson(server, teacher)
    await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/start")
    await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/end", {})
    async with asyncio.timeout(20):
        while not (delivered := await courier.letters(outbox.DELIVERED)):
            await asyncio.sleep(0.05)
    status, answer = await api(server, boss, "POST", f"/api/admin/outbox/{delivered[0].id}/retry")
    assert (status, code(answer)) == (409, "record_not_dead")
    for path, expected in (
        ("/api/admin/outbox/999999/retry", (404, "unknown_record")),
        ("/api/admin/outbox/x/retry", (400, "invalid_payload")),
    ):
        status, answer = await api(server, boss, "POST", path)
        assert (status, code(answer)) == expected
    status, answer = await api(server, boss, "GET", "/api/admin/outbox?state=lost")
    assert (status, code(answer)) == (400, "invalid_payload")
    assert (await api(server, teacher, "GET", "/api/admin/outbox"))[0] == 403
    assert (await api(server, teacher, "POST", f"/api/admin/outbox/{rid}/retry"))[0] == 403


CSV = "text/csv"


async def test_web_import_is_all_or_nothing_with_a_report_per_line(
    live_server: LiveServer,
) -> None:
    server = live_server
    boss = await admin(server)
    store_sessions = sessions(server.app[ENGINE])

    async def pupils() -> int:
        async with store_sessions() as s:
            return len(list(await s.scalars(select(User.id).where(User.kind == "pupil"))))

    before = await pupils()
    broken = (
        "class,login,full_name\n"
        "7A,new.one,New One\n"
        "7A,pupil1,Taken Login\n"
        "9Z,new.two,Unknown Class\n"
        "7A,new.one,Duplicate\n"
        "7A,too,many,fields\n"
    )
    status, report = await api(
        server, boss, "POST", "/api/admin/import", data=broken, content_type=CSV
    )
    assert status == 200 and report["ok"] is False
    assert [line["line"] for line in report["lines"]] == [3, 4, 5, 6]
    assert report["passwords"] == [] and await pupils() == before
    good = "class,login,full_name\n7A,new.one,New One\n10B,new.two,Жаңа Оқушы\n"
    status, report = await api(
        server,
        boss,
        "POST",
        "/api/admin/import?dry_run=1&new_classes=1",
        data=good,
        content_type=CSV,
    )
    assert (status, report["ok"], report["dry_run"]) == (200, True, True)
    assert report["created"] == {"pupils": 2, "classes": ["10B"], "teachers": 0}
    assert await pupils() == before
    status, report = await api(
        server, boss, "POST", "/api/admin/import?new_classes=1", data=good, content_type=CSV
    )
    assert (status, report["ok"], report["dry_run"]) == (200, True, False)
    assert sorted(p["login"] for p in report["passwords"]) == ["new.one", "new.two"]
    assert await pupils() == before + 2
    login, password = report["passwords"][0]["login"], report["passwords"][0]["password"]
    assert await sign_in(server, login, password)

    status, answer = await api(
        server, boss, "POST", "/api/admin/import", data=b"x" * (1024 * 1024 + 10), content_type=CSV
    )
    assert (status, code(answer)) == (413, "payload_too_large")
    status, answer = await api(server, boss, "POST", "/api/admin/import", {"csv": good})
    assert (status, code(answer)) == (415, "unsupported_media_type")
    status, answer = await api(
        server, boss, "POST", "/api/admin/import", data=b"\xff\xfe\x00", content_type=CSV
    )
    assert (status, code(answer)) == (400, "invalid_payload")
    status, answer = await api(
        server, boss, "POST", "/api/admin/import?dry_run=yes", data=good, content_type=CSV
    )
    assert (status, code(answer)) == (400, "invalid_payload")
    teacher = await sign_in(server, *server.teacher)
    status, answer = await api(
        server, teacher, "POST", "/api/admin/import", data=good, content_type=CSV
    )
    assert (status, code(answer)) == (403, "not_permitted")


async def test_demo_school_has_an_admin_and_a_journal_to_show(live_server: LiveServer) -> None:
    server = live_server
    async with sessions(server.app[ENGINE])() as s:
        kinds = set(await s.scalars(select(User.kind)))
        lessons = list(await s.scalars(select(Lesson)))
    assert kinds == {"teacher", "pupil", "admin"}
    now = time.time()
    assert any(lesson.starts_at <= now < lesson.ends_at for lesson in lessons)
    assert all(lesson.subject_id is not None for lesson in lessons)
    assert len({time.strftime("%F", time.gmtime(lesson.starts_at)) for lesson in lessons}) >= 5
