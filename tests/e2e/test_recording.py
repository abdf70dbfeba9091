"""Recording in the room page: the host's button, the indicator everyone sees, and the notice
a person reads on the entry page before entering (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.conftest import LiveServer
from tests.journal.helpers import admin, api

from .conftest import Browsers
from .flows import open_panel, pupil_enters, strings, teacher_hosts
from .test_accessibility import axe_violations
from .test_admin import admin_signs_in

pytestmark = pytest.mark.e2e


async def test_host_records_everyone_sees_it_and_a_newcomer_is_told_first(
    live_server: LiveServer, browsers: Browsers, axe_source: Path
) -> None:
    en, ru = strings("en"), strings("ru")
    # The administrator allows recording on the admin page (off by default).
    boss = await browsers.person("admin")
    await admin_signs_in(boss, live_server)
    rule = boss.get_by_label(en["admin.recording_rule"], exact=True)
    await expect(rule).to_have_value("off")
    await rule.select_option(label=en["admin.recording_hosts"])
    await boss.get_by_label(en["admin.recording_retention_days"], exact=True).fill("14")
    await boss.locator("#school-form").get_by_role("button", name=en["admin.save"]).click()
    await expect(boss.locator("#status")).to_have_text(en["admin.school_saved"])
    token = await admin(live_server)
    saved = (await api(live_server, token, "GET", "/api/admin/school"))[1]
    assert (saved["recording"], saved["recording_retention_days"]) == ("hosts", 14)
    host = await browsers.person("teacher")
    pupil = await browsers.person("pupil", bypass_csp=True)
    guest = await browsers.person("guest", locale="ru-RU")
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Physics", class_id=live_server.class_id
    )
    await pupil_enters(pupil, room, *live_server.pupils[0])
    pupil_indicator = pupil.get_by_test_id("recording-indicator")
    await expect(pupil_indicator).to_be_hidden()

    await open_panel(host, "people")
    toggle = host.get_by_role("button", name=en["recording.start"], exact=True)
    await toggle.focus()
    await host.keyboard.press("Enter")  # keyboard operable
    await expect(pupil_indicator).to_be_visible()
    await expect(pupil_indicator).to_have_text(en["recording.on"])
    await expect(host.get_by_test_id("recording-indicator")).to_be_visible()
    stop = host.get_by_role("button", name=en["recording.stop"], exact=True)
    await expect(stop).to_have_attribute("aria-pressed", "true")
    # A pupil has no button: the school's rule is hosts.
    await expect(pupil.get_by_test_id("recording-toggle")).to_be_hidden()
    assert await axe_violations(pupil, axe_source) == []

    # Someone new opens the link: told before entering, in their language.
    await guest.goto(room.invite_url)
    notice = guest.get_by_test_id("entry-recording")
    await expect(notice).to_be_visible()
    await expect(notice).to_have_text(ru["recording.entry_notice"])
    await expect(guest.locator("#inside")).to_be_hidden()

    await stop.click()
    await expect(pupil_indicator).to_be_hidden()
    await expect(host.get_by_role("button", name=en["recording.start"], exact=True)).to_be_visible()
    folders = list((live_server.settings.data / "recordings" / room.id).iterdir())
    assert len(folders) == 1 and (folders[0] / "timeline.jsonl").is_file()
