"""The real `sabaq serve` as a child process: what an operator runs and signals."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from server.settings import Settings
from tests.conftest import LiveServer, _read_demo_accounts

ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "server.cli", "serve"]


def free_port() -> int:
    """A loopback port nobody listens on at the moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A running `sabaq serve` child, and a LiveServer view of it for the test clients."""

    process: subprocess.Popen[bytes]
    server: LiveServer
    log: Path

    def signal(self, signum: signal.Signals) -> float:
        """Send a signal; return the monotonic time it was sent."""
        sent = time.monotonic()
        self.process.send_signal(signum)
        return sent

    async def exited(self, within: float) -> int:
        """The exit status, waiting at most `within` seconds for it."""
        async with asyncio.timeout(within):
            while (status := self.process.poll()) is None:
                # No event tells a parent that its child ended (short of SIGCHLD handling,
                # which would fight pytest's): look every 20 ms.
                await asyncio.sleep(0.02)
        return status

    def output(self) -> str:
        """What the server logged (shown when an assertion fails)."""
        return self.log.read_text(errors="replace")


def _first_class(data: Path) -> int:
    """The class the demo school's pupils are in (the in-process fixture asks the store)."""
    with closing(sqlite3.connect(data / "sabaq.db")) as db:
        row = db.execute("SELECT id FROM classes ORDER BY name LIMIT 1").fetchone()
    return int(row[0]) if row else 0


def _settings(**fields: Any) -> Settings:
    return Settings(**fields)


def _spawn(command: list[str], log: Path, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    """The child, logging to a file (a pipe nobody reads would fill and stall it); only the
    SABAQ_* variables given here reach it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SABAQ_")} | extra
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)


async def _ready(url: str, process: subprocess.Popen[bytes], within: float = 60) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(within):
        while True:
            assert process.poll() is None, "the server exited during start-up"
            try:
                async with http.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass  # not listening yet: a child's start-up has no event to wait on
            await asyncio.sleep(0.05)


@asynccontextmanager
async def server_process(
    data: Path, *flags: str, port: int | None = None, env: dict[str, str] | None = None
) -> AsyncIterator[ServerProcess]:
    """Start `python -m server.cli serve` on a free port with this data folder; kill it after."""
    port = port or free_port()
    log = data.parent / f"server-{port}-{time.monotonic_ns()}.log"
    process = _spawn([*SERVE, "--port", str(port), "--data", str(data), *flags], log, env or {})
    try:
        url = f"http://127.0.0.1:{port}"
        await _ready(url, process)
        teacher, pupils = _read_demo_accounts(data)
        server = LiveServer(
            url=url,
            # The application runs in the child; this empty one stands in for a field the
            # socket.io and HTTP test clients never read.
            app=web.Application(),
            settings=_settings(host="127.0.0.1", port=port, data=data),
            teacher=teacher,
            pupils=pupils,
            class_id=_first_class(data),
        )
        yield ServerProcess(process, server, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
