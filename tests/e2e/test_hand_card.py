"""The pupil's Raise hand card through a speak + video grant: during it, and after it ends."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.conftest import LiveServer as FullServer
from tests.integration.peers import host_in_room, peers

from .conftest import Browsers, LiveServer
from .flows import EN, Room, open_panel, participant, pupil_enters, teacher_hosts, text

pytestmark = pytest.mark.e2e


async def ask_for_mic_and_camera(pupil: Page) -> None:
    await open_panel(pupil, "people")
    await pupil.get_by_label(EN["hands.ask_camera"], exact=True).check()
    await pupil.get_by_role("button", name=EN["hands.raise"]).click()
    await expect(pupil.locator("#hand-position")).to_have_text(
        text("hands.your_position", position=1)
    )


async def card_offers_a_hand(pupil: Page) -> None:
    """The card is back to asking: the rights line gone, the choices and the button there."""
    await expect(pupil.get_by_test_id("hand-rights")).to_be_hidden()
    await expect(pupil.get_by_label(EN["hands.ask_mic"], exact=True)).to_be_visible()
    raise_hand = pupil.get_by_role("button", name=EN["hands.raise"])
    await expect(raise_hand).to_be_visible()
    await raise_hand.click()
    await expect(pupil.locator("#hand-position")).to_have_text(
        text("hands.your_position", position=1)
    )


async def test_hand_card_during_a_two_minute_mic_and_camera_grant_and_after_revoke(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Biology 6A", class_id=live_server.class_id
    )
    name = await pupil_enters(pupil, room, *live_server.pupils[0])
    await ask_for_mic_and_camera(pupil)

    await host.get_by_label(EN["rights.duration"], exact=True).select_option("120")
    queue = host.locator("#hands > li")
    await queue.get_by_role("button", name=text("hands.grant_label", name=name)).click()
    await expect(pupil.get_by_test_id("publish-camera")).not_to_have_attribute(
        "aria-disabled", "true"
    )
    # While the grant lasts the card says what the pupil may do, and until when.
    rights = pupil.get_by_test_id("hand-rights")
    await expect(rights).to_be_visible()
    until = re.escape(EN["hands.granted_until"]).replace(r"\{time\}", r"\d\d.\d\d")
    await expect(rights).to_have_text(re.compile(re.escape(EN["hands.granted_both"]) + " " + until))
    await expect(pupil.get_by_role("button", name=EN["hands.raise"])).to_be_hidden()

    # The host takes the rights back: the card offers a hand again, without a reload.
    row = participant(host, name)
    await row.get_by_role("button", name=text("rights.revoke_label", name=name)).click()
    await expect(pupil.get_by_test_id("publish-camera")).to_have_attribute("aria-disabled", "true")
    await card_offers_a_hand(pupil)
    await expect(queue).to_have_count(1)


async def test_hand_card_comes_back_when_a_timed_mic_and_camera_grant_runs_out(
    live_server: FullServer, browsers: Browsers
) -> None:
    pupil = await browsers.person("pupil")
    # The host is a socket.io client: it grants the shortest grant the server takes (10 s),
    # so the test sees the server's own expiry without waiting out two minutes.
    async with peers("host") as (host,):
        stored = await host_in_room(live_server, host, title="Chemistry 9C")
        room = Room(stored["id"], stored["title"], f"{live_server.url}/r/{stored['id']}")
        await pupil_enters(pupil, room, *live_server.pupils[0])
        await ask_for_mic_and_camera(pupil)
        hands = await host.wait("hands", lambda d: d["queue"])
        who = hands["queue"][0]["id"]
        grant = {"participant": who, "speak": True, "video": True, "seconds": 10}
        assert (await host.call("rights_grant", grant))["ok"]
        await expect(pupil.get_by_test_id("hand-rights")).to_have_text(
            re.compile(re.escape(EN["hands.granted_both"]))
        )
        await expect(pupil.get_by_test_id("publish-camera")).not_to_have_attribute(
            "aria-disabled", "true"
        )
        # The server's timer ends the grant; the card must offer a hand again by itself.
        await expect(pupil.get_by_test_id("publish-camera")).to_have_attribute(
            "aria-disabled", "true", timeout=25_000
        )
        await card_offers_a_hand(pupil)
        await host.wait("hands", lambda d: [h["id"] for h in d["queue"]] == [who])


async def test_a_raised_hand_survives_a_network_blip(
    live_server: LiveServer, browsers: Browsers
) -> None:
    host = await browsers.person("host")
    pupil = await browsers.person("pupil")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "History 7", class_id=live_server.class_id
    )
    name = await pupil_enters(pupil, room, *live_server.pupils[0])
    await ask_for_mic_and_camera(pupil)
    queue = host.locator("#hands > li")
    await expect(queue).to_contain_text(name)

    # The pupil's network drops: the server takes them out (and the hand with them)...
    await pupil.context.set_offline(True)
    await expect(pupil.locator("#connection")).to_have_text(EN["room.reconnecting"])
    await expect(participant(host, name)).to_have_count(0)
    await expect(queue).to_have_count(0)
    # ...and gives the hand back, in its place, when they are back without knocking.
    await pupil.context.set_offline(False)
    await expect(pupil.locator("#connection")).to_be_hidden(timeout=20_000)
    await expect(queue).to_have_count(1)
    await expect(queue).to_contain_text(name)
    await expect(pupil.locator("#hand-position")).to_have_text(
        text("hands.your_position", position=1)
    )
    await expect(pupil.get_by_role("button", name=EN["hands.lower_own"])).to_be_visible()
