"""A real local HTTP journal for tests: checks signatures, keeps each key once, fails on demand."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from server.journal.adapters import signature


class Receiver:
    """Stores records by idempotency key; the scripted failures come first."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.records: dict[str, dict[str, Any]] = {}
        self.posts: Counter[str] = Counter()
        self.failures: list[int | str] = []  # HTTP statuses, or "hang" for a timeout
        self.delay_s = 0.0
        self.changed = asyncio.Condition()
        self.bad_signatures = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers["Idempotency-Key"]
        expected = signature(self.secret, request.headers["X-Sabaq-Timestamp"], body)
        if not hmac.compare_digest(expected, request.headers["X-Sabaq-Signature"]):
            self.bad_signatures += 1
            return web.Response(status=401)
        async with self.changed:
            self.posts[key] += 1
            self.changed.notify_all()
        if self.failures:
            failure = self.failures.pop(0)
            if failure == "hang":
                await asyncio.sleep(3600)
            return web.Response(status=int(failure))
        # Stored before answering: a sender killed now has delivered but does not know it.
        async with self.changed:
            self.records.setdefault(key, json.loads(body))
            self.changed.notify_all()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return web.json_response({"ok": True})

    async def wait_for(self, predicate: Any, timeout: float = 30) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), timeout)


@asynccontextmanager
async def running_receiver(secret: bytes) -> AsyncIterator[tuple[Receiver, str]]:
    """A receiver listening on 127.0.0.1; yields it and its URL."""
    receiver = Receiver(secret)
    app = web.Application()
    app.router.add_post("/journal", receiver.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield receiver, f"http://127.0.0.1:{port}/journal"
    finally:
        await runner.cleanup()
