"""The administrator's page: settings, subjects, years, teaching, CSV import, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Route, expect

from server.db.accounts import DuplicateLogin
from server.keys import STORE
from tests.conftest import LiveServer, running_server
from tests.integration.peers import sign_in
from tests.journal.receiver import running_receiver
from tests.journal.test_bridge import api

from .conftest import Browsers
from .flows import EN, text
from .test_accessibility import axe_violations

pytestmark = pytest.mark.e2e

SECRET = "0123456789abcdef-admin-test"
ADMIN = ("office", "office-password-1")

BROKEN_CSV = """class,login,full_name
7A,newpupil1,Aruzhan Bekova
7A,Bad Login,Someone Else
9Z,newpupil3,Unknown Class
7A,newpupil1,Duplicate Login
7A,pupil1,Taken Login
"""
# Any cell text (a time is shown in the browser's own format).
ANY_TEXT = re.compile(r".+")
GOOD_CSV = """class,login,full_name
7A,newpupil1,Aruzhan Bekova
8B,newpupil2,Nurlan Zhaksylykov
"""


async def admin_account(server: LiveServer) -> tuple[str, str]:
    """An administrator of the server's school (made once per server through its own store)."""
    with contextlib.suppress(DuplicateLogin):
        await server.app[STORE].create_user(ADMIN[0], "School Office", "admin", ADMIN[1])
    return ADMIN


async def admin_signs_in(page: Page, server: LiveServer) -> None:
    """Signs in on /admin itself and waits for the settings to be filled in."""
    await page.goto(server.url + "/admin")
    await expect(page.locator("#signin")).to_be_visible()
    login, password = await admin_account(server)
    await page.get_by_label(EN["form.login"], exact=True).fill(login)
    await page.get_by_label(EN["form.password"], exact=True).fill(password)
    await page.locator("#signin-form").get_by_role("button", name=EN["form.signin"]).click()
    await expect(page.locator("#admin")).to_be_visible()
    await expect(page.get_by_label(EN["admin.mark_max"], exact=True)).not_to_have_value("")


async def admin_token(server: LiveServer) -> str:
    return await sign_in(server, *await admin_account(server))


def members(data: Path, logins: list[str]) -> dict[str, str]:
    """login → class name of those pupils, straight from the database."""
    marks = ",".join("?" * len(logins))
    with sqlite3.connect(data / "sabaq.db") as db:
        rows = db.execute(
            "SELECT u.login, c.name FROM users u "
            "JOIN class_members m ON m.user_id = u.id JOIN classes c ON c.id = m.class_id "
            f"WHERE u.login IN ({marks})",
            logins,
        ).fetchall()
    return {str(login): str(name) for login, name in rows}


async def test_admin_changes_rules_adds_a_subject_a_year_and_teaching(
    live_server: LiveServer, browsers: Browsers, axe_source: Path
) -> None:
    token = await admin_token(live_server)
    page = await browsers.person("admin", bypass_csp=True)  # bypass only for axe's <script>
    await admin_signs_in(page, live_server)
    before = (await api(live_server, token, "GET", "/api/admin/school"))[1]
    await expect(page.get_by_label(EN["admin.mark_max"], exact=True)).to_have_value(
        str(before["mark_max"])
    )

    # A new scale and rules are saved.
    await page.get_by_label(EN["admin.mark_max"], exact=True).fill("10")
    await page.get_by_label(EN["admin.present_ratio"], exact=True).fill("0.6")
    await page.get_by_label(EN["admin.late_after_min"], exact=True).fill("5")
    private = page.get_by_label(EN["admin.private_chat"], exact=True)
    await expect(private).to_have_value("staff")  # safe by default
    await private.select_option(label=EN["chat.private_classmates"])
    school = page.locator("#school-form")
    await school.get_by_role("button", name=EN["admin.save"]).click()
    await expect(page.locator("#status")).to_have_text(EN["admin.school_saved"])
    saved = (await api(live_server, token, "GET", "/api/admin/school"))[1]
    assert (saved["mark_max"], saved["present_ratio"], saved["late_after_min"]) == (10, 0.6, 5)
    assert saved["private_chat"] == "classmates"

    # A value out of range: the server's sentence next to the field, nothing saved.
    status, refusal = await api(
        live_server, token, "PUT", "/api/admin/school", {"present_ratio": 1.5}
    )
    assert status == 400
    sentence = refusal["error"]["message"].removeprefix("present_ratio: ")
    browsers.watch(page).allow_http_error("/api/admin/school", 400)
    ratio = page.get_by_label(EN["admin.present_ratio"], exact=True)
    await ratio.fill("1.5")
    await page.get_by_label(EN["admin.mark_max"], exact=True).fill("7")
    await school.get_by_role("button", name=EN["admin.save"]).click()
    await expect(page.locator("#school-present-ratio-error")).to_have_text(sentence)
    await expect(ratio).to_have_attribute("aria-invalid", "true")
    await expect(ratio).to_be_focused()
    await expect(page.get_by_role("alert")).to_have_text(EN["admin.not_saved"])
    assert (await api(live_server, token, "GET", "/api/admin/school"))[1] == saved

    # A subject.
    subjects = page.locator("#subject-form")
    await subjects.get_by_label(EN["admin.subject_name"], exact=True).fill("Geometry")
    await subjects.get_by_role("button", name=EN["admin.subject_add"]).click()
    await expect(page.locator("#subjects > li")).to_contain_text(["Geometry"])
    names = [
        s["name"] for s in (await api(live_server, token, "GET", "/api/subjects"))[1]["subjects"]
    ]
    assert "Geometry" in names

    # A school year with one period.
    year = page.locator("#year-form")
    await year.get_by_label(EN["admin.year_name"], exact=True).first.fill("2031-2032")
    await year.get_by_label(EN["admin.starts_on"], exact=True).first.fill("2031-09-01")
    await year.get_by_label(EN["admin.ends_on"], exact=True).first.fill("2032-05-25")
    await year.get_by_role("button", name=EN["admin.period_add"]).click()
    period = page.locator("#period-rows > li").first
    await expect(period.get_by_label(EN["admin.period_name"], exact=True)).to_be_focused()
    await period.get_by_label(EN["admin.period_name"], exact=True).fill("Term 1")
    await period.get_by_label(EN["admin.period_starts_on"], exact=True).fill("2031-09-01")
    await period.get_by_label(EN["admin.period_ends_on"], exact=True).fill("2031-10-30")
    await year.get_by_role("button", name=EN["admin.year_create"]).click()
    row = page.locator("#years > tr").filter(has=page.get_by_role("rowheader", name="2031-2032"))
    await expect(row).to_contain_text("Term 1")
    years = (await api(live_server, token, "GET", "/api/years"))[1]["years"]
    assert [[p["name"] for p in y["periods"]] for y in years if y["name"] == "2031-2032"] == [
        ["Term 1"]
    ]

    # Who teaches what: the demo teacher teaches Geometry to 7A too.
    taught = page.locator("#teaching > tr")
    known = (await api(live_server, token, "GET", "/api/admin/teaching"))[1]["teaching"]
    await expect(taught).to_have_count(len(known))
    teaching = page.locator("#teaching-form")
    await teaching.get_by_label(EN["admin.teacher"], exact=True).select_option(
        label="Gulnara Sadykova"
    )
    await teaching.get_by_label(EN["admin.class"], exact=True).select_option(label="7A")
    await teaching.get_by_label(EN["admin.subject"], exact=True).select_option(label="Geometry")
    await teaching.get_by_role("button", name=EN["admin.teaching_add"]).click()
    await expect(taught).to_have_count(len(known) + 1)
    await expect(taught.last).to_have_text(re.compile("Gulnara Sadykova.*7A.*Geometry"))
    rows = (await api(live_server, token, "GET", "/api/admin/teaching"))[1]["teaching"]
    assert ("Gulnara Sadykova", "7A", "Geometry") in [
        (r["teacher_name"], r["class_name"], r["subject_name"]) for r in rows
    ]

    assert not await axe_violations(page, axe_source)
    # The page speaks the admin's language too.
    await page.get_by_label(EN["lang.label"], exact=True).select_option("kk")
    await expect(page.locator("#school-title")).to_have_text(text("admin.school_title", "kk"))
    assert not await axe_violations(page, axe_source)


async def test_csv_import_reports_broken_lines_then_imports_a_checked_file(
    live_server: LiveServer, browsers: Browsers, tmp_path: Path
) -> None:
    page = await browsers.person("admin")
    await admin_signs_in(page, live_server)
    data = live_server.settings.data
    file = page.get_by_label(EN["admin.import_file"], exact=True)
    check = page.get_by_role("button", name=EN["admin.import_check"])
    run = page.get_by_role("button", name=EN["admin.import_run"], exact=True)
    await expect(run).to_be_disabled()

    broken = tmp_path / "broken.csv"
    broken.write_text(BROKEN_CSV, encoding="utf-8")
    await file.set_input_files(broken)
    await check.click()
    report = page.locator("#import-lines > tr")
    await expect(report.locator("th")).to_have_text(["3", "4", "5", "6"])
    await expect(report.nth(1)).to_contain_text("9Z")
    await expect(page.locator("#import-summary")).to_have_text(
        text("admin.import_dry_errors", count=4)
    )
    await expect(run).to_be_disabled()
    assert members(data, ["newpupil1", "newpupil3"]) == {}

    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    await file.set_input_files(good)
    await expect(report).to_have_count(0)
    await page.get_by_label(EN["admin.import_new_classes"], exact=True).check()
    await check.click()
    await expect(page.locator("#import-summary")).to_have_text(EN["admin.import_dry_ok"])
    await expect(run).to_be_enabled()
    await expect(run).to_be_focused()
    await expect(page.locator("#import-created-list")).to_contain_text(
        f"{EN['admin.created_classes']}: 8B"
    )
    assert members(data, ["newpupil1", "newpupil2"]) == {}  # a dry run changes nothing

    # While the file goes up, the page shows it; the request is held until that was seen.
    held: asyncio.Future[Route] = asyncio.get_running_loop().create_future()

    async def hold(route: Route) -> None:
        if "dry_run=0" in route.request.url:
            held.set_result(route)
        else:
            await route.continue_()

    await page.route("**/api/admin/import?*", hold)
    await run.click()
    route = await held
    await expect(page.locator("#import-progress-box")).to_be_visible()
    await expect(page.locator("#import-form")).to_have_attribute("aria-busy", "true")
    await expect(page.locator("#import-summary")).to_have_text(EN["admin.import_uploading"])
    await route.continue_()
    await expect(page.locator("#import-summary")).to_have_text(EN["admin.import_done"])
    await expect(page.locator("#import-progress-box")).to_be_hidden()
    await expect(run).to_be_disabled()
    passwords = page.locator("#import-password-rows > tr")
    await expect(passwords.locator("th")).to_have_text(["newpupil1", "newpupil2"])
    assert members(data, ["newpupil1", "newpupil2"]) == {"newpupil1": "7A", "newpupil2": "8B"}
    # The one-time password shown is the pupil's, and the admin can keep them all in a file.
    one_time = (await passwords.first.locator("td").inner_text()).strip()
    assert await sign_in(live_server, "newpupil1", one_time)
    async with page.expect_download() as download:
        await page.get_by_role("link", name=EN["admin.import_passwords_save"]).click()
    file_path = Path(await (await download.value).path())
    saved = (await asyncio.to_thread(file_path.read_text, encoding="utf-8")).splitlines()
    assert saved[0] == "login,password"
    assert saved[1] == f'"newpupil1","{one_time}"'
    assert [line.split(",")[0] for line in saved[1:]] == ['"newpupil1"', '"newpupil2"']


async def test_dead_letter_is_listed_and_retry_delivers_it(
    tmp_path: Path, demo_data: Path, browsers: Browsers
) -> None:
    async with running_receiver(SECRET.encode()) as (receiver, url):
        # The journal refuses the first records for good (422): they become dead letters.
        receiver.failures = [422] * 4
        shutil.copytree(demo_data, tmp_path / "data")
        async with running_server(
            tmp_path / "data", journal_url=url, journal_secret=SECRET
        ) as server:
            teacher = await sign_in(server, *server.teacher)
            now = time.time()
            lesson_body = {
                "class_id": server.class_id,
                "subject": "History",
                "starts_at": now - 60,
                "ends_at": now + 2700,
            }
            lesson = (await api(server, teacher, "POST", "/api/lessons", lesson_body))[1]
            lesson_id = lesson["lesson"]["id"]
            assert (await api(server, teacher, "POST", f"/api/lessons/{lesson_id}/start"))[0] == 200
            assert (await api(server, teacher, "POST", f"/api/lessons/{lesson_id}/end", {}))[
                0
            ] == 200
            token = await admin_token(server)
            dead: list[dict[str, Any]] = []
            async with asyncio.timeout(20):
                while len(dead) < 4:  # the courier works in the background: poll its outcome
                    dead = (await api(server, token, "GET", "/api/admin/outbox?state=dead"))[1][
                        "records"
                    ]
                    await asyncio.sleep(0.05)

            page = await browsers.person("admin")
            await admin_signs_in(page, server)
            rows = page.locator("#dead > tr")
            await expect(rows).to_have_count(4)
            first = dead[0]
            row = rows.filter(has=page.get_by_role("rowheader", name=first["key"]))
            await expect(row.locator("td")).to_have_text(
                ["http", str(first["attempts"]), "HTTP 422", ANY_TEXT, EN["admin.retry"]]
            )
            await row.get_by_role(
                "button", name=text("admin.retry_label", record=first["key"])
            ).click()
            await expect(page.locator("#status")).to_have_text(
                text("admin.retried", record=first["key"])
            )
            await expect(rows).to_have_count(3)
            await expect(rows.first.get_by_role("button")).to_be_focused()
            # Back in the queue: the journal (accepting now) gets it, once.
            await receiver.wait_for(lambda: first["key"] in receiver.records)
            assert receiver.posts[first["key"]] == 2
            still_dead = (await api(server, token, "GET", "/api/admin/outbox?state=dead"))[1]
            assert [r["key"] for r in still_dead["records"]] == [r["key"] for r in dead[1:]]
            await browsers.close()  # while the server runs: an open page may still be fetching


async def test_a_teacher_is_refused_the_admin_page_and_api(
    live_server: LiveServer, browsers: Browsers
) -> None:
    page = await browsers.person("teacher")
    await page.goto(live_server.url + "/admin")
    await page.get_by_label(EN["form.login"], exact=True).fill(live_server.teacher[0])
    await page.get_by_label(EN["form.password"], exact=True).fill(live_server.teacher[1])
    await page.locator("#signin-form").get_by_role("button", name=EN["form.signin"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(EN["admin.refused_title"])
    await expect(page.locator("#admin")).to_be_hidden()
    token = await sign_in(live_server, *live_server.teacher)
    for method, path in (("GET", "/api/admin/school"), ("GET", "/api/admin/outbox?state=dead")):
        status, body = await api(live_server, token, method, path)
        assert (status, body["error"]["code"]) == (403, "not_permitted")
