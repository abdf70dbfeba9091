"""A restart in the middle of a lesson: the pupil's page says so and comes back by itself."""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Playwright, expect

from tests.conftest import _read_demo_accounts
from tests.integration.peers import create_room, sign_in
from tests.integration.server_process import free_port, server_process

from .conftest import Browsers
from .flows import EN, Room, open_panel, participant, pupil_enters
from .netns import netns, served_in
from .test_media import ENTER, RECEIVED, harness_bundle, launch, open_page

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
        await open_panel(page, "people")
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


# Runs in a harness page (tests/e2e/test_media.py): the room connection's status.
STATUS = "() => window.sabaq.connection.status"
JOINED = "() => window.sabaq.connection.status === 'joined'"


@pytest.mark.timeout(150)
async def test_chromium_media_clients_do_not_hold_a_restart_and_media_comes_back(
    playwright_instance: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """The teacher publishes camera and mic from Chromium, a pupil's Chromium decodes them;
    SIGTERM ends the process within the deadline, and on the next process both are back with
    media flowing again. Server and browsers run in a namespace with only `lo` (WebRTC)."""
    bundle = harness_bundle(tmp_path)
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    teacher, pupils = _read_demo_accounts(data)
    problems: list[str] = []
    flags = ("--drain-seconds", str(DRAIN_S))
    with netns() as ns:
        browsers: list[Browser] = []
        try:
            async with served_in(ns, data, *flags) as old:
                pages: list[Page] = []
                for _ in range(2):
                    browsers.append(await launch(playwright_instance, ns, chromium_path, tmp_path))
                    pages.append(await open_page(browsers[-1], old.url, bundle, problems))
                teacher_page, pupil_page = pages
                sent = await teacher_page.evaluate(
                    ENTER,
                    {"login": teacher[0], "password": teacher[1], "roomId": None,
                     "publish": ["camera", "mic"]},
                )  # fmt: skip
                login, password = pupils[0]
                await pupil_page.evaluate(
                    ENTER,
                    {"login": login, "password": password, "roomId": sent["roomId"], "publish": []},
                )
                before = await pupil_page.evaluate(RECEIVED, 30_000)
                assert before["video"] > 0 and before["audio"] > 0, before

                sent_at = time.monotonic()
                old.process.send_signal(signal.SIGTERM)
                async with asyncio.timeout(DRAIN_S + 1):
                    status = await old.process.wait()
                took = time.monotonic() - sent_at
                log = old.log.read_text()
                assert status == 0, log
                assert took < DRAIN_S - CLOSING_S, log  # the pages left at the news
                assert "still in rooms" not in log
                for page in pages:
                    assert await page.evaluate(STATUS) == "restarting"

            async with served_in(ns, data, *flags):
                for page in pages:
                    await page.wait_for_function(JOINED, timeout=30_000)
                after = await pupil_page.evaluate(RECEIVED, 30_000)  # the new connection's
                assert after["video"] > 0 and after["audio"] > 0, after
                assert sorted(after["tiles"]) == ["camera/video", "mic/audio"], after
                assert after["errors"] == [] and before["errors"] == []
                assert await teacher_page.evaluate("window.sabaq.media.publishing('camera')")
                for browser in browsers:  # the pages go before the server does
                    await browser.close()
                browsers.clear()
        finally:
            for browser in browsers:
                await browser.close()
    # Between the two processes the pages' tries find nobody listening; nothing else may fail.
    assert [p for p in problems if "WebSocket connection to" not in p] == [], problems
