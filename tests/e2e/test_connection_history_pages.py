"""The connection history on the lesson page and on a pupil's page (issue 14): a pupil whose
line was poor three lessons in a row is marked in words on both; kk/ru/en, axe, screenshots at
1366x768 and 390x844 to $SABAQ_ARTIFACTS or test-artifacts/quality/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from server import media_signalling
from server.keys import SIGNALLING
from server.quality_log import QualityLog
from tests.conftest import LiveServer
from tests.integration.peers import peers, sign_in
from tests.journal.test_connection_history import Lesson, reading, wait_rows
from tests.media.test_signalling import _TestClock

from .conftest import Browsers
from .flows import sign_in_home, text
from .test_accessibility import axe_violations
from .test_connections import ARTIFACTS, DESKTOP, PHONE

pytestmark = pytest.mark.e2e


async def shots(page: Page, name: str, check: str, key: str, **params: str) -> None:
    """Screenshots in each language and size; the heading `check` follows the language."""
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        for lang in ("kk", "ru", "en"):
            await page.locator("#lang").select_option(lang)
            await expect(page.locator(check)).to_have_text(text(key, lang, **params))
            await page.locator(check).scroll_into_view_if_needed()
            await page.screenshot(path=str(ARTIFACTS / f"{name}-{size}-{lang}.png"))
    await page.set_viewport_size(DESKTOP)


# How many lines the tallest cell of the history takes: the height of its contents (a Range: a
# table cell itself is as tall as its row) over its line height; the quality badge's border adds
# a little, hence the rounding.
TALLEST_CELL = """() => {
  let most = { lines: 0, text: "" };
  for (const cell of document.querySelectorAll("#conn-rows th, #conn-rows td")) {
    const style = getComputedStyle(cell);
    const lineHeight = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);
    const range = document.createRange();
    range.selectNodeContents(cell);
    const lines = Math.round(range.getBoundingClientRect().height / lineHeight);
    if (lines > most.lines) most = { lines, text: cell.innerText };
  }
  return most;
}"""


async def phone_rows_fit(page: Page, streak_said: int) -> None:
    """On a 390x844 phone, in each language: no cell of the history wraps into more than two lines
    (the pupil's page had its date in four), and "poor in the last 3 lessons" is said
    `streak_said` times on the whole page (the pupil's page said it twice)."""
    await page.set_viewport_size(PHONE)
    for lang in ("kk", "ru", "en"):
        await page.locator("#lang").select_option(lang)
        await expect(page.locator("#conn-table thead th").first).to_have_text(
            text("conn.col_pupil" if "/lessons/" in page.url else "conn.col_lesson", lang)
        )
        tallest = await page.evaluate(TALLEST_CELL)
        assert 1 <= tallest["lines"] <= 2, (lang, tallest)
        body = (await page.locator("body").inner_text()).lower()
        assert body.count(text("conn.poor_streak", lang).lower()) == streak_said, (lang, body)
    await page.locator("#lang").select_option("en")
    await page.set_viewport_size(DESKTOP)


@pytest.mark.timeout(150)
async def test_lesson_and_pupil_pages_show_the_history_and_three_poor_lessons(
    live_server: LiveServer,
    browsers: Browsers,
    axe_source: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = live_server
    clock = _TestClock()
    monkeypatch.setattr(media_signalling, "time", clock)
    server.app[SIGNALLING].quality_log = QualityLog(clock.monotonic)
    teacher = await sign_in(server, *server.teacher)
    lessons = [Lesson(server, teacher, clock) for _ in range(3)]
    for i, lesson in enumerate(lessons):
        await lesson.start(starts_in_s=-600 + 100 * i)
        async with peers("a", "b") as (a, b):
            await lesson.join(a, 0)
            await lesson.join(b, 1)
            await lesson.report(a, reading("poor", 800 + i, 12.0), reading("poor", 950, 9.5))
            await lesson.report(b, reading("good", 35), reading("good", 42))
            for peer in (a, b):
                assert (await peer.call("leave", {}))["ok"]
        await wait_rows(server, 2 * (i + 1))
    a_name, b_name = "Aigerim Nurlanova", "Daniyar Seitkali"  # the demo class's first two

    page = await browsers.person("teacher", bypass_csp=True)  # bypass only for axe's <script>
    await page.set_viewport_size(DESKTOP)
    await sign_in_home(page, server.url, *server.teacher)
    await expect(page.locator("#teacher")).to_be_visible()
    await page.goto(f"{server.url}/journal/lessons/{lessons[2].id}")
    table = page.locator("#conn-table")
    await expect(table).to_be_visible()
    rows = page.locator("#conn-rows > tr")
    await expect(rows).to_have_count(2)
    first = rows.nth(0)
    await expect(first.locator("th")).to_have_text(a_name)  # the worst streak first
    await expect(first.get_by_test_id("poor-streak")).to_have_text(text("conn.poor_streak"))
    await expect(first.locator("td").nth(1)).to_have_text(text("conn.delay", p50=802, p95=950))
    await expect(first.locator("td").nth(2)).to_have_text("10.75 % (12 %)")
    await expect(first.locator("td").nth(3)).to_have_text("0:00 / 0:00 / 0:04")
    await expect(rows.nth(1).locator("th")).to_have_text(b_name)
    await expect(rows.nth(1).get_by_test_id("poor-streak")).to_have_count(0)
    await expect(rows.nth(1).locator("td").first).to_have_text(text("quality.good"))
    problems = await axe_violations(page, axe_source)
    assert problems == [], problems
    await shots(page, "lesson-history", "#conn-title", "conn.title")
    await phone_rows_fit(page, streak_said=1)  # in Aigerim's row

    # The pupil's page, from the link on the name (keyboard: focus and Enter).
    link = first.get_by_role("link", name=text("conn.pupil_link_label", name=a_name))
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#pupil-title")).to_have_text(text("conn.pupil_title", name=a_name))
    await expect(page.get_by_test_id("poor-last-3")).to_have_text(
        text("conn.poor_last_3", name=a_name)
    )
    lines = page.locator("#conn-rows > tr")
    await expect(lines).to_have_count(3)
    await expect(lines.get_by_test_id("poor-streak")).to_have_count(0)  # said once, above
    problems = await axe_violations(page, axe_source)
    assert problems == [], problems
    await shots(page, "pupil-history", "#pupil-class", "conn.pupil_class", **{"class": "7A"})
    await phone_rows_fit(page, streak_said=1)  # above the table, not again in the newest row
