"""The administrator adds a teacher and resets a password on /admin; both show in the audit
log, and the new teacher signs in with the one-time password shown (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from server.keys import STORE
from tests.conftest import LiveServer
from tests.integration.test_people import sign_in_status

from .conftest import Browsers
from .flows import EN, text
from .test_accessibility import axe_violations
from .test_admin import admin_signs_in

pytestmark = pytest.mark.e2e


async def test_admin_adds_a_teacher_and_resets_a_password(
    live_server: LiveServer, browsers: Browsers, axe_source: Path
) -> None:
    await live_server.app[STORE].create_class("8B", [])  # where a pupil moves to
    page = await browsers.person("office", bypass_csp=True)  # bypass only for axe's <script>
    await admin_signs_in(page, live_server)
    people = page.locator("#people-section")
    await expect(people.locator("#people tr").first).to_be_visible()

    # Adding a teacher shows their one-time password once, and focus goes to it.
    form = page.locator("#person-new-form")
    await form.get_by_label(EN["people.name"], exact=True).fill("Gulnar Sadykova")
    await form.get_by_label(EN["people.new_login"], exact=True).fill("g.sadykova")
    await form.get_by_label(EN["people.kind"], exact=True).select_option("teacher")
    await form.get_by_role("button", name=EN["people.add"], exact=True).click()
    secret = page.locator("#people-secret")
    await expect(secret).to_be_focused()
    await expect(page.locator("#people-secret-text")).to_have_text(
        text("people.secret", name="Gulnar Sadykova", login="g.sadykova")
    )
    first_password = (await page.locator("#people-secret-password").inner_text()).strip()
    row = people.locator('#people tr[data-login="g.sadykova"]')
    await expect(row).to_contain_text(EN["people.state_one_time"])
    status, _ = await sign_in_status(live_server, "g.sadykova", first_password)
    assert status == 200  # the password works, once

    # A login that is taken: the server's sentence.
    browsers.watch(page).allow_http_error("/api/admin/users", 409)
    await form.get_by_label(EN["people.name"], exact=True).fill("Someone Else")
    await form.get_by_label(EN["people.new_login"], exact=True).fill("g.sadykova")
    await form.get_by_role("button", name=EN["people.add"], exact=True).click()
    await expect(page.locator("#alert")).to_have_text(EN["error.already_exists"])

    # Reset her password from her panel: a new one-time password, shown once.
    await row.get_by_role(
        "button", name=text("people.manage_label", name="Gulnar Sadykova")
    ).click()
    await expect(page.locator("#person-title")).to_be_focused()
    await expect(page.locator("#person-title")).to_have_text(
        text("people.manage_title", name="Gulnar Sadykova")
    )
    await page.get_by_role("button", name=EN["people.reset"], exact=True).click()
    await expect(secret).to_be_focused()
    second_password = (await page.locator("#people-secret-password").inner_text()).strip()
    assert second_password and second_password != first_password
    assert (await sign_in_status(live_server, "g.sadykova", first_password))[0] == 401
    assert (await sign_in_status(live_server, "g.sadykova", second_password))[0] == 200

    # Both changes are in the audit log, newest first, with who made them.
    audit = page.locator("#audit")
    await expect(audit.locator("tr").first).to_contain_text(EN["audit.action_user.password_reset"])
    await expect(audit.locator("tr").nth(1)).to_contain_text(EN["audit.action_user.add"])
    await expect(audit.locator("tr").first).to_contain_text("g.sadykova")

    # Disable from the panel: the state follows; the page stays accessible.
    await page.get_by_role("button", name=EN["people.disable"], exact=True).click()
    await expect(row).to_contain_text(EN["people.state_disabled"])
    await expect(page.get_by_role("button", name=EN["people.enable"], exact=True)).to_be_visible()
    assert await axe_violations(page, axe_source) == []

    # A pupil moves to another class from their panel.
    pupil_login = live_server.pupils[0][0]
    pupil_row = people.locator(f'#people tr[data-login="{pupil_login}"]')
    await pupil_row.get_by_role("button", name=EN["people.manage"]).click()
    await expect(page.locator("#person-title")).to_be_focused()
    await page.get_by_label(EN["people.move_to"], exact=True).select_option(label="8B")
    await page.locator("#person-form").get_by_role("button", name=EN["admin.save"]).click()
    await expect(pupil_row.locator("td").nth(2)).to_have_text("8B")
    await expect(page.locator("#audit tr").first).to_contain_text(EN["audit.action_pupil.move"])
