"""A restart that drains: the real `sabaq serve` process, real clients, real signals."""

from __future__ import annotations

import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from media.aiortc_hooks import install_host_address
from server import handover
from server.settings import Settings
from tests.integration.peers import admit_guest, guest_join, host_in_room, peers, sign_in
from tests.integration.server_process import server_process
from tests.integration.test_classroom import classroom
from tests.journal.receiver import running_receiver
from tests.journal.test_bridge import api
from tests.media.sio_media import MediaClient

DRAIN_S = 4.0
SECRET = b"0123456789abcdef-drain-secret"
# A process's own teardown after the drain (closing the loop, the interpreter's exit).
EXIT_SLACK_S = 1.0


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


def test_a_handover_is_taken_once_and_only_while_fresh(tmp_path: Path) -> None:
    handover.save(tmp_path, {"room-a": "s1"}, now=1000.0)
    assert handover.take(tmp_path, now=1010.0) == {"room-a": "s1"}
    assert handover.take(tmp_path, now=1010.0) == {}  # once
    handover.save(tmp_path, {"room-a": "s1"}, now=1000.0)
    assert handover.take(tmp_path, now=1000.0 + handover.MAX_AGE_S + 1) == {}  # an outage
    (tmp_path / handover.FILE).write_text("[1, 2")
    assert handover.take(tmp_path, now=1000.0) == {}
    assert not (tmp_path / handover.FILE).exists()


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


async def test_the_journal_delivery_in_flight_is_finished_before_exit(data: Path) -> None:
    async with running_receiver(SECRET) as (receiver, url):
        receiver.delay_s = 1.0  # each record is stored, then answered a second later
        flags = ("--drain-seconds", str(DRAIN_S), "--journal-url", url)
        env = {"SABAQ_JOURNAL_SECRET": SECRET.decode()}
        async with server_process(data, *flags, env=env) as child:
            token = await sign_in(child.server, *child.server.teacher)
            now = time.time()
            lesson = {"class_id": child.server.class_id, "subject": "Algebra", "starts_at": now,
                      "ends_at": now + 2700}  # fmt: skip
            status, made = await api(child.server, token, "POST", "/api/lessons", lesson)
            assert status == 201, made
            path = f"/api/lessons/{made['lesson']['id']}"
            assert (await api(child.server, token, "POST", f"{path}/start"))[0] == 200
            status, ended = await api(child.server, token, "POST", f"{path}/end", {})
            assert status == 200 and ended["queued"] > 1, ended
            await receiver.wait_for(lambda: receiver.records)  # the first one's answer is due
            child.signal(signal.SIGTERM)
            assert await child.exited(within=DRAIN_S + EXIT_SLACK_S) == 0, child.output()
    with closing(sqlite3.connect(data / "sabaq.db")) as db:
        rows = db.execute("SELECT key, state FROM outbox WHERE destination = 'http'").fetchall()
    states = dict(rows)
    first = next(iter(receiver.records))
    # The delivery under way was let finish (cut off, it would be pending and sent again).
    assert states[first] == "delivered", child.output()
    assert set(states.values()) <= {"delivered", "pending"}  # the rest wait, durably
    assert all(n == 1 for n in receiver.posts.values())


async def test_an_admitted_guest_is_back_after_a_restart_without_knocking(data: Path) -> None:
    flags = ("--drain-seconds", str(DRAIN_S))
    async with server_process(data, *flags) as old, peers("host", "guest") as (host, guest):
        room = await host_in_room(old.server, host)
        token = (await admit_guest(old.server, host, guest, room["id"]))["resume"]
        old.signal(signal.SIGTERM)
        await guest.wait("server_restarting")
        for peer in (host, guest):  # as the room page does at the news
            await peer.close()
        assert await old.exited(within=DRAIN_S + EXIT_SLACK_S) == 0, old.output()
    async with server_process(data, *flags) as new, peers("guest", "stranger") as (back, other):
        await back.connect(new.server)
        ack = await back.call("join", {**guest_join(room["id"]), "resume": token})
        # In, though the teacher is not back yet: the room kept its session across the restart.
        assert ack["ok"] and ack["status"] == "joined", new.output()
        await other.connect(new.server)
        knock = await other.call("join", guest_join(room["id"], name="Someone Else"))
        assert knock["status"] == "waiting"  # without a token, the lobby as ever


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
