"""Accessibility: axe-core (from web/node_modules) finds no serious or critical violations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from .conftest import Browsers, LiveServer
from .flows import (
    EN,
    admit_button,
    chat_item,
    create_poll,
    guest_knocks,
    knock,
    open_panel,
    own_name,
    poll,
    pupil_enters,
    send_chat,
    teacher_hosts,
    text,
)

pytestmark = pytest.mark.e2e

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


async def axe_violations(page: Page, axe: Path, *, every: bool = False) -> list[str]:
    """Runs axe on the page; returns the serious and critical violations (`every`: all of
    them, whatever their impact), described."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(axe))
    result: dict[str, Any] = await page.evaluate(
        "async (options) => await window.axe.run(document, options)", AXE_OPTIONS
    )
    found = []
    for violation in result["violations"]:
        if every or violation.get("impact") in ("serious", "critical"):
            targets = [str(node.get("target")) for node in violation.get("nodes", [])][:5]
            found.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}"
            )
    return found


async def test_pages_have_no_serious_accessibility_violations(
    live_server: LiveServer, browsers: Browsers, axe_source: Path
) -> None:
    # bypass_csp only so that axe's own <script> can be injected into the page.
    host = await browsers.person("host", bypass_csp=True)
    guest = await browsers.person("guest", bypass_csp=True)
    problems: dict[str, list[str]] = {}

    await guest.goto(live_server.url + "/")
    await expect(guest.locator("#signin")).to_be_visible()
    problems["index, signed out"] = await axe_violations(guest, axe_source)

    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Accessible lesson")
    await host.goto(live_server.url + "/")
    await expect(host.locator("#rooms > li")).to_have_count(1)
    problems["teacher dashboard"] = await axe_violations(host, axe_source)

    await guest.goto(room.invite_url)
    await expect(guest.locator("#entry")).to_be_visible()
    problems["room entry"] = await axe_violations(guest, axe_source)

    await host.goto(room.invite_url)
    await expect(host.locator("#inside")).to_be_visible()
    await guest_knocks(guest, room, "Keyboard User", "School 5")
    await expect(guest.locator("#lobby")).to_be_visible()
    problems["lobby"] = await axe_violations(guest, axe_source)

    await expect(knock(host, "Keyboard User")).to_be_visible()
    problems["host view with a knock"] = await axe_violations(host, axe_source)

    await admit_button(host, "Keyboard User").click()
    await expect(guest.locator("#inside")).to_be_visible()
    await expect(host.locator("#participants > li")).to_have_count(2)
    problems["host view with a guest inside"] = await axe_violations(host, axe_source)
    problems["guest view inside"] = await axe_violations(guest, axe_source)

    browsers.watch(guest).allow_http_error("/r/no-such-room", 404)
    await guest.goto(live_server.url + "/r/no-such-room")
    problems["404"] = await axe_violations(guest, axe_source)

    assert not {k: v for k, v in problems.items() if v}, problems


async def test_classroom_has_no_serious_accessibility_violations(
    live_server: LiveServer, browsers: Browsers, axe_source: Path
) -> None:
    host = await browsers.person("host", bypass_csp=True)
    pupil = await browsers.person("pupil", bypass_csp=True)
    room = await teacher_hosts(
        host,
        live_server.url,
        live_server.teacher,
        "Accessible class",
        class_id=live_server.class_id,
    )
    name = await pupil_enters(pupil, room, *live_server.pupils[0])
    await send_chat(host, "Welcome, see https://example.org/notes")
    await send_chat(pupil, "Thank you", to=await own_name(host))
    await pupil.get_by_role("button", name=EN["hands.raise"]).click()
    await expect(host.locator("#hands > li")).to_have_count(1)
    await create_poll(host, "Open or closed?", options=["Open", "Closed"], anonymous=False)
    await create_poll(host, "Any questions?", kind="text")
    await create_poll(host, "Done?", kind="yes_no")
    await poll(pupil, "Open or closed?").get_by_label("Open", exact=True).check()
    await poll(pupil, "Open or closed?").get_by_role("button", name=EN["poll.send_answer"]).click()
    await expect(poll(host, "Open or closed?").locator("details li")).to_have_text(f"{name}: Open")
    await open_panel(host, "chat")
    await expect(chat_item(host, "Thank you")).to_be_visible()
    # Every layout, every panel, the More menu and the shortcuts dialog: no violation at all.
    problems: dict[str, list[str]] = {}
    for layout in ("lecture", "discussion", "sharing", "chat_focus"):
        await host.get_by_label(EN["layout.label"], exact=True).select_option(layout)
        await expect(pupil.locator("#stage")).to_have_attribute("data-layout", layout)
        panels = ("chat", "people", "polls") if layout in ("lecture", "chat_focus") else ("people",)
        for panel in panels:
            for who, page in (("host", host), ("pupil", pupil)):
                await open_panel(page, panel)
                problems[f"{who}, {layout}, {panel}"] = await axe_violations(
                    page, axe_source, every=True
                )
    await pupil.get_by_role("button", name=EN["toolbar.more"]).click()
    await expect(pupil.locator("#more-menu")).to_be_visible()
    problems["pupil, more menu"] = await axe_violations(pupil, axe_source, every=True)
    await pupil.get_by_role("button", name=EN["shortcuts.title"]).click()
    await expect(pupil.get_by_role("dialog", name=EN["shortcuts.title"])).to_be_visible()
    problems["pupil, shortcuts"] = await axe_violations(pupil, axe_source, every=True)
    await pupil.keyboard.press("Escape")
    await pupil.set_viewport_size({"width": 390, "height": 844})
    await pupil.locator("#tool-chat").click()
    problems["pupil, phone, chat sheet"] = await axe_violations(pupil, axe_source, every=True)
    assert not {k: v for k, v in problems.items() if v}, problems
    # Results published to the pupil are accessible too.
    live = poll(host, "Open or closed?")
    await live.get_by_role(
        "button", name=text("poll.close_label", question="Open or closed?")
    ).click()
    await live.get_by_role(
        "button", name=text("poll.publish_label", question="Open or closed?")
    ).click()
    await expect(poll(pupil, "Open or closed?").locator(".poll-results")).to_be_visible()
    assert not await axe_violations(pupil, axe_source)


async def test_keyboard_only_guest_can_knock(live_server: LiveServer, browsers: Browsers) -> None:
    host = await browsers.person("host")
    guest = await browsers.person("guest")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Keyboard lesson")
    await guest.goto(room.invite_url)
    await expect(guest.locator("#entry")).to_be_visible()
    await guest.get_by_label(EN["room.full_name"], exact=True).focus()
    await guest.keyboard.type("Tab Walker")
    await guest.keyboard.press("Tab")
    await expect(guest.get_by_label(EN["room.institution"], exact=True)).to_be_focused()
    await guest.keyboard.type("School 6")
    await guest.keyboard.press("Enter")
    await expect(guest.locator("#lobby")).to_be_visible()
    # Focus moved to the lobby heading, and the focus ring is visible on controls.
    await expect(guest.locator("#lobby-title")).to_be_focused()
    await guest.keyboard.press("Tab")
    leave = guest.get_by_role("button", name=EN["lobby.leave"])
    await expect(leave).to_be_focused()
    outline = await leave.evaluate("(el) => getComputedStyle(el).outlineStyle")
    assert outline not in ("", "none")
    await expect(knock(host, "Tab Walker")).to_be_visible()
    await guest.keyboard.press("Enter")
    await expect(guest.locator("#ended")).to_be_visible()
    await expect(knock(host, "Tab Walker")).to_have_count(0)


async def test_host_keeps_keyboard_focus_while_the_lists_change(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    first = await browsers.person("first guest")
    second = await browsers.person("second guest")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Busy lesson")
    await guest_knocks(first, room, "First Guest", "School 1")
    admit_first = admit_button(host, "First Guest")
    await admit_first.focus()
    await host.keyboard.press("Enter")
    await expect(first.locator("#inside")).to_be_visible()

    # The host tabs to the new participant's "Make presenter" button…
    make_presenter = host.get_by_role(
        "button", name=text("host.make_presenter_label", name="First Guest")
    )
    await make_presenter.focus()
    # …and keeps it while someone else knocks (the lists are re-rendered).
    await guest_knocks(second, room, "Second Guest", "School 2")
    await expect(knock(host, "Second Guest")).to_be_visible()
    await expect(make_presenter).to_be_focused()
    await host.keyboard.press("Enter")
    make_participant = host.get_by_role(
        "button", name=text("host.make_participant_label", name="First Guest")
    )
    await expect(make_participant).to_be_focused()
