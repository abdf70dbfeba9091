"""The journal's pages end to end in Chromium: schedule → lesson → Start lesson → room; a pupil
joins from the diary; live attendance, a mark with a comment, homework, End lesson; the journal
and the diary show the outcome. Plus: the diary is read-only, hostile text stays inert, the
start dialog works by keyboard alone, and axe finds nothing serious on the new pages."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from server.demo import CREDENTIALS_FILE

from ..conftest import LiveServer as RunningServer
from .conftest import Browsers, LiveServer
from .flows import EN, admit_button, sign_in_home, strings, text
from .test_accessibility import axe_violations

pytestmark = pytest.mark.e2e

XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(2)</script>"
XSS_SVG = '"><svg onload=alert(3)>'
INERT = "main img, main script, main svg, main iframe"


async def schedule_lesson(
    page: Page, base_url: str, class_id: int, subject: str, *, starts_in_s: float = 0
) -> dict[str, Any]:
    """The signed-in teacher puts a 45-minute lesson in the schedule (the API, as a school
    system would); it starts `starts_in_s` from now."""
    start = time.time() + starts_in_s
    answer = await page.request.post(
        base_url + "/api/lessons",
        data={
            "class_id": class_id,
            "subject": subject,
            "starts_at": start,
            "ends_at": start + 2700,
        },
    )
    assert answer.status == 201, await answer.text()
    lesson: dict[str, Any] = (await answer.json())["lesson"]
    return lesson


async def teacher_signed_in(page: Page, server: LiveServer) -> None:
    await sign_in_home(page, server.url, *server.teacher)
    await expect(page.locator("#teacher")).to_be_visible()


async def pupil_signed_in(page: Page, server: LiveServer, number: int = 0) -> None:
    await sign_in_home(page, server.url, *server.pupils[number])
    await expect(page.locator("#pupil")).to_be_visible()


def period_line(answer: dict[str, Any]) -> str:
    """What the week header says of the period, from a schedule or diary answer."""
    if not answer.get("period"):
        return EN["journal.no_period"]
    if answer.get("week_number"):
        return text("journal.period_week", period=answer["period"], number=answer["week_number"])
    return text("journal.period", period=answer["period"])


def lesson_page_url(server: LiveServer, lesson: dict[str, Any]) -> str:
    return f"{server.url}/journal/lessons/{lesson['id']}"


def attendance_row(page: Page, name: str) -> Any:
    return page.locator("#attendance > tr").filter(
        has=page.get_by_role("rowheader", name=name, exact=True)
    )


def diary_row(page: Page, lesson: dict[str, Any]) -> Any:
    """The diary's row of a lesson (the demo school has a timetable of its own)."""
    return page.locator(f'#days tbody > tr[data-lesson="{lesson["id"]}"]')


async def start_from_dialog(page: Page) -> Page:
    """Presses "Start lesson", confirms; returns the room's tab that opened."""
    await page.get_by_role("button", name=EN["journal.start"], exact=True).click()
    dialog = page.get_by_role("dialog", name=EN["journal.start_confirm_title"])
    await expect(dialog).to_be_visible()
    async with page.context.expect_page() as opened:
        await dialog.get_by_role("button", name=EN["journal.start_confirm"]).click()
    room = await opened.value
    await room.wait_for_load_state()
    return room


async def test_lesson_from_schedule_to_diary(live_server: LiveServer, browsers: Browsers) -> None:
    teacher = await browsers.person("teacher")
    pupil = await browsers.person("pupil")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(teacher, live_server.url, live_server.class_id, "Algebra")

    # The schedule: this week's lesson, a link to its page.
    await teacher.get_by_role("link", name=EN["home.journal"], exact=True).click()
    await expect(teacher.get_by_role("heading", level=1)).to_have_text(EN["journal.schedule_title"])
    await expect(teacher.locator("#week-title")).to_contain_text(lesson["week"])
    schedule = await (await teacher.request.get(live_server.url + "/api/schedule")).json()
    await expect(teacher.locator("#week-period")).to_have_text(period_line(schedule))
    row = teacher.locator(f'#lessons tr[data-lesson="{lesson["id"]}"]')
    await expect(row).to_contain_text("7A")
    await expect(row).to_contain_text(EN["journal.state_scheduled"])
    await row.get_by_role("link", name=re.compile(r"^Algebra, 7A")).click()
    await expect(teacher).to_have_url(lesson_page_url(live_server, lesson))
    await expect(teacher.get_by_role("heading", level=1)).to_have_text(
        text("journal.lesson_heading", subject="Algebra", **{"class": "7A"})
    )

    # A typed topic (hostile on purpose) is shown as text.
    topic = f"Fractions {XSS_IMG}"
    await teacher.get_by_label(EN["journal.topic_typed"], exact=True).fill(topic)
    await teacher.get_by_role("button", name=EN["journal.topic_save"]).click()
    await expect(teacher.locator("#topic-current")).to_have_text(topic)

    # Start lesson → confirmation → the room opens in a new tab; the invite link appears.
    room = await start_from_dialog(teacher)
    await expect(room).to_have_url(re.compile(r"/r/\S+$"))
    invite = teacher.get_by_role("textbox", name=EN["journal.invite_link"], exact=True)
    await expect(invite).to_have_value(room.url)
    await expect(invite).to_be_focused()
    await expect(room.locator("#inside")).to_be_visible()
    # The schedule shows the lesson in progress, its room a click away.
    schedule_page = await teacher.context.new_page()
    await schedule_page.goto(f"{live_server.url}/journal")
    in_progress = schedule_page.locator(f'#lessons tr[data-lesson="{lesson["id"]}"]')
    await expect(in_progress).to_contain_text(EN["journal.state_open"])
    await expect(
        in_progress.get_by_role(
            "link", name=text("journal.open_room_of", subject="Algebra", **{"class": "7A"})
        )
    ).to_have_attribute("href", room.url)
    await schedule_page.close()

    # The pupil finds the lesson in the diary, with a join link, and joins from it.
    await pupil_signed_in(pupil, live_server)
    await pupil.get_by_role("link", name=EN["home.diary"], exact=True).click()
    await expect(pupil.get_by_role("heading", level=1)).to_have_text(EN["diary.heading"])
    diary = await (await pupil.request.get(live_server.url + "/api/diary")).json()
    await expect(pupil.locator("#week-period")).to_have_text(period_line(diary))
    lesson_row = diary_row(pupil, lesson)
    await expect(lesson_row).to_contain_text(topic)
    join = lesson_row.get_by_role("link", name=text("diary.join_label", subject="Algebra"))
    await expect(join).to_have_attribute("href", room.url)
    await join.click()
    await expect(pupil).to_have_url(room.url)
    await expect(pupil.locator("#inside")).to_be_visible()
    name = await pupil.locator("#you-name").inner_text()

    # The teacher's live attendance says what is true now — the pupil in the room since they
    # came, the classmates not here yet — and no verdict (that is End lesson's proposal).
    pupil_row = attendance_row(teacher, name)
    here_since = EN["presence.here_since"].split("{time}")[0]
    await expect(pupil_row.locator('[data-field="status"]')).to_contain_text(here_since)
    await expect(teacher.locator("#attendance > tr")).to_have_count(4)
    await expect(
        teacher.locator('#attendance > tr [data-field="status"]').filter(
            has_text=EN["presence.not_yet"]
        )
    ).to_have_count(3)
    await expect(teacher.locator("#attendance > tr.absent")).to_have_count(0)
    await expect(teacher.locator("#missing")).to_contain_text(EN["journal.missing_now"][:10])
    await expect(teacher.locator("#missing")).not_to_contain_text(name)

    # A mark with a comment, and homework for the whole class.
    comment = f"Well done {XSS_SCRIPT}"
    await teacher.get_by_label(text("journal.mark_of", name=name), exact=True).select_option("5")
    await teacher.get_by_label(text("journal.mark_comment_of", name=name), exact=True).fill(comment)
    await teacher.get_by_role("button", name=text("journal.mark_save_of", name=name)).click()
    mark_row = teacher.locator("#marks > tr").filter(has_text=name)
    await expect(mark_row.locator(".mark-value")).to_have_text(text("journal.mark_given", value=5))
    homework = f"Exercises 12-14 {XSS_SVG}"
    await teacher.get_by_label(EN["journal.assignment_kind"], exact=True).select_option("homework")
    await teacher.get_by_label(EN["journal.assignment_text"], exact=True).fill(homework)
    await teacher.get_by_label(EN["journal.assignment_due"], exact=True).fill("2030-01-15")
    await teacher.get_by_role("button", name=EN["journal.assignment_add"]).click()
    await expect(teacher.locator("#assignments .assignment-text")).to_have_text([homework])

    # End lesson: its confirmation lists the proposal (once the pupil's share of the lesson so
    # far passes 50 %: the proposal is about wall-clock time, so poll it), then the journal
    # shows the pupil present and the classmates absent.
    proposal_url = f"{live_server.url}/api/lessons/{lesson['id']}/attendance"
    async with asyncio.timeout(60):
        while not any(
            p["name"] == name and p["status"] == "present"
            for p in (await (await teacher.request.get(proposal_url)).json())["attendance"]
        ):
            await asyncio.sleep(0.5)
    await teacher.get_by_role("button", name=EN["journal.end"], exact=True).click()
    end_dialog = teacher.get_by_role("dialog", name=EN["journal.end_confirm_title"])
    proposal = end_dialog.locator("#end-proposal > li")
    await expect(proposal).to_have_count(4)
    await expect(proposal.filter(has_text=name)).to_have_text(
        text("journal.end_proposal_row", name=name, status=EN["journal.status_present"])
    )
    await end_dialog.get_by_role("button", name=EN["journal.end_confirm"]).click()
    await expect(teacher.locator("#info-state")).to_have_text(EN["journal.state_closed"])
    await expect(teacher.locator("#attendance-note")).to_have_text(EN["journal.attendance_final"])
    statuses = teacher.locator('#attendance > tr [data-field="status"]')
    await expect(statuses).to_have_count(4)
    await expect(attendance_row(teacher, name).locator('[data-field="status"]')).to_have_text(
        EN["journal.status_present"]
    )
    absent = teacher.locator("#attendance > tr.absent")
    await expect(absent).to_have_count(3)
    for cell in await absent.locator('[data-field="status"]').all():
        await expect(cell).to_have_text(EN["journal.status_absent"])
    await expect(teacher.locator(INERT)).to_have_count(0)

    # The pupil's diary: the mark with its comment, the homework, present; no join link now.
    await pupil.goto(live_server.url + "/diary")
    lesson_row = diary_row(pupil, lesson)
    await expect(lesson_row.locator(".mark-value")).to_have_text("5")
    await expect(lesson_row.locator(".mark-comment")).to_have_text(comment)
    await expect(lesson_row.locator(".assignment-text")).to_have_text(homework)
    await expect(lesson_row).to_contain_text(EN["journal.status_present"])
    await expect(lesson_row.get_by_role("link")).to_have_count(0)
    await expect(pupil.locator(INERT)).to_have_count(0)


async def test_diary_is_read_only(live_server: LiveServer, browsers: Browsers) -> None:
    teacher = await browsers.person("teacher")
    pupil = await browsers.person("pupil")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(teacher, live_server.url, live_server.class_id, "Biology")
    started = await teacher.request.post(f"{live_server.url}/api/lessons/{lesson['id']}/start")
    assert started.status == 200

    await pupil_signed_in(pupil, live_server)
    await pupil.goto(live_server.url + "/diary")
    row = diary_row(pupil, lesson)
    await expect(row).to_be_visible()
    # Nothing to edit: no form controls among the days, only the join link.
    await expect(
        pupil.locator("#days").locator("input, select, textarea, button, form")
    ).to_have_count(0)
    await expect(row.get_by_role("link")).to_have_count(1)

    # The API refuses every write (and the teacher's view) to a pupil.
    me = await (await pupil.request.get(live_server.url + "/api/me")).json()
    base = f"{live_server.url}/api/lessons/{lesson['id']}"
    refused = [
        await pupil.request.put(f"{base}/marks/{me['user']['id']}", data={"value": 5}),
        await pupil.request.delete(f"{base}/marks/{me['user']['id']}"),
        await pupil.request.put(f"{base}/topic", data={"topic": "mine"}),
        await pupil.request.post(
            f"{base}/assignments",
            data={
                "kind": "homework",
                "difficulty": "basic",
                "text": "none",
                "due_on": None,
                "pupil_ids": None,
            },
        ),
        await pupil.request.post(f"{base}/end", data={"corrections": []}),
        await pupil.request.get(base),
    ]
    assert [r.status for r in refused] == [403] * len(refused)
    for answer in refused:
        assert (await answer.json())["error"]["code"] == "not_permitted"

    # The teacher's pages say they are for teachers.
    await pupil.goto(live_server.url + "/journal")
    await expect(pupil.get_by_role("heading", level=1)).to_have_text(
        EN["journal.teachers_only_title"]
    )
    await expect(pupil.locator("#content")).to_be_hidden()


async def test_hostile_text_renders_inert(live_server: LiveServer, browsers: Browsers) -> None:
    teacher = await browsers.person("teacher")
    pupil = await browsers.person("pupil")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(teacher, live_server.url, live_server.class_id, "Chemistry")
    base = f"{live_server.url}/api/lessons/{lesson['id']}"
    await pupil_signed_in(pupil, live_server)
    pupil_id = (await (await pupil.request.get(live_server.url + "/api/me")).json())["user"]["id"]

    topic = f"{XSS_IMG}{XSS_SVG}"
    task = f"{XSS_SCRIPT} javascript:alert(4)"
    comment = f"{XSS_SVG} & {XSS_IMG}"
    for answer in [
        await teacher.request.put(f"{base}/topic", data={"topic": topic}),
        await teacher.request.post(
            f"{base}/assignments",
            data={
                "kind": "homework",
                "difficulty": "advanced",
                "text": task,
                "due_on": None,
                "pupil_ids": [pupil_id],
            },
        ),
        await teacher.request.put(
            f"{base}/marks/{pupil_id}", data={"value": 4, "comment": comment}
        ),
    ]:
        assert answer.ok, await answer.text()

    await teacher.goto(f"{live_server.url}/journal")
    await expect(teacher.locator(f'#lessons tr[data-lesson="{lesson["id"]}"]')).to_contain_text(
        topic
    )
    await teacher.goto(lesson_page_url(live_server, lesson))
    await expect(teacher.locator("#topic-current")).to_have_text(topic)
    await expect(teacher.locator("#assignments .assignment-text")).to_have_text([task])
    name = await teacher.locator("#marks > tr th").first.inner_text()
    assert "(mark 4)" in name
    comment_box = teacher.locator("#marks input[data-action=comment]").first
    await expect(comment_box).to_have_value(comment)
    await expect(teacher.locator(INERT)).to_have_count(0)

    await pupil.goto(live_server.url + "/diary")
    row = diary_row(pupil, lesson)
    await expect(row).to_contain_text(topic)
    await expect(row.locator(".assignment-text")).to_have_text(task)
    await expect(row.locator(".mark-comment")).to_have_text(comment)
    await expect(pupil.locator(INERT)).to_have_count(0)


async def test_start_dialog_by_keyboard_alone(live_server: LiveServer, browsers: Browsers) -> None:
    teacher = await browsers.person("teacher")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(teacher, live_server.url, live_server.class_id, "Geometry")
    await teacher.goto(lesson_page_url(live_server, lesson))
    start = teacher.get_by_role("button", name=EN["journal.start"], exact=True)
    await expect(start).to_be_visible()

    # Tab from the topic's Save button reaches "Start lesson"; Enter opens the dialog with
    # focus on its confirm button; Escape cancels and gives focus back.
    await teacher.get_by_role("button", name=EN["journal.topic_save"]).focus()
    await teacher.keyboard.press("Tab")
    await expect(start).to_be_focused()
    await teacher.keyboard.press("Enter")
    dialog = teacher.get_by_role("dialog", name=EN["journal.start_confirm_title"])
    await expect(dialog).to_be_visible()
    confirm = dialog.get_by_role("button", name=EN["journal.start_confirm"])
    await expect(confirm).to_be_focused()
    await expect(dialog).to_contain_text("Geometry")
    await teacher.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(start).to_be_focused()
    state = await (
        await teacher.request.get(f"{live_server.url}/api/lessons/{lesson['id']}")
    ).json()
    assert state["lesson"]["state"] == "scheduled"

    # Cancel by Tab + Enter: still not started.
    await teacher.keyboard.press("Enter")
    await expect(confirm).to_be_focused()
    await teacher.keyboard.press("Tab")
    await expect(dialog.get_by_role("button", name=EN["journal.cancel"])).to_be_focused()
    await teacher.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(start).to_be_focused()

    # Focus stays inside the modal dialog; Enter on the confirm button starts the lesson.
    await teacher.keyboard.press("Enter")
    await expect(confirm).to_be_focused()
    async with teacher.context.expect_page() as opened:
        await teacher.keyboard.press("Enter")
    room = await opened.value
    await expect(room).to_have_url(re.compile(r"/r/\S+$"))
    await expect(teacher.get_by_role("textbox", name=EN["journal.invite_link"])).to_be_focused()
    await expect(teacher.locator("#info-state")).to_have_text(EN["journal.state_open"])


async def test_week_switch_add_form_and_language(
    live_server: LiveServer, browsers: Browsers
) -> None:
    teacher = await browsers.person("teacher")
    ru = strings("ru")
    await teacher_signed_in(teacher, live_server)
    await teacher.get_by_role("link", name=EN["home.journal"], exact=True).click()
    await expect(teacher.get_by_role("heading", level=1)).to_have_text(EN["journal.schedule_title"])
    # The language switch changes the page's strings (and is remembered).
    await teacher.get_by_label(EN["lang.label"], exact=True).select_option("ru")
    await expect(teacher.locator("html")).to_have_attribute("lang", "ru")
    await expect(teacher.get_by_role("heading", level=1)).to_have_text(ru["journal.schedule_title"])
    # The week loads after the heading: read its title once it is there (a clean-clone run read
    # it empty at load and then waited for an empty title).
    await expect(teacher.locator("#week-title")).to_contain_text(re.compile(r"\d{4}-W\d{2}"))
    this_week = await teacher.locator("#week-title").inner_text()

    # A lesson added through the form on a day in 2030 shows that week's schedule.
    await teacher.get_by_text(ru["journal.add_title"]).click()
    await teacher.get_by_label(ru["journal.col_class"], exact=True).select_option(label="7A")
    await teacher.get_by_label(ru["journal.col_subject"], exact=True).fill("Физика")
    await teacher.get_by_label(ru["journal.date"], exact=True).fill("2030-03-04")
    await teacher.get_by_label(ru["journal.starts"], exact=True).fill("09:00")
    await teacher.get_by_label(ru["journal.ends"], exact=True).fill("09:45")
    await teacher.get_by_role("button", name=ru["journal.add"]).click()
    await expect(teacher.locator("#week-title")).to_contain_text("2030-W10")
    await expect(teacher).to_have_url(re.compile(r"week=2030-W10$"))
    link = teacher.locator("#lessons").get_by_role("link", name=re.compile("^Физика"))
    await expect(link).to_be_focused()
    # The times typed are on the school's clock (Asia/Almaty by default), not the browser's (UTC).
    week = await (await teacher.request.get(live_server.url + "/api/schedule?week=2030-W10")).json()
    physics = next(lesson for lesson in week["lessons"] if lesson["subject"] == "Физика")
    almaty = ZoneInfo("Asia/Almaty")
    assert physics["starts_at"] == datetime(2030, 3, 4, 9, 0, tzinfo=almaty).timestamp()
    assert physics["ends_at"] == datetime(2030, 3, 4, 9, 45, tzinfo=almaty).timestamp()
    row = teacher.locator(f'#lessons tr[data-lesson="{physics["id"]}"]')
    await expect(row.get_by_role("rowheader")).to_have_text(re.compile(r"^09:00\D+09:45$"))

    # Weeks back and forth; "this week" comes back to where we started.
    await teacher.get_by_role("button", name=ru["journal.week_next"]).click()
    await expect(teacher.locator("#week-title")).to_contain_text("2030-W11")
    await expect(teacher.locator("#lessons-empty")).to_be_visible()
    await teacher.get_by_role("button", name=ru["journal.week_prev"]).click()
    await expect(teacher.locator("#week-title")).to_contain_text("2030-W10")
    await expect(link).to_be_visible()
    await teacher.get_by_role("button", name=ru["journal.week_current"]).click()
    await expect(teacher.locator("#week-title")).to_have_text(this_week)

    # And on to Kazakh.
    await teacher.get_by_label(ru["lang.label"], exact=True).select_option("kk")
    kk = strings("kk")
    await expect(teacher.locator("html")).to_have_attribute("lang", "kk")
    await expect(teacher.get_by_role("heading", level=1)).to_have_text(kk["journal.schedule_title"])
    await expect(teacher).to_have_title(f"{kk['journal.title']} · Sabaq")
    # Days and months in Kazakh words (from the locale files, whatever the browser's ICU has).
    await teacher.goto(live_server.url + "/journal?week=2030-W10")
    march = kk["journal.month_3"]
    await expect(teacher.locator("#week-title")).to_have_text(
        text(
            "journal.week_label",
            "kk",
            week="2030-W10",
            **{"from": f"4 {march}", "to": f"10 {march}"},
        )
    )
    monday = text("journal.date_long", "kk", day=4, month=march, weekday=kk["journal.weekday_1"])
    await expect(teacher.locator("#lessons h3")).to_have_text([monday])


async def test_journal_pages_have_no_serious_accessibility_violations(
    live_server: LiveServer, browsers: Browsers, axe_source: Path
) -> None:
    teacher = await browsers.person("teacher", bypass_csp=True)
    pupil = await browsers.person("pupil", bypass_csp=True)
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(teacher, live_server.url, live_server.class_id, "History")
    base = f"{live_server.url}/api/lessons/{lesson['id']}"
    await teacher.request.post(
        f"{base}/assignments",
        data={
            "kind": "homework",
            "difficulty": "basic",
            "text": "Read §4",
            "due_on": "2030-01-10",
            "pupil_ids": None,
        },
    )
    problems: dict[str, list[str]] = {}
    problems["home, teacher"] = await axe_violations(teacher, axe_source)

    await teacher.goto(live_server.url + "/journal")
    await expect(teacher.locator(f'#lessons tr[data-lesson="{lesson["id"]}"]')).to_be_visible()
    problems["schedule"] = await axe_violations(teacher, axe_source)

    await teacher.goto(lesson_page_url(live_server, lesson))
    await expect(teacher.locator("#marks > tr")).to_have_count(4)
    problems["lesson, scheduled"] = await axe_violations(teacher, axe_source)
    await teacher.get_by_role("button", name=EN["journal.start"], exact=True).click()
    await expect(teacher.get_by_role("dialog")).to_be_visible()
    problems["start dialog"] = await axe_violations(teacher, axe_source)
    async with teacher.context.expect_page():
        await teacher.get_by_role("button", name=EN["journal.start_confirm"]).click()
    await expect(teacher.locator("#attendance > tr")).to_have_count(4)
    problems["lesson, open"] = await axe_violations(teacher, axe_source)

    await pupil_signed_in(pupil, live_server)
    problems["home, pupil"] = await axe_violations(pupil, axe_source)
    await pupil.goto(live_server.url + "/diary")
    await expect(diary_row(pupil, lesson).get_by_role("link")).to_have_count(1)
    problems["diary, lesson open"] = await axe_violations(pupil, axe_source)

    await teacher.get_by_role("button", name=EN["journal.end"], exact=True).click()
    await teacher.get_by_role("button", name=EN["journal.end_confirm"]).click()
    await expect(teacher.locator("#attendance-note")).to_have_text(EN["journal.attendance_final"])
    problems["lesson, closed"] = await axe_violations(teacher, axe_source)
    await pupil.reload()
    await expect(diary_row(pupil, lesson)).to_contain_text(EN["journal.status_absent"])
    problems["diary, lesson closed"] = await axe_violations(pupil, axe_source)
    await pupil.set_viewport_size({"width": 390, "height": 800})
    problems["diary, phone"] = await axe_violations(pupil, axe_source)

    assert not {k: v for k, v in problems.items() if v}, problems


async def test_topic_from_the_thematic_plan(live_server: LiveServer, browsers: Browsers) -> None:
    teacher = await browsers.person("teacher")
    await teacher_signed_in(teacher, live_server)
    subjects = (await (await teacher.request.get(live_server.url + "/api/subjects")).json())[
        "subjects"
    ]
    algebra = next(s for s in subjects if s["name"] == "Algebra")
    start = time.time() + 3600
    created = await teacher.request.post(
        live_server.url + "/api/lessons",
        data={
            "class_id": live_server.class_id,
            "subject_id": algebra["id"],
            "starts_at": start,
            "ends_at": start + 2700,
        },
    )
    assert created.status == 201, await created.text()
    lesson = (await created.json())["lesson"]
    await teacher.goto(lesson_page_url(live_server, lesson))

    # The demo teacher's Algebra plan for 7A is offered; the chosen topic becomes the lesson's.
    plan = teacher.get_by_label(EN["journal.topic_from_plan"], exact=True)
    await expect(plan).to_be_visible()
    second = plan.locator("option").nth(2)
    label = await second.inner_text()
    title = re.sub(r"^\d+\. (.*) \(\d+ h\)$", r"\1", label)
    assert title != label, label
    await plan.select_option(label=label)
    await teacher.get_by_role("button", name=EN["journal.topic_save"]).click()
    await expect(teacher.locator("#topic-current")).to_have_text(title)
    saved = await (
        await teacher.request.get(f"{live_server.url}/api/lessons/{lesson['id']}")
    ).json()
    assert saved["lesson"]["topic"] == title
    assert saved["lesson"]["topic_id"] == int(await second.get_attribute("value") or 0)

    # After a reload the plan topic is still the chosen one, and the typed field is empty.
    await teacher.reload()
    await expect(plan).to_have_value(str(saved["lesson"]["topic_id"]))
    await expect(teacher.get_by_label(EN["journal.topic_typed"], exact=True)).to_have_value("")


async def test_home_links_by_kind_of_account(
    live_server: RunningServer, browsers: Browsers
) -> None:
    accounts = [
        line.split()
        for line in (live_server.settings.data / CREDENTIALS_FILE).read_text().splitlines()
        if line.startswith("admin ")
    ]
    assert accounts, "the demo school has an administrator"
    admin = await browsers.person("admin")
    await sign_in_home(admin, live_server.url, accounts[0][1], accounts[0][2])
    await expect(admin.get_by_role("heading", level=1)).to_have_text(EN["home.admin_title"])
    link = admin.get_by_role("link", name=EN["home.admin"], exact=True)
    await expect(link).to_have_attribute("href", "/admin")
    await expect(admin.get_by_role("link", name=EN["home.journal"])).to_have_count(0)
    await expect(admin.get_by_role("link", name=EN["home.diary"])).to_have_count(0)

    teacher = await browsers.person("teacher")
    await sign_in_home(teacher, live_server.url, *live_server.teacher)
    await expect(
        teacher.get_by_role("link", name=EN["home.journal"], exact=True)
    ).to_have_attribute("href", "/journal")
    await expect(teacher.get_by_role("link", name=EN["home.diary"])).to_have_count(0)
    pupil = await browsers.person("pupil")
    await sign_in_home(pupil, live_server.url, *live_server.pupils[0])
    await expect(pupil.get_by_role("link", name=EN["home.diary"], exact=True)).to_have_attribute(
        "href", "/diary"
    )
    await expect(pupil.get_by_role("link", name=EN["home.journal"])).to_have_count(0)


async def test_end_lesson_with_corrections(live_server: LiveServer, browsers: Browsers) -> None:
    teacher = await browsers.person("teacher")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(
        teacher, live_server.url, live_server.class_id, "Geography", starts_in_s=-60
    )
    started = await teacher.request.post(f"{live_server.url}/api/lessons/{lesson['id']}/start")
    assert started.status == 200
    await teacher.goto(lesson_page_url(live_server, lesson))
    rows = teacher.locator("#attendance > tr")
    await expect(rows).to_have_count(4)
    names = [await th.inner_text() for th in await rows.locator("th").all()]
    # Nobody joined: nobody is here yet (the verdict waits for End lesson). The teacher corrects
    # two pupils (one was in class without a device, one is absent with a note) and leaves the
    # others as proposed.
    for name in names:
        await expect(attendance_row(teacher, name).locator('[data-field="status"]')).to_have_text(
            EN["presence.not_yet"]
        )
    present, noted = names[0], names[1]
    await teacher.get_by_label(
        text("journal.correction_of", name=present), exact=True
    ).select_option("present")
    await teacher.get_by_label(
        text("journal.attendance_comment_of", name=present), exact=True
    ).fill("In class, no device")
    note = f"Ill {XSS_IMG}"
    await teacher.get_by_label(text("journal.attendance_comment_of", name=noted), exact=True).fill(
        note
    )
    # The next live refresh of the proposal keeps what was typed.
    async with teacher.expect_response(lambda r: r.url.endswith("/attendance")):
        pass
    await expect(
        teacher.get_by_label(text("journal.attendance_comment_of", name=noted), exact=True)
    ).to_have_value(note)

    await teacher.get_by_role("button", name=EN["journal.end"], exact=True).click()
    dialog = teacher.get_by_role("dialog", name=EN["journal.end_confirm_title"])
    await expect(dialog).to_contain_text(text("journal.end_confirm_text", corrections=2))
    # The proposal, with the teacher's corrections in it.
    await expect(dialog.locator("#end-proposal > li")).to_have_text(
        [
            text(
                "journal.end_proposal_row",
                name=n,
                status=EN["journal.status_present" if n == present else "journal.status_absent"],
            )
            for n in names
        ]
    )
    # The irreversible step starts on Cancel.
    await expect(dialog.get_by_role("button", name=EN["journal.cancel"])).to_be_focused()
    await dialog.get_by_role("button", name=EN["journal.end_confirm"]).click()
    await expect(teacher.locator("#attendance-note")).to_have_text(EN["journal.attendance_final"])
    present_row = attendance_row(teacher, present)
    await expect(present_row.locator('[data-field="status"]')).to_have_text(
        EN["journal.status_present"]
    )
    await expect(present_row.locator('[data-field="comment-text"]')).to_have_text(
        "In class, no device"
    )
    noted_row = attendance_row(teacher, noted)
    await expect(noted_row.locator('[data-field="status"]')).to_have_text(
        EN["journal.status_absent"]
    )
    await expect(noted_row.locator('[data-field="comment-text"]')).to_have_text(note)
    await expect(teacher.locator("#attendance > tr.absent")).to_have_count(3)
    await expect(teacher.locator(INERT)).to_have_count(0)
    # No correction controls once the lesson is closed; no Start or End either.
    await expect(teacher.locator("#attendance select, #attendance input")).to_have_count(0)
    await expect(teacher.get_by_role("button", name=EN["journal.end"], exact=True)).to_be_hidden()
    await expect(teacher.get_by_role("button", name=EN["journal.start"], exact=True)).to_be_hidden()

    # A mark for a pupil recorded absent is refused with the journal's sentence.
    await teacher.get_by_label(text("journal.mark_of", name=noted), exact=True).select_option("3")
    detail = await (
        await teacher.request.get(f"{live_server.url}/api/lessons/{lesson['id']}")
    ).json()
    noted_id = next(p["id"] for p in detail["pupils"] if p["name"] == noted)
    browsers.watch(teacher).allow_http_error(f"/api/lessons/{lesson['id']}/marks/{noted_id}", 409)
    await teacher.get_by_role("button", name=text("journal.mark_save_of", name=noted)).click()
    await expect(teacher.get_by_role("alert")).to_have_text(EN["error.pupil_absent"])


async def test_marks_follow_the_school_scale(
    live_server: RunningServer, browsers: Browsers
) -> None:
    admin_login = next(
        line.split()[1:3]
        for line in (live_server.settings.data / CREDENTIALS_FILE).read_text().splitlines()
        if line.startswith("admin ")
    )
    admin = await browsers.person("admin")
    signed = await admin.request.post(
        live_server.url + "/api/session",
        data={"login": admin_login[0], "password": admin_login[1]},
    )
    assert signed.ok, await signed.text()
    changed = await admin.request.put(
        live_server.url + "/api/admin/school", data={"mark_min": 1, "mark_max": 10}
    )
    assert changed.ok, await changed.text()

    teacher = await browsers.person("teacher")
    await sign_in_home(teacher, live_server.url, *live_server.teacher)
    await expect(teacher.locator("#teacher")).to_be_visible()
    lesson = await schedule_lesson(teacher, live_server.url, live_server.class_id, "Music")
    await teacher.goto(f"{live_server.url}/journal/lessons/{lesson['id']}")
    await expect(teacher.locator("#marks-scale")).to_have_text(
        text("journal.marks_scale", min=1, max=10)
    )
    first = teacher.locator("#marks > tr").first.locator("select")
    await expect(first.locator("option")).to_have_text(
        [EN["journal.mark_none"], *[str(v) for v in range(1, 11)]]
    )
    await first.select_option("10")
    await (
        teacher.locator("#marks > tr").first.get_by_role("button", name=re.compile("^Save")).click()
    )
    await expect(teacher.locator("#marks > tr").first.locator(".mark-value")).to_have_text(
        text("journal.mark_given", value=10)
    )


async def test_diary_shows_the_join_link_when_the_lesson_starts(
    live_server: LiveServer, browsers: Browsers
) -> None:
    teacher = await browsers.person("teacher")
    pupil = await browsers.person("pupil")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(teacher, live_server.url, live_server.class_id, "Art")
    await pupil_signed_in(pupil, live_server)
    await pupil.goto(live_server.url + "/diary")
    row = diary_row(pupil, lesson)
    await expect(row).to_be_visible()
    await expect(row.get_by_role("link")).to_have_count(0)
    # The teacher starts the lesson; the open diary refreshes itself (every 15 s).
    started = await teacher.request.post(f"{live_server.url}/api/lessons/{lesson['id']}/start")
    assert started.status == 200
    invite = (await started.json())["invite_url"]
    join = row.get_by_role("link", name=text("diary.join_label", subject="Art"))
    await expect(join).to_have_attribute("href", invite, timeout=25_000)


async def test_lesson_page_follows_an_end_made_elsewhere(
    live_server: LiveServer, browsers: Browsers
) -> None:
    teacher = await browsers.person("teacher")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(
        teacher, live_server.url, live_server.class_id, "Literature", starts_in_s=-60
    )
    base = f"{live_server.url}/api/lessons/{lesson['id']}"
    assert (await teacher.request.post(f"{base}/start")).status == 200
    await teacher.goto(lesson_page_url(live_server, lesson))
    await expect(teacher.locator("#attendance > tr")).to_have_count(4)
    # A mark being typed on the page meanwhile.
    first_mark = teacher.locator("#marks > tr").first.locator("select")
    await first_mark.select_option("4")

    # The lesson ends in another tab (the room's End lesson uses the same API).
    ended = await teacher.request.post(f"{base}/end", data={"corrections": []})
    assert ended.status == 200, await ended.text()
    await expect(teacher.locator("#info-state")).to_have_text(
        EN["journal.state_closed"], timeout=25_000
    )
    await expect(teacher.locator("#attendance-note")).to_have_text(EN["journal.attendance_final"])
    await expect(teacher.locator("#attendance > tr.absent")).to_have_count(4)
    await expect(teacher.get_by_role("button", name=EN["journal.end"], exact=True)).to_be_hidden()
    await expect(first_mark).to_have_value("4")


async def test_assignment_for_chosen_pupils(live_server: LiveServer, browsers: Browsers) -> None:
    teacher = await browsers.person("teacher")
    chosen = await browsers.person("chosen pupil")
    other = await browsers.person("other pupil")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(teacher, live_server.url, live_server.class_id, "English")
    await pupil_signed_in(chosen, live_server, 0)
    await pupil_signed_in(other, live_server, 1)
    name = (await (await chosen.request.get(live_server.url + "/api/me")).json())["user"][
        "display_name"
    ]

    await teacher.goto(lesson_page_url(live_server, lesson))
    form = teacher.locator("#assignment-form")
    await form.get_by_label(EN["journal.assignment_kind"], exact=True).select_option("homework")
    await form.get_by_label(EN["journal.assignment_difficulty"], exact=True).select_option(
        "advanced"
    )
    await form.get_by_label(EN["journal.assignment_text"], exact=True).fill("Essay: my town")
    # "Chosen pupils" with nobody chosen is refused on the page.
    await form.get_by_label(EN["journal.for_chosen"], exact=True).check()
    await form.get_by_role("button", name=EN["journal.assignment_add"]).click()
    await expect(teacher.get_by_role("alert")).to_have_text(
        EN["journal.assignment_pupils_required"]
    )
    await form.get_by_label(name, exact=True).check()
    await form.get_by_role("button", name=EN["journal.assignment_add"]).click()
    item = teacher.locator("#assignments > li")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text(text("journal.for_pupils", names=name))
    await expect(item).to_contain_text(EN["journal.difficulty_advanced"])
    # The form is ready for the next one: emptied, for the whole class again.
    await expect(form.get_by_label(EN["journal.assignment_text"], exact=True)).to_have_value("")
    await expect(form.get_by_label(EN["journal.for_all"], exact=True)).to_be_checked()

    # Only the chosen pupil has it in the diary.
    await chosen.goto(live_server.url + "/diary")
    await expect(diary_row(chosen, lesson).locator(".assignment-text")).to_have_text(
        "Essay: my town"
    )
    await other.goto(live_server.url + "/diary")
    await expect(diary_row(other, lesson)).to_be_visible()
    await expect(diary_row(other, lesson).locator(".assignment-text")).to_have_count(0)
    # On a phone the lesson's cells stack, each under its column's name; empty ones are left out.
    await other.set_viewport_size({"width": 390, "height": 800})
    row = diary_row(other, lesson)
    teacher_cell = row.locator(f'td[data-label="{EN["diary.col_teacher"]}"]')
    await expect(teacher_cell).to_be_visible()
    homework_cell = row.locator(f'td[data-label="{EN["diary.col_homework"]}"]')
    await expect(homework_cell).to_have_text("—")
    await expect(homework_cell).to_be_hidden()
    box = await row.bounding_box()
    assert box is not None and box["width"] <= 390, box

    # Deleting it by keyboard: the list empties and focus lands on the section's heading.
    delete = item.get_by_role("button", name=re.compile("^" + re.escape("Delete the assignment")))
    await delete.focus()
    await teacher.keyboard.press("Enter")
    await expect(item).to_have_count(0)
    await expect(teacher.locator("#assignments-empty")).to_be_visible()
    await expect(teacher.locator("#assignments-title")).to_be_focused()
    detail = await (
        await teacher.request.get(f"{live_server.url}/api/lessons/{lesson['id']}")
    ).json()
    assert detail["assignments"] == []


async def test_signed_out_and_unknown_lesson(live_server: LiveServer, browsers: Browsers) -> None:
    visitor = await browsers.person("visitor")
    for path in ("/journal", "/journal/lessons/1", "/diary"):
        await visitor.goto(live_server.url + path)
        await expect(visitor.get_by_role("heading", level=1)).to_have_text(
            EN["journal.signedout_title"]
        )
        await expect(visitor.get_by_role("link", name=EN["journal.to_home"])).to_have_attribute(
            "href", "/"
        )
        await expect(visitor.locator("#content")).to_be_hidden()

    teacher = await browsers.person("teacher")
    await teacher_signed_in(teacher, live_server)
    browsers.watch(teacher).allow_http_error("/api/lessons/999999", 404)
    await teacher.goto(live_server.url + "/journal/lessons/999999")
    await expect(teacher.get_by_role("alert")).to_have_text(EN["error.unknown_lesson"])
    await expect(teacher.locator("#content")).to_be_hidden()
    # The diary is for pupils.
    await teacher.goto(live_server.url + "/diary")
    await expect(teacher.get_by_role("heading", level=1)).to_have_text(
        EN["diary.pupils_only_title"]
    )


async def test_guest_log_on_the_lesson_page(live_server: LiveServer, browsers: Browsers) -> None:
    teacher = await browsers.person("teacher")
    await teacher_signed_in(teacher, live_server)
    lesson = await schedule_lesson(
        teacher, live_server.url, live_server.class_id, "Music", starts_in_s=-60
    )
    started = await teacher.request.post(f"{live_server.url}/api/lessons/{lesson['id']}/start")
    invite = (await started.json())["invite_url"]
    await teacher.goto(invite)
    await expect(teacher.locator("#host-panel")).to_be_visible()

    guest = await browsers.person("guest")
    await guest.goto(invite)
    await guest.get_by_label(EN["room.full_name"], exact=True).fill("Aliya Serikova")
    await guest.get_by_label(EN["room.institution"], exact=True).fill("Gymnasium 3")
    await guest.get_by_role("button", name=EN["room.guest_enter"], exact=True).click()
    await admit_button(teacher, "Aliya Serikova").click()
    await expect(guest.locator("#inside")).to_be_visible()

    # The lesson page lists the guest in the guest log, not among the class's attendance.
    journal = await teacher.context.new_page()
    await journal.goto(lesson_page_url(live_server, lesson))
    await expect(journal.locator("#attendance > tr")).to_have_count(4)
    visit = journal.locator("#guests > tr").filter(
        has=journal.get_by_role("rowheader", name="Aliya Serikova", exact=True)
    )
    await expect(visit).to_contain_text("Gymnasium 3")
    await expect(visit).to_contain_text(EN["journal.guest_kind_guest"])
    await expect(visit).to_contain_text(EN["journal.guest_still_in"])
    await expect(journal.locator("#guests > tr")).to_have_count(1)  # the teacher is no guest
    await expect(journal.locator("#guests-empty")).to_be_hidden()
    await expect(attendance_row(journal, "Aliya Serikova")).to_have_count(0)
