"""A restart that drains: the real `sabaq serve` process, real clients, real signals."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from media.aiortc_hooks import install_host_address
from server.settings import Settings
from tests.integration.peers import guest_join, peers
from tests.integration.server_process import server_process
from tests.integration.test_classroom import classroom
from tests.media.sio_media import MediaClient

DRAIN_S = 4.0
# A process's own teardown after the drain (closing the loop, the interpreter's exit).
EXIT_SLACK_S = 1.0


@pytest.fixture
def data(tmp_path: Path, demo_data: Path) -> Path:
    """A copy of the demo school for one server process."""
    shutil.copytree(demo_data, tmp_path / "data")
    return tmp_path / "data"


def presence(data: Path) -> list[tuple[str, float | None, str | None]]:
    """(name, left_at, how) of every stretch anyone spent in a room."""
    with closing(sqlite3.connect(data / "sabaq.db")) as db:
        rows = db.execute("SELECT name, left_at, how FROM presence ORDER BY id").fetchall()
    return [(str(n), left, how) for n, left, how in rows]


def settings(**fields: Any) -> Settings:
    return Settings(**fields)


def test_drain_seconds_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SABAQ_DRAIN_SECONDS", raising=False)
    assert settings().drain_seconds == 10
    monkeypatch.setenv("SABAQ_DRAIN_SECONDS", "2.5")
    assert settings().drain_seconds == 2.5
    with pytest.raises(ValueError, match="drain_seconds"):
        settings(drain_seconds=0)


async def test_sigterm_drains_connected_clients_and_exits_within_the_deadline(
    data: Path,
) -> None:
    install_host_address("127.0.0.1")  # the test's aiortc peer gathers on loopback only
    async with (
        server_process(data, "--drain-seconds", str(DRAIN_S)) as child,
        peers("host", "pupil", "late") as (host, pupil, late),
    ):
        room, _ = await classroom(child.server, host, pupil)
        host_id = (await host.wait("room_state"))["you"]["id"]
        publisher = MediaClient(host, host_id, [])
        try:
            ack = await publisher.publish("camera")
            assert ack["ok"], ack
            await late.connect(child.server)  # connected before the signal, joins after it

            sent = child.signal(signal.SIGTERM)
            for peer in (host, pupil, late):
                told = await peer.wait("server_restarting")
                assert told == {"retry_after_ms": 1000}
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{child.server.url}/readyz") as response,
            ):
                assert response.status == 503, child.output()
                assert (await response.json())["status"] == "draining"
            refused = await late.call("join", guest_join(room["id"]))
            assert refused["error"]["code"] == "server_restarting"
            assert refused["error"]["retry_after_ms"] == 1000
            # Nobody leaves by themselves: the server has to close them within the deadline.
            assert host.sio.connected and pupil.sio.connected
            status = await child.exited(within=DRAIN_S + EXIT_SLACK_S)
            took = time.monotonic() - sent
        finally:
            await publisher.close()
    assert status == 0, child.output()
    assert took < DRAIN_S + EXIT_SLACK_S, child.output()
    # Attendance: both stretches end at the restart, as a network loss (merged on return).
    stretches = presence(data)
    assert len(stretches) == 2
    assert all(left is not None and how == "disconnected" for _, left, how in stretches)
    assert "draining: done" in child.output()


async def test_a_second_signal_exits_at_once(data: Path) -> None:
    async with (
        server_process(data, "--drain-seconds", "60") as child,
        peers("host", "pupil") as (host, pupil),
    ):
        await classroom(child.server, host, pupil)
        child.signal(signal.SIGTERM)
        await pupil.wait("server_restarting")  # the drain has begun and waits for the clients
        sent = child.signal(signal.SIGINT)
        status = await child.exited(within=5)
        took = time.monotonic() - sent
    assert status == 128 + signal.SIGINT, child.output()
    assert took < 1.0, child.output()
    assert "second signal (SIGINT) during the drain" in child.output()


async def test_sigterm_without_clients_exits_promptly(data: Path) -> None:
    async with server_process(data, "--drain-seconds", "30") as child:
        sent = child.signal(signal.SIGTERM)
        status = await child.exited(within=5)
    assert status == 0, child.output()
    assert time.monotonic() - sent < 3, child.output()
