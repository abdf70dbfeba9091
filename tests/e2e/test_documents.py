"""A shared document in real Chromium: the presenter uploads through the page, the class follows.

The teacher uploads a PDF from the toolbar's Document menu (upload then conversion progress),
it is on every pupil's stage from its first page, a key press moves everyone within a second,
a late joiner opens on the same page, a pupil looks back and follows again, the pointer and a
shared MP3's play and seek reach the pupil, Flash is refused with the server's sentence, and a
pupil has no upload control (nor does the server take one from them).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, Playwright, ViewportSize, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.documents import samples

from .conftest import Browsers, LiveServer, artifacts
from .flows import EN, pupil_enters, teacher_hosts, text
from .test_journal import (
    diary_row,
    lesson_page_url,
    pupil_signed_in,
    schedule_lesson,
    teacher_signed_in,
)
from .test_knock_banner import close_side
from .test_media import playwright, room_in_netns
from .test_stage import axe, wait_stage

pytestmark = pytest.mark.e2e
__all__ = ["playwright"]  # the fixture, shared with test_media.py
ARTIFACTS = artifacts("documents")
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}

# Collects every text the uploader's progress box shows (they pass too fast to poll).
WATCH_UPLOAD = """
() => {
  window.__uploadTexts = [];
  const el = document.getElementById("doc-upload-text");
  new MutationObserver(() => window.__uploadTexts.push(el.textContent)).observe(
    el, {childList: true, characterData: true, subtree: true});
}
"""
# Notes the moment (epoch ms) each page finished loading on the stage.
WATCH_PAGES = """
() => {
  window.__pageLoaded = {};
  document.addEventListener("load", (e) => {
    const img = e.target;
    if (img instanceof HTMLImageElement && img.classList.contains("doc-page")) {
      window.__pageLoaded[img.dataset.page] = Date.now();
    }
  }, true);
}
"""


async def said_ready(page: Page, name: str) -> None:
    """The uploader's box said the document is ready (it closes itself a few seconds later,
    so the text is read from what upload() watched it show)."""
    await page.wait_for_function(
        "(ready) => window.__uploadTexts.includes(ready)", arg=text("doc.ready", name=name)
    )


# Runs in a page: whether the uploader's box lies over the stage (their boxes intersect).
UPLOAD_OVER_STAGE = """
() => {
  const box = document.getElementById("doc-upload");
  if (box.hidden) return false;
  const a = box.getBoundingClientRect();
  const b = document.getElementById("stage-main").getBoundingClientRect();
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}
"""


def page_img(page: Page) -> Locator:
    return page.get_by_test_id("doc-page")


async def shows_page(page: Page, number: int, pages: int) -> None:
    """The stage shows that page, loaded, and says which it is."""
    await expect(page.locator("#stage-main")).to_have_attribute("data-content", "document")
    await expect(page_img(page)).to_have_attribute("data-loaded", str(number))
    await expect(page.get_by_test_id("doc-page-of")).to_have_text(
        text("doc.page_of", page=number, pages=pages)
    )
    src = await page_img(page).evaluate("(img) => img.currentSrc")
    assert re.search(rf"/{number}-\d+\.webp\?access=", src), src


async def upload(page: Page, path: Path, *, check_axe: bool = False) -> None:
    await page.evaluate(WATCH_UPLOAD)
    await page.get_by_test_id("tool-document").click()
    await expect(page.get_by_role("dialog", name=EN["doc.menu_title"])).to_be_visible()
    if check_axe:
        assert await axe(page) == []
        await page.screenshot(path=str(ARTIFACTS / "desktop-teacher-menu.png"))
    await page.get_by_test_id("doc-file").set_input_files(str(path))


async def test_presenter_shares_a_pdf_and_the_class_follows(
    live_server: LiveServer, browsers: Browsers, tmp_path: Path
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    for page in (host, pupil):
        await page.set_viewport_size({"width": 1366, "height": 768})
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Biology 8A", class_id=live_server.class_id
    )
    await pupil_enters(pupil, room, *live_server.pupils[0])

    # A pupil has no upload control.
    await expect(pupil.get_by_test_id("tool-document")).to_be_hidden()
    await expect(host.get_by_test_id("tool-document")).to_be_visible()

    deck = samples.pdf(tmp_path / "photosynthesis.pdf", 4)
    await host.evaluate(WATCH_UPLOAD)
    await pupil.evaluate(WATCH_PAGES)
    await upload(host, deck, check_axe=True)
    # The class sees page 1; the presenter saw the upload, then the conversion page by page.
    await shows_page(pupil, 1, 4)
    await said_ready(host, "photosynthesis.pdf")
    seen: list[str] = await host.evaluate("window.__uploadTexts")
    assert any(re.fullmatch(r"Uploading photosynthesis\.pdf: \d+ %", s) for s in seen), seen
    assert text("doc.converting", page=2, pages=4) in seen, seen
    await shows_page(host, 1, 4)
    # axe finds nothing on either stage with the document on it.
    assert await axe(host) == []
    assert await axe(pupil) == []

    # The presenter's key press reaches the pupil's stage, loaded, within a second.
    await host.locator("#stage-title").focus()
    pressed = await host.evaluate("Date.now()")
    await host.keyboard.press("ArrowRight")
    await shows_page(pupil, 2, 4)
    loaded = await pupil.evaluate("window.__pageLoaded['2']")
    print(f"page 2 loaded on the pupil's stage {loaded - pressed} ms after the key press")
    assert loaded - pressed < 1000, f"page 2 reached the pupil after {loaded - pressed} ms"

    # A late joiner opens on page 2.
    late = await browsers.person("late")
    await late.set_viewport_size({"width": 1366, "height": 768})
    await pupil_enters(late, room, *live_server.pupils[1])
    await shows_page(late, 2, 4)

    # A pupil looks back on their own; the presenter moves on; the pupil follows again.
    await pupil.locator("#stage-title").focus()
    await pupil.keyboard.press("ArrowLeft")
    await shows_page(pupil, 1, 4)
    follow = pupil.get_by_test_id("doc-follow")
    await expect(follow).to_have_text(text("doc.follow", page=2))
    await host.get_by_test_id("doc-next").click()
    await shows_page(late, 3, 4)
    await expect(follow).to_have_text(text("doc.follow", page=3))
    await expect(page_img(pupil)).to_have_attribute("data-page", "1")
    await follow.click()
    await shows_page(pupil, 3, 4)
    await expect(follow).to_be_hidden()
    await expect(pupil.locator("#status")).to_have_text(text("doc.page_of", page=3, pages=4))

    # The presenter's pointer: a dot where they point, at the same place of the pupil's page.
    frame = host.locator("#stage-document .doc-frame")
    box = await frame.bounding_box()
    assert box is not None
    await host.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    dot = pupil.get_by_test_id("doc-pointer")
    await expect(dot).to_be_visible()
    at = await dot.evaluate("(d) => [parseFloat(d.style.left), parseFloat(d.style.top)]")
    assert abs(at[0] - 30) < 1.5 and abs(at[1] - 60) < 1.5, at

    # The server refuses an upload from the pupil, even with the pupil's own room ticket.
    browsers.watch(pupil).allow_http_error("/documents", 403)
    refused = await pupil.evaluate(
        """async (roomId) => {
          const src = document.querySelector('[data-testid="doc-page"]').currentSrc;
          const access = new URL(src).searchParams.get("access");
          const r = await fetch(`/api/rooms/${roomId}/documents?name=x.png`, {
            method: "POST", headers: {"X-Sabaq-Access": access}, body: new Blob(["x"])});
          return [r.status, (await r.json()).error.code];
        }""",
        room.id,
    )
    assert refused == [403, "not_permitted"]

    # Stop sharing: the stage goes back to the teacher's camera (or its empty words).
    await host.get_by_test_id("doc-stop-stage").click()
    await expect(pupil.locator("#stage-main")).not_to_have_attribute("data-content", "document")
    await expect(pupil.locator("#stage-document")).to_be_hidden()


async def test_shared_player_flash_refusal_and_listing(
    live_server: LiveServer, browsers: Browsers, tmp_path: Path
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Music 5B", class_id=live_server.class_id
    )
    await pupil_enters(pupil, room, *live_server.pupils[0])

    # Flash: refused with the server's sentence, nothing on the stage.
    browsers.watch(host).allow_http_error("/documents", 415)
    swf = tmp_path / "animation.swf"
    swf.write_bytes(b"FWS\x0a" + b"\x00" * 64)
    await upload(host, swf)
    error = host.get_by_test_id("doc-upload").get_by_role("alert")
    await expect(error).to_have_text(EN["error.document_flash"])
    await expect(pupil.locator("#stage-document")).to_be_hidden()
    await (
        host.get_by_test_id("doc-upload").get_by_role("button", name=EN["doc.close_status"]).click()
    )

    # An MP3 becomes a shared player: the presenter's play and seek reach the pupil.
    song = samples.mp3(tmp_path / "anthem.mp3", seconds=90)
    await upload(host, song)
    media = pupil.get_by_test_id("doc-media")
    await expect(media).to_be_attached()
    await expect(pupil.get_by_test_id("doc-player-state")).to_have_text(
        re.compile(re.escape(EN["doc.player_paused"].split("{")[0]))
    )
    host_media = host.get_by_test_id("doc-media")
    await expect(host_media).to_have_attribute("controls", "")
    await host_media.evaluate("(m) => m.play()")
    play_here = pupil.get_by_test_id("doc-play-here")
    await pupil.wait_for_function(
        """() => {
          const m = document.querySelector('[data-testid="doc-media"]');
          const here = document.querySelector('[data-testid="doc-play-here"]');
          return (m && !m.paused && m.currentTime > 0) || (here && !here.hidden);
        }"""
    )
    if await play_here.is_visible():  # the browser wanted a press before playing sound
        await play_here.click()
    await pupil.wait_for_function(
        "() => { const m = document.querySelector('[data-testid=\"doc-media\"]');"
        " return !m.paused && m.currentTime > 0.2; }"
    )
    await host_media.evaluate("(m) => { m.currentTime = 30; }")
    await pupil.wait_for_function(
        "() => document.querySelector('[data-testid=\"doc-media\"]').currentTime >= 29.5"
    )

    # A late joiner's player starts where the room's is now, playing.
    late = await browsers.person("late")
    await pupil_enters(late, room, *live_server.pupils[1])
    late_media = late.get_by_test_id("doc-media")
    await expect(late_media).to_be_attached()
    late_here = late.get_by_test_id("doc-play-here")
    await late.wait_for_function(
        """() => {
          const m = document.querySelector('[data-testid="doc-media"]');
          const here = document.querySelector('[data-testid="doc-play-here"]');
          return (m && !m.paused && m.currentTime > 30) || (here && !here.hidden);
        }"""
    )
    if await late_here.is_visible():
        await late_here.click()
    at = await late_media.evaluate("(m) => m.currentTime")
    room_at = await host_media.evaluate("(m) => m.currentTime")
    assert abs(at - room_at) < 2, (at, room_at)
    await host_media.evaluate("(m) => m.pause()")
    await pupil.wait_for_function(
        "() => document.querySelector('[data-testid=\"doc-media\"]').paused"
    )

    # A zip: its files listed, each one downloadable on its own.
    archive = samples.good_zip(tmp_path / "worksheets.zip")
    await upload(host, archive)
    link = pupil.get_by_role("link", name=text("doc.download_label", name="images/diagram.txt"))
    await expect(link).to_be_visible()
    async with pupil.expect_download() as info:
        await link.click()
    download = await info.value
    assert download.suggested_filename == "diagram.txt"
    saved = await download.path()
    assert await asyncio.to_thread(saved.read_text) == "a diagram"

    # A legacy FLV: converted to MP4 and shown as a shared video player.
    await upload(host, samples.flv(tmp_path / "experiment.flv"))
    video = pupil.locator('video[data-testid="doc-media"]')
    await expect(video).to_have_attribute("src", re.compile(r"/video\.mp4\?access="))
    await expect(host.locator('video[data-testid="doc-media"]')).to_have_attribute("controls", "")


async def test_after_the_lesson_its_page_and_the_class_diary_link_the_documents(
    live_server: LiveServer, browsers: Browsers, tmp_path: Path
) -> None:
    teacher = await browsers.person("teacher")
    pupil = await browsers.person("pupil")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(teacher, live_server.url, live_server.class_id, "Biology")
    started = await teacher.request.post(f"{live_server.url}/api/lessons/{lesson['id']}/start")
    assert started.status == 200
    await teacher.goto((await started.json())["invite_url"])
    await expect(teacher.locator("#inside")).to_be_visible()
    deck = samples.pdf(tmp_path / "cells.pdf", 2)
    await upload(teacher, deck)
    await shows_page(teacher, 1, 2)
    await said_ready(teacher, "cells.pdf")

    # The lesson's page lists what was shown, by whom.
    await teacher.goto(lesson_page_url(live_server, lesson))
    table = teacher.get_by_test_id("lesson-documents")
    link = table.get_by_role("link", name=text("doc.open", name="cells.pdf"))
    await expect(link).to_be_visible()
    await expect(table).to_contain_text(text("doc.pages_count", pages=2))
    ended = await teacher.request.post(f"{live_server.url}/api/lessons/{lesson['id']}/end", data={})
    assert ended.status == 200

    # After it, the class's diary links it, and the pupil gets the very file.
    await pupil_signed_in(pupil, live_server)
    await pupil.goto(live_server.url + "/diary")
    row = diary_row(pupil, lesson)
    shared = row.get_by_role("link", name=text("doc.open", name="cells.pdf"))
    await expect(shared).to_be_visible()
    async with pupil.expect_download() as info:
        await shared.click()
    saved = await (await info.value).path()
    assert await asyncio.to_thread(saved.read_bytes) == deck.read_bytes()


async def each_view(
    host: Page, pupil: Page, number: int, pages: int
) -> AsyncIterator[tuple[str, str, str, Page]]:
    """Each size (1366x768, 390x844), language and person, the page set to it and showing page
    `number`: (size, language, "teacher" or "pupil", the page)."""
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for lang in ("kk", "ru", "en"):
            for who, page in (("teacher", host), ("pupil", pupil)):
                await page.set_viewport_size(viewport)
                await page.locator("#lang").select_option(lang)
                await expect(page.get_by_test_id("doc-page-of")).to_have_text(
                    text("doc.page_of", lang, page=number, pages=pages)
                )
                yield size, lang, who, page


# Runs in a page: where the shared page is drawn, how much of the window it takes.
PAGE_BOX = """
() => {
  const img = document.querySelector('[data-testid="doc-page"]');
  const r = img.getBoundingClientRect();
  const bar = document.querySelector(".doc-bar").getBoundingClientRect();
  const stage = document.getElementById("stage-main").getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width,
    height: r.height, barBottom: bar.bottom, vw: window.innerWidth, vh: window.innerHeight,
    natural: img.naturalWidth, scrollY: window.scrollY, stageTop: stage.top,
    stageBottom: stage.bottom};
}
"""


async def test_the_shared_page_on_the_stage_in_each_size_and_language(
    live_server: LiveServer, browsers: Browsers, tmp_path: Path
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Биология 8Б", class_id=live_server.class_id
    )
    await pupil_enters(pupil, room, *live_server.pupils[0])
    await upload(host, samples.pdf(tmp_path / "Фотосинтез.pdf", 4))
    await said_ready(host, "Фотосинтез.pdf")
    await expect(host.get_by_test_id("doc-upload")).to_be_hidden()  # closes itself
    await host.get_by_test_id("doc-next").click()
    await shows_page(pupil, 2, 4)
    folder = ARTIFACTS
    async for size, lang, who, page in each_view(host, pupil, 2, 4):
        # The pointer where the teacher points (a pupil sees the teacher's).
        frame = host.locator("#stage-document .doc-frame")
        box = await frame.bounding_box()
        assert box is not None
        await host.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
        await expect(page.get_by_test_id("doc-pointer")).to_be_visible()
        await expect(page_img(page)).to_have_attribute("data-loaded", "2")
        drawn = await page.evaluate(PAGE_BOX)
        # The page lies wholly in the first viewport with its buttons, nothing scrolled.
        assert drawn["scrollY"] == 0
        assert drawn["left"] >= 0 and drawn["right"] <= drawn["vw"] + 0.5, drawn
        assert drawn["top"] >= 0 and drawn["barBottom"] <= drawn["vh"], drawn
        if size == "desktop":  # half of the window's width at least, beside the panel
            assert drawn["width"] >= 0.5 * drawn["vw"], drawn
        else:  # the phone's full width, the stage no taller than the slide and its bar
            assert drawn["width"] >= 0.95 * drawn["vw"], drawn
            # (a 16:9 slide sat between black bands ~250 px high each before)
            assert drawn["top"] - drawn["stageTop"] <= 2, drawn
            assert drawn["stageBottom"] - drawn["barBottom"] <= 2, drawn
        await page.screenshot(path=str(folder / f"{size}-{who}-{lang}.png"))


# Runs in a page: the shared slide, the teacher's camera beside it and the stage, as boxes.
SLIDE_AND_CAMERA = """
() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width}; };
  const pip = document.querySelector("#stage-main > .tile-pip");
  return {slide: box(document.querySelector('[data-testid="doc-page"]')),
    bar: box(document.querySelector(".doc-bar")), camera: pip ? box(pip) : null,
    stage: box(document.getElementById("stage-main")), vw: innerWidth, vh: innerHeight,
    scrollY: window.scrollY};
}
"""


# Runs in a page: the content's drawn picture (the slide image, or the picture inside the shared
# screen's video element: object-fit contain leaves bands) and the teacher's camera tile, as
# boxes; how much they overlap; whether each lies in the first viewport. null until both show.
CONTENT_AND_CAMERA = """
() => {
  const main = document.getElementById("stage-main");
  const pip = main.querySelector(":scope > .tile-pip");
  const doc = main.dataset.content === "document";
  const el = doc ? main.querySelector('[data-testid="doc-page"]')
    : main.querySelector(":scope > .tile:not(.tile-pip) video");
  if (!pip || !el) return null;
  const r = el.getBoundingClientRect();
  let picture = {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  if (!doc) {
    if (!el.videoWidth) return null;
    const scale = Math.min(r.width / el.videoWidth, r.height / el.videoHeight);
    const w = el.videoWidth * scale, h = el.videoHeight * scale;
    const left = r.left + (r.width - w) / 2, top = r.top + (r.height - h) / 2;
    picture = {left, top, right: left + w, bottom: top + h};
  } else if (!el.naturalWidth) return null;
  const c = pip.getBoundingClientRect();
  const camera = {left: c.left, top: c.top, right: c.right, bottom: c.bottom};
  const across = (a, b, lo, hi) => Math.max(0, Math.min(a[hi], b[hi]) - Math.max(a[lo], b[lo]));
  const overlap = across(picture, camera, "left", "right")
    * across(picture, camera, "top", "bottom");
  const inside = (b) => b.left >= -0.5 && b.top >= -0.5 && b.right <= innerWidth + 0.5
    && b.bottom <= innerHeight + 0.5;
  const area = (b) => (b.right - b.left) * (b.bottom - b.top);
  return {picture, camera, overlap, pictureInside: inside(picture), cameraInside: inside(camera),
    share: area(picture) / (innerWidth * innerHeight), cameraWidth: c.width,
    scrollY: window.scrollY, placed: main.dataset.pip || null, vw: innerWidth, vh: innerHeight,
    stageTop: main.getBoundingClientRect().top,
    ok: overlap === 0 && inside(picture) && inside(camera) && window.scrollY === 0};
}
"""


async def camera_beside_content(page: Page) -> dict[str, Any]:
    """Waits until the content and the camera are both drawn; asserts that the camera covers
    none of the content's picture and that both lie in the first viewport."""
    # The stage places the camera on its next layout after a resize; if it never gets there,
    # the assertions below say what is wrong.
    with contextlib.suppress(PlaywrightTimeout):
        await page.wait_for_function(
            f"() => {{ const g = ({CONTENT_AND_CAMERA})(); return g && g.ok; }}", timeout=10_000
        )
    drawn: dict[str, Any] | None = await page.evaluate(CONTENT_AND_CAMERA)
    assert drawn is not None, "the content or the teacher's camera is not on the stage"
    assert drawn["overlap"] == 0, drawn
    assert drawn["pictureInside"] and drawn["cameraInside"], drawn
    assert drawn["scrollY"] == 0, drawn
    return drawn


@pytest.mark.timeout(300)
async def test_the_teachers_camera_never_covers_a_slide_or_a_shared_screen(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    """Lecture with the teacher's camera on: the camera lies beside a shared 16:9 slide, then
    beside a shared screen, never over any of the picture, both in the first viewport, at
    1366x768 and 390x844, in kk, ru and en, for the teacher and a pupil. On an upright phone
    the slide takes the width and the stage is as tall as the slide, its bar and the camera
    under it. WebRTC (the camera) runs inside a test-made network namespace."""
    room = room_in_netns(playwright, chromium_path, demo_data, tmp_path, "Физика 9B")
    async with room as (host, pupil, _):
        await host.get_by_test_id("publish-camera").click()
        await upload(host, samples.pdf(tmp_path / "Оптика.pdf", 2))
        await shows_page(pupil, 1, 2)
        await said_ready(host, "Оптика.pdf")
        # The uploader's box lay over the stage's lower left until closed by hand: once the
        # document is ready it goes by itself, and covers nothing of the stage.
        await host.wait_for_function(f"() => !({UPLOAD_OVER_STAGE})()", timeout=10_000)
        await expect(host.get_by_test_id("doc-upload")).to_be_hidden()
        await expect(pupil.locator('#stage-main > .tile-pip[data-source="camera"]')).to_be_visible()
        async for size, lang, who, page in each_view(host, pupil, 1, 2):
            await expect(page_img(page)).to_have_attribute("data-loaded", "1")
            beside = await camera_beside_content(page)
            print(
                f"{size} {who} {lang}: slide {beside['share']:.0%} of the window, camera "
                f"{beside['cameraWidth']:.0f} px wide, {beside['placed'] or 'under the bar'}"
            )
            if size == "desktop":  # the slide keeps half the window's width at least
                slide_width = beside["picture"]["right"] - beside["picture"]["left"]
                assert slide_width >= 0.5 * beside["vw"], beside
                # ... and the teacher beside it is a face, not a thumbnail (128 px before).
                assert beside["cameraWidth"] >= 200, beside
                assert await page.locator("#side").is_visible()  # with the side panel open
            await page.screenshot(path=str(ARTIFACTS / f"{size}-{who}-slide-camera-{lang}.png"))
            if size == "desktop":
                continue
            drawn = await page.evaluate(SLIDE_AND_CAMERA)
            slide, bar, camera, stage = (
                drawn["slide"],
                drawn["bar"],
                drawn["camera"],
                drawn["stage"],
            )
            assert drawn["scrollY"] == 0, drawn
            assert slide["width"] >= 0.95 * drawn["vw"], drawn
            assert slide["left"] >= 0 and slide["right"] <= drawn["vw"] + 0.5, drawn
            assert slide["top"] >= 0 and bar["bottom"] <= drawn["vh"], drawn
            # No band above the slide; the camera under the bar, the stage ending there.
            assert slide["top"] - stage["top"] <= 2, drawn
            assert camera is not None and camera["top"] >= bar["bottom"] - 0.5, drawn
            assert camera["bottom"] <= drawn["vh"], drawn
            assert stage["bottom"] - camera["bottom"] <= 12, drawn

        # The document's sharing stops; the teacher shares the screen: the same for it.
        await host.get_by_test_id("doc-stop-stage").click()
        await host.get_by_test_id("publish-screen").click()
        for page in (host, pupil):
            await wait_stage(page, "screen")
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            for lang in ("kk", "ru", "en"):
                for who, page in (("teacher", host), ("pupil", pupil)):
                    await page.set_viewport_size(viewport)
                    await page.locator("#lang").select_option(lang)
                    await expect(
                        page.get_by_test_id("publish-mic").locator(".tool-label")
                    ).to_have_text(text("toolbar.mic", lang))
                    if size == "phone":  # there the panels are sheets over the stage
                        await close_side(page)
                    beside = await camera_beside_content(page)
                    print(
                        f"{size} {who} {lang}: screen {beside['share']:.0%} of the window, "
                        f"camera {beside['cameraWidth']:.0f} px wide, {beside['placed']}"
                    )
                    picture = beside["picture"]
                    if size == "desktop":
                        assert beside["cameraWidth"] >= 200, beside
                        assert picture["right"] - picture["left"] >= 0.5 * beside["vw"], beside
                    else:
                        # Across the width with no black band above it (a 16:9 screen sat
                        # ~150 px under the stage's top before), the camera under it.
                        assert picture["right"] - picture["left"] >= 0.95 * beside["vw"], beside
                        assert picture["top"] - beside["stageTop"] <= 2, beside
                        assert beside["camera"]["top"] >= picture["bottom"] - 0.5, beside
                    await page.screenshot(
                        path=str(ARTIFACTS / f"{size}-{who}-screen-camera-{lang}.png")
                    )
