"""The lesson teacher's attendance panel in the room: live proposal, a mark, End lesson."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import APIResponse, Page, Route, expect

from tests.conftest import LiveServer
from tests.integration.peers import sign_in
from tests.journal.test_bridge import api

from .conftest import Browsers
from .flows import EN, Room, open_panel, participant, pupil_enters, sign_in_home, text
from .test_accessibility import axe_violations

pytestmark = pytest.mark.e2e

PUPILS = ["Aigerim Nurlanova", "Daniyar Seitkali", "Madina Omarova", "Timur Akhmetov"]
HERE_SINCE = EN["presence.here_since"].split("{time}")[0]


async def started_lesson(server: LiveServer, token: str) -> tuple[int, Room]:
    """A lesson of the demo class that started now, opened through the API; its id and room."""
    now = time.time()
    status, body = await api(
        server,
        token,
        "POST",
        "/api/lessons",
        {
            "class_id": server.class_id,
            "subject": "Geometry",
            "starts_at": now,
            "ends_at": now + 2700,
        },
    )
    assert status == 201, body
    lesson = int(body["lesson"]["id"])
    status, started = await api(server, token, "POST", f"/api/lessons/{lesson}/start")
    assert status == 200, started
    url = started["invite_url"]
    return lesson, Room(url.rstrip("/").rsplit("/", 1)[-1], started["lesson"]["subject"], url)


async def teacher_enters(page: Page, server: LiveServer, room: Room) -> None:
    await sign_in_home(page, server.url, *server.teacher)
    await expect(page.locator("#teacher")).to_be_visible()
    await page.goto(room.invite_url)
    await expect(page.locator("#inside")).to_be_visible()


def row(page: Page, name: str) -> Any:
    return page.locator("#attendance-rows > tr").filter(
        has=page.get_by_role("rowheader", name=name, exact=True)
    )


async def journal(server: LiveServer, token: str, lesson: int) -> dict[str, Any]:
    status, body = await api(server, token, "GET", f"/api/lessons/{lesson}")
    assert status == 200, body
    result: dict[str, Any] = body
    return result


async def test_teacher_sees_attendance_marks_a_present_pupil_and_ends_the_lesson(
    live_server: LiveServer, browsers: Browsers, axe_source: Path
) -> None:
    token = await sign_in(live_server, *live_server.teacher)
    lesson, room = await started_lesson(live_server, token)
    pupil = await browsers.person("pupil")
    teacher = await browsers.person("teacher", bypass_csp=True)  # only for axe's <script>
    name = await pupil_enters(pupil, room, *live_server.pupils[0])
    assert name == PUPILS[0]
    # A pupil never sees the teacher's panel.
    await expect(pupil.locator("#attendance-panel")).to_be_hidden()

    await teacher_enters(teacher, live_server, room)
    await teacher.set_viewport_size({"width": 1366, "height": 768})
    await open_panel(teacher, "chat")
    side = teacher.locator("#side")
    width = await side.evaluate("(el) => el.getBoundingClientRect().width")
    await open_panel(teacher, "attendance")
    panel = teacher.locator("#attendance-panel")
    await expect(panel).to_be_visible()
    # The Attendance tab keeps the panel as wide as the others: the stage is not squeezed.
    await expect(teacher.locator("#attendance-table")).to_be_visible()
    assert await side.evaluate("(el) => el.getBoundingClientRect().width") == width
    here = row(teacher, name)
    # What is true now, never a verdict while the lesson runs: in the room since…, not here yet.
    await expect(here.locator(".presence")).to_contain_text(HERE_SINCE)
    await expect(teacher.locator("#attendance-rows .status-absent")).to_have_count(0)
    for other in PUPILS[1:]:
        await expect(row(teacher, other).locator(".presence")).to_have_text(EN["presence.not_yet"])
        # Nobody can mark a pupil who is neither here nor counted present.
        await expect(row(teacher, other).get_by_role("button")).to_have_count(0)
    await expect(panel.locator("#attendance-summary")).to_have_text(
        text("attendance.summary", here=1, total=4)
    )
    await expect(panel.locator("#attendance-missing")).to_have_text(
        text("attendance.missing", names=", ".join(PUPILS[1:]))
    )

    assert not await axe_violations(teacher, axe_source)

    # A mark outside the school's scale (1 to 5 by default) is refused and nothing is stored…
    pupil_id = int(await here.get_attribute("data-pupil") or 0)
    mark_button = here.get_by_role("button", name=text("attendance.mark_label", name=name))
    await mark_button.click()
    value = teacher.get_by_label(EN["attendance.mark_value"], exact=True)
    await expect(value).to_be_focused()
    await expect(teacher.locator("#mark-scale")).to_have_text(
        text("attendance.mark_scale", min=1, max=5)
    )
    await value.fill("9")
    browsers.watch(teacher).allow_http_error(f"/api/lessons/{lesson}/marks/{pupil_id}", 400)
    form = teacher.locator("#mark-form")
    await form.get_by_role("button", name=EN["attendance.mark_save"]).click()
    await expect(teacher.locator("#mark-error")).to_have_text(
        text("attendance.error_out_of_range", min=1, max=5)
    )
    await expect(value).to_have_attribute("aria-invalid", "true")
    assert (await journal(live_server, token, lesson))["marks"] == []

    # …a mark inside it is stored with its comment, and shown next to the pupil.
    await value.fill("5")
    await teacher.get_by_label(EN["attendance.mark_comment"], exact=True).fill("Good proof")
    await form.get_by_role("button", name=EN["attendance.mark_save"]).click()
    await expect(form).to_be_hidden()
    await expect(here.locator(".mark-value")).to_have_text("5")
    await expect(
        here.get_by_role("button", name=text("attendance.mark_label", name=name))
    ).to_be_focused()
    marks = (await journal(live_server, token, lesson))["marks"]
    assert [(m["pupil_id"], m["value"], m["comment"]) for m in marks] == [
        (pupil_id, 5, "Good proof")
    ]

    # A classmate comes and goes: the panel follows the room's join and leave at once, well
    # before its 15-second refresh.
    classmate = await browsers.person("classmate")
    other = await pupil_enters(classmate, room, *live_server.pupils[2])
    summary = panel.locator("#attendance-summary")
    await expect(summary).to_have_text(text("attendance.summary", here=2, total=4), timeout=5000)
    await expect(row(teacher, other).locator(".presence")).to_contain_text(HERE_SINCE)
    await expect(panel.locator("#attendance-missing")).not_to_contain_text(other)
    await classmate.get_by_role("button", name=EN["room.leave"]).click()
    await expect(summary).to_have_text(text("attendance.summary", here=1, total=4), timeout=5000)
    await expect(panel.locator("#attendance-missing")).to_contain_text(other)
    await expect(row(teacher, other).locator(".presence")).to_contain_text(
        EN["presence.left_at"].split("{time}")[0]
    )

    # A slow answer hides no change: the refresh for the classmate's return is answered by the
    # server (with them here) but held on its way; they leave meanwhile, and once the stale
    # answer lands the panel asks again — still well before its 15-second refresh.
    answers: asyncio.Queue[tuple[Route, APIResponse]] = asyncio.Queue()
    seen = 0

    async def hold_first(route: Route) -> None:
        nonlocal seen
        seen += 1
        if seen > 1:
            await route.continue_()
            return
        answers.put_nowait((route, await route.fetch()))

    await teacher.route(f"**/api/lessons/{lesson}/attendance", hold_first)
    returning = await browsers.person("classmate again")
    await pupil_enters(returning, room, *live_server.pupils[2])
    held, stale = await answers.get()
    await returning.get_by_role("button", name=EN["room.leave"]).click()
    await expect(participant(teacher, other)).to_have_count(0)
    await asyncio.sleep(1)  # the slow answer is still away when the leave's refresh is due (0.5 s)
    await held.fulfill(response=stale)
    # The panel asks again at once (its own timer is up to 15 s away), and shows the leave.
    async with asyncio.timeout(3):
        while seen < 2:
            await asyncio.sleep(0.02)  # polls a counter the route handler moves
    await expect(summary).to_have_text(text("attendance.summary", here=1, total=4))

    # End lesson: the teacher corrects one absent classmate's comment and confirms.
    await teacher.get_by_role("button", name=EN["attendance.end"]).click()
    dialog = teacher.get_by_role("dialog", name=EN["attendance.end_title"])
    await expect(dialog).to_be_visible()
    assert not await axe_violations(teacher, axe_source)
    await dialog.get_by_label(text("attendance.comment_of", name=PUPILS[1]), exact=True).fill(
        "ill, excused"
    )
    await dialog.get_by_role("button", name=EN["attendance.end_confirm"]).click()
    await expect(dialog).to_be_hidden()
    # The room closed for everyone: the teacher and the pupil are told, each with a way back.
    for page, back, href in (
        (teacher, "ended.to_journal", f"/journal/lessons/{lesson}"),
        (pupil, "ended.to_diary", "/diary"),
    ):
        await expect(page.get_by_role("heading", name=EN["ended.lesson_title"])).to_be_visible()
        link = page.get_by_role("link", name=EN[back], exact=True)
        await expect(link).to_have_attribute("href", href)

    # The journal has the lesson closed and, once delivered, the attendance as confirmed.
    async with asyncio.timeout(20):
        while len((record := await journal(live_server, token, lesson))["attendance"]) < 4:
            await asyncio.sleep(0.05)  # the outbox delivers in the background: poll its result
    assert record["lesson"]["state"] == "closed"
    statuses = {a["name"]: (a["status"], a["comment"]) for a in record["attendance"]}
    assert statuses[name] == ("present", None)
    assert statuses[PUPILS[1]] == ("absent", "ill, excused")
    assert statuses[PUPILS[3]] == ("absent", None)


async def test_the_panel_is_only_in_a_lesson_room_for_its_teacher(
    live_server: LiveServer, browsers: Browsers
) -> None:
    token = await sign_in(live_server, *live_server.teacher)
    _, room = await started_lesson(live_server, token)
    teacher = await browsers.person("teacher")
    await teacher_enters(teacher, live_server, room)
    await open_panel(teacher, "attendance")
    await expect(teacher.locator("#attendance-panel")).to_be_visible()
    # An ordinary room (no lesson) has no attendance panel.
    status, body = await api(
        live_server, token, "POST", "/api/rooms", {"title": "Club", "class_id": None}
    )
    assert status == 201, body
    await teacher.goto(body["room"]["invite_url"])
    await expect(teacher.locator("#inside")).to_be_visible()
    await expect(teacher.locator("#people-panel")).to_be_visible()
    await expect(teacher.locator("#attendance-panel")).to_be_hidden()
    await expect(teacher.locator("#tab-attendance")).to_be_hidden()
