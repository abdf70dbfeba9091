"""Raw socket.io frames the client libraries never send: reserved event names, deep nesting."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest

from server.keys import SIGNALLING
from server.signalling import SESSION_COOKIE
from server.socket_guard import MAX_DEPTH, too_deep
from tests.conftest import LiveServer
from tests.integration.peers import guest_join, host_in_room, peers, sign_in
from tests.journal.helpers import api, new_lesson


class RawSocket:
    """A socket.io client speaking the wire protocol itself over a websocket (EIO=4)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.packets: list[str] = []
        self._next_id = 0

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, server: LiveServer) -> RawSocket:
        ws = await http.ws_connect(f"{server.url}/socket.io/?EIO=4&transport=websocket")
        raw = cls(ws)
        assert (await raw._frame()).startswith("0")  # engine.io open
        await ws.send_str("40")  # socket.io connect to "/"
        assert (await raw._frame()).startswith("40")
        return raw

    async def _frame(self) -> str:
        while True:
            frame = await asyncio.wait_for(self.ws.receive_str(), 10)
            if frame == "2":  # engine.io ping
                await self.ws.send_str("3")
                continue
            return frame

    async def send(self, text: str) -> None:
        await self.ws.send_str(text)

    async def call(self, event: str, data: Any) -> Any:
        """An event with an acknowledgement; the acknowledgement's payload."""
        self._next_id += 1
        await self.send(f"42{self._next_id}" + json.dumps([event, data]))
        return await self.ack(self._next_id)

    async def ack(self, ack_id: int) -> Any:
        prefix = f"43{ack_id}["
        return json.loads((await self.until(lambda f: f.startswith(prefix)))[len(prefix) - 1 :])[0]

    async def event(self, name: str) -> Any:
        frame = await self.until(lambda f: f.startswith(f'42["{name}"'))
        return json.loads(frame[2:])[1]

    async def until(self, wanted: Any) -> str:
        for seen in self.packets:
            if wanted(seen):
                self.packets.remove(seen)
                return seen
        while True:
            frame = await self._frame()
            if wanted(frame):
                return frame
            self.packets.append(frame)


@pytest.mark.parametrize("name", ["connect", "disconnect", "*", "connect_error"])
async def test_reserved_event_names_are_refused_before_any_handler(
    live_server: LiveServer, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http:
        raw = await RawSocket.open(http, live_server)
        forged = {"HTTP_COOKIE": f"{SESSION_COOKIE}=forged", "REMOTE_ADDR": "6.6.6.6"}
        ack = await raw.call(name, forged)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload"
        error = await raw.event("error")
        assert error["command"] == name and error["code"] == "invalid_payload"
        # The connection goes on and answers ordinary events.
        ack = await raw.call("join", {"v": 1, "room": "nope", "as": "guest", "name": "A"})
        assert ack["error"]["code"] in ("unknown_room", "name_required")
        await raw.ws.close()
    assert "6.6.6.6" not in caplog.text
    assert any("refused" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


async def test_a_forged_connect_gives_no_second_identity_and_leaving_removes_the_pupil(
    live_server: LiveServer,
) -> None:
    # The finding: a pupil in a room sent `connect` (a fake cookie and address), joined again
    # as a guest, and on closing the socket stayed listed in the room for good.
    async with peers("host", "late") as (host, late):
        room = await host_in_room(live_server, host, guest_policy="always_admit")
        pupil = await sign_in(live_server, *live_server.pupils[0])
        async with aiohttp.ClientSession(cookies={SESSION_COOKIE: pupil}) as http:
            raw = await RawSocket.open(http, live_server)
            joined = await raw.call("join", {"v": 1, "room": room["id"], "as": "user"})
            assert joined["ok"] and joined["status"] == "joined"
            me = joined["you"]["id"]
            await host.wait("participant_joined", lambda d: d["participant"]["id"] == me)
            forged = {"HTTP_COOKIE": f"{SESSION_COOKIE}=forged", "REMOTE_ADDR": "6.6.6.6"}
            assert (await raw.call("connect", forged))["ok"] is False
            again = await raw.call("join", guest_join(room["id"], "Someone Else"))
            assert again["ok"] is False and again["error"]["code"] == "already_joined"
            await raw.ws.close()
        await host.wait("participant_left", lambda d: d["participant"] == me)
        await late.connect(live_server)
        assert (await late.call("join", guest_join(room["id"], "Late Guest")))["ok"]
        state = await late.wait("room_state")
        names = {p["name"] for p in state["participants"]}
        assert "Someone Else" not in names
        assert me not in {p["id"] for p in state["participants"]}


async def test_deep_nesting_is_refused_with_an_answer(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http:
        raw = await RawSocket.open(http, live_server)
        deep = "[" * 3000 + "]" * 3000
        await raw.send(f'427["chat_send",{{"text":{deep}}}]')
        ack = await raw.ack(7)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload"
        error = await raw.event("error")
        assert error["command"] == "chat_send" and error["code"] == "invalid_payload"
        # Without an ack id too; and the connection still works afterwards.
        await raw.send('42["hand_raise",' + "{" * 40 + "}" * 40 + "]")
        assert (await raw.event("error"))["code"] == "invalid_payload"
        ack = await raw.call("join", {"v": 1, "room": "nope", "as": "guest", "name": "A"})
        assert ack["ok"] is False
        await raw.ws.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "RecursionError" not in caplog.text


def test_nesting_depth_is_measured_outside_strings() -> None:
    within = '["e",' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "]"
    assert not too_deep(within)
    assert too_deep('["e",' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "]")
    brackets_in_text = json.dumps(["chat_send", {"text": "[{" * 500 + '"\\"'}])
    assert not too_deep(brackets_in_text)
    wide = json.dumps(["e", [[1]] * 10_000])
    assert not too_deep(wide)
    assert too_deep("[" * 40)  # unbalanced: the decoder would refuse it anyway


async def test_leaving_on_disconnect_does_not_depend_on_the_sockets_own_state(
    live_server: LiveServer,
) -> None:
    # Whatever a client's events might yet do to its Connection (as a forged `connect` once
    # replaced it), the participants a socket holds are removed when it goes.
    async with peers("host", "pupil") as (host, pupil):
        room = await host_in_room(live_server, host)
        await pupil.connect(live_server, await sign_in(live_server, *live_server.pupils[0]))
        joined = await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"})
        me = joined["you"]["id"]
        signalling = live_server.app[SIGNALLING]
        conn = signalling.connections[signalling.sid_of[me]]
        conn.room_id = conn.participant_id = None  # the socket's own record of it, gone
        await pupil.close()
        await host.wait("participant_left", lambda d: d["participant"] == me)
        live = signalling.rooms.get(room["id"])
        assert live is not None and me not in live.room.participants


@pytest.mark.parametrize("packet", ['425["chat_send",{"text": nope}]', "425[invalid", '425{"a":1}'])
async def test_malformed_packets_are_answered_not_raised(
    live_server: LiveServer, packet: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http:
        raw = await RawSocket.open(http, live_server)
        await raw.send(packet)
        ack = await raw.ack(5)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload"
        assert (await raw.event("error"))["code"] == "invalid_payload"
        await raw.ws.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_after_a_forged_connect_the_lessons_attendance_lets_the_pupil_go(
    live_server: LiveServer,
) -> None:
    # The finding's other face: the lesson's live attendance showed the pupil "in the room now"
    # for good once their socket had closed.
    teacher = await sign_in(live_server, *live_server.teacher)
    lesson = (await new_lesson(live_server, teacher))["id"]
    started = (await api(live_server, teacher, "POST", f"/api/lessons/{lesson}/start"))[1]
    room_id = started["lesson"]["room_id"]
    pupil = await sign_in(live_server, *live_server.pupils[0])
    pupil_id = (await api(live_server, pupil, "GET", "/api/me"))[1]["user"]["id"]
    attendance = f"/api/lessons/{lesson}/attendance"

    async def in_room_now() -> bool:
        rows = (await api(live_server, teacher, "GET", attendance))[1]["attendance"]
        return bool(next(r for r in rows if r["pupil_id"] == pupil_id)["in_room_now"])

    async with (
        peers("teacher") as (host,),
        aiohttp.ClientSession(cookies={SESSION_COOKIE: pupil}) as http,
    ):
        await host.connect(live_server, teacher)
        assert (await host.call("join", {"v": 1, "room": room_id, "as": "user"}))["ok"]
        raw = await RawSocket.open(http, live_server)
        joined = await raw.call("join", {"v": 1, "room": room_id, "as": "user"})
        assert joined["ok"] and joined["status"] == "joined"
        assert await in_room_now()
        forged = {"HTTP_COOKIE": f"{SESSION_COOKIE}=forged", "REMOTE_ADDR": "6.6.6.6"}
        await raw.send("42" + json.dumps(["connect", forged]))  # no ack asked: as an attacker
        await raw.call("join", guest_join(room_id, "Someone Else"))
        await raw.ws.close()
        await host.wait("participant_left", lambda d: d["participant"] == joined["you"]["id"])
    assert not await in_room_now()
