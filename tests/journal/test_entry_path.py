"""The way into a lesson: the diary names today and the lessons open now, whatever the week
shown; a room tells the signed-in caller whether a join enters at once (the page then joins by
itself, with no form)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from server.db.engine import sessions
from server.db.tables import RoomRecord
from server.journal.weeks import day_of
from server.keys import ENGINE, SCHOOL_ADMIN, STORE
from tests.conftest import LiveServer
from tests.integration.peers import sign_in
from tests.journal.helpers import api, new_lesson, teacher_of_another_class


async def test_diary_names_today_and_the_lessons_open_now(live_server: LiveServer) -> None:
    server = live_server
    teacher = await sign_in(server, *server.teacher)
    pupil = await sign_in(server, *server.pupils[0])
    zone = (await server.app[SCHOOL_ADMIN].settings()).zone

    status, diary = await api(server, pupil, "GET", "/api/diary")
    assert status == 200 and diary["today"] == day_of(time.time(), zone).isoformat()
    assert diary["open_now"] == []

    lesson = await new_lesson(server, teacher, topic="Fractions")
    started = (await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/start"))[1]
    # An old week still shows the lesson going on now, with its room.
    status, old = await api(server, pupil, "GET", "/api/diary?week=2001-W01")
    assert status == 200 and old["days"] == []
    (now,) = old["open_now"]
    assert (now["lesson_id"], now["subject"], now["topic"]) == (
        lesson["id"],
        "Algebra",
        "Fractions",
    )
    assert now["room_url"] == started["invite_url"] and now["teacher"] == "Gulnara Sadykova"

    # A pupil of another class is not told of 7A's open lesson.
    store = server.app[STORE]
    stranger = await store.create_user("stranger", "Other Pupil", "pupil", "pw-stranger-123")
    await store.create_class("8B", [stranger.id])
    theirs = await sign_in(server, "stranger", "pw-stranger-123")
    assert (await api(server, theirs, "GET", "/api/diary"))[1]["open_now"] == []

    assert (await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/end", {}))[0] == 200
    assert (await api(server, pupil, "GET", "/api/diary"))[1]["open_now"] == []


async def test_room_says_who_enters_directly(live_server: LiveServer) -> None:
    server = live_server
    teacher = await sign_in(server, *server.teacher)
    pupil = await sign_in(server, *server.pupils[0])
    lesson = await new_lesson(server, teacher)
    started = (await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/start"))[1]
    room_id = started["invite_url"].rsplit("/", 1)[1]
    store = server.app[STORE]
    await store.create_user("stranger", "Other Pupil", "pupil", "pw-stranger-123")
    stranger = await sign_in(server, "stranger", "pw-stranger-123")

    def enters(answer: dict[str, object]) -> object:
        room = answer["room"]
        assert isinstance(room, dict)
        return room["enters_directly"]

    for token, expected in ((teacher, True), (pupil, True), (stranger, False), (None, False)):
        status, answer = await api(server, token, "GET", f"/api/rooms/{room_id}")
        assert status == 200 and enters(answer) is expected, token

    # A room of 7A whose owner does not teach 7A (made before that was checked): its pupils
    # knock at the join, so the page does not send them in either; the owner still goes in.
    other, other_id, _ = await teacher_of_another_class(server)
    async with sessions(server.app[ENGINE])() as s:
        s.add(
            RoomRecord(
                id="room-of-7a",
                title="Algebra",
                owner_id=other_id,
                class_id=server.class_id,
                guest_policy="ask_host",
                created_at=datetime.now(UTC),
            )
        )
        await s.commit()
    for token, expected in ((pupil, False), (other, True)):
        status, answer = await api(server, token, "GET", "/api/rooms/room-of-7a")
        assert status == 200 and enters(answer) is expected, token
