"""Pages end to end: languages, the 404 page, sign-in errors, hostile names, security headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from .conftest import Browsers, LiveServer
from .flows import (
    EN,
    admit_button,
    guest_knocks,
    knock,
    open_panel,
    participant,
    sign_in_home,
    strings,
    teacher_hosts,
)

pytestmark = pytest.mark.e2e

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_INSTITUTION = '"><script>alert(2)</script>'


async def test_language_follows_the_browser_and_the_switch(
    live_server: LiveServer, browsers: Browsers
) -> None:
    page = await browsers.person("visitor", locale="kk-KZ")
    kk, ru = strings("kk"), strings("ru")
    await page.goto(live_server.url + "/")
    # navigator.languages says Kazakh: the page starts in Kazakh.
    await expect(page.locator("html")).to_have_attribute("lang", "kk")
    await expect(page.get_by_role("heading", level=1)).to_have_text(kk["home.signin_title"])
    await expect(page.get_by_label(kk["form.password"], exact=True)).to_be_visible()

    # The visible switch changes every string, <html lang> and the title.
    await page.get_by_label(kk["lang.label"], exact=True).select_option("ru")
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await expect(page.get_by_role("heading", level=1)).to_have_text(ru["home.signin_title"])
    await expect(page.get_by_role("button", name=ru["form.signin"])).to_be_visible()
    await expect(page).to_have_title(f"{ru['title.home']} · Sabaq")

    # The choice is remembered.
    await page.reload()
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await expect(page.get_by_role("heading", level=1)).to_have_text(ru["home.signin_title"])

    # Back to English.
    await page.get_by_label(ru["lang.label"], exact=True).select_option("en")
    await expect(page.get_by_role("heading", level=1)).to_have_text(EN["home.signin_title"])


def protocol_error_codes() -> set[str]:
    """The error codes listed in docs/protocol.md's "Error codes" table."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text("utf-8")
    table = doc.split("### Error codes", 1)[1].split("\n#", 1)[0]
    return {
        code
        for row in table.splitlines()
        for code in re.findall(r"`([a-z_]+)`", row.split("|")[1] if row.startswith("|") else "")
    }


def test_locale_files_have_the_same_keys_and_every_error_code() -> None:
    en, ru, kk = strings("en"), strings("ru"), strings("kk")
    assert set(en) == set(ru) == set(kk)
    codes = protocol_error_codes() | {"invalid_credentials"}
    assert {"invalid_payload", "denied", "rate_limited"} <= codes
    for code in codes:
        for lang in (en, ru, kk):
            assert lang.get(f"error.{code}"), code
    # Real translations, not copies of the English text — except a login's name and the
    # host's view's layer templates, which are placeholders and punctuation (240p reads so in
    # every language).
    same = [k for k in en if en[k] == ru[k] or en[k] == kk[k]]
    templates = {
        "connections.layer_entry",
        "connections.layer_entry_paused",
        "connections.layer_size",
    }
    assert set(same) <= {"form.login"} | templates, same
    assert all(not re.sub(r"\{\w+\}", "", en[k]).strip(" :—()p") for k in templates)


async def test_lobby_sentence_in_russian_and_kazakh(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Биология")
    for lang, locale in (("ru", "ru-RU"), ("kk", "kk-KZ")):
        guest = await browsers.person(f"guest {lang}", locale=locale)
        words = strings(lang)
        await guest.goto(room.invite_url)
        await guest.get_by_label(words["room.full_name"], exact=True).fill(f"Гость {lang}")
        await guest.get_by_label(words["room.institution"], exact=True).fill("Мектеп")
        await guest.get_by_role("button", name=words["room.guest_enter"], exact=True).click()
        await expect(guest.locator("#lobby-message")).to_have_text(words["lobby.message"])
        await expect(guest.locator("#lobby-position")).to_contain_text(
            words["lobby.position"].split("{")[0].strip()
        )
        await expect(knock(host, f"Гость {lang}")).to_be_visible()


async def test_unknown_room_is_a_404_page(live_server: LiveServer, browsers: Browsers) -> None:
    page = await browsers.person("visitor")
    browsers.watch(page).allow_http_error("/r/no-such-room", 404)
    response = await page.goto(live_server.url + "/r/no-such-room")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text(EN["notfound.title"])
    await expect(page.get_by_role("link", name=EN["notfound.home"])).to_have_attribute("href", "/")


async def test_wrong_password_is_a_translated_alert(
    live_server: LiveServer, browsers: Browsers
) -> None:
    page = await browsers.person("visitor", locale="ru-RU")
    browsers.watch(page).allow_http_error("/api/session", 401)
    await page.goto(live_server.url + "/")
    ru = strings("ru")
    await page.get_by_label(ru["form.login"], exact=True).fill(live_server.teacher[0])
    await page.get_by_label(ru["form.password"], exact=True).fill("not-the-password")
    await page.get_by_role("button", name=ru["form.signin"]).click()
    await expect(page.get_by_role("alert")).to_have_text(ru["error.invalid_credentials"])
    # Empty fields never reach the server.
    await page.get_by_label(ru["form.password"], exact=True).fill("")
    await page.get_by_role("button", name=ru["form.signin"]).click()
    await expect(page.get_by_role("alert")).to_have_text(ru["error.credentials_required"])


async def test_signed_in_pupil_sees_a_note_and_can_sign_out(
    live_server: LiveServer, browsers: Browsers
) -> None:
    page = await browsers.person("pupil")
    await sign_in_home(page, live_server.url, *live_server.pupils[0])
    await expect(page.locator("#pupil")).to_be_visible()
    await expect(page.get_by_text(EN["home.pupil_text"])).to_be_visible()
    await expect(page.locator("#teacher")).to_be_hidden()
    await page.locator("#pupil").get_by_role("button", name=EN["form.signout"]).click()
    await expect(page.locator("#signin")).to_be_visible()
    await page.reload()
    await expect(page.locator("#signin")).to_be_visible()


async def test_hostile_names_render_as_inert_text(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    guest = await browsers.person("guest")
    title = "<b>Chemistry</b> <img src=x onerror=alert(3)>"
    room = await teacher_hosts(host, live_server.url, live_server.teacher, title)
    await expect(host.get_by_role("heading", level=1)).to_have_text(title)

    await guest_knocks(guest, room, HOSTILE, HOSTILE_INSTITUTION)
    row = knock(host, HOSTILE)
    await expect(row).to_contain_text(HOSTILE_INSTITUTION)
    await admit_button(host, HOSTILE).click()

    await open_panel(guest, "people")
    await expect(participant(guest, HOSTILE)).to_be_visible()
    await expect(participant(host, HOSTILE)).to_contain_text(HOSTILE_INSTITUTION)
    for page in (host, guest):
        # No element was made from the text: no <img>, <script> or <b> anywhere in main.
        await expect(page.locator("main img, main script, main b")).to_have_count(0)
    # The teacher's dashboard lists the title as text too.
    await host.goto(live_server.url + "/")
    await expect(host.locator("#rooms").get_by_role("link", name=title)).to_be_visible()
    await expect(host.locator("main img, main b")).to_have_count(0)
    # The browsers fixture fails the test if any alert() dialog opened.
    assert not browsers.watch(host).dialogs and not browsers.watch(guest).dialogs


async def test_pages_carry_a_strict_content_security_policy(
    live_server: LiveServer, browsers: Browsers
) -> None:
    page = await browsers.person("visitor")
    for path in ("/", "/r/no-such-room"):
        browsers.watch(page).allow_http_error(path, 404)
        response = await page.goto(live_server.url + path)
        assert response is not None
        csp = (await response.all_headers()).get("content-security-policy", "")
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
