"""A fresh school's teacher replaces the one-time password before reaching the dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.conftest import running_server

from .conftest import Browsers
from .flows import EN, sign_in_home

pytestmark = pytest.mark.e2e


async def test_one_time_password_is_replaced_first(tmp_path: Path, browsers: Browsers) -> None:
    async with running_server(tmp_path / "data", keep_one_time=True) as server:
        login, one_time = server.teacher
        page = await browsers.person("teacher")
        browsers.watch(page).allow_http_error("/api/session", 401)  # the old password, on purpose
        await sign_in_home(page, server.url, login, one_time)
        await expect(page.get_by_role("heading", level=1)).to_have_text(EN["home.password_title"])
        await expect(page.locator("#teacher")).to_be_hidden()

        form = page.locator("#password-form")
        await page.get_by_label(EN["form.current_password"], exact=True).fill(one_time)
        await page.get_by_label(EN["form.new_password"], exact=True).fill("my-own-secret-1")
        await page.get_by_label(EN["form.repeat_password"], exact=True).fill("my-own-secret-2")
        await form.get_by_role("button", name=EN["form.change_password"]).click()
        await expect(page.get_by_role("alert")).to_have_text(EN["error.password_mismatch"])

        await page.get_by_label(EN["form.repeat_password"], exact=True).fill("my-own-secret-1")
        await form.get_by_role("button", name=EN["form.change_password"]).click()
        await expect(page.locator("#teacher")).to_be_visible()

        # The one-time password no longer works; the new one does, straight to the dashboard.
        await page.locator("#teacher .signout").click()
        await sign_in_home(page, server.url, login, one_time)
        await expect(page.get_by_role("alert")).to_be_visible()
        await sign_in_home(page, server.url, login, "my-own-secret-1")
        await expect(page.locator("#teacher")).to_be_visible()
        # The dashboard has loaded the teacher's classes (the first option is "no class").
        await expect(page.locator("#room-class option").nth(1)).to_be_attached()
        # Closed while the server runs: a page left open could still be fetching when it stops.
        await browsers.close()
