"""The lobby end to end: knock, admit, deny, leave the queue; pupils of the class go straight in."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from .conftest import Browsers, LiveServer
from .flows import (
    EN,
    admit_button,
    guest_knocks,
    knock,
    open_panel,
    own_name,
    participant,
    participants,
    pupil_enters,
    sign_in_on_room_page,
    teacher_hosts,
    text,
)

pytestmark = pytest.mark.e2e


async def test_guest_knocks_host_admits_both_see_each_other(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    guest = await browsers.person("guest")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Physics 9B")
    host_name = await own_name(host)

    await guest_knocks(guest, room, "Aliya Serikova", "School No. 12")

    # The guest waits with the exact sentence and a queue position.
    await expect(guest.locator("#lobby")).to_be_visible()
    await expect(guest.locator("#lobby-message")).to_have_text(EN["lobby.message"])
    await expect(guest.locator("#lobby-position")).to_have_text(text("lobby.position", position=1))
    await expect(guest.locator("#lobby-position")).to_have_attribute("aria-live", "polite")

    # The host sees the knock (announced politely to screen readers) and admits.
    row = knock(host, "Aliya Serikova")
    await expect(row).to_contain_text("School No. 12")
    await expect(host.locator("#knock-news")).to_have_text(
        text("host.knock_one", name="Aliya Serikova")
    )
    await admit_button(host, "Aliya Serikova").click()
    await expect(host.locator("#knocks > li")).to_have_count(0)

    # Both are inside and see each other, with role badges.
    await expect(guest.locator("#inside")).to_be_visible()
    await open_panel(guest, "people")
    await expect(participant(guest, host_name).locator(".badge")).to_have_text(EN["role.host"])
    await expect(participant(guest, "Aliya Serikova").locator(".badge")).to_have_text(
        EN["role.guest"]
    )
    await expect(participant(host, "Aliya Serikova").locator(".badge")).to_have_text(
        EN["role.guest"]
    )
    await expect(participant(host, host_name)).to_be_visible()
    await expect(participants(host)).to_have_count(2)
    await expect(participants(guest)).to_have_count(2)
    # Only the host gets moderation controls; everyone may message someone privately.
    await expect(guest.locator("#host-panel")).to_be_hidden()
    await expect(guest.locator("#participants button")).to_have_count(1)
    await expect(
        participant(guest, host_name).get_by_role(
            "button", name=text("chat.private_label", name=host_name)
        )
    ).to_be_visible()

    # The host makes the guest a presenter; both lists follow.
    await (
        participant(host, "Aliya Serikova")
        .get_by_role("button", name=text("host.make_presenter_label", name="Aliya Serikova"))
        .click()
    )
    await expect(participant(guest, "Aliya Serikova").locator(".badge")).to_have_text(
        EN["role.presenter"]
    )
    await expect(participant(host, "Aliya Serikova").locator(".badge")).to_have_text(
        EN["role.presenter"]
    )

    # The host removes the guest, who is told so; the host's list shrinks.
    await (
        participant(host, "Aliya Serikova")
        .get_by_role("button", name=text("host.remove_label", name="Aliya Serikova"))
        .click()
    )
    await expect(guest.locator("#ended-title")).to_have_text(EN["ended.removed_title"])
    await expect(guest.locator("#ended-text")).to_have_text(EN["ended.removed_text"])
    await expect(participants(host)).to_have_count(1)


async def test_signed_in_pupil_of_the_class_goes_straight_in(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Algebra 7A", class_id=live_server.class_id
    )
    login, password = live_server.pupils[0]

    await pupil.goto(room.invite_url)
    await expect(pupil.get_by_role("heading", level=1)).to_have_text(room.title)
    await sign_in_on_room_page(pupil, login, password)

    # No lobby: straight into the room as a participant.
    await expect(pupil.locator("#inside")).to_be_visible()
    await expect(pupil.locator("#lobby")).to_be_hidden()
    await expect(pupil.locator("#you-role")).to_have_text(EN["role.participant"])
    pupil_name = await own_name(pupil)
    await expect(participant(host, pupil_name).locator(".badge")).to_have_text(
        EN["role.participant"]
    )
    await expect(host.locator("#knocks > li")).to_have_count(0)

    # Leaving takes the pupil off the host's list.
    await pupil.get_by_role("button", name=EN["room.leave"]).click()
    await expect(pupil.locator("#ended-title")).to_have_text(EN["ended.left_title"])
    await expect(participant(host, pupil_name)).to_have_count(0)

    # Signed in now, the pupil comes back with one click on "Enter again".
    await pupil.get_by_role("button", name=EN["ended.enter_again"]).click()
    await expect(pupil.locator("#inside")).to_be_visible()
    await expect(participant(host, pupil_name)).to_be_visible()


async def test_denied_guest_sees_the_denied_message(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    guest = await browsers.person("guest")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "History")

    await guest_knocks(guest, room, "Unknown Visitor", "Nowhere")
    await expect(guest.locator("#lobby-message")).to_have_text(EN["lobby.message"])
    row = knock(host, "Unknown Visitor")
    await row.get_by_role("button", name=text("host.deny_label", name="Unknown Visitor")).click()

    await expect(guest.locator("#ended")).to_be_visible()
    await expect(guest.locator("#ended-title")).to_have_text(EN["ended.denied_title"])
    await expect(guest.locator("#ended-text")).to_have_text(EN["ended.denied_text"])
    await expect(host.locator("#knocks > li")).to_have_count(0)
    await expect(participants(host)).to_have_count(1)


async def test_guest_leaves_the_queue_and_vanishes_from_the_hosts_lobby(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    first = await browsers.person("first guest")
    second = await browsers.person("second guest")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Geography")

    await guest_knocks(first, room, "First Guest", "School 1")
    await expect(first.locator("#lobby-position")).to_have_text(text("lobby.position", position=1))
    await guest_knocks(second, room, "Second Guest", "School 2")
    await expect(second.locator("#lobby-position")).to_have_text(text("lobby.position", position=2))
    await expect(host.locator("#knocks > li")).to_have_count(2)

    await first.get_by_role("button", name=EN["lobby.leave"]).click()
    await expect(first.locator("#ended-title")).to_have_text(EN["ended.left_title"])
    await expect(knock(host, "First Guest")).to_have_count(0)
    await expect(knock(host, "Second Guest")).to_be_visible()
    # The one left behind moves up.
    await expect(second.locator("#lobby-position")).to_have_text(text("lobby.position", position=1))


async def test_policy_always_deny_refuses_guests(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    guest = await browsers.person("guest")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Closed lesson")
    await host.get_by_label(EN["policy.label"], exact=True).select_option("always_deny")
    await expect(host.locator("#status")).to_have_text(
        text("host.policy_now", policy=EN["policy.always_deny"])
    )

    await guest_knocks(guest, room, "Late Guest", "School 3")
    await expect(guest.locator("#ended-title")).to_have_text(EN["ended.denied_title"])
    await expect(guest.locator("#ended-text")).to_have_text(EN["ended.denied_policy_text"])


async def test_connection_loss_is_shown_and_the_host_comes_back(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    guest = await browsers.person("guest")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Flaky network")
    host_name = await own_name(host)
    await guest_knocks(guest, room, "Patient Guest", "School 7")
    await admit_button(host, "Patient Guest").click()
    await open_panel(guest, "people")
    await expect(participant(guest, host_name)).to_be_visible()

    # The host's network drops: the page says so, the others see the host go.
    await host.context.set_offline(True)
    await expect(host.locator("#connection")).to_have_text(EN["room.reconnecting"])
    await expect(participant(guest, host_name)).to_have_count(0)
    # The blip outlasts socket.io's first retry (0.5 to 1.5 s): the page must not retry while the
    # browser is offline (each failed attempt is a console error, which fails this test).
    await asyncio.sleep(3)

    # Back online: the client joins again on its own, as host, and everyone sees it.
    await host.context.set_offline(False)
    await expect(host.locator("#connection")).to_be_hidden(timeout=20_000)
    await expect(host.locator("#you-role")).to_have_text(EN["role.host"])
    await expect(participant(guest, host_name).locator(".badge")).to_have_text(EN["role.host"])
    await expect(participant(host, "Patient Guest")).to_be_visible()

    # A browser may say "offline" while its network still works (a flaky Wi-Fi signal): socket.io
    # drops the connection at that word, and the page must still come back on its own.
    await host.evaluate("window.dispatchEvent(new Event('offline'))")
    await expect(host.locator("#connection")).to_have_text(EN["room.reconnecting"])
    await expect(host.locator("#connection")).to_be_hidden(timeout=20_000)
    await expect(participant(guest, host_name).locator(".badge")).to_have_text(EN["role.host"])


async def test_knocker_is_told_when_the_host_is_away(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    guest = await browsers.person("guest")
    room = await teacher_hosts(host, live_server.url, live_server.teacher, "Waiting room")
    await guest_knocks(guest, room, "Early Guest", "School 8")
    await expect(guest.locator("#lobby-position")).to_have_text(text("lobby.position", position=1))
    await expect(guest.locator("#lobby-host-absent")).to_be_hidden()

    await host.get_by_role("button", name=EN["room.leave"]).click()
    await expect(guest.locator("#lobby-host-absent")).to_have_text(EN["lobby.host_absent"])

    # The host comes back and finds the guest still waiting.
    await host.get_by_role("button", name=EN["ended.enter_again"]).click()
    await expect(knock(host, "Early Guest")).to_be_visible()
    await expect(guest.locator("#lobby-host-absent")).to_be_hidden()


async def test_the_same_pupil_in_a_second_window_replaces_the_first(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Algebra 7A", class_id=live_server.class_id
    )
    name = await pupil_enters(pupil, room, *live_server.pupils[0])

    # The same pupil (same sign-in) opens the room in a second window.
    second = await pupil.context.new_page()
    await second.goto(room.invite_url)
    await expect(second.locator("#inside")).to_be_visible()

    # The first window says why it left and stays out; the host sees the pupil once.
    await expect(pupil.locator("#ended-title")).to_have_text(EN["ended.replaced_title"])
    await expect(pupil.locator("#ended-text")).to_have_text(EN["ended.replaced_text"])
    await expect(participant(host, name)).to_have_count(1)
    await expect(participants(second)).to_have_count(2)
    await expect(second.locator("#inside")).to_be_visible()
