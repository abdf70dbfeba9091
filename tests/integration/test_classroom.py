"""Chat, hands and rights, polls and layouts over real socket.io, with exports over HTTP."""

from __future__ import annotations

import csv
import io
from typing import Any

import aiohttp
import pytest

from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.integration.peers import Peer, host_in_room, peers, sign_in

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


async def classroom(
    server: LiveServer, host: Peer, *pupils: Peer
) -> tuple[dict[str, Any], list[str]]:
    """Host in a room, pupils of the class joined; returns the room and the pupils' ids."""
    room = await host_in_room(server, host)
    ids = []
    for i, pupil in enumerate(pupils):
        await pupil.connect(server, await sign_in(server, *server.pupils[i]))
        ack = await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"})
        ids.append(ack["you"]["id"])
    return room, ids


async def test_public_and_private_chat(live_server: LiveServer) -> None:
    async with peers("host", "a", "b") as (host, a, b):
        _, (a_id, b_id) = await classroom(live_server, host, a, b)
        assert (await a.call("chat_send", {"text": XSS}))["ok"]
        for peer in (host, a, b):
            message = (await peer.wait("chat_message"))["message"]
            assert message["text"] == XSS and message["to"] is None
        host_id = (await host.wait("room_state"))["you"]["id"]
        assert (await a.call("chat_send", {"text": "no sound", "to": host_id}))["ok"]
        await host.wait("chat_message", lambda d: d["message"]["text"] == "no sound")
        await a.wait("chat_message", lambda d: d["message"]["text"] == "no sound")
        # b got only the public message; the private one never reached it.
        assert (await b.call("chat_send", {"text": "marker"}))["ok"]
        await b.wait("chat_message", lambda d: d["message"]["text"] == "marker")
        assert [m["message"]["text"] for m in b.seen("chat_message")] == [XSS, "marker"]
        assert b_id != a_id


async def test_chat_limits_and_moderation(live_server: LiveServer) -> None:
    async with peers("host", "a", "b") as (host, a, b):
        _, (a_id, _) = await classroom(live_server, host, a, b)
        too_long = await a.call("chat_send", {"text": "x" * 2001})
        assert too_long["error"]["code"] == "too_long"
        codes = [
            (await a.call("chat_send", {"text": f"m{i}"})).get("error", {}).get("code")
            for i in range(8)
        ]
        assert codes[:6] == [None] * 6 and "rate_limited" in codes[6:]
        message_id = (await b.wait("chat_message"))["message"]["id"]
        assert (await host.call("chat_delete", {"message": message_id}))["ok"]
        assert await b.wait("chat_deleted") == {"id": message_id}
        assert (await host.call("chat_mute", {"participant": a_id, "muted": True}))["ok"]
        await b.wait("participant_updated", lambda d: d["participant"]["chat_muted"])
        assert (await host.call("chat_lock", {"public": True}))["ok"]
        settings = await b.wait("chat_settings")
        assert (settings["public_locked"], settings["private_chat"]) == (True, "staff")
        assert (await b.call("chat_send", {"text": "hi"}))["error"]["code"] == "chat_locked"
        assert (await b.call("chat_delete", {"message": message_id}))["error"][
            "code"
        ] == "not_permitted"
        assert (await b.call("chat_send", {"text": 5}))["error"]["code"] == "invalid_payload"


async def test_late_joiner_gets_history_layout_and_open_polls(live_server: LiveServer) -> None:
    async with peers("host", "a", "late") as (host, a, late):
        room, _ = await classroom(live_server, host, a)
        await host.call("chat_send", {"text": "welcome"})
        await host.call("set_layout", {"layout": "discussion"})
        await host.call("poll_create", {"kind": "yes_no", "question": "Ready?", "launch": True})
        await late.connect(live_server, await sign_in(live_server, *live_server.pupils[2]))
        await late.call("join", {"v": 1, "room": room["id"], "as": "user"})
        state = await late.wait("room_state")
        assert state["room"]["layout"] == "discussion"
        assert [m["text"] for m in state["chat"]["messages"]] == ["welcome"]
        assert [p["question"] for p in state["polls"]] == ["Ready?"]


async def test_raise_hand_grant_and_timed_fallback_by_the_server(live_server: LiveServer) -> None:
    async with peers("host", "a") as (host, a):
        _, (a_id,) = await classroom(live_server, host, a)
        assert (await a.call("hand_raise", {"speak": True, "video": False}))["ok"]
        hands = await host.wait("hands", lambda d: d["queue"])
        assert hands["queue"][0]["id"] == a_id and hands["queue"][0]["position"] == 1
        assert await a.wait("hand") == {"position": 1}
        grant = {"participant": a_id, "speak": True, "video": False, "seconds": 10}
        assert (await host.call("rights_grant", grant))["ok"]
        granted = await a.wait("participant_updated", lambda d: d["participant"]["mic"])
        assert granted["participant"]["camera"] is False
        await a.wait("hand", lambda d: d["position"] is None)
        # The server's timer takes the mic back when the grant runs out, without any command.
        await a.wait(
            "participant_updated",
            lambda d: (
                d["participant"]["id"] == a_id
                and not d["participant"]["mic"]
                and d["participant"]["granted_until"] is None
            ),
            timeout=20,
        )


async def test_poll_flow_and_exports(live_server: LiveServer) -> None:
    async with peers("host", "a", "b") as (host, a, b):
        room, _ = await classroom(live_server, host, a, b)
        create = {"kind": "single", "question": "=1+1?", "options": ["1", "2"], "launch": False}
        assert (await host.call("poll_create", create))["ok"]
        poll = (await host.wait("poll_updated"))["poll"]
        assert poll["state"] == "draft" and not a.seen("poll_opened")
        assert (await host.call("poll_launch", {"poll": poll["id"]}))["ok"]
        opened = (await a.wait("poll_opened"))["poll"]
        assert "results" not in opened
        assert (await a.call("poll_vote", {"poll": poll["id"], "choices": [1]}))["ok"]
        assert (await b.call("poll_vote", {"poll": poll["id"], "choices": [1]}))["ok"]
        assert (await b.call("poll_vote", {"poll": poll["id"], "choices": [7]}))["error"][
            "code"
        ] == "invalid_choice"
        live = await host.wait("poll_updated", lambda d: d["poll"]["results"]["voters"] == 2)
        assert live["poll"]["results"]["counts"] == [0, 2]
        assert (await a.call("poll_close", {"poll": poll["id"]}))["error"]["code"] == (
            "not_permitted"
        )
        assert (await host.call("poll_close", {"poll": poll["id"]}))["ok"]
        await a.wait("poll_closed")
        assert (await a.call("poll_vote", {"poll": poll["id"], "choices": [0]}))["error"][
            "code"
        ] == "poll_not_open"
        assert (await host.call("poll_publish", {"poll": poll["id"]}))["ok"]
        results = (await b.wait("poll_results"))["poll"]["results"]
        assert results["counts"] == [0, 2]
        await host.call("chat_send", {"text": '=HYPERLINK("x")'})
        await host.call("chat_send", {"text": "Сабақ басталды"})
        await a.wait("chat_message", lambda d: d["message"]["text"] == "Сабақ басталды")

    token = await sign_in(live_server, *live_server.teacher)
    pupil = await sign_in(live_server, *live_server.pupils[0])
    base = f"{live_server.url}/api/rooms/{room['id']}"
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: token}) as http:
        polls = list(csv.reader(io.StringIO(await (await http.get(f"{base}/polls.csv")).text())))
        assert polls[0] == ["poll", "question", "kind", "answer", "votes", "voters", "name"]
        assert polls[1:] == [  # an anonymous poll: counts only
            [str(poll["id"]), "'=1+1?", "single", "1", "0", "2", ""],
            [str(poll["id"]), "'=1+1?", "single", "2", "2", "2", ""],
        ]
        chat = list(csv.reader(io.StringIO(await (await http.get(f"{base}/chat.csv")).text())))
        assert [row[3] for row in chat[1:]] == ['\'=HYPERLINK("x")', "Сабақ басталды"]
        text = await (await http.get(f"{base}/chat.txt")).text()
        assert text.endswith("Gulnara Sadykova: Сабақ басталды\n")
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: pupil}) as http:
        assert (await http.get(f"{base}/chat.csv")).status == 403


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("poll_create", {"kind": "ranked", "question": "q"}),
        ("poll_create", {"kind": "single", "question": "q", "options": "a,b"}),
        ("poll_vote", {"poll": "1", "choices": [0]}),
        ("rights_grant", {"participant": "x", "speak": "yes", "video": False}),
        ("set_layout", {"layout": "cinema"}),
        ("chat_send", {"text": "hi", "from": "someone-else"}),
    ],
)
async def test_classroom_commands_validate_payloads(
    live_server: LiveServer, event: str, payload: dict[str, Any]
) -> None:
    async with peers("host") as (host,):
        await host_in_room(live_server, host)
        ack = await host.call(event, payload)
        assert ack["error"]["code"] == "invalid_payload"
        assert (await host.call("chat_send", {"text": "still here"}))["ok"]
