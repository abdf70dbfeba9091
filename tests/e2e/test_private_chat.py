"""The room shows who may write privately to whom, and the host changes it in the room."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from .conftest import Browsers, LiveServer
from .flows import (
    EN,
    guest_admitted,
    open_panel,
    participant,
    pupil_enters,
    teacher_hosts,
    text,
)

pytestmark = pytest.mark.e2e


async def recipients(page: Page) -> list[str]:
    options = page.get_by_label(EN["chat.to"], exact=True).locator("option")
    return [o.strip() for o in await options.all_inner_texts()]


def private_button(page: Page, name: str) -> Locator:
    return participant(page, name).get_by_role("button", name=text("chat.private_label", name=name))


async def test_recipient_choice_follows_the_rule_and_the_host_changes_it(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    first = await browsers.person("pupil 1")
    second = await browsers.person("pupil 2")
    guest = await browsers.person("guest")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Literature 5", class_id=live_server.class_id
    )
    host_name = await host.locator("#you-name").inner_text()
    one = await pupil_enters(first, room, *live_server.pupils[0])
    two = await pupil_enters(second, room, *live_server.pupils[1])
    await guest_admitted(host, guest, room, "Saule Abenova", "Parents' council")

    for page in (first, second, guest):
        await open_panel(page, "people")
    # By default a pupil may write privately to the host only (no presenter here): the choice
    # offers nobody else, the people list has no private button for them, a line says why.
    to_host = text("chat.to_person", name=host_name)
    await expect(first.get_by_test_id("chat-rule")).to_have_text(EN["chat.rule_staff"])
    await expect(first.get_by_label(EN["chat.to"], exact=True)).to_have_attribute(
        "aria-describedby", "chat-rule"
    )
    await expect(private_button(first, host_name)).to_be_visible()
    assert await recipients(first) == [EN["chat.to_everyone"], to_host]
    await expect(private_button(first, two)).to_have_count(0)
    await expect(private_button(first, "Saule Abenova")).to_have_count(0)
    assert await recipients(guest) == [EN["chat.to_everyone"], to_host]
    # The host may write to anyone.
    assert len(await recipients(host)) == 4

    # The host lets pupils write to each other: the pupils' pages follow at once; the guest
    # still reaches nobody but the host.
    await open_panel(host, "chat")
    await host.get_by_label(EN["chat.private_setting"], exact=True).select_option("classmates")
    await expect(first.get_by_test_id("chat-rule")).to_have_text(EN["chat.rule_classmates"])
    await expect(private_button(first, two)).to_be_visible()
    assert text("chat.to_person", name=two) in await recipients(first)
    await expect(private_button(second, one)).to_be_visible()
    await expect(private_button(guest, one)).to_have_count(0)
    assert await recipients(guest) == [EN["chat.to_everyone"], to_host]
    await private_button(first, two).click()
    await first.get_by_label(EN["chat.message"], exact=True).fill("page 12?")
    await first.keyboard.press("Enter")
    await expect(second.locator("#chat-log")).to_contain_text("page 12?")
    await open_panel(first, "people")

    # Narrowed again while pupil 1 still has pupil 2 chosen: the choice says it is not allowed
    # (never silently "everyone"), and the server refuses.
    await host.get_by_label(EN["chat.private_setting"], exact=True).select_option("hosts")
    await expect(first.get_by_test_id("chat-rule")).to_have_text(EN["chat.rule_hosts"])
    await expect(first.locator("#chat-to option:checked")).to_have_text(
        text("chat.to_person_not_allowed", name=two)
    )
    await open_panel(first, "chat")
    await first.get_by_label(EN["chat.message"], exact=True).fill("still there?")
    await first.keyboard.press("Enter")
    await expect(first.locator("#alert")).to_have_text(EN["error.private_not_allowed"])
    await expect(second.locator("#chat-log")).not_to_contain_text("still there?")
