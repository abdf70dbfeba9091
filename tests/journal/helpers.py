"""Shared steps of the journal tests: signing in the demo school's people, calling the API."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from server.demo import CREDENTIALS_FILE
from server.keys import STORE
from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.integration.peers import sign_in


async def api(
    server: LiveServer,
    token: str | None,
    method: str,
    path: str,
    body: Any = None,
    *,
    data: bytes | str | None = None,
    content_type: str | None = None,
) -> tuple[int, Any]:
    """One API call; the answer's status and JSON (its text if not JSON, None if empty)."""
    cookies = {SESSION_COOKIE: token} if token else {}
    headers = {"Content-Type": content_type} if content_type else None
    async with (
        aiohttp.ClientSession(cookies=cookies) as http,
        http.request(method, server.url + path, json=body, data=data, headers=headers) as response,
    ):
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text() or None


def admin_login(server: LiveServer) -> tuple[str, str]:
    """The demo administrator's login and password."""
    lines = (server.settings.data / CREDENTIALS_FILE).read_text().splitlines()
    fields = next(line.split() for line in lines if line.startswith("admin"))
    return fields[1], fields[2]


async def admin(server: LiveServer) -> str:
    """A session of the demo administrator."""
    return await sign_in(server, *admin_login(server))


async def other_teacher(server: LiveServer) -> str:
    """A session of a second teacher, who has no lessons."""
    await server.app[STORE].create_user("other", "Other Teacher", "teacher", "pw-other-1234")
    return await sign_in(server, "other", "pw-other-1234")


async def new_lesson(
    server: LiveServer, token: str, starts_in_s: float = -60, minutes: float = 45, **fields: Any
) -> dict[str, Any]:
    """A lesson of the demo class, by default under way for a minute."""
    start = time.time() + starts_in_s
    body = {
        "class_id": server.class_id,
        "subject": "Algebra",
        "starts_at": start,
        "ends_at": start + minutes * 60,
        **fields,
    }
    status, answer = await api(server, token, "POST", "/api/lessons", body)
    assert status == 201, answer
    lesson: dict[str, Any] = answer["lesson"]
    return lesson


def code(answer: Any) -> str:
    """The error code of an error answer."""
    return str(answer["error"]["code"])


async def teacher_of_another_class(server: LiveServer) -> tuple[str, int, int]:
    """A session of a teacher whom the teaching table gives only class 7B (Algebra), with
    the teacher's and 7B's ids; 7B has one pupil."""
    store = server.app[STORE]
    pupil = await store.create_user("pupil7b", "Pupil Seven B", "pupil", "pw-pupil-7b-1234")
    class_id = await store.create_class("7B", [pupil.id])
    teacher = await store.create_user("teacher7b", "Teacher Seven B", "teacher", "pw-teacher-7b1")
    boss = await admin(server)
    subjects = (await api(server, boss, "GET", "/api/subjects"))[1]["subjects"]
    algebra = next(s["id"] for s in subjects if s["name"] == "Algebra")
    body = {"teacher_id": teacher.id, "class_id": class_id, "subject_id": algebra}
    status, answer = await api(server, boss, "POST", "/api/admin/teaching", body)
    assert status == 201, answer
    return await sign_in(server, "teacher7b", "pw-teacher-7b1"), teacher.id, class_id
