"""In the lesson in one click (issue 12): a pupil of the class goes from the diary's "Now: … —
Join" banner straight into the room, never shown a form or an Enter button; the diary puts today
first, marked; a guest is asked a name and an institution, nothing else.

Screenshots of the diary (with the banner) and of the guest's entry in kk, ru and en at 1366x768
and 390x844 are kept in every run, in test-artifacts/entry/ (or $SABAQ_ARTIFACTS/entry/).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from server.signalling import SESSION_COOKIE
from tests.integration.peers import sign_in

from .conftest import Browsers, LiveServer, artifacts
from .flows import EN, sign_in_home, text
from .test_room_attendance import started_lesson

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": (1366, 768), "phone": (390, 844)}
LANGUAGES = ["en", "ru", "kk"]
SHOTS = artifacts("entry")

# Installed before the room page's scripts: whether the entry (forms, Enter) was ever shown.
WATCH_ENTRY = """
window.__entryShown = false;
new MutationObserver(() => {
  const entry = document.getElementById("entry");
  if (entry && !entry.hidden) window.__entryShown = true;
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"))


async def test_a_pupil_joins_from_the_diary_banner_in_one_click(
    live_server: LiveServer, browsers: Browsers
) -> None:
    token = await sign_in(live_server, *live_server.teacher)  # type: ignore[arg-type]
    _, room = await started_lesson(live_server, token)  # type: ignore[arg-type]
    pupil = await browsers.person("pupil")
    await pupil.set_viewport_size({"width": 1366, "height": 768})
    await sign_in_home(pupil, live_server.url, *live_server.pupils[0])
    await expect(pupil.locator("#pupil")).to_be_visible()
    await pupil.goto(live_server.url + "/diary")

    # Today's lessons come first, marked "Today".
    first_day = pupil.locator("#days > section.day").first
    await expect(first_day).to_have_class("card day today")
    await expect(first_day.get_by_test_id("today")).to_have_text(EN["diary.today"])
    await expect(pupil.get_by_test_id("today")).to_have_count(1)

    # The banner at the top names the lesson going on now, inside the first screen.
    banner = pupil.locator("#now")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text(text("diary.now", subject="Geometry"))
    box = await banner.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768, box
    join = banner.get_by_role("link", name=text("diary.join_label", subject="Geometry"))
    await expect(join).to_have_text(EN["diary.now_join"])
    await expect(join).to_have_attribute("href", room.invite_url)

    await pupil.add_init_script(WATCH_ENTRY)
    await join.click()
    await expect(pupil).to_have_url(room.invite_url)
    await expect(pupil.locator("#inside")).to_be_visible()
    await expect(pupil.locator("#you-role")).to_have_text(EN["role.participant"])
    # Never a form or an Enter button on the way in.
    assert await pupil.evaluate("window.__entryShown") is False
    for hidden in ("#entry", "#enter-user", "#guest-form", "#signin-form"):
        await expect(pupil.locator(hidden)).to_be_hidden()


async def test_a_guest_is_asked_only_a_name_and_an_institution(
    live_server: LiveServer, browsers: Browsers
) -> None:
    token = await sign_in(live_server, *live_server.teacher)  # type: ignore[arg-type]
    _, room = await started_lesson(live_server, token)  # type: ignore[arg-type]
    guest = await browsers.person("guest")
    await guest.goto(room.invite_url)
    entry = guest.locator("#entry")
    await expect(entry).to_be_visible()
    fields = entry.locator("input:visible, select:visible, textarea:visible")
    await expect(fields).to_have_count(2)
    await expect(entry.get_by_label(EN["room.full_name"], exact=True)).to_be_visible()
    await expect(entry.get_by_label(EN["room.institution"], exact=True)).to_be_visible()
    await expect(entry.locator("button:visible")).to_have_count(1)
    await expect(entry.get_by_role("button", name=EN["room.guest_enter"])).to_be_visible()
    await expect(guest.locator("#signin-form")).to_be_hidden()
    await expect(guest.locator("#enter-user")).to_be_hidden()

    await entry.get_by_label(EN["room.full_name"], exact=True).fill("Asel Bekova")
    await entry.get_by_label(EN["room.institution"], exact=True).fill("School 12")
    await entry.get_by_role("button", name=EN["room.guest_enter"]).click()
    await expect(guest.locator("#lobby")).to_be_visible()


async def test_screenshots_of_the_diary_and_the_guest_entry(
    live_server: LiveServer, browsers: Browsers
) -> None:
    token = await sign_in(live_server, *live_server.teacher)  # type: ignore[arg-type]
    _, room = await started_lesson(live_server, token)  # type: ignore[arg-type]
    for lang in LANGUAGES:
        locale = {"en": "en-US", "ru": "ru-RU", "kk": "kk-KZ"}[lang]
        pupil = await browsers.person(f"pupil ({lang})", locale=locale)
        guest = await browsers.person(f"guest ({lang})", locale=locale)
        cookie = await sign_in(live_server, *live_server.pupils[0])  # type: ignore[arg-type]
        await pupil.context.add_cookies(
            [{"name": SESSION_COOKIE, "value": cookie, "url": live_server.url}]
        )
        for name, (width, height) in VIEWPORTS.items():
            for page in (pupil, guest):
                await page.set_viewport_size({"width": width, "height": height})
            await pupil.goto(live_server.url + "/diary")
            await expect(pupil.locator("#now")).to_contain_text(
                text("diary.now", lang, subject="Geometry")
            )
            await shot(pupil, f"diary-{lang}-{name}")
            await guest.goto(room.invite_url)
            await expect(guest.locator("#guest-form")).to_be_visible()
            await shot(guest, f"guest-entry-{lang}-{name}")
