"""End-to-end fixtures: Debian's Chromium driven by Playwright, one browser context per person.

The server comes from the `live_server` fixture of tests/conftest.py (the real app in-process).
Every page opened through `Browsers.open` is watched: console errors, uncaught exceptions, CSP
violations and JavaScript dialogs fail the test at teardown.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    async_playwright,
    expect,
)

from bench._chromium import CHROMIUM_ARGS

# `expect` waits 5 s unless told otherwise (a page's default timeout does not reach it): too short
# on a loaded 2-core CI machine for steps that include sign-ins, WebRTC set-up or two browsers.
expect.set_options(timeout=15_000)

CHROMIUM = Path(os.environ.get("SABAQ_CHROMIUM", "/usr/bin/chromium"))
WEB = Path(__file__).resolve().parents[2] / "web"


def artifacts(kind: str) -> Path:
    """Where a test keeps its screenshots for a reviewer, in every run: $SABAQ_ARTIFACTS/kind,
    else test-artifacts/kind in the repository (ignored by git). Playwright makes the folder."""
    base = os.environ.get("SABAQ_ARTIFACTS") or WEB.parent / "test-artifacts"
    return Path(base) / kind


AXE_JS = WEB / "node_modules" / "axe-core" / "axe.min.js"
BUNDLES = (
    "home.js",
    "room.js",
    "notfound.js",
    "journal.js",
    "lesson.js",
    "diary.js",
    "admin.js",
    "pupil.js",
)
# Expected refusals the browser logs as "Failed to load resource": (path suffix, status).
EXPECTED_HTTP_ERRORS: set[tuple[str, int]] = set()


class LiveServer(Protocol):
    """What tests/conftest.py's `live_server` yields."""

    url: str
    teacher: tuple[str, str]
    pupils: list[tuple[str, str]] | tuple[tuple[str, str], ...]
    class_id: int


@pytest.fixture(scope="session")
def web_build() -> Path:
    """Makes sure the client bundle exists (the install step builds it; build here if not)."""
    dist = WEB / "public" / "dist"
    if all((dist / name).is_file() for name in BUNDLES) and AXE_JS.is_file():
        return dist
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "web/public/dist is not built and npm is missing: run "
            "`npm --prefix web ci && npm --prefix web run build`"
        )
    if not (WEB / "node_modules").is_dir() or not AXE_JS.is_file():
        subprocess.run([npm, "--prefix", str(WEB), "ci"], check=True)
    subprocess.run([npm, "--prefix", str(WEB), "run", "build"], check=True)
    return dist


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    return CHROMIUM


@dataclass
class PageWatch:
    """Problems seen on one page."""

    name: str
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    allowed_http_errors: set[tuple[str, int]] = field(
        default_factory=lambda: set(EXPECTED_HTTP_ERRORS)
    )
    allowed_console: list[re.Pattern[str]] = field(default_factory=list)

    def allow_http_error(self, path: str, status: int) -> None:
        """Accepts one expected failed request (e.g. a wrong password's 401)."""
        self.allowed_http_errors.add((path, status))

    def allow_console(self, pattern: str) -> None:
        """Accepts console errors matching a pattern (e.g. a server that is away on purpose)."""
        self.allowed_console.append(re.compile(pattern))

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type not in ("error", "warning"):
            return
        text = msg.text
        url = str(msg.location.get("url", ""))
        if msg.type == "warning" and "Content Security Policy" not in text:
            return
        if text.startswith("Failed to load resource") and any(
            url.split("?")[0].endswith(path) and f"status of {status}" in text
            for path, status in self.allowed_http_errors
        ):
            return
        if any(p.search(text) for p in self.allowed_console):
            return
        self.problems.append(f"console {msg.type}: {text} ({url})")

    def on_page_error(self, error: Any) -> None:
        self.problems.append(f"uncaught: {error}")

    async def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        self.problems.append(f"unexpected dialog: {dialog.message}")
        await dialog.dismiss()


class Browsers:
    """Opens pages, each person in a separate context (own cookies and storage)."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.watches: list[PageWatch] = []
        self.watch_of: dict[int, PageWatch] = {}

    async def person(self, name: str, *, locale: str = "en-US", bypass_csp: bool = False) -> Page:
        context = await self.browser.new_context(locale=locale, bypass_csp=bypass_csp)
        self.contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(15_000)
        watch = PageWatch(name)
        self.watches.append(watch)
        self.watch_of[id(page)] = watch
        page.on("console", watch.on_console)
        page.on("pageerror", watch.on_page_error)
        page.on("dialog", watch.on_dialog)
        # CSP violations also reach the console, but catch them at the source too.
        await page.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) => "
            "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
        )
        return page

    def watch(self, page: Page) -> PageWatch:
        return self.watch_of[id(page)]

    def problems(self) -> list[str]:
        return [f"[{w.name}] {p}" for w in self.watches for p in w.problems]

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()
        self.contexts.clear()


@pytest_asyncio.fixture
async def playwright_instance() -> AsyncIterator[Playwright]:
    async with async_playwright() as pw:
        yield pw


@pytest_asyncio.fixture
async def browsers(
    playwright_instance: Playwright, chromium_path: Path, web_build: Path
) -> AsyncIterator[Browsers]:
    """A fresh headless Chromium; asserts at teardown that no page logged an error."""
    browser = await playwright_instance.chromium.launch(
        executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
    )
    holder = Browsers(browser)
    try:
        yield holder
        problems = holder.problems()
        assert not problems, "pages reported problems:\n" + "\n".join(problems)
    finally:
        await holder.close()
        await browser.close()


@pytest.fixture
def axe_source(web_build: Path) -> Iterator[Path]:
    if not AXE_JS.is_file():
        pytest.fail("axe-core missing from web/node_modules: run `npm --prefix web ci`")
    yield AXE_JS
