"""Sessions end when people expect them to: sign-out, a password change, an administrator, and
one-time passwords that work for one sign-in (issue 10). Real server, HTTP and socket.io."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer, running_server
from tests.integration.peers import Peer, create_room, peers, sign_in
from tests.journal.helpers import admin, api

NEW_PASSWORD = "a-brand-new-password"


async def me(server: LiveServer, token: str) -> Any:
    """Who the cookie signs in (None: nobody)."""
    status, body = await api(server, token, "GET", "/api/me")
    assert status == 200
    return body["user"]


async def change_password(server: LiveServer, token: str, current: str, new: str) -> str:
    """Changes the password with this cookie; the fresh cookie the answer sets."""
    async with (
        aiohttp.ClientSession(cookies={SESSION_COOKIE: token}) as http,
        http.post(f"{server.url}/api/password", json={"current": current, "new": new}) as response,
    ):
        assert response.status == 204, await response.text()
        return response.cookies[SESSION_COOKIE].value


async def teacher_hosting(server: LiveServer, host: Peer, token: str) -> str:
    """The teacher's socket (opened with `token`) hosts a new room; the room's id."""
    room = await create_room(server, token)
    await host.connect(server, token)
    ack = await host.call("join", {"v": 1, "room": room["id"], "as": "user"})
    assert ack["ok"] and ack["status"] == "joined"
    return str(room["id"])


async def test_sign_out_ends_the_session_on_the_server(live_server: LiveServer) -> None:
    token = await sign_in(live_server, *live_server.teacher)
    other = await sign_in(live_server, *live_server.teacher)
    async with peers("tab") as (tab,):
        await tab.connect(live_server, token)
        assert (await api(live_server, token, "DELETE", "/api/session"))[0] == 204
        # The socket opened with the session is told why and let go.
        assert await tab.wait("signed_out") == {"reason": "signed_out"}
        await tab.wait("disconnect")
    # The same cookie replayed is nobody now, for every route.
    assert await me(live_server, token) is None
    status, body = await api(live_server, token, "GET", "/api/rooms")
    assert (status, body["error"]["code"]) == (401, "not_signed_in")
    # Signing out of one window leaves the account's other sessions alone.
    assert (await me(live_server, other))["login"] == live_server.teacher[0]


async def test_a_password_change_ends_every_session_of_the_account(
    live_server: LiveServer,
) -> None:
    login, password = live_server.teacher
    changer = await sign_in(live_server, login, password)
    elsewhere = await sign_in(live_server, login, password)
    pupil_login, pupil_password = live_server.pupils[0]
    async with peers("host", "pupil", "idle") as (host, pupil, idle):
        room = await teacher_hosting(live_server, host, elsewhere)
        await pupil.connect(live_server, await sign_in(live_server, pupil_login, pupil_password))
        assert (await pupil.call("join", {"v": 1, "room": room, "as": "user"}))["ok"]
        await idle.connect(live_server, changer)  # a socket of the changing session itself

        fresh = await change_password(live_server, changer, password, NEW_PASSWORD)

        for socket in (host, idle):
            assert await socket.wait("signed_out") == {"reason": "password_changed"}
            await socket.wait("disconnect")
        # The teacher is out of the room: the class sees them go.
        await pupil.wait("participant_left")
        assert pupil.seen("signed_out") == []
    # Neither the other cookie nor the one that made the change works any more...
    assert await me(live_server, elsewhere) is None
    assert await me(live_server, changer) is None
    # ...not for a socket either: joining as the account is refused.
    async with peers("late") as (late,):
        await late.connect(live_server, elsewhere)
        ack = await late.call("join", {"v": 1, "room": room, "as": "user"})
        assert ack["error"]["code"] == "not_signed_in"
    # The changer carries on with the fresh cookie the answer set.
    assert (await me(live_server, fresh))["login"] == login
    assert (await api(live_server, fresh, "GET", "/api/rooms"))[0] == 200


async def test_a_one_time_password_works_for_one_sign_in_to_choose_a_new_one(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path / "data", keep_one_time=True) as server:
        login, one_time = server.pupils[0]
        token = await sign_in(server, login, one_time)
        assert (await me(server, token))["must_change_password"] is True
        # The sign-in's only use is choosing a password: not the diary, not a lesson.
        status, body = await api(server, token, "GET", "/api/diary")
        assert (status, body["error"]["code"]) == (403, "password_change_required")
        teacher = await sign_in(server, *server.teacher)
        teacher_fresh = await change_password(server, teacher, server.teacher[1], NEW_PASSWORD)
        room = await create_room(server, teacher_fresh)
        async with peers("pupil") as (pupil,):
            await pupil.connect(server, token)
            ack = await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"})
            assert ack["error"]["code"] == "password_change_required"
        # The same password a second time: refused, with a sentence that says why.
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{server.url}/api/session", json={"login": login, "password": one_time}
            ) as again,
        ):
            assert again.status == 401
            assert (await again.json())["error"]["code"] == "one_time_password_used"
        # The first sign-in chooses a new password; that one then works as usual.
        fresh = await change_password(server, token, one_time, NEW_PASSWORD)
        assert (await api(server, fresh, "GET", "/api/diary"))[0] == 200
        assert await me(server, token) is None
        later = await sign_in(server, login, NEW_PASSWORD)
        assert (await me(server, later))["must_change_password"] is False


async def test_an_administrator_sees_a_users_sessions_and_ends_them(
    live_server: LiveServer,
) -> None:
    office = await admin(live_server)
    teacher = await sign_in(live_server, *live_server.teacher)
    kept = await sign_in(live_server, *live_server.teacher)
    teacher_id = (await me(live_server, teacher))["id"]
    path = f"/api/admin/users/{teacher_id}/sessions"

    status, body = await api(live_server, office, "GET", path)
    assert status == 200
    listed = body["sessions"]
    assert len(listed) == 2
    assert {s["address"] for s in listed} == {"127.0.0.1"}
    assert all(s["user_agent"].startswith("Python") for s in listed)
    assert all(s["created_at"] <= s["last_seen_at"] < s["expires_at"] for s in listed)
    newest, oldest = listed  # newest first: `kept` is the newer one

    async with peers("host") as (host,):
        await teacher_hosting(live_server, host, teacher)
        ended = await api(live_server, office, "DELETE", f"{path}/{oldest['id']}")
        assert ended[0] == 204
        assert await host.wait("signed_out") == {"reason": "ended_by_admin"}
        await host.wait("disconnect")
    assert await me(live_server, teacher) is None
    assert await me(live_server, kept) is not None
    assert [s["id"] for s in (await api(live_server, office, "GET", path))[1]["sessions"]] == [
        newest["id"]
    ]
    # An ended (or unknown) session cannot be ended twice; an unknown user is said so.
    status, body = await api(live_server, office, "DELETE", f"{path}/{oldest['id']}")
    assert (status, body["error"]["code"]) == (404, "unknown_session")
    status, body = await api(live_server, office, "GET", "/api/admin/users/99999/sessions")
    assert (status, body["error"]["code"]) == (404, "unknown_user")
    # Ending all of them.
    assert await api(live_server, office, "DELETE", path) == (200, {"ended": 1})
    assert await me(live_server, kept) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/admin/users/{id}/sessions"),
        ("DELETE", "/api/admin/users/{id}/sessions"),
        ("DELETE", "/api/admin/users/{id}/sessions/1"),
    ],
)
async def test_only_administrators_manage_sessions(
    live_server: LiveServer, method: str, path: str
) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    pupil = await sign_in(live_server, *live_server.pupils[0])
    office = await admin(live_server)
    url = path.format(id=(await me(live_server, pupil))["id"])
    for token, status, code in (
        (None, 401, "not_signed_in"),
        (pupil, 403, "not_permitted"),
        (teacher, 403, "not_permitted"),
    ):
        answer = await api(live_server, token, method, url)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    # None of the refused calls ended the pupil's session; the administrator's call is let in.
    assert await me(live_server, pupil) is not None
    assert (await api(live_server, office, method, url))[0] in (200, 204, 404)


async def test_sessions_ended_on_one_node_end_their_sockets_on_another(
    tmp_path: Path, demo_data: Path, redis_url: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    async with (
        running_server(data, redis=redis_url) as first,
        running_server(data, redis=redis_url) as second,
        peers("tab") as (tab,),
    ):
        token = await sign_in(first, *first.teacher)
        await tab.connect(second, token)  # the same session, its socket on the other node
        assert (await me(second, token))["login"] == first.teacher[0]
        assert (await api(first, token, "DELETE", "/api/session"))[0] == 204
        assert await tab.wait("signed_out") == {"reason": "signed_out"}
        await tab.wait("disconnect")
        assert await me(second, token) is None
