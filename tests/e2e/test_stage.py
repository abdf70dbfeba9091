"""The lesson stage in real Chromium through the SFU: what the class looks at is large and in view.

At 1366x768 the stage's video gets at least half of the window and sits inside the first
viewport; on a 390x844 phone it is full width and in view. Each state (teacher's camera, a
shared screen, each layout, each language) is saved as a screenshot for a reviewer, under
$SABAQ_ARTIFACTS/stage/ or test-artifacts/stage/ (ignored by git), in every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Playwright, ViewportSize, expect

from tests.e2e import flows
from tests.e2e.conftest import AXE_JS, artifacts
from tests.e2e.flows import EN, text
from tests.e2e.test_accessibility import AXE_OPTIONS
from tests.e2e.test_knock_banner import close_side
from tests.e2e.test_media import launch, open_page, playwright, room_in_netns
from tests.e2e.test_toolbar import TOOLS_IN_VIEW

pytestmark = pytest.mark.e2e
__all__ = ["playwright"]  # the fixture, shared with test_media.py

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}
GUEST = "Aigerim Nurlanova"
ARTIFACTS = artifacts("stage")

# Runs in a page: where the stage's main video is drawn (its element box and the picture inside
# it), whether it plays, and what the stage shows.
STAGE_BOX = """
() => {
  const main = document.getElementById("stage-main");
  const video = main.querySelector(".tile:not(.tile-pip) video");
  const box = (video || main).getBoundingClientRect();
  let picture = box.width * box.height;
  let whole = picture;
  const stage = main.getBoundingClientRect();
  if (video && video.videoWidth) {
    const fit = (w, h) => { const scale = Math.min(w / video.videoWidth, h / video.videoHeight);
      return video.videoWidth * scale * video.videoHeight * scale; };
    picture = fit(box.width, box.height);
    whole = fit(stage.width, stage.height);  // the picture if it had the stage to itself
  }
  const pip = main.querySelector(".tile-pip");
  return {left: box.left, top: box.top, right: box.right, bottom: box.bottom,
    width: box.width, height: box.height, picture, whole,
    vw: window.innerWidth, vh: window.innerHeight, scrollY: window.scrollY,
    mode: main.dataset.mode, content: main.dataset.content, count: Number(main.dataset.count),
    playing: !!video && !video.paused && video.videoWidth > 0,
    source: video ? video.closest(".tile").dataset.source : null,
    pip: pip ? pip.dataset.source : null, pipWidth: pip ? pip.getBoundingClientRect().width : 0,
    film: [...document.querySelectorAll("#tiles > .tile")].map((t) => t.dataset.source)};
}
"""


# Runs in a page: every element from a stage video up to the stage that clips it with rounded
# corners (or the video's own rounding). A rounded clip around a playing video makes the
# compositor draw it into a picture of its own and then onto the page, every frame: without a
# GPU a screen refresh later (web/public/style.css, docs/media.md "A rounded stage").
ROUNDED_CLIPS = """
() => {
  const found = [];
  for (const video of document.querySelectorAll("#stage-main video")) {
    for (let el = video; el && el.id !== "stage"; el = el.parentElement) {
      const s = getComputedStyle(el);
      const clips = el === video || s.overflow !== "visible";
      if (clips && s.borderRadius !== "0px") found.push(`${el.tagName}.${el.className}`);
    }
  }
  return found;
}
"""


# The stage's main region as a whole (a grid of tiles in Discussion).
MAIN_BOX = """
() => {
  const r = document.getElementById("stage-main").getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
    vw: innerWidth, vh: innerHeight, scrollY: window.scrollY};
}
"""


# Runs in a page: the toolbar hint's box and how much of it lies over the stage and the toolbar.
HINT_OVER = """
() => {
  const box = (id) => document.getElementById(id).getBoundingClientRect();
  const hint = box("toolbar-hint");
  const over = (b) => Math.max(0, Math.min(hint.right, b.right) - Math.max(hint.left, b.left))
    * Math.max(0, Math.min(hint.bottom, b.bottom) - Math.max(hint.top, b.top));
  return {hint: {left: hint.left, top: hint.top, width: hint.width, height: hint.height},
    stage: over(box("stage")), toolbar: over(box("toolbar")),
    inside: hint.top >= 0 && hint.bottom <= innerHeight && hint.left >= 0
      && hint.right <= innerWidth};
}
"""


# Runs in a page: how much of the stage's content picture (px²) the stage's banner covers.
BANNER_OVER_CONTENT = """
() => {
  const banner = document.getElementById("stage-banner").getBoundingClientRect();
  const video = document.querySelector("#stage-main > .tile:not(.tile-pip) video");
  const b = video.getBoundingClientRect();
  return Math.max(0, Math.min(banner.right, b.right) - Math.max(banner.left, b.left))
    * Math.max(0, Math.min(banner.bottom, b.bottom) - Math.max(banner.top, b.top));
}
"""


async def shot(page: Page, name: str) -> None:
    # Playwright makes the folder.
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


# Resolves after the next two frames: the stage places the teacher's camera beside the content
# from a ResizeObserver (web/src/camera_fit.js), which runs in the frame after a resize.
NEXT_FRAMES = (
    "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
)


async def stage_box(page: Page) -> dict[str, Any]:
    await page.evaluate(NEXT_FRAMES)
    box: dict[str, Any] = await page.evaluate(STAGE_BOX)
    return box


async def axe(page: Page) -> list[str]:
    """Every axe violation (any impact) on the page as it is now: the stage with real tiles."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated over the DevTools protocol: the room's CSP stays as it is.
        await page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result: dict[str, Any] = await page.evaluate(
        "async (options) => await window.axe.run(document, options)", AXE_OPTIONS
    )
    return [f"{v['id']}: {v['help']}" for v in result["violations"]]


async def wait_stage(page: Page, content: str) -> dict[str, Any]:
    """Waits until the stage shows `content` ("camera", "screen") playing; its box."""
    await page.wait_for_function(
        """(content) => { const m = document.getElementById("stage-main");
          const v = m.querySelector(".tile:not(.tile-pip) video");
          return m.dataset.mode === "single" && m.dataset.content === content && v && !v.paused
            && v.videoWidth > 0; }""",
        arg=content,
        timeout=20_000,
    )
    return await stage_box(page)


def assert_large_and_in_view(box: dict[str, Any]) -> None:
    """Desktop: at least half the window, wholly inside the first viewport, nothing scrolled."""
    area = box["vw"] * box["vh"]
    share = box["width"] * box["height"] / area
    seen = box["picture"] / area  # the picture inside it (object-fit: contain)
    size = f"{box['width']:.0f}x{box['height']:.0f} px"
    print(f"stage {box['source']}: {size} = {share:.0%}, picture {seen:.0%}")
    if box["pip"]:
        # The teacher's camera has a cell of its own beside the content (never over it), at
        # least 200 px wide (it was 128, a thumbnail, with the side panel open); the content's
        # picture keeps a third of the window (camera_place.js: the picture, not its box with
        # black bands in it, is what the class reads).
        assert box["pipWidth"] >= 200, box
        assert seen >= 1 / 3, box
    else:
        assert share >= 0.5, box
    assert box["top"] >= 0 and box["left"] >= 0, box
    assert box["bottom"] <= box["vh"] and box["right"] <= box["vw"], box
    assert box["scrollY"] == 0, box


def assert_full_width_in_view(box: dict[str, Any]) -> None:
    """Phone: the stage spans the width and is inside the first viewport."""
    assert box["left"] <= 0.5 and box["right"] >= box["vw"] - 0.5, box
    assert box["top"] >= 0 and box["bottom"] <= box["vh"], box
    assert box["scrollY"] == 0, box


@pytest.mark.timeout(240)
async def test_the_stage_is_large_in_view_and_follows_the_layout(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    room = room_in_netns(playwright, chromium_path, demo_data, tmp_path, "Algebra 8A")
    async with room as (host, pupil, _):
        for page in (host, pupil):
            await page.set_viewport_size(DESKTOP)
        # Before anything is sent the stage says what will come, in a pupil's words.
        await expect(pupil.locator("#stage-empty")).to_have_text(EN["stage.empty"])
        # The pupil's mic and camera are on the toolbar, off until granted, saying how to ask.
        mic = pupil.get_by_test_id("publish-mic")
        await expect(mic).to_have_attribute("aria-disabled", "true")
        # (aria-disabled keeps it focusable: Playwright will not click it, a person can.)
        await mic.focus()
        await pupil.keyboard.press("Enter")
        await expect(pupil.locator("#toolbar-hint")).to_have_text(EN["toolbar.hint_mic"])
        await expect(pupil.get_by_test_id("publish-screen")).to_be_hidden()
        await shot(pupil, "desktop-pupil-waiting")

        # The teacher's camera: on both stages, large and in view.
        await host.get_by_test_id("publish-camera").click()
        await host.get_by_test_id("publish-mic").click()
        box = await wait_stage(pupil, "camera")
        assert box["source"] == "camera" and box["mode"] == "single", box
        assert_large_and_in_view(box)
        mine = await wait_stage(host, "camera")
        assert_large_and_in_view(mine)
        assert (
            await pupil.evaluate(ROUNDED_CLIPS) == [] and await host.evaluate(ROUNDED_CLIPS) == []
        )
        await shot(pupil, "desktop-pupil-camera-lecture")
        await shot(host, "desktop-teacher-camera-lecture")

        # A shared screen takes the stage; in Lecture the teacher's camera stays beside it.
        await host.get_by_test_id("publish-screen").click()
        box = await wait_stage(pupil, "screen")
        assert box["pip"] == "camera", box
        assert_large_and_in_view(box)
        assert await pupil.evaluate(ROUNDED_CLIPS) == []
        await shot(pupil, "desktop-pupil-screen-lecture")
        await shot(host, "desktop-teacher-screen-lecture")
        # The toolbar's hint (here: how to ask for the microphone) has a row of its own: it lay
        # over the middle of the content's foot for 8 s before. The stage stays large with it.
        await mic.focus()
        await pupil.keyboard.press("Enter")
        hint = pupil.locator("#toolbar-hint")
        await expect(hint).to_have_text(EN["toolbar.hint_mic"])
        await pupil.evaluate(NEXT_FRAMES)
        covered = await pupil.evaluate(HINT_OVER)
        assert covered["stage"] == 0 and covered["toolbar"] == 0, covered
        assert covered["hint"]["width"] > 0 and covered["inside"], covered
        assert_large_and_in_view(await stage_box(pupil))
        await shot(pupil, "desktop-pupil-screen-hint")
        # It goes after 8 s and gives the stage its row back.
        await expect(hint).to_be_hidden(timeout=15_000)
        # With real tiles on the stage and beside it: no accessibility violation at all.
        assert await axe(pupil) == [] and await axe(host) == []

        layout = host.get_by_label(EN["layout.label"], exact=True)
        # Sharing: the content alone on the stage, the camera in the filmstrip (a 16:9 tile
        # whose name is on one line).
        await layout.select_option("sharing")
        await expect(pupil.locator("#stage")).to_have_attribute("data-layout", "sharing")
        box = await wait_stage(pupil, "screen")
        assert box["pip"] is None and box["film"] == ["camera"], box
        assert_large_and_in_view(box)
        film = await pupil.locator("#tiles > .tile video").evaluate(
            "(v) => { const r = v.getBoundingClientRect(); return r.width / r.height; }"
        )
        assert abs(film - 16 / 9) < 0.05, film
        name = pupil.locator("#tiles .tile-text")
        assert await name.evaluate("(el) => getComputedStyle(el).whiteSpace") == "nowrap"
        await shot(pupil, "desktop-pupil-sharing")

        # Discussion: an equal grid of what is shown (screen and camera), together large.
        await layout.select_option("discussion")
        await expect(pupil.locator("#stage")).to_have_attribute("data-layout", "discussion")
        await pupil.wait_for_function(
            "document.getElementById('stage-main').dataset.mode === 'grid'"
        )
        grid = await pupil.locator("#stage-main").evaluate(
            """(m) => { const r = m.getBoundingClientRect();
              return {area: r.width * r.height, tiles: m.querySelectorAll('.tile').length}; }"""
        )
        assert grid["tiles"] == 2 and grid["area"] >= 0.5 * 1366 * 768, grid
        await shot(pupil, "desktop-pupil-discussion")
        assert await axe(pupil) == []

        # Chat focus: the chat opens wide beside a stage that is still at least half the window.
        await layout.select_option("chat_focus")
        await expect(pupil.locator("#stage")).to_have_attribute("data-layout", "chat_focus")
        await expect(pupil.locator("#chat-panel")).to_be_visible()
        box = await wait_stage(pupil, "screen")
        assert_large_and_in_view(box)
        await shot(pupil, "desktop-pupil-chat-focus")

        # A pupil pins the teacher's camera to their own stage; the class's rule comes back.
        await layout.select_option("lecture")
        await wait_stage(pupil, "screen")
        pin = pupil.locator('#stage-main .tile-pip[data-source="camera"] .tile-pin')
        await pin.click()
        box = await wait_stage(pupil, "camera")
        assert box["pip"] is None and box["film"] == ["screen"], box
        await pupil.locator('#tiles .tile[data-source="screen"] .tile-pin').click()
        await wait_stage(pupil, "screen")
        await pupil.locator('#stage-main .tile[data-source="screen"] .tile-pin').click()
        await wait_stage(pupil, "screen")

        # Tile marks follow the language (they stayed in English before).
        for lang in ("ru", "kk"):
            await pupil.locator("#lang").select_option(lang)
            await expect(pupil.locator(".tile-speaking-mark").first).to_have_text(
                " · " + text("media_ui.speaking", lang)
            )
            await expect(pupil.locator("#publish-mic .tool-label")).to_have_text(
                text("toolbar.mic", lang)
            )
            await shot(pupil, f"desktop-pupil-lecture-{lang}")
        await host.locator("#lang").select_option("ru")
        await shot(host, "desktop-teacher-lecture-ru")

        # A phone: the stage spans the width, stays in view and keeps playing.
        await pupil.locator("#lang").select_option("en")
        await pupil.set_viewport_size(PHONE)
        box = await wait_stage(pupil, "screen")
        await shot(pupil, "phone-pupil-screen")
        assert_full_width_in_view(box)
        await host.get_by_test_id("publish-screen").click()
        box = await wait_stage(pupil, "camera")
        await shot(pupil, "phone-pupil-camera")
        assert_full_width_in_view(box)
        # The chat is a sheet over the stage, and closes again.
        await pupil.locator("#tool-chat").click()
        await expect(pupil.locator("#chat-panel")).to_be_visible()
        await shot(pupil, "phone-pupil-chat-sheet")
        assert await axe(pupil) == []
        await pupil.keyboard.press("Escape")
        await expect(pupil.locator("#side")).to_be_hidden()
        # Entering on a phone does not scroll the stage away (focus stays at the top).
        await pupil.reload()  # a pupil of the class goes straight in
        await expect(pupil.locator("#inside")).to_be_visible()
        await expect(pupil.locator("#inside-title")).to_be_focused()
        box = await wait_stage(pupil, "camera")
        assert_full_width_in_view(box)
        await host.set_viewport_size(PHONE)
        await shot(host, "phone-teacher-camera")


@pytest.mark.timeout(300)
async def test_an_admitted_guest_sees_the_stage_on_a_desktop_and_a_phone(
    playwright: Playwright, chromium_path: Path, demo_data: Path, tmp_path: Path
) -> None:
    title = "Chemistry 9B"
    room = room_in_netns(playwright, chromium_path, demo_data, tmp_path, title)
    async with room as (host, _, ns):
        problems: list[str] = []
        browser = await launch(playwright, ns, chromium_path, tmp_path)  # a process of its own
        try:
            origin, room_id = host.url.split("/r/")
            guest = await open_page(browser, origin, b"", problems)
            await guest.set_viewport_size(DESKTOP)
            await host.set_viewport_size(DESKTOP)
            await host.get_by_test_id("publish-camera").click()
            await flows.guest_knocks(guest, flows.Room(room_id, title, host.url), GUEST, "School 5")
            await expect(host.get_by_test_id("knock-banner")).to_contain_text(GUEST)
            await host.locator("body").press("a")  # the host's Admit key
            await expect(guest.locator("#inside")).to_be_visible()
            await expect(guest.locator("#inside-title")).to_be_focused()

            # The teacher's camera on the guest's stage: large and in view, like a pupil's.
            box = await wait_stage(guest, "camera")
            assert_large_and_in_view(box)
            await expect(guest.get_by_test_id("publish-mic")).to_have_attribute(
                "aria-disabled", "true"
            )
            await shot(guest, "desktop-guest-camera")

            await host.get_by_test_id("publish-screen").click()
            for layout in ("lecture", "sharing", "discussion", "chat_focus"):
                await flows.choose_layout(host, layout)
                await expect(guest.locator("#stage")).to_have_attribute("data-layout", layout)
                for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                    await guest.set_viewport_size(viewport)
                    if layout == "discussion":
                        await guest.wait_for_function(
                            "document.getElementById('stage-main').dataset.mode === 'grid'"
                        )
                        box = await stage_box(guest)
                    else:
                        box = await wait_stage(guest, "screen")
                    if size == "desktop" and layout != "discussion":
                        assert_large_and_in_view(box)
                    elif size == "phone":
                        await close_side(guest)
                        # The grid as a whole in Discussion (two tiles side by side).
                        whole = MAIN_BOX if layout == "discussion" else STAGE_BOX
                        await guest.evaluate(NEXT_FRAMES)
                        assert_full_width_in_view(await guest.evaluate(whole))
                        if layout in ("sharing", "chat_focus"):
                            # The host's change is told in a notice (20 s): on an upright
                            # phone it sits above the shared screen, not over its top.
                            await expect(guest.locator("#stage-banner .notice-bar")).to_be_visible()
                            covered = await guest.evaluate(BANNER_OVER_CONTENT)
                            assert covered == 0, covered
                    await shot(guest, f"{size}-guest-screen-{layout}")
            await flows.choose_layout(host, "lecture")
            await shot(host, "desktop-teacher-guest-in")

            # In each language, at both sizes; the guest's toolbar fits the phone.
            for lang in ("ru", "kk", "en"):
                await guest.locator("#lang").select_option(lang)
                await expect(guest.locator("#publish-mic .tool-label")).to_have_text(
                    text("toolbar.mic", lang)
                )
                for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                    await guest.set_viewport_size(viewport)
                    box = await wait_stage(guest, "screen")
                    if size == "phone":
                        assert_full_width_in_view(box)
                        seen = await guest.evaluate(TOOLS_IN_VIEW)
                        assert all(t["inside"] for t in seen["tools"]), seen
                        assert not seen["scrolls"], seen
                    else:
                        assert_large_and_in_view(box)
                    await shot(guest, f"{size}-guest-screen-{lang}")
            assert await axe(guest) == []
        finally:
            await browser.close()
        assert problems == [], problems
