"""Ending sessions: the database first, then every open socket of them, on every node.

A socket's session is known only to the process it is connected to, so the keys of ended
sessions are also published on Redis (when the server runs with it); each node tells and
disconnects its own sockets of those sessions. The node that ended them does that at once
rather than waiting for its own message, and doing it twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.keys import REDIS, SESSIONS, SIGNALLING
from server.sessions import SIGNED_OUT_CHANNEL as CHANNEL
from server.sessions import Why
from server.signalling import Signalling

log = logging.getLogger(__name__)
RETRY_S = 1.0


async def announce(app: web.Application, keys: list[str], why: Why) -> None:
    """Tell the sockets of these (already ended) sessions, here and on other nodes."""
    if not keys:
        return
    await app[SIGNALLING].signed_out(keys, why)
    redis = app[REDIS]
    if redis is None:
        return
    try:
        await redis.publish(CHANNEL, json.dumps({"keys": keys, "why": why.value}))
    except RedisError:
        # The sessions are ended all the same: other nodes' sockets of them can do nothing
        # that needs a session again (each join and each request checks it).
        log.exception("could not tell other nodes about %d ended sessions", len(keys))


async def end_all(app: web.Application, user_id: int, why: Why) -> int:
    """End every open session of a user and their sockets; how many were open."""
    keys = await app[SESSIONS].end_all_of(user_id, why)
    await announce(app, keys, why)
    return len(keys)


def _parse(data: object) -> tuple[list[str], Why] | None:
    try:
        message = json.loads(data if isinstance(data, str | bytes) else "")
        keys, why = message["keys"], Why(message["why"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return None
    return keys, why


async def _listen(redis: Redis, signalling: Signalling, ready: asyncio.Event) -> None:
    """Tell this node's sockets of sessions other nodes ended, for as long as the server runs."""
    while True:
        try:
            async with redis.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                ready.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    parsed = _parse(message.get("data"))
                    if parsed is None:
                        log.warning("ignored a malformed message on %s", CHANNEL)
                        continue
                    await signalling.signed_out(*parsed)
        except RedisError as exc:
            ready.set()  # start-up does not wait for a Redis that is away
            log.warning("no %s subscription (%s); trying again", CHANNEL, exc)
            await asyncio.sleep(RETRY_S)  # a back-off between tries, not a synchronisation


async def relay(app: web.Application) -> AsyncIterator[None]:
    """`cleanup_ctx`: listen for other nodes' ended sessions while the server runs.

    The server starts serving once subscribed, so no session ended after that is missed.
    """
    redis = app[REDIS]
    task = None
    if redis is not None:
        ready = asyncio.Event()
        task = asyncio.create_task(_listen(redis, app[SIGNALLING], ready), name="signed-out relay")
        await ready.wait()
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
