"""Every answer, errors included, has the security headers; the API's errors are JSON."""

from __future__ import annotations

import sqlite3

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from server.pages import CSP
from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.integration.peers import sign_in


def _secured(headers: CIMultiDictProxy[str]) -> None:
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/api/nope", "/api/lessons/1/nope", "/api/rooms/x/y/z", "/api/"])
async def test_unknown_api_paths_answer_json_not_found(live_server: LiveServer, path: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(live_server.url + path) as answer:
        assert answer.status == 404 and answer.content_type == "application/json"
        error = (await answer.json())["error"]
        assert error["code"] == "not_found" and error["message"]
        _secured(answer.headers)


async def test_unknown_pages_still_answer_the_404_page(live_server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http, http.get(live_server.url + "/nope") as answer:
        assert answer.status == 404 and answer.content_type == "text/html"
        _secured(answer.headers)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/rooms"),
        ("OPTIONS", "/api/rooms"),
        ("PUT", "/api/session"),
        ("POST", "/journal"),
        ("DELETE", "/healthz"),
    ],
)
async def test_wrong_methods_answer_json_405_with_the_headers(
    live_server: LiveServer, method: str, path: str
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, live_server.url + path) as answer,
    ):
        assert answer.status == 405 and answer.content_type == "application/json"
        assert (await answer.json())["error"]["code"] == "method_not_allowed"
        assert answer.headers["Allow"]
        _secured(answer.headers)


async def test_a_server_failure_is_a_json_500_with_the_headers(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = await sign_in(live_server, *live_server.teacher)
    # A real failure: the table the route reads is gone (as after a botched manual change).
    with sqlite3.connect(live_server.settings.data / "sabaq.db") as db:
        db.execute("ALTER TABLE subjects RENAME TO subjects_gone")
    async with (
        aiohttp.ClientSession(cookies={SESSION_COOKIE: token}) as http,
        http.get(live_server.url + "/api/subjects") as answer,
    ):
        assert answer.status == 500 and answer.content_type == "application/json"
        assert (await answer.json())["error"]["code"] == "internal_error"
        _secured(answer.headers)
    assert "GET /api/subjects failed" in caplog.text  # the traceback goes to the log only
