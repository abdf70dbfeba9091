"""End lesson ends the room: everyone hears it, leaves at that instant, and cannot come back."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from server.db.engine import sessions
from server.db.tables import PresenceRecord
from server.keys import ARCHIVE, ENGINE, LESSONS, SIGNALLING
from tests.conftest import LiveServer
from tests.integration.peers import Peer, admit_guest, guest_join, peers, sign_in
from tests.journal.helpers import api, new_lesson


def join_as_user(room_id: str) -> dict[str, Any]:
    return {"v": 1, "room": room_id, "as": "user"}


async def started(server: LiveServer, teacher: str, **fields: Any) -> tuple[int, str]:
    """A lesson under way, started: its id and its room's id."""
    lesson = await new_lesson(server, teacher, **fields)
    status, answer = await api(server, teacher, "POST", f"/api/lessons/{lesson['id']}/start")
    assert status == 200, answer
    return lesson["id"], answer["invite_url"].rsplit("/", 1)[1]


async def presence_of(server: LiveServer, room_id: str) -> list[PresenceRecord]:
    """Every presence interval of the room, once the archive has written what it was given."""
    await server.app[ARCHIVE].flush()
    async with sessions(server.app[ENGINE])() as s:
        return list(
            await s.scalars(select(PresenceRecord).where(PresenceRecord.room_id == room_id))
        )


async def enter_lesson(
    server: LiveServer, teacher: str, room_id: str, host: Peer, pupil: Peer
) -> None:
    await host.connect(server, teacher)
    assert (await host.call("join", join_as_user(room_id)))["status"] == "joined"
    await pupil.connect(server, await sign_in(server, *server.pupils[0]))
    assert (await pupil.call("join", join_as_user(room_id)))["status"] == "joined"


async def test_end_lesson_closes_the_room_for_everyone_at_that_instant(
    live_server: LiveServer,
) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    lesson, room_id = await started(live_server, teacher)
    async with peers("host", "pupil", "guest", "knocker") as (host, pupil, guest, knocker):
        await enter_lesson(live_server, teacher, room_id, host, pupil)
        await admit_guest(live_server, host, guest, room_id)
        await knocker.connect(live_server)
        assert (await knocker.call("join", guest_join(room_id, "Late Visitor")))["ok"]
        await host.wait("lobby", lambda d: len(d["lobby"]) == 1)

        status, answer = await api(live_server, teacher, "POST", f"/api/lessons/{lesson}/end", {})
        assert status == 200, answer
        for peer in (host, pupil, guest, knocker):
            assert await peer.wait("room_closed") == {"reason": "lesson_ended"}
            await peer.wait("disconnect")  # the server closes every socket of the room
        signalling = live_server.app[SIGNALLING]
        assert signalling.rooms.get(room_id) is None
        assert room_id not in signalling.media._routers

        detail = (await api(live_server, teacher, "GET", f"/api/lessons/{lesson}"))[1]
        ended_at = detail["lesson"]["ended_at"]
        intervals = await presence_of(live_server, room_id)
        assert len(intervals) == 3  # teacher, pupil, guest (the knocker was never in)
        assert {(p.left_at, p.how) for p in intervals} == {(ended_at, "ended")}
        # The guest log no longer says "still in the room".
        assert [g["left_at"] for g in detail["guests"]] == [ended_at]

        # Nobody enters the ended lesson's room again, pupil or guest.
        async with peers("late pupil", "late guest") as (late, late_guest):
            await late.connect(live_server, await sign_in(live_server, *live_server.pupils[1]))
            refused = await late.call("join", join_as_user(room_id))
            assert refused["error"]["code"] == "room_closed"
            await late_guest.connect(live_server)
            refused = await late_guest.call("join", guest_join(room_id))
            assert refused["error"]["code"] == "room_closed"


async def test_a_room_kept_open_for_questions_closes_by_itself(live_server: LiveServer) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    lesson, room_id = await started(live_server, teacher)
    async with peers("host", "pupil") as (host, pupil):
        await enter_lesson(live_server, teacher, room_id, host, pupil)
        before = time.time()
        status, answer = await api(
            live_server, teacher, "POST", f"/api/lessons/{lesson}/end", {"keep_open_s": 1}
        )
        assert status == 200, answer
        closing = await pupil.wait("room_closing")
        detail = (await api(live_server, teacher, "GET", f"/api/lessons/{lesson}"))[1]
        ended_at = detail["lesson"]["ended_at"]
        assert detail["lesson"]["state"] == "closed" and before <= ended_at
        assert closing == {"closes_at": ended_at + 1, "reason": "lesson_ended"}
        # The Q&A goes on meanwhile: the pupil is still in and may still ask.
        assert (await pupil.call("chat_send", {"text": "One more question?"}))["ok"]
        assert [p.left_at for p in await presence_of(live_server, room_id)] == [None, None]

        # Then the room closes by itself, for everyone.
        for peer in (host, pupil):
            assert await peer.wait("room_closed") == {"reason": "lesson_ended"}
            await peer.wait("disconnect")
        intervals = await presence_of(live_server, room_id)
        assert {(p.left_at, p.how) for p in intervals} == {(ended_at + 1, "ended")}
    # The attendance was taken at End lesson, not when the room closed.
    records = (await api(live_server, teacher, "GET", f"/api/lessons/{lesson}/attendance"))[1]
    assert {r["attended_min"] for r in records["attendance"]} == {0}


async def test_keep_open_is_bounded(live_server: LiveServer) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    lesson, _ = await started(live_server, teacher)
    for bad in (-1, 3601, "5", 1.5):
        status, answer = await api(
            live_server, teacher, "POST", f"/api/lessons/{lesson}/end", {"keep_open_s": bad}
        )
        assert (status, answer["error"]["code"]) == (400, "invalid_payload"), bad
    detail = (await api(live_server, teacher, "GET", f"/api/lessons/{lesson}"))[1]
    assert detail["lesson"]["state"] == "open"


async def test_the_finaliser_closes_the_room_of_a_lesson_nobody_ended(
    live_server: LiveServer,
) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    lesson, room_id = await started(live_server, teacher, minutes=40)
    async with peers("host", "pupil") as (host, pupil):
        await enter_lesson(live_server, teacher, room_id, host, pupil)
        overdue = time.time() + 3600  # the finaliser's clock, well past the lesson's end
        assert await live_server.app[LESSONS].finalise_overdue(overdue, grace_s=60) == [lesson]
        assert await pupil.wait("room_closed") == {"reason": "lesson_ended"}
        await host.wait("room_closed")
