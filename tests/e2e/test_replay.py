"""A pupil plays a lesson's recording from the diary (issue 16): the recorder's real files (an
aiortc publisher through the router), the page's one clock, seek, speed and the pages."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize, expect

from media.recorder import Recording
from media.router import AiortcRouter
from media.settings import MediaSettings
from server.signalling import SESSION_COOKIE
from tests.conftest import LiveServer
from tests.documents import samples
from tests.integration.peers import peers, sign_in
from tests.integration.test_documents import _access, _upload
from tests.journal.helpers import api, new_lesson
from tests.media.test_recorder import marked_publisher

from .conftest import Browsers, artifacts
from .flows import strings
from .test_accessibility import axe_violations

pytestmark = pytest.mark.e2e
ARTIFACTS = artifacts("replay")
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}


async def shared_document(server: LiveServer, teacher: str, room_id: str, folder: Path) -> Any:
    """A real 3-page PDF uploaded to the lesson's room by its teacher: converted, its page
    images in the store and the document attached to the lesson, as in a live lesson."""
    async with peers("host") as (host,):
        await host.connect(server, teacher)
        assert (await host.call("join", {"v": 1, "room": room_id, "as": "user"}))["ok"]
        pdf = samples.pdf(folder / "photosynthesis.pdf", 3).read_bytes()
        status, answer = await _upload(
            server, room_id, await _access(host), pdf, "Photosynthesis.pdf"
        )
    assert status == 201, answer
    return answer["document"]


async def record_into(folder: Path, seconds: float, document: Any) -> None:
    """A real recording: an aiortc publisher with a tone and a moving picture, and two pages."""
    router = AiortcRouter(MediaSettings(gather_address="127.0.0.1", ice_servers=()))
    rec = Recording(folder, router)
    rec.start()
    pc = await marked_publisher(router, "teacher")
    try:
        async with asyncio.timeout(10):
            while len(router.producers()) < 2:
                await asyncio.sleep(0.05)
        rec.event("share_changed", {"data": {"share": {"document": document, "page": 1}}})
        await asyncio.sleep(seconds / 2)  # media being recorded: its length is the point
        rec.event("page_changed", {"data": {"document": document["id"], "page": 2}})
        message = {"from": {"name": "Aigerim"}, "to": None, "text": "What is chlorophyll?"}
        rec.event("chat_message", {"data": {"message": message}})
        await asyncio.sleep(seconds / 2)
    finally:
        await rec.stop()
        await pc.close()
        await router.close()


# Runs in a page: the seek bar's width and box, and the video's width.
SEEK_BOX = """
() => {
  const seek = document.getElementById("replay-seek");
  const style = getComputedStyle(seek);
  return {width: seek.getBoundingClientRect().width, border: parseFloat(style.borderTopWidth),
    background: style.backgroundColor,
    video: document.getElementById("replay-camera").getBoundingClientRect().width};
}
"""


async def shots(page: Page) -> None:
    """The page paused on page 2 with the chat, at 1366x768 and 390x844 in kk, ru and en, for a
    reviewer ($SABAQ_ARTIFACTS/replay or test-artifacts/replay)."""
    await page.keyboard.press("k")  # pause: the same picture in every shot
    await expect(page.get_by_test_id("replay-play")).to_have_text(strings("en")["replay.play"])
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        for lang in ("kk", "ru", "en"):
            await page.locator("#lang").select_option(lang)
            await expect(page.locator("#replay-title")).to_have_text(strings(lang)["replay.title"])
            await page.screenshot(path=str(ARTIFACTS / f"{size}-pupil-{lang}.png"))
            seek = await page.evaluate(SEEK_BOX)
            # A slider, not a slider inside a text field's box.
            assert seek["border"] == 0 and seek["background"] == "rgba(0, 0, 0, 0)", seek
            if size == "phone":  # across the video's width, not squeezed beside Play
                assert seek["width"] >= 0.95 * seek["video"], seek


async def test_a_pupil_plays_the_recording_from_the_diary(
    live_server: LiveServer, browsers: Browsers, axe_source: Path, tmp_path: Path
) -> None:
    server = live_server
    teacher = await sign_in(server, *server.teacher)
    lesson = await new_lesson(server, teacher)
    lid = lesson["id"]
    room_id = (await api(server, teacher, "POST", f"/api/lessons/{lid}/start"))[1]["lesson"][
        "room_id"
    ]
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder = server.settings.data / "recordings" / room_id / f"{stamp}-abcd"
    document = await shared_document(server, teacher, room_id, tmp_path)
    await record_into(folder, 6, document)
    assert (await api(server, teacher, "POST", f"/api/lessons/{lid}/end", {}))[0] == 200
    page_at = next(
        json.loads(line)["t"]
        for line in (folder / "timeline.jsonl").read_text().splitlines()
        if json.loads(line)["type"] == "page_changed"
    )

    en = strings("en")
    pupil = await browsers.person("pupil", bypass_csp=True)
    await pupil.set_viewport_size({"width": 390, "height": 844})  # a phone
    cookie = await sign_in(server, *server.pupils[0])
    await pupil.context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": server.url}])
    await pupil.goto(server.url + "/diary")
    link = pupil.get_by_role("link", name=en["diary.replay_label"].replace("{subject}", "Algebra"))
    await link.click()
    await expect(pupil).to_have_url(f"{server.url}/replay/lessons/{lid}")
    doc = pupil.get_by_test_id("replay-doc")
    await expect(doc).to_have_text(en["replay.no_document"])
    camera = pupil.get_by_test_id("replay-camera")
    await expect(camera).to_have_attribute(
        "src", f"/api/lessons/{lid}/recordings/{folder.name}/teacher-camera-1.webm"
    )
    # Keyboard: K plays; the picture and the sound move, and the page follows the clock.
    await pupil.keyboard.press("k")
    await pupil.wait_for_function(
        "() => document.getElementById('replay-camera').currentTime > 1"
        " && document.getElementById('replay-mic').currentTime > 1"
    )
    await expect(doc).to_have_text(
        en["replay.page"].format(name="Photosynthesis.pdf", page=1, pages=3)
    )
    # Seek past the page change: page 2 and the chat message are there.
    await pupil.get_by_test_id("replay-seek").fill(str(page_at / 1000 + 0.5))
    await expect(doc).to_have_text(
        en["replay.page"].format(name="Photosynthesis.pdf", page=2, pages=3)
    )
    # ... and its image: page 2 of the lesson's document, loaded (served to the pupil by session).
    image = pupil.get_by_test_id("replay-page")
    await expect(image).to_have_attribute("alt", en["doc.page_of"].format(page=2, pages=3))
    await pupil.wait_for_function(
        "() => { const img = document.getElementById('replay-page');"
        " return img.complete && img.naturalWidth > 0 && img.currentSrc.includes('/pages/2?'); }"
    )
    src = await image.get_attribute("src")
    assert src == f"/api/lessons/{lid}/documents/{document['id']}/pages/2?width=640", src
    await expect(pupil.get_by_test_id("replay-chat")).to_contain_text("What is chlorophyll?")
    # Speed 2x: the elements play at twice the rate.
    await pupil.get_by_test_id("replay-speed").select_option("2")
    await pupil.wait_for_function(
        "() => document.getElementById('replay-camera').playbackRate === 2"
    )
    # Audio and video stay together on the page's clock.
    drift = await pupil.evaluate(
        "() => Math.abs(document.getElementById('replay-camera').currentTime"
        " - document.getElementById('replay-mic').currentTime)"
    )
    assert drift < 0.3, drift
    assert await axe_violations(pupil, axe_source) == []
    await shots(pupil)

    # The lesson's journal page offers it to the teacher.
    desk = await browsers.person("teacher")
    await desk.context.add_cookies([{"name": SESSION_COOKIE, "value": teacher, "url": server.url}])
    await desk.goto(f"{server.url}/journal/lessons/{lid}")
    watch = desk.get_by_test_id("lesson-replay")
    await expect(watch).to_be_visible()
    await expect(watch).to_have_attribute("href", f"/replay/lessons/{lid}")
