"""The journal's page routes, and ISO weeks in the school's time zone (pure)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import aiohttp

from server.journal.weeks import monday_of, period_week, this_week, week_bounds, week_of
from tests.conftest import LiveServer

ALMATY = ZoneInfo("Asia/Almaty")


async def test_journal_pages_are_served_with_the_csp(live_server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/journal", "/journal/lessons/1", "/diary", "/admin"):
            response = await http.get(live_server.url + path)
            assert response.status == 200 and response.content_type == "text/html", path
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            assert response.headers["Cache-Control"] == "no-store"
        for path in ("/journal/lessons/abc", "/journal/lessons/1/x"):
            assert (await http.get(live_server.url + path)).status == 404, path


def test_iso_weeks_across_a_year_boundary() -> None:
    assert week_of(date(2026, 11, 22)) == "2026-W47"  # a Sunday ends its week
    assert week_of(date(2026, 11, 23)) == "2026-W48"
    assert week_of(date(2027, 1, 1)) == "2026-W53"  # 2026 has 53 ISO weeks
    assert monday_of("2027-W01") == date(2027, 1, 4)
    assert monday_of("2026-W53") == date(2026, 12, 28)
    assert monday_of("2025-W53") is None and monday_of("2026-W00") is None
    assert monday_of("2026-47") is None


def test_week_bounds_are_the_schools_midnights() -> None:
    start, end = week_bounds("2026-W47", ALMATY)
    assert end - start == 7 * 86400
    assert start == 1_794_769_200  # Monday 16 November 2026, 00:00 in Almaty (UTC+5)
    # 20:00 UTC on Sunday is already Monday in Almaty: the next week there.
    assert this_week(ALMATY, now=1_795_377_600) == "2026-W48"
    assert this_week(ZoneInfo("UTC"), now=1_795_377_600) == "2026-W47"


def test_period_weeks_count_from_the_periods_first_week() -> None:
    assert period_week(date(2026, 11, 3), date(2026, 11, 3)) == 1  # a Tuesday start
    assert period_week(date(2026, 11, 3), date(2026, 11, 9)) == 2
    assert period_week(date(2026, 11, 3), date(2026, 11, 8)) == 1
