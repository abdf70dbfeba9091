"""Every answer, errors included, has the security headers; the API's errors are JSON."""

from __future__ import annotations

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from server.pages import CSP
from tests.conftest import LiveServer


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
