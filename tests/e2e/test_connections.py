"""The host's view of connections on the real room page (issue 14): each pupil's figures, worst
first, a notice at 2 s of delay and at lost video, a chart on demand; keyboard, labels, axe, and
kk/ru/en. The pupils are socket.io clients sending the readings a page sends (web/src/quality.js
and linkstats.js, tested under Node), so the figures are known exactly. Screenshots go to
$SABAQ_ARTIFACTS or test-artifacts/quality/ for a reviewer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize, expect

import server.media_signalling
from tests.conftest import LiveServer
from tests.integration.peers import peers, sign_in
from tests.media.test_signalling import _TestClock

from .conftest import Browsers, artifacts
from .flows import open_panel, teacher_hosts, text
from .test_accessibility import axe_violations

pytestmark = pytest.mark.e2e

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}
ARTIFACTS = artifacts("quality")


def reading(level: str, delay: int, loss: float, video: str, height: int = 480) -> dict[str, Any]:
    return {
        "level": level,
        "delay_ms": delay,
        "rtt_ms": 24,
        "loss_pct": loss,
        "jitter_ms": 6,
        "kbps_in": 1320,
        "kbps_out": 48,
        "video_height": height if video == "ok" else 0,
        "video": video,
    }


def figures(q: dict[str, Any], lang: str = "en") -> str:
    if q["video"] == "lost":
        picture = text("connections.video_lost", lang)
    else:
        picture = text("connections.picture", lang, height=q["video_height"])
    return text(
        "connections.figures",
        lang,
        delay=q["delay_ms"],
        rtt=q["rtt_ms"],
        loss=f"{q['loss_pct']:g}",  # as JavaScript writes a number: 3, not 3.0
        jitter=q["jitter_ms"],
        kbps_in=q["kbps_in"],
        kbps_out=q["kbps_out"],
        picture=picture,
    )


def rows(page: Page) -> Any:
    return page.locator("#connections > li")


@pytest.mark.timeout(120)
async def test_the_host_sees_each_connection_worst_first_with_notices_and_a_chart(
    live_server: LiveServer,
    browsers: Browsers,
    axe_source: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = _TestClock()  # the one-a-second limit of readings, moved by the test
    monkeypatch.setattr(server.media_signalling, "time", clock)
    host = await browsers.person("teacher", bypass_csp=True)  # bypass only for axe's <script>
    await host.set_viewport_size(DESKTOP)
    room = await teacher_hosts(
        host, live_server.url, live_server.teacher, "Physics 7A", class_id=live_server.class_id
    )
    async with peers("a", "b") as (a, b):
        names = []
        for i, pupil in enumerate((a, b)):
            await pupil.connect(live_server, await sign_in(live_server, *live_server.pupils[i]))
            ack = await pupil.call("join", {"v": 1, "room": room.id, "as": "user"})
            names.append(ack["you"]["name"])
        name_a, name_b = names
        await open_panel(host, "people")
        section = host.locator("#connections-panel")
        await expect(section).to_be_visible()
        # Folded under its line, which counts the poor ones; opened from the keyboard.
        summary = section.locator("summary")
        await summary.focus()
        await host.keyboard.press("Enter")
        await expect(section).to_have_attribute("open", "")
        await expect(rows(host)).to_have_count(2)

        good = reading("good", 31, 0, "ok")
        poor = reading("poor", 640, 12.5, "ok", height=180)
        assert (await a.call("media_quality", good))["ok"]
        assert (await b.call("media_quality", poor))["ok"]
        # Worst first: the poor line on top, each with its figures in words.
        await expect(rows(host).first).to_contain_text(name_b)
        await expect(rows(host).nth(0).locator(".connection-figures")).to_have_text(figures(poor))
        await expect(rows(host).nth(1).locator(".connection-figures")).to_have_text(figures(good))
        await expect(rows(host).nth(1).locator(".flag")).to_have_text(text("quality.good"))
        await expect(summary).to_have_text(
            text("connections.title") + " " + text("connections.summary", poor=1, fair=0, lost=0)
        )

        # a's delay passes 2 s: the host is told by name, and a goes to the top.
        clock.now += 1
        slow = reading("poor", 2480, 0.5, "ok")
        assert (await a.call("media_quality", slow))["ok"]
        notice = host.get_by_test_id("notice")
        await expect(notice).to_contain_text(
            text("connections.notice_delay", name=name_a, seconds="2.5")
        )
        await expect(rows(host).first).to_contain_text(name_a)

        # b's video stops decoding: said after two readings in a row (not at a track's start).
        lost = reading("poor", 700, 3.0, "lost")
        clock.now += 1
        assert (await b.call("media_quality", lost))["ok"]
        await expect(host.locator('#connections > li[data-video="lost"]')).to_have_count(1)
        await expect(notice).not_to_contain_text(name_b)
        clock.now += 1
        assert (await b.call("media_quality", lost))["ok"]
        await expect(notice).to_contain_text(text("connections.notice_video", name=name_b))
        row_b = host.locator("#connections > li", has_text=name_b)
        await expect(row_b.locator(".connection-figures")).to_have_text(figures(lost))
        await expect(rows(host).first).to_contain_text(name_b)  # lost video outranks delay

        # The chart, from the keyboard: the button says whose and whether it is open.
        toggle = row_b.get_by_role("button", name=text("connections.chart_show_label", name=name_b))
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await toggle.focus()
        await host.keyboard.press("Enter")
        chart = row_b.get_by_role(
            "img",
            name=text("connections.chart_label", name=name_b, min=640, max=700, last=700),
        )
        await expect(chart).to_be_visible()
        toggle = row_b.get_by_role("button", name=text("connections.chart_hide_label", name=name_b))
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        await expect(toggle).to_be_focused()  # kept through the redraws
        points = await chart.locator("polyline").get_attribute("points")
        assert points is not None and len(points.split()) == 3, points
        # A new reading redraws the list; focus stays on the same row's button.
        clock.now += 1
        assert (await b.call("media_quality", reading("fair", 260, 2.0, "ok")))["ok"]
        await expect(row_b.locator(".connection-figures")).to_contain_text("260")
        await expect(
            row_b.get_by_role("button", name=text("connections.chart_hide_label", name=name_b))
        ).to_be_focused()
        await expect(row_b.locator("polyline")).to_have_attribute(
            "points", re.compile(r"^(\S+ ){3}\S+$")
        )

        problems = await axe_violations(host, axe_source)
        assert problems == [], problems
        await row_b.scroll_into_view_if_needed()
        await host.screenshot(path=str(ARTIFACTS / "host-view-desktop-en.png"))
        for lang in ("ru", "kk"):
            await host.locator("#lang").select_option(lang)
            await expect(host.locator("#connections-title")).to_have_text(
                text("connections.title", lang)
            )
            await expect(row_b.locator(".flag")).to_have_text(text("quality.fair", lang))
            await host.screenshot(path=str(ARTIFACTS / f"host-view-desktop-{lang}.png"))
        await host.set_viewport_size(PHONE)
        # The page closes the column when it crosses to a phone (a media-query change event, a
        # task after the resize): wait for that before opening the sheet, or the close lands after.
        await expect(host.locator("#side")).to_be_hidden()
        await open_panel(host, "people")  # a sheet over the stage on a phone
        for lang in ("kk", "ru", "en"):
            await host.locator("#lang").select_option(lang)
            await expect(host.locator("#connections-title")).to_have_text(
                text("connections.title", lang)
            )
            await row_b.scroll_into_view_if_needed()
            await host.screenshot(path=str(ARTIFACTS / f"host-view-phone-{lang}.png"))
        problems = await axe_violations(host, axe_source)
        assert problems == [], problems

        # A pupil who leaves leaves the list.
        await a.close()
        await expect(rows(host)).to_have_count(1)
