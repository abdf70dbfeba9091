"""The durable outbox: at-least-once delivery with idempotency keys, i.e. exactly once.

A record is written in the same transaction as what caused it (a lesson's closing). The courier
delivers due records one by one and marks each delivered only after the journal said so; a crash
in between means one more delivery under the same key, which the journal recognises. So after
any crash every record arrives, and arrives once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.tables import OutboxRecord
from server.journal.adapters import Delivered, JournalAdapter, Rejected, Retry
from server.journal.retry import RetrySchedule

log = logging.getLogger(__name__)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True, slots=True)
class Letter:
    """An outbox record as an administrator sees it."""

    id: int
    key: str
    destination: str
    state: str
    attempts: int
    last_error: str | None
    payload: dict[str, Any]
    created_at: float


def add(session: AsyncSession, key: str, destination: str, payload: dict[str, Any]) -> None:
    """Put a record in the outbox, inside the caller's transaction."""
    now = time.time()
    session.add(
        OutboxRecord(
            key=key,
            destination=destination,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            state=PENDING,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )


class Courier:
    """Delivers the outbox to the journals, in the background, until stopped."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        adapters: dict[str, JournalAdapter],
        schedule: RetrySchedule | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._clock = clock  # a test stands in a clock to live through a long outage
        self._adapters = adapters
        self._schedule = schedule or RetrySchedule()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._draining = False

    def start(self) -> None:
        """Run the delivery loop in the background."""
        self._task = asyncio.create_task(self._run(), name="journal courier")

    async def stop(self) -> None:
        """Stop the loop (a delivery in flight is cut off and retried after restart)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def drain(self) -> None:
        """A restart: let the delivery in flight finish, deliver what is due once more, stop.

        Unlike `stop`, nothing is cut off half-way unless the caller's own deadline does it
        (then, as after a crash, the record is delivered again after the restart, same key).
        """
        self._draining = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await self.deliver_due()

    def notify(self) -> None:
        """New records are waiting: look now rather than at the next due time."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self.deliver_due()
            except Exception:  # the database may be briefly away: keep the courier alive
                log.exception("journal courier failed; retrying in 5 s")
                wait = 5.0
            if self._draining:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def deliver_due(self, batch: int = 50) -> float:
        """Deliver what is due; return the seconds until the next record falls due."""
        now = self._clock()
        async with self._sessions() as s:
            due = list(
                await s.scalars(
                    select(OutboxRecord)
                    .where(OutboxRecord.state == PENDING, OutboxRecord.next_attempt_at <= now)
                    .order_by(OutboxRecord.id)
                    .limit(batch)
                )
            )
        for record in due:
            await self._deliver(record)
        if len(due) == batch:
            return 0.0
        async with self._sessions() as s:
            next_due = await s.scalar(
                select(func.min(OutboxRecord.next_attempt_at)).where(OutboxRecord.state == PENDING)
            )
        return 60.0 if next_due is None else max(0.0, float(next_due) - self._clock())

    async def _deliver(self, record: OutboxRecord) -> None:
        adapter = self._adapters.get(record.destination)
        if adapter is None:
            result: Delivered | Retry | Rejected = Rejected(
                f"no journal called {record.destination!r} is configured"
            )
        else:
            result = await adapter.deliver(record.key, json.loads(record.payload))
        now = self._clock()
        async with self._sessions() as s:
            row = await s.get(OutboxRecord, record.id)
            if row is None or row.state != PENDING:
                return
            row.attempts += 1
            if isinstance(result, Delivered):
                row.state, row.delivered_at, row.last_error = DELIVERED, now, None
                log.info("journal record %s delivered (try %d)", row.key, row.attempts)
            elif isinstance(result, Rejected) or self._schedule.gives_up(
                row.retried_at or row.created_at, now
            ):
                row.state, row.last_error = DEAD, result_reason(result)
                log.error(
                    "journal record %s moved to the dead-letter list: %s", row.key, row.last_error
                )
            else:
                row.last_error = result.reason
                row.next_attempt_at = now + self._schedule.delay(row.attempts, self._rng)
                log.warning(
                    "journal record %s not delivered (%s); retry %d due in %.1f s",
                    row.key,
                    result.reason,
                    row.attempts,
                    row.next_attempt_at - now,
                )
            await s.commit()

    async def letters(self, state: str | None = None) -> list[Letter]:
        """The outbox (or one state of it, e.g. the dead-letter list), oldest first."""
        async with self._sessions() as s:
            query = select(OutboxRecord).order_by(OutboxRecord.id)
            if state is not None:
                query = query.where(OutboxRecord.state == state)
            return [
                Letter(
                    r.id,
                    r.key,
                    r.destination,
                    r.state,
                    r.attempts,
                    r.last_error,
                    json.loads(r.payload),
                    r.created_at,
                )
                for r in await s.scalars(query)
            ]


class NotDead(Exception):
    """Only a dead letter can be retried."""


async def retry(sessions: async_sessionmaker[AsyncSession], record_id: int) -> bool:
    """Put a dead letter back in the queue, due now, with a fresh give-up clock.

    Returns False if there is no such record; raises NotDead if it is pending or delivered.
    """
    async with sessions() as s:
        row = await s.get(OutboxRecord, record_id)
        if row is None:
            return False
        if row.state != DEAD:
            raise NotDead(row.state)
        now = time.time()
        row.state, row.next_attempt_at, row.retried_at = PENDING, now, now
        await s.commit()
        log.info("journal record %s retried by an administrator", row.key)
        return True


def result_reason(result: Delivered | Retry | Rejected) -> str:
    """The failure reason of a result (empty for a delivery)."""
    return "" if isinstance(result, Delivered) else result.reason
