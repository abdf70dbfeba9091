"""Accounts an administrator manages, over HTTP and socket.io (issue 10): add a teacher, reset a
password, disable an account, move a pupil, and the audit log of all of it."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from server.keys import STORE
from tests.conftest import LiveServer
from tests.integration.peers import create_room, peers, sign_in
from tests.integration.test_sessions import NEW_PASSWORD, change_password, me
from tests.journal.helpers import admin, admin_login, api


async def sign_in_status(server: LiveServer, login: str, password: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.url}/api/session", json={"login": login, "password": password}) as r,
    ):
        return r.status, await r.json()


async def pupil_id(server: LiveServer, token: str) -> int:
    return int((await me(server, token))["id"])


async def test_an_administrator_adds_a_teacher_who_then_teaches(live_server: LiveServer) -> None:
    office = await admin(live_server)
    status, body = await api(
        live_server,
        office,
        "POST",
        "/api/admin/users",
        {"login": "Zh.Abenova", "display_name": "Zhanar  Abenova", "kind": "teacher"},
    )
    assert status == 201, body
    user, password = body["user"], body["password"]
    assert (user["login"], user["display_name"], user["kind"]) == (
        "zh.abenova",
        "Zhanar Abenova",
        "teacher",
    )
    assert user["must_change_password"] is True and user["disabled"] is False
    # The one-time password's sign-in chooses a password; then the teacher makes a room (of
    # no class: the teaching table gives her none yet).
    first = await sign_in(live_server, "zh.abenova", password)
    fresh = await change_password(live_server, first, password, NEW_PASSWORD)
    assert (await create_room(live_server, fresh, class_id=None))["title"]
    # The list has the teacher; a login is taken once; pupils come from the import.
    status, listed = await api(live_server, office, "GET", "/api/admin/users?kind=teacher")
    assert "zh.abenova" in [u["login"] for u in listed["users"]]
    assert {u["kind"] for u in listed["users"]} == {"teacher"}
    for body, code in (
        ({"login": "zh.abenova", "display_name": "Again", "kind": "admin"}, "already_exists"),
        ({"login": "new.pupil", "display_name": "Pupil", "kind": "pupil"}, "invalid_payload"),
        ({"login": "no spaces", "display_name": "X", "kind": "teacher"}, "invalid_payload"),
        ({"login": "ok.login", "display_name": "\u202e", "kind": "teacher"}, "invalid_payload"),
    ):
        answer = await api(live_server, office, "POST", "/api/admin/users", body)
        assert answer[1]["error"]["code"] == code, answer


async def test_a_reset_password_ends_the_sessions_and_works_once(live_server: LiveServer) -> None:
    office = await admin(live_server)
    login, password = live_server.pupils[0]
    token = await sign_in(live_server, login, password)
    pid = await pupil_id(live_server, token)
    async with peers("pupil") as (pupil,):
        await pupil.connect(live_server, token)
        status, body = await api(live_server, office, "POST", f"/api/admin/users/{pid}/password")
        assert status == 200
        assert await pupil.wait("signed_out") == {"reason": "password_reset"}
        await pupil.wait("disconnect")
    one_time = body["password"]
    assert body["user"]["must_change_password"] is True
    assert await me(live_server, token) is None
    assert (await sign_in_status(live_server, login, password))[0] == 401
    assert (await sign_in_status(live_server, login, one_time))[0] == 200
    again = await sign_in_status(live_server, login, one_time)
    assert (again[0], again[1]["error"]["code"]) == (401, "one_time_password_used")


async def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(
    live_server: LiveServer,
) -> None:
    office = await admin(live_server)
    login, password = live_server.pupils[1]
    token = await sign_in(live_server, login, password)
    pid = await pupil_id(live_server, token)
    path = f"/api/admin/users/{pid}"
    async with peers("pupil") as (pupil,):
        await pupil.connect(live_server, token)
        status, body = await api(live_server, office, "PATCH", path, {"disabled": True})
        assert (status, body["user"]["disabled"]) == (200, True)
        assert await pupil.wait("signed_out") == {"reason": "disabled"}
        await pupil.wait("disconnect")
    assert await me(live_server, token) is None
    status, body = await sign_in_status(live_server, login, password)
    assert (status, body["error"]["code"]) == (403, "account_disabled")
    # Whoever does not know the password learns nothing: the usual refusal.
    status, body = await sign_in_status(live_server, login, "not-the-password")
    assert (status, body["error"]["code"]) == (401, "invalid_credentials")
    # Enabled again, the account signs in as before.
    assert (await api(live_server, office, "PATCH", path, {"disabled": False}))[0] == 200
    assert (await sign_in_status(live_server, login, password))[0] == 200
    # An administrator cannot lock themselves out.
    own = await pupil_id(live_server, office)
    status, body = await api(
        live_server, office, "PATCH", f"/api/admin/users/{own}", {"disabled": True}
    )
    assert (status, body["error"]["code"]) == (403, "not_permitted")
    assert await me(live_server, office) is not None


async def test_a_pupil_moves_to_another_class(live_server: LiveServer) -> None:
    office = await admin(live_server)
    store = live_server.app[STORE]
    other_class = await store.create_class("8B", [])
    token = await sign_in(live_server, *live_server.pupils[0])
    pid = await pupil_id(live_server, token)
    status, body = await api(
        live_server, office, "PATCH", f"/api/admin/users/{pid}", {"class_id": other_class}
    )
    assert status == 200
    assert (body["user"]["class_id"], body["user"]["class_name"]) == (other_class, "8B")
    assert await store.in_class(pid, other_class)
    assert not await store.in_class(pid, live_server.class_id)
    teacher_id = (await me(live_server, await sign_in(live_server, *live_server.teacher)))["id"]
    for target, patch, code in (
        (pid, {"class_id": 99999}, "unknown_class"),
        (teacher_id, {"class_id": other_class}, "invalid_payload"),
        (99999, {"display_name": "Nobody"}, "unknown_user"),
        (pid, {"kind": "teacher"}, "invalid_payload"),
        (pid, {"login": "renamed"}, "invalid_payload"),
    ):
        answer = await api(live_server, office, "PATCH", f"/api/admin/users/{target}", patch)
        assert answer[1]["error"]["code"] == code, (patch, answer)


async def test_every_change_is_in_the_audit_log(live_server: LiveServer) -> None:
    office = await admin(live_server)
    admin_name = admin_login(live_server)[0]
    added = await api(
        live_server,
        office,
        "POST",
        "/api/admin/users",
        {"login": "t.two", "display_name": "Teacher Two", "kind": "teacher"},
    )
    tid = added[1]["user"]["id"]
    await api(live_server, office, "PATCH", f"/api/admin/users/{tid}", {"kind": "admin"})
    await api(live_server, office, "PATCH", f"/api/admin/users/{tid}", {"display_name": "T 2"})
    await api(live_server, office, "POST", f"/api/admin/users/{tid}/password")
    await api(live_server, office, "PATCH", f"/api/admin/users/{tid}", {"disabled": True})
    await api(live_server, office, "DELETE", f"/api/admin/users/{tid}/sessions")
    status, body = await api(live_server, office, "GET", "/api/admin/audit")
    assert status == 200
    mine = [e for e in body["entries"] if e["target_id"] == tid]
    assert [e["action"] for e in mine] == [
        "sessions.end",
        "user.disable",
        "user.password_reset",
        "user.rename",
        "user.kind",
        "user.add",
    ]
    assert {(e["actor"], e["target"]) for e in mine} == {(admin_name, "t.two")}
    assert mine[-2]["detail"] == {"old": "teacher", "new": "admin"}
    assert all(e["at"] > 0 for e in mine)
    # The password itself is never written down.
    assert added[1]["password"] not in str(body)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/admin/users", None),
        ("POST", "/api/admin/users", {"login": "x.y", "display_name": "X", "kind": "teacher"}),
        ("PATCH", "/api/admin/users/{id}", {"display_name": "X"}),
        ("POST", "/api/admin/users/{id}/password", None),
        ("GET", "/api/admin/audit", None),
    ],
)
async def test_only_administrators_manage_accounts(
    live_server: LiveServer, method: str, path: str, body: Any
) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    pupil = await sign_in(live_server, *live_server.pupils[0])
    url = path.format(id=await pupil_id(live_server, pupil))
    for token, status, code in (
        (None, 401, "not_signed_in"),
        (pupil, 403, "not_permitted"),
        (teacher, 403, "not_permitted"),
    ):
        answer = await api(live_server, token, method, url, body)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), token
    # An administrator still on a one-time password's sign-in must choose a password first.
    office = await admin(live_server)
    office_id = await pupil_id(live_server, office)
    _, reset = await api(live_server, office, "POST", f"/api/admin/users/{office_id}/password")
    one_time = await sign_in(live_server, admin_login(live_server)[0], reset["password"])
    answer = await api(live_server, one_time, method, url, body)
    assert (answer[0], answer[1]["error"]["code"]) == (403, "password_change_required")


async def test_teachers_are_imported_from_csv_like_pupils(live_server: LiveServer) -> None:
    office = await admin(live_server)

    async def send(text: str, dry_run: str = "0") -> Any:
        status, body = await api(
            live_server,
            office,
            "POST",
            f"/api/admin/import?people=teachers&dry_run={dry_run}",
            data=text,
            content_type="text/csv",
        )
        assert status == 200, body
        return body

    bad = await send("login,full_name\nok.one,Good Name\nBad Login,X\nok.one,Twice\n")
    assert bad["ok"] is False
    assert [line["line"] for line in bad["lines"]] == [3, 4]
    # The pupils' header is not a teachers' file.
    assert (await send("class,login,full_name\n7A,x.y,Name\n"))["lines"][0]["line"] == 1
    checked = await send("login,full_name\nb.serik,Bolat Serik\nd.nur,Dana Nur\n", dry_run="1")
    assert (checked["ok"], checked["created"]["teachers"], checked["passwords"]) == (True, 2, [])
    done = await send("login,full_name\nb.serik,Bolat Serik\nd.nur,Dana Nur\n")
    assert (done["created"]["teachers"], done["created"]["pupils"]) == (2, 0)
    passwords = {p["login"]: p["password"] for p in done["passwords"]}
    status, body = await sign_in_status(live_server, "b.serik", passwords["b.serik"])
    assert (status, body["user"]["kind"], body["user"]["must_change_password"]) == (
        200,
        "teacher",
        True,
    )
    _, audit = await api(live_server, office, "GET", "/api/admin/audit")
    imported = [e for e in audit["entries"] if e["action"] == "user.import"]
    assert {(e["target"], e["detail"]["kind"]) for e in imported} == {
        ("b.serik", "teacher"),
        ("d.nur", "teacher"),
    }
