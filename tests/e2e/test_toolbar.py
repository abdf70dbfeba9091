"""The room's one toolbar: states, the keyboard shortcuts and their dialog, the side panels."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from .conftest import Browsers, LiveServer
from .flows import EN, choose_layout, pupil_enters, teacher_hosts, text

pytestmark = pytest.mark.e2e


async def test_shortcuts_work_are_listed_and_keep_out_of_typing(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Physics 9A", class_id=live_server.class_id
    )
    await pupil_enters(pupil, room, *live_server.pupils[0])
    await host.set_viewport_size({"width": 1366, "height": 768})
    await pupil.set_viewport_size({"width": 1366, "height": 768})

    # Each tool names its key, for screen readers too; the letter is not part of its name.
    mic = pupil.get_by_test_id("publish-mic")
    await expect(mic).to_have_attribute("aria-keyshortcuts", "m")
    await expect(mic).to_have_accessible_name(EN["toolbar.mic"])
    await expect(mic.locator(".tool-key")).to_have_text("M")

    # P and C switch the side panel; the toolbar buttons say which is open.
    chat_tool = pupil.locator("#tool-chat")
    people_tool = pupil.locator("#tool-people")
    await expect(chat_tool).to_have_attribute("aria-pressed", "true")
    await pupil.locator("body").press("p")
    await expect(pupil.locator("#people-panel")).to_be_visible()
    await expect(people_tool).to_have_attribute("aria-pressed", "true")
    await expect(chat_tool).to_have_attribute("aria-pressed", "false")
    await pupil.locator("body").press("p")  # again: the column closes
    await expect(pupil.locator("#side")).to_be_hidden()
    await expect(people_tool).to_have_attribute("aria-pressed", "false")
    await pupil.locator("body").press("c")
    await expect(pupil.locator("#chat-panel")).to_be_visible()

    # Typing a message never triggers a key: "h" stays in the text, the hand stays down.
    message = pupil.get_by_label(EN["chat.message"], exact=True)
    await message.press_sequentially("hm")
    await expect(message).to_have_value("hm")
    hand = pupil.locator("#hand-toggle")
    await expect(hand).to_have_attribute("aria-pressed", "false")
    await expect(pupil.locator("#toolbar-hint")).to_be_hidden()

    # Off the text field, H raises the hand and M tells how to ask for the microphone.
    await chat_tool.focus()
    await pupil.keyboard.press("h")
    await expect(hand).to_have_attribute("aria-pressed", "true")
    await expect(hand.locator(".tool-label")).to_have_text(EN["hands.lower_own"])
    await expect(host.locator("#hands > li")).to_have_count(1)
    await pupil.keyboard.press("m")
    await expect(pupil.locator("#toolbar-hint")).to_have_text(EN["toolbar.hint_mic"])
    await expect(mic).to_have_attribute("aria-pressed", "false")

    # F pins the stage full screen for this pupil, and F brings it back.
    await pupil.keyboard.press("f")
    await pupil.wait_for_function("document.fullscreenElement?.id === 'stage-main'")
    await expect(pupil.get_by_test_id("stage-fullscreen")).to_have_attribute("aria-pressed", "true")
    await pupil.keyboard.press("f")
    await pupil.wait_for_function("document.fullscreenElement === null")
    await expect(pupil.get_by_test_id("stage-fullscreen")).to_have_attribute(
        "aria-pressed", "false"
    )

    # "?" lists every key on the page; Esc closes the list.
    await pupil.keyboard.press("?")
    dialog = pupil.get_by_role("dialog", name=EN["shortcuts.title"])
    await expect(dialog).to_be_visible()
    for key, action in (
        ("M", "shortcuts.mic"),
        ("H", "shortcuts.hand"),
        ("F", "shortcuts.fullscreen"),
    ):
        row = dialog.locator("tr").filter(has=pupil.locator("kbd", has_text=key))
        await expect(row).to_contain_text(EN[action])
    await pupil.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    # The same list is under More, and in the pupil's language.
    await pupil.locator("#lang").select_option("ru")
    await pupil.get_by_role("button", name=text("toolbar.more", "ru")).click()
    await pupil.get_by_role("button", name=text("shortcuts.title", "ru")).click()
    await expect(pupil.get_by_role("dialog", name=text("shortcuts.title", "ru"))).to_contain_text(
        text("shortcuts.mic", "ru")
    )
    await pupil.keyboard.press("Escape")

    # The host: L goes to the layout choice, which changes everyone's stage.
    await host.locator("body").press("l")
    layout = host.get_by_label(EN["layout.label"], exact=True)
    await expect(layout).to_be_focused()
    await layout.select_option("sharing")
    await expect(pupil.locator("#stage")).to_have_attribute("data-layout", "sharing")


async def test_no_share_button_where_the_browser_cannot_share_a_screen(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    # As on a phone's browser: no getDisplayMedia at all.
    await host.add_init_script("delete MediaDevices.prototype.getDisplayMedia")
    await teacher_hosts(host, live_server.url, live_server.teacher, "Art 5B")
    await expect(host.get_by_test_id("publish-mic")).to_be_visible()
    await expect(host.get_by_test_id("publish-screen")).to_be_hidden()


# Every shown tool's box against the window, and whether the toolbar has to scroll.
TOOLS_IN_VIEW = """() => {
  const bar = document.getElementById("toolbar");
  const out = [];
  for (const el of bar.querySelectorAll(".tool")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;  // hidden
    const inside = r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;
    out.push({id: el.id, left: r.left, right: r.right, inside});
  }
  return {tools: out, scrolls: bar.scrollWidth > bar.clientWidth, width: innerWidth};
}"""


async def test_every_tool_fits_a_phone_for_host_and_pupil(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Biology 6C", class_id=live_server.class_id
    )
    await pupil_enters(pupil, room, *live_server.pupils[0])
    for page in (host, pupil):
        await page.set_viewport_size({"width": 390, "height": 844})
    await expect(host.get_by_test_id("publish-screen")).to_be_visible()  # the host's full set
    for who, page, least in (("host", host, 8), ("pupil", pupil, 8)):
        seen = await page.evaluate(TOOLS_IN_VIEW)
        assert len(seen["tools"]) >= least, (who, seen)
        outside = [t for t in seen["tools"] if not t["inside"]]
        assert outside == [] and not seen["scrolls"], (who, seen)
        await expect(page.locator("#leave-room")).to_be_in_viewport(ratio=1)

    # The host's layout choice is under More on the phone, and still works there (L opens it).
    layout = host.get_by_label(EN["layout.label"], exact=True)
    await expect(host.locator("#more-layout")).to_contain_text(EN["layout.lecture"])
    await host.locator("body").press("l")
    await expect(layout).to_be_focused()
    await expect(layout).to_be_in_viewport(ratio=1)
    await host.keyboard.press("Escape")
    await choose_layout(host, "discussion")
    await expect(pupil.locator("#stage")).to_have_attribute("data-layout", "discussion")
    # Back on a wide screen it returns to the toolbar.
    await host.set_viewport_size({"width": 1366, "height": 768})
    await expect(host.locator("#toolbar #layout-select")).to_be_visible()
    await expect(layout).to_have_value("discussion")
