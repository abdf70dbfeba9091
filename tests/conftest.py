"""Shared fixtures: a real Sabaq server running in-process on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from sqlalchemy import text

from server.app import create_app
from server.demo import CREDENTIALS_FILE
from server.keys import ENGINE, STORE
from server.settings import Settings

PG_ADMIN = os.environ.get("SABAQ_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class LiveServer:
    """A running server and the demo accounts it created."""

    url: str
    app: web.Application
    settings: Settings
    teacher: tuple[str, str]
    pupils: list[tuple[str, str]]
    class_id: int


def _read_demo_accounts(data: Path) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """The demo logins and passwords the server wrote on first start."""
    accounts = [
        line.split()
        for line in (data / CREDENTIALS_FILE).read_text().splitlines()
        if line and not line.startswith("#")
    ]
    teacher = next((a[1], a[2]) for a in accounts if a[0] == "teacher")
    return teacher, [(a[1], a[2]) for a in accounts if a[0] == "pupil"]


@asynccontextmanager
async def running_server(
    data: Path, *, keep_one_time: bool = False, **settings: Any
) -> AsyncIterator[LiveServer]:
    """Start the real application on a free loopback port; stop it on exit.

    The demo school's people have one-time passwords, whose sign-in can only choose a new
    password; unless `keep_one_time`, they are made ordinary ones (as people who chose
    their own), since most tests are about what comes after.
    """
    # Bind first so the settings (invite links, allowed origin) know the real port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = Settings(host="127.0.0.1", port=port, data=data, **settings)
    app = create_app(config)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        if not keep_one_time:
            async with app[ENGINE].begin() as db:
                await db.execute(text("UPDATE users SET must_change_password = false"))
        teacher: tuple[str, str] = ("", "")
        pupils: list[tuple[str, str]] = []
        if (data / CREDENTIALS_FILE).exists():
            teacher, pupils = _read_demo_accounts(data)
        classes = await app[STORE].classes()
        yield LiveServer(
            url=config.base_url,
            app=app,
            settings=config,
            teacher=teacher,
            pupils=pupils,
            class_id=classes[0][0] if classes else 0,
        )
    finally:
        await runner.cleanup()


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with a migrated database and a demo school, made once per run.

    Hashing the demo passwords with argon2 is deliberately slow; copying the folder is not.
    """
    template = tmp_path_factory.mktemp("template") / "data"

    async def make() -> None:
        async with running_server(template):
            pass

    asyncio.run(make())
    # Most tests sign in as people who already chose their own password; the one-time password
    # flow has its own tests on a fresh school.
    with sqlite3.connect(template / "sabaq.db") as db:
        db.execute("UPDATE users SET must_change_password = 0")
    return template


@pytest.fixture
async def live_server(tmp_path: Path, demo_data: Path) -> AsyncIterator[LiveServer]:
    """A fresh server with its own copy of the demo school."""
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    async with running_server(data) as server:
        yield server


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    name = f"sabaq_test_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(PG_ADMIN)
    except OSError as exc:
        pytest.fail(f"PostgreSQL is not running at {PG_ADMIN} (scripts/install starts it): {exc}")
    await admin.execute(f'CREATE DATABASE "{name}"')
    user_host = PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+asyncpg://{user_host}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database URL."""
    async with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_db_server(
    request: pytest.FixtureRequest, tmp_path: Path, demo_data: Path
) -> AsyncIterator[LiveServer]:
    """A fresh server with the demo school, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        shutil.copytree(demo_data, tmp_path / "data")
        async with running_server(tmp_path / "data") as server:
            yield server
    else:
        async with (
            postgres_database() as url,
            running_server(tmp_path / "data", database_url=url) as server,
        ):
            yield server
