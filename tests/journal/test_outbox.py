"""The outbox and the HTTP journal adapter against a real local journal that fails on purpose."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.engine import migrate, open_engine, sessions
from server.journal import outbox
from server.journal.adapters import HttpJournal
from server.journal.outbox import Courier
from server.journal.retry import RetrySchedule
from tests.journal.receiver import running_receiver

SECRET = b"0123456789abcdef-test-secret"
FAST = RetrySchedule(first_s=0.05, cap_s=0.2, give_up_after_s=600)


def test_retry_schedule_backs_off_to_the_cap_with_jitter() -> None:
    rng = random.Random(1)
    delays = [RetrySchedule().delay(n, rng) for n in range(1, 14)]
    assert 0.09 <= delays[0] <= 0.11
    growing = zip(delays[:8], delays[1:9], strict=True)  # noqa: RUF007 - before the cap only
    assert all(b >= a * 1.5 for a, b in growing)
    assert 54 <= delays[-1] <= 66
    assert RetrySchedule().gives_up(0, 24 * 3600) and not RetrySchedule().gives_up(0, 3600)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'journal.db'}")
    await migrate(engine)
    yield sessions(engine)
    await engine.dispose()


async def enqueue(db: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    keys = [f"lesson-7:pupil-{i}" for i in range(count)]
    async with db() as s:
        for i, key in enumerate(keys):
            outbox.add(s, key, "http", {"lesson": 7, "pupil": i, "status": "present"})
        await s.commit()
    return keys


async def until_settled(courier: Courier, count: int, within: float = 30) -> None:
    """Poll the outbox (a database state, with no event to wait on) until nothing is pending."""
    async with asyncio.timeout(within):
        while len(await courier.letters(outbox.PENDING)) or len(await courier.letters()) < count:
            await asyncio.sleep(0.05)


async def test_failures_and_timeouts_are_retried_and_delivered_once(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with running_receiver(SECRET) as (receiver, url):
        receiver.failures = [500, 503, "hang", 429]
        journal = HttpJournal(url, SECRET, timeout_s=0.5)
        courier = Courier(db, {"http": journal}, FAST, random.Random(0))
        keys = await enqueue(db, 3)
        courier.start()
        courier.notify()
        try:
            await receiver.wait_for(lambda: len(receiver.records) == 3)
            await until_settled(courier, 3)
        finally:
            await courier.stop()
            await journal.close()
        letters = await courier.letters()
        assert {letter.state for letter in letters} == {"delivered"}
        assert sorted(receiver.records) == sorted(keys)
        assert sum(receiver.posts.values()) == 3 + 4  # four scripted failures, then delivered
        assert receiver.bad_signatures == 0


async def test_a_journal_down_for_ten_minutes_gets_every_record_once_afterwards(
    db: async_sessionmaker[AsyncSession],
) -> None:
    # The production schedule (0.1 s doubling to 60 s) lived through on a stand-in clock: the
    # journal answers 500 or hangs for ten minutes, then recovers.
    async with running_receiver(SECRET) as (receiver, url):
        journal = HttpJournal(url, SECRET, timeout_s=0.2)
        now = [time.time()]
        courier = Courier(db, {"http": journal}, RetrySchedule(), random.Random(1), lambda: now[0])
        keys = await enqueue(db, 3)
        back_at = now[0] + 600
        tries = 0
        try:
            while len(receiver.records) < 3:
                receiver.failures = [500, "hang"] * 3 if now[0] < back_at else []
                wait = await courier.deliver_due()
                assert await courier.letters(outbox.DEAD) == []  # held, not given up
                now[0] += max(wait, 0.001)
                tries += 1
                assert now[0] < back_at + 120, "not delivered within two minutes of recovery"
        finally:
            await journal.close()
        letters = await courier.letters()
        assert {letter.state for letter in letters} == {"delivered"}
        assert sorted(receiver.records) == sorted(keys)
        # Backed off: 0.1 s doubling, then once a minute — about 18 tries in ten minutes, not
        # thousands; each record was posted once more than it failed, and stored once.
        attempts = [letter.attempts for letter in letters]
        assert all(14 <= a <= 22 for a in attempts), attempts
        assert sum(receiver.posts.values()) == sum(attempts)
        assert tries < 80


async def test_a_drain_finishes_the_delivery_in_flight_and_what_fell_due_meanwhile(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with running_receiver(SECRET) as (receiver, url):
        receiver.delay_s = 0.3  # each record is stored, then answered a moment later
        journal = HttpJournal(url, SECRET)
        courier = Courier(db, {"http": journal}, FAST)
        courier.start()  # nothing yet: it sleeps until notified
        await enqueue(db, 1)
        courier.notify()
        try:
            await receiver.wait_for(lambda: len(receiver.records) == 1)  # answer on its way
            async with db() as s:  # written without a notify, e.g. by a lesson ending now
                outbox.add(s, "lesson-8:pupil-0", "http", {"lesson": 8, "pupil": 0})
                await s.commit()
            await courier.drain()
        finally:
            await courier.stop()
            await journal.close()
        assert {letter.state for letter in await courier.letters()} == {"delivered"}
        assert sorted(receiver.records) == ["lesson-7:pupil-0", "lesson-8:pupil-0"]
        assert sum(receiver.posts.values()) == 2  # the one in flight was not cut and re-sent


async def test_refused_records_go_to_the_dead_letter_list(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with running_receiver(SECRET) as (receiver, url):
        receiver.failures = [422]
        journal = HttpJournal(url, SECRET)
        courier = Courier(db, {"http": journal}, FAST)
        await enqueue(db, 2)
        await courier.deliver_due()
        await journal.close()
        dead = await courier.letters(outbox.DEAD)
        assert [(d.key, d.last_error) for d in dead] == [("lesson-7:pupil-0", "HTTP 422")]
        assert list(receiver.records) == ["lesson-7:pupil-1"]


async def test_wrong_secret_is_rejected_by_the_journal(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with running_receiver(SECRET) as (receiver, url):
        journal = HttpJournal(url, b"not-the-shared-secret")
        courier = Courier(db, {"http": journal}, FAST)
        await enqueue(db, 1)
        await courier.deliver_due()
        await journal.close()
        assert receiver.bad_signatures == 1 and receiver.records == {}
        assert (await courier.letters(outbox.DEAD))[0].last_error == "HTTP 401"


@pytest.mark.timeout(120)
async def test_kill_9_during_delivery_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, db: async_sessionmaker[AsyncSession]
) -> None:
    count = 40
    data = tmp_path / "data"
    data.mkdir()
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'journal.db'}"
    keys = await enqueue(db, count)
    async with running_receiver(SECRET) as (receiver, url):
        receiver.delay_s = 0.05  # records are stored, then answered: kills land in between
        env = {
            **os.environ,
            "SABAQ_DATABASE_URL": db_url,
            "SABAQ_JOURNAL_URL": url,
            "SABAQ_JOURNAL_SECRET": SECRET.decode(),
            "SABAQ_DEMO": "false",
        }

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--data", str(data)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        pending_at_kill = []
        for threshold in (8, 20, 31):
            server = start()
            try:
                await receiver.wait_for(lambda t=threshold: len(receiver.records) >= t, 60)
            finally:
                server.send_signal(signal.SIGKILL)
                server.wait()
                pending_at_kill.append(len(await Courier(db, {}).letters(outbox.PENDING)))
        server = start()
        try:
            await receiver.wait_for(lambda: len(receiver.records) == count, 60)
            courier = Courier(db, {})
            deadline = time.monotonic() + 30
            while await courier.letters(outbox.PENDING):
                assert time.monotonic() < deadline, "outbox never settled"
                await asyncio.sleep(0.05)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    assert all(pending_at_kill), pending_at_kill  # every kill really cut a delivery run short
    assert sorted(receiver.records) == sorted(keys)  # none lost, each stored once
    assert sum(receiver.posts.values()) >= count
    assert {letter.state for letter in await Courier(db, {}).letters()} == {"delivered"}
