"""The host's polls.csv: counts for every poll, and who answered what for a named poll."""

from __future__ import annotations

import csv
import io

import aiohttp

from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.integration.peers import host_in_room, peers, sign_in


async def test_named_poll_export_says_who_answered_what(live_server: LiveServer) -> None:
    async with peers("host", "a", "b", "c") as (host, *pupils):
        room = await host_in_room(live_server, host)
        names = []
        for i, pupil in enumerate(pupils):
            await pupil.connect(live_server, await sign_in(live_server, *live_server.pupils[i]))
            ack = await pupil.call("join", {"v": 1, "room": room["id"], "as": "user"})
            names.append(ack["you"]["name"])
        a, b, c = pupils
        create = {
            "kind": "multiple",
            "question": "Which are prime?",
            "options": ["2", "4", "=7"],
            "anonymous": False,
            "launch": True,
        }
        assert (await host.call("poll_create", create))["ok"]
        choice = (await a.wait("poll_opened"))["poll"]["id"]
        text = {"kind": "text", "question": "Why?", "anonymous": False, "launch": True}
        assert (await host.call("poll_create", text))["ok"]
        free = (await a.wait("poll_opened", lambda d: d["poll"]["id"] != choice))["poll"]["id"]
        assert (await a.call("poll_vote", {"poll": choice, "choices": [0, 2]}))["ok"]
        assert (await b.call("poll_vote", {"poll": choice, "choices": [1]}))["ok"]
        assert (await b.call("poll_vote", {"poll": choice, "choices": [0]}))["ok"]  # changed
        assert (await c.call("poll_vote", {"poll": free, "text": "=divisors"}))["ok"]
        for poll_id in (choice, free):
            assert (await host.call("poll_close", {"poll": poll_id}))["ok"]

    token = await sign_in(live_server, *live_server.teacher)
    url = f"{live_server.url}/api/rooms/{room['id']}/polls.csv"
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: token}) as http:
        rows = list(csv.reader(io.StringIO(await (await http.get(url)).text())))
    a_name, b_name, c_name = names
    q, k = "Which are prime?", "multiple"
    c1 = str(choice)
    assert rows[0] == ["poll", "question", "kind", "answer", "votes", "voters", "name"]
    assert rows[1:] == [
        [c1, q, k, "2", "2", "2", ""],
        [c1, q, k, "4", "0", "2", ""],
        [c1, q, k, "'=7", "1", "2", ""],
        [c1, q, k, "2", "", "2", a_name],
        [c1, q, k, "'=7", "", "2", a_name],
        [c1, q, k, "2", "", "2", b_name],
        [str(free), "Why?", "text", "'=divisors", "1", "1", c_name],
    ]
