"""Two nodes on Redis: a room page opened on one node, for a room the other serves, follows its
join there (web/src/protocol.js on `room_elsewhere`) and is in the same room as the teacher."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.integration.conftest import redis_url  # noqa: F401 - the fixture, used by name
from tests.integration.nodes import Follower
from tests.integration.peers import create_room, peers, sign_in
from tests.integration.server_process import free_port, server_process

from .conftest import Browsers
from .flows import Room, open_panel, participant, pupil_enters

pytestmark = pytest.mark.e2e
# Rooms made until one is served by node A: each lands there with p = 1/2.
MAX_ROOMS = 12


@pytest.mark.timeout(120)
async def test_a_room_page_follows_its_join_to_the_node_serving_the_room(
    tmp_path: Path,
    demo_data: Path,
    browsers: Browsers,
    redis_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    port_a, port_b = free_port(), free_port()
    entry = f"http://127.0.0.1:{port_b}"  # the address people open: node B
    # Both nodes name the same public address (the browser's origin); A is reached at its port.
    common = ("--redis", redis_url, "--workers", "1", "--public-url", entry)
    own_a = ("--node-url", f"http://127.0.0.1:{port_a}")
    async with (
        server_process(data, *common, *own_a, port=port_a) as a,
        server_process(data, *common, port=port_b) as b,
        peers(*(f"host{i}" for i in range(MAX_ROOMS))) as hosts,
    ):
        token = await sign_in(a.server, *a.server.teacher)
        for host in hosts:
            made = await create_room(a.server, token, title="Geometry 9A")
            teacher = Follower(host, a.server.url, token)
            assert (await teacher.join({"v": 1, "room": made["id"], "as": "user"}))["ok"]
            if not teacher.redirects:
                break  # served by A
            await host.close()
        assert not teacher.redirects, "no room of twelve was placed on node A"
        teacher_name = (await host.wait("room_state"))["you"]["name"]

        page = await browsers.person("pupil")
        room = Room(made["id"], made["title"], f"{entry}/r/{made['id']}")
        try:
            # The page and its first socket are on B; its join is sent on to A.
            name = await pupil_enters(page, room, *b.server.pupils[0])
            await open_panel(page, "people")
            await expect(participant(page, teacher_name)).to_be_visible()
            await host.wait("participant_joined", lambda d: d["participant"]["name"] == name)
        finally:
            await page.close()  # before the servers go: no reconnecting page left behind
