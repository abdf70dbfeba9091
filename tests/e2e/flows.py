"""What a person does in the browser, step by step (shared by the end-to-end tests)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page, expect

LOCALES = Path(__file__).resolve().parents[2] / "web" / "public" / "locales"


def strings(lang: str = "en") -> dict[str, str]:
    """The locale file's strings, so tests assert on exactly what users read."""
    data: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


EN = strings("en")


def text(key: str, lang: str = "en", **params: Any) -> str:
    value = strings(lang)[key] if lang != "en" else EN[key]
    for name, param in params.items():
        value = value.replace("{" + name + "}", str(param))
    return value


@dataclass
class Room:
    id: str
    title: str
    invite_url: str


async def sign_in_home(page: Page, base_url: str, login: str, password: str) -> None:
    """Signs in on the index page."""
    await page.goto(base_url + "/")
    await expect(page.locator("#signin")).to_be_visible()
    await page.get_by_label(EN["form.login"], exact=True).fill(login)
    await page.get_by_label(EN["form.password"], exact=True).fill(password)
    await page.locator("#signin-form").get_by_role("button", name=EN["form.signin"]).click()


async def create_room(
    page: Page, title: str, *, class_id: int | None = None, policy: str = "ask_host"
) -> Room:
    """On the teacher's dashboard: creates a room and reads its invite link."""
    await expect(page.locator("#teacher")).to_be_visible()
    await page.get_by_label(EN["home.room_title"], exact=True).fill(title)
    if class_id is not None:
        await page.get_by_label(EN["home.room_class"], exact=True).select_option(
            value=str(class_id)
        )
    await page.get_by_label(EN[f"policy.{policy}"], exact=True).check()
    await page.get_by_role("button", name=EN["home.create"]).click()
    invite = page.get_by_role("textbox", name=EN["home.invite_link"], exact=True)
    await expect(invite).to_have_value(re.compile(r"/r/\S+$"))
    url = await invite.input_value()
    room_id = url.rstrip("/").rsplit("/", 1)[-1]
    await expect(page.locator("#rooms").get_by_role("link", name=title)).to_be_visible()
    return Room(room_id, title, url)


async def teacher_hosts(
    page: Page, base_url: str, teacher: tuple[str, str], title: str, **room_args: Any
) -> Room:
    """The teacher signs in, creates a room, opens its invite link and enters as host."""
    await sign_in_home(page, base_url, *teacher)
    room = await create_room(page, title, **room_args)
    await page.goto(room.invite_url)
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    # The room's teacher goes straight in: no form, no Enter button.
    await expect(page.locator("#inside")).to_be_visible()
    await open_panel(page, "people")
    await expect(page.locator("#host-panel")).to_be_visible()
    return room


async def guest_knocks(page: Page, room: Room, name: str, institution: str) -> None:
    """A guest opens the invite link and asks to enter."""
    await page.goto(room.invite_url)
    await expect(page.get_by_role("heading", level=1)).to_have_text(room.title)
    await page.get_by_label(EN["room.full_name"], exact=True).fill(name)
    await page.get_by_label(EN["room.institution"], exact=True).fill(institution)
    await page.get_by_role("button", name=EN["room.guest_enter"], exact=True).click()


async def open_panel(page: Page, name: str) -> None:
    """Shows one of the room's side panels (chat, people, polls, attendance) as a person would:
    the toolbar button opens the column, the tab picks the panel."""
    tab = page.locator(f"#tab-{name}")
    if not await page.locator("#side").is_visible():
        await page.locator(f"#tool-{'people' if name == 'attendance' else name}").click()
    if await tab.get_attribute("aria-selected") != "true":
        await tab.click()
    panel = "#attendance-tab-panel" if name == "attendance" else f"#{name}-panel"
    await expect(page.locator(panel)).to_be_visible()


async def choose_layout(page: Page, layout: str) -> None:
    """The host picks a layout as a person would: in the toolbar, or under More on a phone
    (where the choice moves so that the toolbar fits)."""
    select = page.locator("#layout-select")
    if await page.locator("#more-layout #layout-select").count():
        await page.locator("#tool-more").click()
    await select.select_option(layout)
    if await page.locator("#more-menu:popover-open").count():
        await page.keyboard.press("Escape")


def participants(page: Page) -> Locator:
    return page.locator("#participants > li")


def participant(page: Page, name: str) -> Locator:
    """The participant-list row whose name is exactly `name`."""
    return participants(page).filter(has=page.locator(".person-name").get_by_text(name, exact=True))


def knock(page: Page, name: str) -> Locator:
    return page.locator("#knocks > li").filter(
        has=page.locator(".person-name").get_by_text(name, exact=True)
    )


def admit_button(host: Page, name: str) -> Locator:
    """The "Admit" button on the knock of the guest named `name`."""
    return knock(host, name).get_by_role("button", name=text("host.admit_label", name=name))


async def sign_in_on_room_page(page: Page, login: str, password: str, lang: str = "en") -> None:
    """On the room's entry (signed out): opens the folded sign-in under the guest form, signs
    in and enters."""
    await page.get_by_text(text("room.signin_summary", lang), exact=True).click()
    await page.get_by_label(text("form.login", lang), exact=True).fill(login)
    await page.get_by_label(text("form.password", lang), exact=True).fill(password)
    await page.get_by_role("button", name=text("room.signin_enter", lang)).click()


async def pupil_enters(page: Page, room: Room, login: str, password: str) -> str:
    """A pupil of the room's class signs in on the room page and goes straight in; their name."""
    await page.goto(room.invite_url)
    await sign_in_on_room_page(page, login, password)
    await expect(page.locator("#inside")).to_be_visible()
    return await own_name(page)


async def own_name(page: Page) -> str:
    """The name the room shows for this page's own participant ("You: …")."""
    return await page.locator("#you-name").inner_text()


async def guest_admitted(host: Page, guest: Page, room: Room, name: str, institution: str) -> None:
    """A guest knocks and the host admits them."""
    await guest_knocks(guest, room, name, institution)
    await open_panel(host, "people")
    await admit_button(host, name).click()
    await expect(guest.locator("#inside")).to_be_visible()


def chat_items(page: Page) -> Locator:
    return page.locator("#chat-log > li")


def chat_item(page: Page, message: str) -> Locator:
    """The chat message whose text is exactly `message`."""
    return chat_items(page).filter(has=page.locator(".chat-text").get_by_text(message, exact=True))


async def send_chat(page: Page, message: str, *, to: str | None = None) -> None:
    """Writes a chat message (to everyone, or privately to the participant named `to`)."""
    await open_panel(page, "chat")
    recipient = page.get_by_label(EN["chat.to"], exact=True)
    label = EN["chat.to_everyone"] if to is None else text("chat.to_person", name=to)
    await recipient.select_option(label=label)
    await page.get_by_label(EN["chat.message"], exact=True).fill(message)
    await page.locator("#chat-form").get_by_role("button", name=EN["chat.send"]).click()
    await expect(page.get_by_label(EN["chat.message"], exact=True)).to_have_value("")


def poll(page: Page, question: str) -> Locator:
    """The poll whose question is exactly `question`."""
    return page.locator("#polls > li").filter(
        has=page.locator(".poll-question").get_by_text(question, exact=True)
    )


async def create_poll(
    page: Page,
    question: str,
    *,
    kind: str = "single",
    options: list[str] | None = None,
    anonymous: bool = True,
    launch: bool = True,
) -> None:
    """A host or presenter fills in the new-poll form and launches it (or saves a draft)."""
    await open_panel(page, "polls")
    details = page.locator("#poll-create")
    if await details.get_attribute("open") is None:
        await details.locator("summary").click()
    await page.get_by_label(EN["poll.kind"], exact=True).select_option(kind)
    await page.get_by_label(EN["poll.question"], exact=True).fill(question)
    if options is not None:
        await page.get_by_label(EN["poll.options"], exact=True).fill("\n".join(options))
    box = page.get_by_label(EN["poll.anonymous_box"], exact=True)
    await box.set_checked(anonymous)
    name = EN["poll.create_launch"] if launch else EN["poll.create_draft"]
    await page.locator("#poll-form").get_by_role("button", name=name).click()
    await expect(page.get_by_label(EN["poll.question"], exact=True)).to_have_value("")
