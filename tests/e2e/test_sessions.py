"""A room page whose session ends elsewhere says why, in the page's language (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.conftest import LiveServer, running_server
from tests.integration.peers import sign_in
from tests.journal.helpers import admin, api

from .conftest import Browsers
from .flows import EN, sign_in_on_room_page, strings, teacher_hosts

pytestmark = pytest.mark.e2e
RU = strings("ru")


async def test_the_room_page_says_why_its_session_ended(
    live_server: LiveServer, browsers: Browsers
) -> None:
    teacher = await browsers.person("teacher")
    room = await teacher_hosts(
        teacher, live_server.url, live_server.teacher, "History 8A", class_id=live_server.class_id
    )
    # A pupil whose browser speaks Russian enters the class's room.
    pupil = await browsers.person("pupil", locale="ru-RU")
    pupil_login, pupil_password = live_server.pupils[0]
    await pupil.goto(room.invite_url)
    await sign_in_on_room_page(pupil, pupil_login, pupil_password, "ru")
    await expect(pupil.locator("#inside")).to_be_visible()

    # The teacher changes the password from another device: this window's sign-in ends.
    login, password = live_server.teacher
    elsewhere = await sign_in(live_server, login, password)
    changed = await api(
        live_server, elsewhere, "POST", "/api/password", {"current": password, "new": "x" * 12}
    )
    assert changed[0] == 204
    await expect(teacher.locator("#ended")).to_be_visible()
    await expect(teacher.locator("#ended-title")).to_have_text(EN["ended.signed_out_title"])
    await expect(teacher.locator("#ended-text")).to_have_text(EN["ended.password_changed_text"])
    await expect(teacher.locator("#ended-title")).to_be_focused()
    # The way back is signing in again: the page no longer offers to enter as the teacher.
    await teacher.get_by_role("button", name=EN["ended.sign_in_again"], exact=True).click()
    await expect(teacher.locator("#entry-user")).to_be_hidden()
    await expect(teacher.get_by_label(EN["form.login"], exact=True)).to_be_focused()

    # An administrator ends the pupil's sessions: the pupil reads why, in Russian.
    pupil_id = (
        await api(live_server, await sign_in(live_server, *live_server.pupils[0]), "GET", "/api/me")
    )[1]["user"]["id"]
    ended = await api(
        live_server, await admin(live_server), "DELETE", f"/api/admin/users/{pupil_id}/sessions"
    )
    assert ended[0] == 200
    await expect(pupil.locator("#ended-title")).to_have_text(RU["ended.signed_out_title"])
    await expect(pupil.locator("#ended-text")).to_have_text(RU["ended.ended_by_admin_text"])


async def test_a_one_time_sign_in_on_a_room_page_chooses_a_password_then_comes_back(
    tmp_path: Path, browsers: Browsers
) -> None:
    async with running_server(tmp_path / "data", keep_one_time=True) as server:
        teacher_login, teacher_once = server.teacher
        first = await sign_in(server, teacher_login, teacher_once)
        changed = await api(
            server, first, "POST", "/api/password", {"current": teacher_once, "new": "t" * 12}
        )
        assert changed[0] == 204
        teacher = await sign_in(server, teacher_login, "t" * 12)
        status, made = await api(
            server,
            teacher,
            "POST",
            "/api/rooms",
            {"title": "Biology 7A", "class_id": server.class_id, "guest_policy": "ask_host"},
        )
        assert status == 201
        room_path = f"/r/{made['room']['id']}"

        page = await browsers.person("pupil")
        login, one_time = server.pupils[0]
        await page.goto(server.url + room_path)
        await sign_in_on_room_page(page, login, one_time)
        # The sign-in can only choose a password: the index page asks for it...
        await expect(page.get_by_role("heading", level=1)).to_have_text(EN["home.password_title"])
        await page.get_by_label(EN["form.current_password"], exact=True).fill(one_time)
        await page.get_by_label(EN["form.new_password"], exact=True).fill("pupil-own-secret")
        await page.get_by_label(EN["form.repeat_password"], exact=True).fill("pupil-own-secret")
        await (
            page.locator("#password-form")
            .get_by_role("button", name=EN["form.change_password"])
            .click()
        )
        # ...and then brings the pupil back to the room, signed in: straight in (of the class).
        await page.wait_for_url(server.url + room_path)
        await expect(page.locator("#inside")).to_be_visible()
