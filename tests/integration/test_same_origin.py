"""Writes only from our own pages: foreign origins and non-JSON bodies are refused (SECURITY.md)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer, running_server
from tests.integration.peers import sign_in
from tests.journal.helpers import admin, api, new_lesson

EVIL = "https://evil.example"


async def send(
    server: LiveServer,
    token: str,
    method: str,
    path: str,
    headers: dict[str, str],
    *,
    json: Any = None,
    data: str | None = None,
) -> tuple[int, Any]:
    """One request with exactly these extra headers; the status and the JSON (or text)."""
    async with (
        aiohttp.ClientSession(cookies={SESSION_COOKIE: token}) as http,
        http.request(method, server.url + path, json=json, data=data, headers=headers) as answer,
    ):
        if answer.content_type == "application/json":
            return answer.status, await answer.json()
        return answer.status, await answer.text()


async def _writes(server: LiveServer) -> list[tuple[str, str, str, Any]]:
    """(token, method, path, body) of the writes the finding named, each valid as it stands."""
    teacher = await sign_in(server, *server.teacher)
    school_admin = await admin(server)
    lesson = (await new_lesson(server, teacher))["id"]
    pupil = (await api(server, teacher, "GET", f"/api/lessons/{lesson}"))[1]["pupils"][0]["id"]
    return [
        (teacher, "POST", "/api/rooms", {"title": "Evil room", "guest_policy": "ask_host"}),
        (
            teacher,
            "POST",
            f"/api/lessons/{lesson}/assignments",
            {"kind": "homework", "text": "Evil homework"},
        ),
        (teacher, "PUT", f"/api/lessons/{lesson}/marks/{pupil}", {"value": 2}),
        (school_admin, "PUT", "/api/admin/school", {"name": "Evil school"}),
        (teacher, "DELETE", "/api/session", None),
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},  # sandboxed frames and data: URLs
        {"Referer": f"{EVIL}/page"},  # a browser that left Origin out
        {"Origin": EVIL, "Referer": "{own}/journal"},  # Origin decides when both are there
    ],
)
async def test_writes_from_another_origin_are_refused_and_change_nothing(
    live_server: LiveServer, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    server = live_server
    headers = {k: v.format(own=server.url) for k, v in headers.items()}
    writes = await _writes(server)
    caplog.set_level(logging.WARNING, logger="server.csrf")
    for token, method, path, body in writes:
        for sent in (
            {"json": body},
            # A plain HTML form can send these without asking the server first.
            {"data": "" if body is None else str(body).replace("'", '"')},
        ):
            status, answer = await send(server, token, method, path, headers, **sent)
            assert (status, answer["error"]["code"]) == (403, "cross_origin"), (path, sent)
    assert sum("refused" in r.getMessage() for r in caplog.records) == 2 * len(writes)
    teacher = writes[0][0]
    assert (await api(server, teacher, "GET", "/api/rooms"))[1]["rooms"] == []
    lesson_path = writes[1][2].rsplit("/", 1)[0]
    page = (await api(server, teacher, "GET", lesson_path))[1]  # still signed in, too
    assert page["assignments"] == [] and page["marks"] == []
    school = (await api(server, writes[3][0], "GET", "/api/admin/school"))[1]
    assert school["name"] != "Evil school"


async def test_own_origin_allow_list_and_non_browsers_may_write(
    tmp_path: Path, demo_data: Path
) -> None:
    shutil.copytree(demo_data, tmp_path / "data")
    extra = "https://sabaq.school.example"
    async with running_server(tmp_path / "data", allowed_origins=[extra]) as server:
        teacher = await sign_in(server, *server.teacher)
        body = {"title": "Algebra", "guest_policy": "ask_host"}
        for headers in (
            {"Origin": server.url},
            {"Origin": extra.upper()},  # scheme and host are case-insensitive
            {"Referer": f"{server.url}/journal"},
            {},  # neither header: the CLI, scripts and tests (see SECURITY.md)
        ):
            status, answer = await send(server, teacher, "POST", "/api/rooms", headers, json=body)
            assert status == 201, (headers, answer)
        # Another port of the same host is another origin (SameSite=Lax would let it through).
        sibling = server.url.rsplit(":", 1)[0] + ":1"
        status, answer = await send(
            server, teacher, "POST", "/api/rooms", {"Origin": sibling}, json=body
        )
        assert (status, answer["error"]["code"]) == (403, "cross_origin")
        # Safe methods are not checked: a link from elsewhere may open a page.
        assert (await send(server, teacher, "GET", "/api/rooms", {"Origin": EVIL}))[0] == 200


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", '{"title": "Plain", "guest_policy": "ask_host"}'),
        ("application/x-www-form-urlencoded", '{"title": "Form", "guest_policy": "ask_host"}='),
        ("multipart/form-data; boundary=x", '--x\r\n\r\n{"title": "M"}\r\n--x--\r\n'),
    ],
)
async def test_json_routes_take_only_json_bodies(
    live_server: LiveServer, content_type: str, data: str
) -> None:
    teacher = await sign_in(live_server, *live_server.teacher)
    own = {"Origin": live_server.url, "Content-Type": content_type}
    for method, path in (("POST", "/api/rooms"), ("DELETE", "/api/session")):
        status, answer = await send(live_server, teacher, method, path, own, data=data)
        assert (status, answer["error"]["code"]) == (415, "unsupported_media_type"), path
    assert (await api(live_server, teacher, "GET", "/api/rooms"))[1]["rooms"] == []
