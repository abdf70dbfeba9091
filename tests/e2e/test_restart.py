"""A restart in the middle of a lesson: the pupil's page says so and comes back by itself."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.integration.peers import create_room, sign_in
from tests.integration.server_process import free_port, server_process

from .conftest import Browsers
from .flows import EN, Room, participant, pupil_enters

pytestmark = pytest.mark.e2e

DRAIN_S = 10
# The closing share of the drain (server/drain.py's Budget): if the drain had to wait for the
# page, it would not be done before the clients' share (DRAIN_S minus this) ran out.
CLOSING_S = 3


async def test_a_pupil_is_told_of_a_restart_and_is_back_in_the_room_without_reloading(
    tmp_path: Path, demo_data: Path, browsers: Browsers
) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    port = free_port()  # the next process takes the same port and data, as a restart does
    flags = ("--drain-seconds", str(DRAIN_S))
    page = await browsers.person("pupil")
    # Between the old process's exit and the new one's start the page's tries find nobody
    # listening; Chromium logs each of those failed websockets.
    browsers.watch(page).allow_console(r"WebSocket connection to '.*' failed")

    async with server_process(data, *flags, port=port) as old:
        token = await sign_in(old.server, *old.server.teacher)
        made = await create_room(old.server, token, title="Chemistry 8B")
        room = Room(made["id"], made["title"], made["invite_url"])
        name = await pupil_enters(page, room, *old.server.pupils[0])
        await page.evaluate("window.sameDocument = true")  # gone if the page reloads

        sent = old.signal(signal.SIGTERM)
        notice = page.locator("#connection")
        await expect(notice).to_have_text(EN["room.restarting"])
        await expect(notice).to_have_attribute("role", "status")  # read out by screen readers
        assert await old.exited(within=DRAIN_S + 1) == 0, old.output()
        # The page left at the news, so the drain did not wait out the clients' share.
        assert time.monotonic() - sent < DRAIN_S - CLOSING_S, old.output()
        assert "still in rooms" not in old.output()

    async with server_process(data, *flags, port=port) as new:
        await expect(notice).to_be_hidden(timeout=30_000)
        await expect(page.locator("#inside")).to_be_visible()
        await expect(participant(page, name)).to_be_visible()
        assert await page.evaluate("window.sameDocument === true")
        # Nothing is left hanging for the end of the test: the page leaves while the server runs.
        await page.close()
        assert new.process.poll() is None
