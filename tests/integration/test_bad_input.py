"""Malformed, oversized, spoofed and unauthorised input: typed errors, nothing lost."""

from __future__ import annotations

import logging
import time
from typing import Any

import aiohttp
import pytest
import socketio

from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.integration.peers import Peer, create_room, guest_join, host_in_room, peers, sign_in


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("not an object", "invalid_payload"),
        ({"v": "1", "room": "x", "as": "guest"}, "invalid_payload"),
        ({"v": 1, "as": "guest", "name": "A", "institution": "B"}, "invalid_payload"),
        (
            {"v": 2, "room": "x", "as": "guest", "name": "A", "institution": "B"},
            "unsupported_version",
        ),
        ({"v": 1, "room": "nope", "as": "guest", "name": "A", "institution": "B"}, "unknown_room"),
    ],
)
async def test_malformed_join_gets_a_typed_error(
    live_server: LiveServer, payload: Any, code: str
) -> None:
    async with peers("x") as (peer,):
        await peer.connect(live_server)
        ack = await peer.call("join", payload)
        assert ack["ok"] is False and ack["error"]["code"] == code
        assert ack["error"]["message"].endswith(".")
        error = await peer.wait("error")
        assert error["command"] == "join" and error["code"] == code


@pytest.mark.parametrize(
    ("name", "institution", "code"),
    [
        ("", "School", "name_required"),
        ("   ", "School", "name_required"),
        ("x" * 65, "School", "name_too_long"),
        ("Asel", "", "name_required"),
        ("Asel", "y" * 65, "name_too_long"),
        ("Asel\u202e", "School", "invalid_payload"),
    ],
)
async def test_bad_guest_names_are_refused(
    live_server: LiveServer, name: str, institution: str, code: str
) -> None:
    async with peers("host", "guest") as (host, guest):
        room = await host_in_room(live_server, host)
        await guest.connect(live_server)
        ack = await guest.call("join", guest_join(room["id"], name, institution))
        assert ack["error"]["code"] == code
        # The connection survives and can knock properly afterwards.
        assert (await guest.call("join", guest_join(room["id"])))["status"] == "waiting"


async def test_oversized_payload_is_refused_and_everything_survives(
    live_server: LiveServer,
) -> None:
    async with peers("host", "guest") as (host, guest):
        room = await host_in_room(live_server, host)
        await guest.connect(live_server)
        big = guest_join(room["id"], name="x" * (70 * 1024))
        ack = await guest.call("join", big)
        assert ack["error"]["code"] == "payload_too_large"
        assert guest.sio.connected
        assert (await guest.call("join", guest_join(room["id"])))["ok"]
        await host.wait("lobby", lambda d: len(d["lobby"]) == 1)


async def test_unknown_event_and_commands_before_join(live_server: LiveServer) -> None:
    async with peers("x") as (peer,):
        await peer.connect(live_server)
        assert (await peer.call("explode", {}))["error"]["code"] == "invalid_payload"
        assert (await peer.call("admit", {"participant": "p1"}))["error"]["code"] == "not_joined"
        assert (await peer.call("leave", {}))["error"]["code"] == "not_joined"


async def test_spoofed_identity_and_role_are_refused_and_logged(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with peers("host", "guest", "pupil") as (host, guest, pupil):
        room = await host_in_room(live_server, host)
        await guest.connect(live_server)
        claim = {**guest_join(room["id"]), "role": "host"}
        assert (await guest.call("join", claim))["error"]["code"] == "not_permitted"
        spoof = {**guest_join(room["id"]), "id": "p-host"}
        assert (await guest.call("join", spoof))["error"]["code"] == "invalid_payload"
        assert any("may not set: id" in r.getMessage() for r in caplog.records)
        assert any(
            r.levelno == logging.WARNING and "not_permitted" in r.getMessage()
            for r in caplog.records
        )

        await pupil.connect(live_server, await sign_in(live_server, *live_server.pupils[0]))
        await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"})
        assert (await guest.call("join", guest_join(room["id"])))["status"] == "waiting"
        knock = (await host.wait("lobby", lambda d: d["lobby"]))["lobby"][0]["id"]
        # A pupil trying host commands: refused, the knocker keeps waiting.
        for event, data in (
            ("admit", {"participant": knock}),
            ("set_guest_policy", {"policy": "always_admit"}),
            ("set_role", {"participant": knock, "role": "presenter"}),
        ):
            assert (await pupil.call(event, data))["error"]["code"] == "not_permitted"
        assert (await host.call("set_role", {"participant": knock, "role": "host"}))["error"][
            "code"
        ] == "invalid_role"
        state = await host.call("admit", {"participant": knock})
        assert state["ok"]


async def test_guest_cannot_join_as_user_without_signing_in(live_server: LiveServer) -> None:
    async with peers("host", "x") as (host, x):
        room = await host_in_room(live_server, host)
        await x.connect(live_server, token="forged.token.value")
        ack = await x.call("join", {"v": 1, "room": room["id"], "as": "user"})
        assert ack["error"]["code"] == "not_signed_in"


async def test_socket_from_a_foreign_origin_is_refused(live_server: LiveServer) -> None:
    peer = Peer("evil")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await peer.connect(live_server, Origin="http://evil.example")
    ok = Peer("own")
    await ok.connect(live_server, Origin=live_server.url)
    await ok.close()


async def test_http_api_validates_and_checks_roles(live_server: LiveServer) -> None:
    url = live_server.url
    teacher = await sign_in(live_server, *live_server.teacher)
    pupil = await sign_in(live_server, *live_server.pupils[0])
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: teacher}) as http:
        for body, code in (
            ({"title": ""}, "name_required"),
            ({"title": "x" * 65}, "name_too_long"),
            ({"title": "ok", "class_id": "7A"}, "invalid_payload"),
            ({"title": "ok", "class_id": 999}, "invalid_payload"),
            ({"title": "ok", "guest_policy": "sometimes"}, "invalid_payload"),
            ({"title": "ok", "owner_id": 1}, "invalid_payload"),
        ):
            response = await http.post(f"{url}/api/rooms", json=body)
            assert response.status == 400, body
            assert (await response.json())["error"]["code"] == code
        as_json = {"Content-Type": "application/json"}
        response = await http.post(f"{url}/api/rooms", data=b"{not json", headers=as_json)
        assert response.status == 400
        response = await http.post(f"{url}/api/rooms", data=b"x" * (128 * 1024), headers=as_json)
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "payload_too_large"
        assert (await http.get(f"{url}/api/rooms")).status == 200
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: pupil}) as http:
        response = await http.post(f"{url}/api/rooms", json={"title": "mine"})
        assert response.status == 403
        assert (await http.get(f"{url}/api/classes")).status == 403
    async with aiohttp.ClientSession() as http:
        assert (await http.post(f"{url}/api/rooms", json={"title": "t"})).status == 401
        assert await (await http.get(f"{url}/api/me")).json() == {"user": None}
    # Nothing above created a room.
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: teacher}) as http:
        assert (await (await http.get(f"{url}/api/rooms")).json())["rooms"] == []
    await create_room(live_server, teacher)


async def test_sign_in_is_rate_limited(live_server: LiveServer) -> None:
    # Ten wrong guesses go through, then one try per 5 s. Each guess costs a password hash, so on a
    # busy machine the bucket may refill a token or two meanwhile: allow exactly those.
    statuses: list[int] = []
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while 429 not in statuses and len(statuses) < 40:
            response = await http.post(
                f"{live_server.url}/api/session", json={"login": "teacher", "password": "guess"}
            )
            statuses.append(response.status)
            if response.status == 429:
                assert (await response.json())["error"]["code"] == "rate_limited"
    refilled = int((time.monotonic() - started) * 0.2) + 1
    assert statuses[-1] == 429
    assert statuses[:10] == [401] * 10
    assert set(statuses[:-1]) == {401} and len(statuses) - 1 <= 10 + refilled
