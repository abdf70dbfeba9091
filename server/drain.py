"""A restart that drains: what the application does between SIGTERM and exit.

From the first moment `/readyz` fails and joins are refused (retryably), so a load balancer or
the next process takes over; every client is told the server is restarting and comes back by
itself. The rooms of this process are then closed the way a network loss closes them, so the
attendance intervals end where the restart began and merge with the ones after it; what the
rooms produced is written, and the journal's courier finishes its delivery. All of it within
the drain deadline (`--drain-seconds`), whatever the clients do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from aiohttp import web

from server import handover
from server.keys import ARCHIVE, COURIER, SETTINGS, SIGNALLING
from server.signalling import RETRY_AFTER_MS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Budget:
    """How the drain deadline is shared, in seconds from the signal."""

    total_s: float
    # Time left after the clients' part for closing rooms, writing and the courier ...
    closing_s: float
    # ... of which the last part is aiohttp's wait for HTTP requests still running.
    handlers_s: float

    @classmethod
    def of(cls, total_s: float) -> Budget:
        """Clients get most of it; closing and flushing take well under a second usually."""
        closing = min(3.0, total_s / 2)
        return cls(total_s, closing, closing / 3)

    @property
    def clients_s(self) -> float:
        """How long clients have to leave by themselves before they are disconnected."""
        return self.total_s - self.closing_s


async def _step(name: str, work: Awaitable[None], doing: list[str]) -> None:
    """One part of the drain; a failure is logged and the next part still runs."""
    doing[:] = [name]
    try:
        await work
    except Exception:
        log.exception("draining: %s failed", name)


async def drain(app: web.Application, deadline: float, budget: Budget) -> None:
    """Tell, wait for the clients, close and flush; `deadline` is in the event loop's time."""
    signalling = app[SIGNALLING]
    # Before anyone leaves at the news (and their room closes): the next process takes these.
    await _step(
        "handing over room sessions",
        asyncio.to_thread(
            handover.save, app[SETTINGS].data, signalling.rooms.sessions(), time.time()
        ),
        [],
    )
    told = await signalling.tell_restarting(RETRY_AFTER_MS)
    log.warning(
        "draining: /readyz fails and joins are refused from now on; %d sockets told the "
        "server is restarting; exit within %.1f s",
        told,
        budget.total_s,
    )
    try:
        async with asyncio.timeout_at(deadline - budget.closing_s):
            await signalling.rooms_emptied()
    except TimeoutError:
        log.warning("draining: %d sockets still in rooms; closing them", signalling.in_rooms())
    doing: list[str] = []
    try:
        async with asyncio.timeout_at(deadline - budget.handlers_s):
            # Leaving queues each participant's presence record before anything else awaits.
            await _step("closing the rooms", signalling.disconnect_all(), doing)
            await _step("writing what the rooms kept", app[ARCHIVE].flush(), doing)
            await _step("closing media", signalling.media.close(), doing)
            # Last: a journal with a backlog may use all the time that is left.
            await _step("the journal courier", app[COURIER].drain(), doing)
    except TimeoutError:
        log.warning("draining: the deadline cut %s short", doing[0] if doing else "closing")
    log.info("draining: done; stopping the listener")
