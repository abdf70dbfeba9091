"""When the lesson ends, everyone in its room sees so, in their language, with a way back."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.conftest import LiveServer
from tests.integration.peers import sign_in
from tests.journal.test_bridge import api

from .conftest import Browsers
from .flows import Room, guest_admitted, sign_in_on_room_page, text
from .test_room_attendance import started_lesson, teacher_enters

pytestmark = pytest.mark.e2e


async def pupil_enters(page: Page, room: Room, login: str, password: str, lang: str) -> None:
    """A pupil signs in on the room page, which speaks their browser's language, and goes in."""
    await page.goto(room.invite_url)
    await sign_in_on_room_page(page, login, password, lang)
    await expect(page.locator("#inside")).to_be_visible()


async def test_pupils_and_guests_see_the_lesson_has_ended_in_their_language(
    live_server: LiveServer, browsers: Browsers
) -> None:
    token = await sign_in(live_server, *live_server.teacher)
    lesson, room = await started_lesson(live_server, token)
    teacher = await browsers.person("teacher")
    await teacher_enters(teacher, live_server, room)
    kazakh = await browsers.person("pupil (kk)", locale="kk-KZ")
    russian = await browsers.person("pupil (ru)", locale="ru-RU")
    guest = await browsers.person("guest (en)")
    await pupil_enters(kazakh, room, *live_server.pupils[0], "kk")
    await pupil_enters(russian, room, *live_server.pupils[1], "ru")
    titled = Room(room.id, f"{room.title} — 7A", room.invite_url)  # the title names the class
    await guest_admitted(teacher, guest, titled, "Asel Bekova", "School 12")

    status, answer = await api(live_server, token, "POST", f"/api/lessons/{lesson}/end", {})
    assert status == 200, answer

    for page, lang, back, href in (
        (kazakh, "kk", "ended.to_diary", "/diary"),
        (russian, "ru", "ended.to_diary", "/diary"),
        (guest, "en", "notfound.home", "/"),
        (teacher, "en", "ended.to_journal", f"/journal/lessons/{lesson}"),
    ):
        ended = page.locator("#ended")
        await expect(ended).to_be_visible()
        await expect(page.locator("#inside")).to_be_hidden()
        heading = ended.get_by_role("heading", name=text("ended.lesson_title", lang))
        await expect(heading).to_be_focused()
        await expect(ended.locator("#ended-text")).to_have_text(text("ended.lesson_text", lang))
        link = ended.get_by_role("link", name=text(back, lang), exact=True)
        await expect(link).to_have_attribute("href", href)
        # Nothing to enter again: the room is closed.
        await expect(ended.get_by_role("button")).to_have_count(0)

    # The way back works, and a reload of the room says the same instead of offering a way in.
    await russian.get_by_role("link", name=text("ended.to_diary", "ru")).click()
    await expect(russian).to_have_url(f"{live_server.url}/diary")
    await kazakh.reload()  # a pupil of the class tries to go straight in again
    await expect(
        kazakh.get_by_role("heading", name=text("ended.lesson_title", "kk"))
    ).to_be_visible()


async def test_a_room_kept_open_says_until_when(
    live_server: LiveServer, browsers: Browsers
) -> None:
    token = await sign_in(live_server, *live_server.teacher)
    lesson, room = await started_lesson(live_server, token)
    pupil = await browsers.person("pupil (ru)", locale="ru-RU")
    await pupil_enters(pupil, room, *live_server.pupils[0], "ru")
    status, answer = await api(
        live_server, token, "POST", f"/api/lessons/{lesson}/end", {"keep_open_s": 600}
    )
    assert status == 200, answer
    notice = pupil.locator("#closing-notice")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text(text("room.closing", "ru").split("{time}")[0])
    await expect(pupil.locator("#inside")).to_be_visible()
