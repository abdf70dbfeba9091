"""The server as an operator meets it: pages, health, restart, Redis, PostgreSQL, the CLI."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from argon2 import PasswordHasher

from server import auth
from server.keys import STORE
from server.pages import PAGES as WEB_PAGES
from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer, running_server
from tests.integration.peers import (
    admit_guest,
    create_room,
    host_in_room,
    peers,
    sign_in,
)


async def test_pages_carry_a_strict_csp_and_unknown_rooms_404(live_server: LiveServer) -> None:
    token = await sign_in(live_server, *live_server.teacher)
    room = await create_room(live_server, token)
    async with aiohttp.ClientSession() as http:
        for path in ("/", f"/r/{room['id']}"):
            response = await http.get(live_server.url + path)
            assert response.status == 200 and response.content_type == "text/html"
            csp = response.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
            assert "frame-ancestors 'none'" in csp
        # The page's first requests are preloaded; each names a real answer (a stale path would
        # cost a wasted request), the strings in the language the browser asks for first.
        response = await http.get(
            f"{live_server.url}/r/{room['id']}", headers={"Accept-Language": "ru-RU,ru;q=0.9"}
        )
        preloads = [link.split(">")[0].lstrip(" <") for link in response.headers["Link"].split(",")]
        assert preloads == [f"/api/rooms/{room['id']}", "/api/me", "/static/locales/ru.json"]
        for path in preloads:
            assert (await http.get(live_server.url + path)).status in (200, 401), path
        response = await http.get(f"{live_server.url}/r/no-such-room")
        assert response.status == 404 and response.content_type == "text/html"
        assert "Content-Security-Policy" in response.headers
        api = await http.get(f"{live_server.url}/api/rooms/no-such-room")
        assert api.status == 404 and (await api.json())["error"]["code"] == "unknown_room"
        info = await (await http.get(f"{live_server.url}/api/rooms/{room['id']}")).json()
        assert info["room"] == {
            "id": room["id"],
            "title": "Algebra 7A",
            "class_name": "7A",
            "lesson_id": None,
            "enters_directly": False,  # nobody signed in: the entry form
            "recording": False,  # told before entering (issue 16)
        }


async def test_every_page_gets_the_shared_head_and_top_bar(live_server: LiveServer) -> None:
    """The head's common lines and the top bar are written once (web/pages/parts) and served in
    every page, in place of its include line, with the page's own title and bundle beside them."""
    token = await sign_in(live_server, *live_server.teacher)
    room = await create_room(live_server, token)
    pages = [f"/r/{room['id']}", "/r/no-such-room", "/", "/journal", "/diary", "/admin"]
    pages += ["/journal/lessons/1", "/journal/pupils/1", "/replay/lessons/1"]
    async with aiohttp.ClientSession() as http:
        for path in pages:
            response = await http.get(live_server.url + path)
            html = await response.text()
            assert response.content_type == "text/html" and response.charset == "utf-8", path
            assert "#include" not in html, path
            head = html.split("<head>\n", 1)[1].split("</head>", 1)[0]
            assert head.startswith('  <meta charset="utf-8">\n'), (path, head)
            assert head.count('href="/static/style.css"') == 1 and "<title>" in head, path
            assert html.count('<header class="topbar">') == 1, path
            assert html.count('<select id="lang">') == 1 and 'href="#main"' in html, path
    for file in (WEB_PAGES).glob("*.html"):  # written once, not in each page
        assert 'class="topbar"' not in file.read_text(encoding="utf-8"), file


async def test_health_and_readiness(live_server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        assert await (await http.get(f"{live_server.url}/healthz")).json() == {"status": "ok"}
        ready = await (await http.get(f"{live_server.url}/readyz")).json()
        assert ready["status"] == "ready" and ready["checks"] == {"database": "ok"}, ready


async def test_session_cookie_is_httponly_and_sign_out_clears_it(live_server: LiveServer) -> None:
    # unsafe=True: aiohttp's jar otherwise keeps no cookies for a bare IP such as 127.0.0.1.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login, password = live_server.teacher
        response = await http.post(
            f"{live_server.url}/api/session", json={"login": login, "password": password}
        )
        cookie = response.cookies[SESSION_COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        me = await (await http.get(f"{live_server.url}/api/me")).json()
        assert me["user"]["kind"] == "teacher" and "password_hash" not in me["user"]
        assert (await http.delete(f"{live_server.url}/api/session")).status == 204
        assert await (await http.get(f"{live_server.url}/api/me")).json() == {"user": None}


async def test_rooms_and_sessions_survive_a_restart(tmp_path: Path, demo_data: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    async with running_server(data) as first:
        token = await sign_in(first, *first.teacher)
        room = await create_room(first, token, title="Geometry")
    async with running_server(data) as second, peers("host") as (host,):
        # Same secret, same database: the old cookie and the old invite link still work.
        await host.connect(second, token)
        ack = await host.call("join", {"v": 1, "room": room["id"], "as": "user"})
        assert ack["ok"] and ack["you"]["role"] == "host"
        # The demo school (teacher, administrator, four pupils) was made once, not twice.
        assert await second.app[STORE].count_users() == 6


async def test_events_fan_out_through_redis(tmp_path: Path, redis_url: str) -> None:
    async with running_server(tmp_path / "data", redis=redis_url) as server:
        async with aiohttp.ClientSession() as http:
            ready = await (await http.get(f"{server.url}/readyz")).json()
            assert ready["checks"] == {"database": "ok", "redis": "ok"}
        async with peers("host", "guest") as (host, guest):
            room = await host_in_room(server, host)
            await admit_guest(server, host, guest, room["id"])


async def test_unreachable_redis_makes_the_server_not_ready(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path / "data", redis="redis://127.0.0.1:1/0") as server,
        aiohttp.ClientSession() as http,
    ):
        response = await http.get(f"{server.url}/readyz")
        assert response.status == 503
        assert (await response.json())["checks"]["redis"].startswith("error")


async def test_postgresql_is_a_url_away(tmp_path: Path, postgres_url: str) -> None:
    async with running_server(tmp_path / "data", database_url=postgres_url) as server:
        token = await sign_in(server, *server.teacher)
        room = await create_room(server, token)
        async with peers("host", "pupil") as (host, pupil):
            await host.connect(server, token)
            await host.call("join", {"v": 1, "room": room["id"], "as": "user"})
            await pupil.connect(server, await sign_in(server, *server.pupils[0]))
            ack = await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"})
            assert ack["status"] == "joined"
    # Restarting on the same database migrates nothing twice and keeps the room.
    async with (
        running_server(tmp_path / "data", database_url=postgres_url) as again,
        aiohttp.ClientSession() as http,
    ):
        info = await http.get(f"{again.url}/api/rooms/{room['id']}")
        assert info.status == 200


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the `sabaq` command as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def test_help_explains_every_flag() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    for flag in ("--host", "--port", "--data", "--redis", "--public-url"):
        assert flag in result.stdout
    assert "SABAQ_" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--port", "99999"], {}, "bad setting port"),
        (["--redis", "http://x"], {}, "bad setting redis"),
        (["--public-url", "sabaq"], {}, "bad setting public_url"),
        ([], {"SABAQ_PORT": "eighty"}, "bad setting port"),
        ([], {"SABAQ_ALLOWED_ORIGINS": '["*"]'}, "bad setting allowed_origins"),
    ],
)
def test_bad_settings_stop_with_a_clear_message(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_cli("serve", *args, **env)
    assert result.returncode == 2
    assert message in result.stderr


async def test_one_time_password_must_be_replaced(tmp_path: Path) -> None:
    async with running_server(tmp_path / "data", keep_one_time=True) as server:
        login, password = server.teacher
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            url = server.url
            signed = await http.post(
                f"{url}/api/session", json={"login": login, "password": password}
            )
            assert (await signed.json())["user"]["must_change_password"] is True
            for body, status, code in (
                ({"current": password, "new": "short"}, 400, "invalid_payload"),
                ({"current": password, "new": password}, 400, "invalid_payload"),
                (
                    {"current": "wrong-password", "new": "a-new-long-pass"},
                    401,
                    "invalid_credentials",
                ),
                (
                    {"current": password, "new": "a-new-long-pass", "extra": 1},
                    400,
                    "invalid_payload",
                ),
            ):
                response = await http.post(f"{url}/api/password", json=body)
                assert (response.status, (await response.json())["error"]["code"]) == (status, code)
            ok = await http.post(
                f"{url}/api/password", json={"current": password, "new": "a-new-long-pass"}
            )
            assert ok.status == 204
            me = await (await http.get(f"{url}/api/me")).json()
            assert me["user"]["must_change_password"] is False
            old = await http.post(f"{url}/api/session", json={"login": login, "password": password})
            assert old.status == 401
            new = await http.post(
                f"{url}/api/session", json={"login": login, "password": "a-new-long-pass"}
            )
            assert new.status == 200
        async with aiohttp.ClientSession() as anonymous:
            response = await anonymous.post(
                f"{url}/api/password", json={"current": "x", "new": "0123456789"}
            )
            assert response.status == 401


async def test_sign_ins_do_not_stall_the_event_loop(live_server: LiveServer) -> None:
    """argon2 is slow on purpose; it runs beside the event loop, not on it, so media and
    signalling keep moving while a class signs in. Measured against one check's own cost."""
    hasher = PasswordHasher()  # the server's cost (argon2-cffi's defaults)
    stored = hasher.hash("a password of some length")
    started = time.perf_counter()
    hasher.verify(stored, "a password of some length")
    one_check = time.perf_counter() - started

    longest_gap = 0.0
    signing_in = asyncio.gather(*(sign_in(live_server, *live_server.teacher) for _ in range(3)))
    last = time.perf_counter()
    while not signing_in.done():
        await asyncio.sleep(0.002)
        now = time.perf_counter()
        longest_gap, last = max(longest_gap, now - last), now
    await signing_in
    # On the loop, each check would hold it for `one_check` (three in a row here).
    assert longest_gap < 0.75 * one_check, (longest_gap, one_check)


def test_password_work_keeps_to_one_core() -> None:
    """argon2 starts several threads per hash; they inherit the worker's CPU set, so pinning the
    worker keeps a core for the event loop (on a machine that has two)."""
    cpus = os.sched_getaffinity(0)
    if len(cpus) < 2:
        pytest.skip("one CPU: nothing to keep free")
    worker = auth._password_worker.submit(os.sched_getaffinity, 0).result()
    assert len(worker) == 1 and worker < cpus
