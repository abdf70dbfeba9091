"""The classroom end to end: raise hand → mic granted, polls, chat, layouts, resume after a blip."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from .conftest import Browsers, LiveServer
from .flows import (
    EN,
    chat_item,
    chat_items,
    create_poll,
    guest_admitted,
    open_panel,
    own_name,
    participant,
    poll,
    pupil_enters,
    send_chat,
    teacher_hosts,
    text,
)

pytestmark = pytest.mark.e2e

XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(2)</script>"
XSS_JS_LINK = "javascript:alert(1)"
XSS_SVG = '"><svg onload=alert(1)>'
INERT = "main img, main script, main svg:not(.icon), main iframe"


async def test_pupil_raises_hand_gets_the_mic_and_answers_a_published_poll(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Physics 8B", class_id=live_server.class_id
    )
    name = await pupil_enters(pupil, room, *live_server.pupils[0])

    # No rights yet: mic and camera are off until granted (shown, not usable); no sharing; the
    # hand is down.
    mic = pupil.get_by_test_id("publish-mic")
    await expect(mic).to_have_attribute("aria-disabled", "true")
    await expect(pupil.get_by_test_id("publish-camera")).to_have_attribute("aria-disabled", "true")
    await expect(pupil.get_by_test_id("publish-screen")).to_be_hidden()
    await expect(host.get_by_test_id("publish-mic")).to_be_visible()
    hand = pupil.get_by_role("button", name=EN["hands.raise"])
    await expect(hand).to_have_attribute("aria-pressed", "false")

    # The pupil raises a hand asking to speak; the host sees the queue and the list mark.
    await hand.click()
    await expect(pupil.locator("#hand-position")).to_have_text(
        text("hands.your_position", position=1)
    )
    lower_own = pupil.get_by_role("button", name=EN["hands.lower_own"])
    await expect(lower_own).to_have_attribute("aria-pressed", "true")
    queue = host.locator("#hands > li")
    await expect(queue).to_have_count(1)
    await expect(queue).to_contain_text(name)
    await expect(participant(host, name).locator(".flag-hand")).to_have_text(
        text("people.hand", position=1)
    )

    # The host grants what was asked (the microphone) for 2 minutes: the mic button is usable.
    await host.get_by_label(EN["rights.duration"], exact=True).select_option("120")
    await queue.get_by_role("button", name=text("hands.grant_label", name=name)).click()
    await expect(mic).not_to_have_attribute("aria-disabled", "true")
    await expect(mic).to_have_attribute("title", EN["media_ui.mic_off"] + " (M)")
    await expect(mic).to_have_attribute("aria-pressed", "false")
    await expect(pupil.get_by_test_id("publish-camera")).to_have_attribute("aria-disabled", "true")
    await expect(pupil.locator("#hand-position")).to_have_text("")
    await expect(queue).to_have_count(0)
    row = participant(host, name)
    await expect(row.locator(".flag-mic")).to_have_text(EN["people.mic"])
    await expect(row.locator(".flag-until")).to_have_text(re.compile(r"\d"))

    # Revoking makes the button off-until-granted again.
    await row.get_by_role("button", name=text("rights.revoke_label", name=name)).click()
    await expect(mic).to_have_attribute("aria-disabled", "true")
    await expect(row.locator(".flag-mic")).to_have_count(0)

    # A draft poll stays invisible to pupils until launched with one click.
    await create_poll(host, "Ready for the test?", kind="yes_no", launch=False)
    draft = poll(host, "Ready for the test?")
    await expect(draft).to_have_attribute("data-state", "draft")
    question = "Which colour has the highest frequency?"
    await create_poll(host, question, options=["Red", "Violet"], anonymous=False)
    await expect(poll(pupil, question)).to_be_visible()
    await expect(poll(pupil, "Ready for the test?")).to_have_count(0)
    await draft.get_by_role(
        "button", name=text("poll.launch_label", question="Ready for the test?")
    ).click()
    await expect(poll(pupil, "Ready for the test?")).to_be_visible()

    # The pupil answers, then changes the answer while the poll is open.
    mine = poll(pupil, question)
    await mine.get_by_label("Red", exact=True).check()
    await mine.get_by_role("button", name=EN["poll.send_answer"]).click()
    await expect(mine.locator(".poll-sent")).to_have_text(EN["poll.sent"])
    live = poll(host, question)
    await expect(live.locator(".bar-value").first).to_have_text(
        text("poll.count", count=1, pct=100)
    )
    await mine.get_by_label("Violet", exact=True).check()
    await mine.get_by_role("button", name=EN["poll.change_answer"]).click()
    await expect(live.locator(".bar-value").nth(1)).to_have_text(
        text("poll.count", count=1, pct=100)
    )
    await expect(live.locator(".bar-value").first).to_have_text(text("poll.count", count=0, pct=0))
    await expect(live.locator("details li")).to_have_text(f"{name}: Violet")
    await expect(mine.locator(".poll-results")).to_have_count(0)

    # Closed, then published: the results reach the pupil (never the names).
    await live.get_by_role("button", name=text("poll.close_label", question=question)).click()
    await expect(mine.locator(".poll-answer")).to_have_count(0)
    await expect(mine).to_contain_text(EN["poll.closed_wait"])
    await live.get_by_role("button", name=text("poll.publish_label", question=question)).click()
    results = mine.locator(".poll-results")
    await expect(results).to_be_visible()
    await expect(results.locator(".bar-row")).to_have_count(2)
    await expect(results.locator(".bar-row").nth(1)).to_contain_text("Violet")
    await expect(results.locator(".bar-value").nth(1)).to_have_text(
        text("poll.count", count=1, pct=100)
    )
    await expect(results.get_by_role("progressbar", name="Violet")).to_have_attribute("value", "1")
    await expect(results).not_to_contain_text(name)


async def test_chat_public_private_moderation_and_hostile_text(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    guest = await browsers.person("guest")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "History 9", class_id=live_server.class_id
    )
    host_name = await own_name(host)
    pupil_name = await pupil_enters(pupil, room, *live_server.pupils[0])
    await guest_admitted(host, guest, room, XSS_SVG, XSS_IMG)

    # A public message reaches everyone.
    await send_chat(pupil, "Good morning!")
    for page in (host, pupil, guest):
        await expect(chat_item(page, "Good morning!")).to_contain_text(pupil_name)

    # A private message (started from the host's row) reaches only the two of them.
    await open_panel(guest, "people")
    await (
        participant(guest, host_name)
        .get_by_role("button", name=text("chat.private_label", name=host_name))
        .click()
    )
    await expect(guest.get_by_label(EN["chat.message"], exact=True)).to_be_focused()
    await guest.get_by_label(EN["chat.message"], exact=True).fill("I cannot hear you")
    await guest.keyboard.press("Enter")
    await expect(chat_item(host, "I cannot hear you")).to_contain_text(EN["chat.private_to_you"])
    await expect(chat_item(guest, "I cannot hear you")).to_contain_text(
        text("chat.private_to", name=host_name)
    )
    await send_chat(host, "marker after the private message")
    await expect(chat_item(pupil, "marker after the private message")).to_be_visible()
    await expect(chat_item(pupil, "I cannot hear you")).to_have_count(0)

    # Hostile text stays text; only the https URL becomes a link, opened safely.
    for message in (XSS_IMG, XSS_SCRIPT, XSS_JS_LINK, XSS_SVG):
        await send_chat(guest, message)
    url = "https://example.org/lesson?page=2"
    await send_chat(guest, f"Read {url}.")
    for page in (host, pupil):
        for message in (XSS_IMG, XSS_SCRIPT, XSS_JS_LINK, XSS_SVG):
            await expect(chat_item(page, message)).to_contain_text(XSS_SVG)
        links = page.locator("#chat-log a")
        await expect(links).to_have_count(1)
        await expect(links).to_have_attribute("href", url)
        await expect(links).to_have_attribute("rel", "noopener noreferrer")
        await expect(links).to_have_attribute("target", "_blank")
        await expect(page.locator(INERT)).to_have_count(0)

    # Hostile poll text is inert too.
    await create_poll(host, XSS_IMG, kind="multiple", options=[XSS_SCRIPT, XSS_SVG])
    theirs = poll(pupil, XSS_IMG)
    await expect(theirs.get_by_label(XSS_SCRIPT, exact=True)).to_be_visible()
    await expect(theirs.get_by_label(XSS_SVG, exact=True)).to_be_visible()
    await expect(pupil.locator(INERT)).to_have_count(0)

    # Moderation: delete a message, mute the pupil, lock the public chat.
    await open_panel(host, "chat")
    await chat_item(host, XSS_SCRIPT).get_by_role("button", name=EN["chat.delete"]).click()
    await expect(chat_item(pupil, XSS_SCRIPT)).to_have_count(0)
    await expect(chat_items(pupil).filter(has_text=EN["chat.deleted"])).to_have_count(1)
    await open_panel(host, "people")
    await (
        participant(host, pupil_name)
        .get_by_role("button", name=text("chat.mute_label", name=pupil_name))
        .click()
    )
    await expect(pupil.locator("#chat-state")).to_have_text(EN["chat.you_are_muted"])
    await expect(participant(host, pupil_name).locator(".flag-muted")).to_be_visible()
    await open_panel(pupil, "chat")
    await pupil.get_by_label(EN["chat.message"], exact=True).fill("still here?")
    await pupil.keyboard.press("Enter")
    await expect(pupil.locator("#alert")).to_have_text(EN["error.chat_muted"])
    await open_panel(host, "chat")
    await host.get_by_label(EN["chat.lock_public"], exact=True).check()
    await expect(guest.locator("#chat-state")).to_have_text(EN["chat.public_locked"])
    await open_panel(guest, "chat")
    await guest.get_by_label(EN["chat.message"], exact=True).fill("hello?")
    await guest.keyboard.press("Enter")
    await expect(guest.locator("#alert")).to_have_text(EN["error.chat_locked"])

    # The host's export links point at the room's exports.
    rid = room.id
    exports = host.locator("#chat-host")
    await expect(exports.get_by_role("link", name=EN["export.chat_csv"])).to_have_attribute(
        "href", f"/api/rooms/{rid}/chat.csv"
    )
    await expect(exports.get_by_role("link", name=EN["export.chat_txt"])).to_have_attribute(
        "href", f"/api/rooms/{rid}/chat.txt"
    )
    await expect(exports.get_by_role("link", name=EN["export.polls_csv"])).to_have_attribute(
        "href", f"/api/rooms/{rid}/polls.csv"
    )
    await expect(pupil.locator("#chat-host")).to_be_hidden()

    # The chat's text size is a remembered setting.
    await pupil.get_by_label(EN["chat.size"], exact=True).select_option("large")
    await expect(pupil.locator("#chat-log")).to_have_class(re.compile(r"chat-size-large"))
    for page in (host, pupil, guest):
        assert not browsers.watch(page).dialogs


async def test_layout_reaches_everyone_and_a_guest_resumes_after_a_blip(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    guest = await browsers.person("guest")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Geography")
    await guest_admitted(host, guest, room, "Dana Omarova", "School 12")
    await expect(guest.locator("#stage")).to_have_attribute("data-layout", "lecture")
    await expect(guest.locator("#layout-control")).to_be_hidden()
    mute = guest.get_by_test_id("mute-incoming")
    await guest.get_by_role("button", name=EN["toolbar.more"]).click()
    await expect(mute).to_have_text(EN["media_ui.mute_incoming"])
    await mute.click()
    await expect(mute).to_have_attribute("aria-pressed", "true")
    await expect(mute).to_have_text(EN["media_ui.incoming_muted"])

    # The host switches the layout; the guest's page follows live.
    layout = host.get_by_label(EN["layout.label"], exact=True)
    await layout.select_option("discussion")
    await expect(guest.locator("#stage")).to_have_attribute("data-layout", "discussion")
    await expect(guest.locator("#stage")).to_have_class(re.compile(r"\blayout-discussion\b"))
    await layout.select_option("chat_focus")
    await expect(guest.locator("#stage")).to_have_class(re.compile(r"\blayout-chat_focus\b"))
    await send_chat(host, "before the blip")

    # The guest's network drops; when it comes back the guest is inside without knocking.
    await guest.context.set_offline(True)
    await expect(guest.locator("#connection")).to_have_text(EN["room.reconnecting"])
    await expect(participant(host, "Dana Omarova")).to_have_count(0)
    await open_panel(host, "people")
    await guest.context.set_offline(False)
    await expect(guest.locator("#connection")).to_be_hidden(timeout=20_000)
    await expect(participant(host, "Dana Omarova")).to_be_visible()
    await expect(guest.locator("#inside")).to_be_visible()
    await expect(guest.locator("#you-role")).to_have_text(EN["role.guest"])
    await expect(host.locator("#knocks > li")).to_have_count(0)

    # A reload comes back the same way, with the current layout and the chat history.
    await guest.get_by_label(EN["chat.size"], exact=True).select_option("small")
    await guest.reload()
    await expect(guest.locator("#inside")).to_be_visible()
    await expect(guest.locator("#you-name")).to_have_text("Dana Omarova")
    await expect(guest.locator("#stage")).to_have_attribute("data-layout", "chat_focus")
    await expect(chat_item(guest, "before the blip")).to_be_visible()
    await expect(guest.locator("#chat-log")).to_have_class(re.compile(r"chat-size-small"))
    await expect(participant(host, "Dana Omarova")).to_be_visible()
    await expect(host.locator("#knocks > li")).to_have_count(0)
    await expect(guest.locator("#lobby")).to_be_hidden()

    # The host starts a private message to the guest, who then leaves: the message can no
    # longer go anywhere, and certainly not to everyone.
    await (
        participant(host, "Dana Omarova")
        .get_by_role("button", name=text("chat.private_label", name="Dana Omarova"))
        .click()
    )
    # Leaving forgets the token: a reload shows the entry form again.
    await guest.get_by_role("button", name=EN["room.leave"]).click()
    await expect(guest.locator("#ended")).to_be_visible()
    await expect(host.locator("#chat-to option:checked")).to_have_text(
        text("chat.to_person_left", name="Dana Omarova")
    )
    await host.get_by_label(EN["chat.message"], exact=True).fill("are you there?")
    await host.keyboard.press("Enter")
    await expect(host.locator("#alert")).to_have_text(EN["error.unknown_participant"])
    await expect(chat_item(host, "are you there?")).to_have_count(0)
    await guest.reload()
    await expect(guest.locator("#entry")).to_be_visible()


async def test_a_granted_mic_is_published_and_heard_as_a_tile(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Music 5A", class_id=live_server.class_id
    )
    name = await pupil_enters(pupil, room, *live_server.pupils[0])
    row = participant(host, name)
    pupil_id = await row.get_attribute("data-participant")
    await row.get_by_role("button", name=text("rights.grant_mic_label", name=name)).click()

    # The mic button starts off; switched on, the host gets the pupil's sound as a tile.
    mic = pupil.get_by_test_id("publish-mic")
    await expect(mic).to_have_attribute("aria-pressed", "false")
    await mic.click()
    await expect(mic).to_have_attribute("aria-pressed", "true")
    await expect(mic).to_have_attribute("title", EN["media_ui.mic_on"] + " (M)")
    tile = host.locator(f'[data-testid="tile"][data-participant="{pupil_id}"][data-source="mic"]')
    await expect(tile).to_have_count(1, timeout=20_000)
    await expect(tile).to_have_attribute("aria-label", text("media_ui.tile_mic", name=name))

    # Revoked: the button is off until granted again, and the tile goes.
    await row.get_by_role("button", name=text("rights.revoke_label", name=name)).click()
    await expect(mic).to_have_attribute("aria-disabled", "true")
    await expect(mic).to_have_attribute("aria-pressed", "false")
    await expect(tile).to_have_count(0, timeout=20_000)
