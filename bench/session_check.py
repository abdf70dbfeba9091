"""Session check benchmark: `python -m bench.session_check [--rounds N] [--database-url URL]`.

What a signed-in request pays to know who it is, in one process on a fresh database (SQLite in
a temporary folder unless a URL is given), interleaved round by round so both see the same
machine:
- `stateless`: the token check the server made before issue 10 — verify the JWT, read the
  account by id;
- `session`: today's check — verify the JWT, then one indexed lookup of the open session
  joined with its account;
- `session_seen`: the same when the session's `last_seen_at` is due (written at most once a
  minute per session), i.e. the worst case;
and the server-side part of a sign-in (argon2 check + starting the session). Prints one JSON
object as its last stdout line (milliseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from server.auth import Tokens
from server.db.accounts import Account, Store
from server.db.engine import migrate, open_engine, sessions
from server.sessions import SEEN_EVERY_S, Sessions

PASSWORD = "bench-password-1234"


def summary(samples: list[float]) -> dict[str, float]:
    """Mean and percentiles of durations in seconds, as milliseconds."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 4)

    return {
        "mean_ms": round(statistics.fmean(ordered) * 1000, 4),
        "p50_ms": at(0.5),
        "p95_ms": at(0.95),
        "max_ms": round(ordered[-1] * 1000, 4),
    }


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def run(rounds: int, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        engine = open_engine(url)
        await migrate(engine)
        store = Store(sessions(engine))
        # A year: `session_seen` moves its clock a minute per round and must stay unexpired.
        tokens = Tokens(b"b" * 32, 365 * 24 * 3600)
        book = Sessions(sessions(engine), tokens)
        account = await store.create_user("bench", "Bench Teacher", "teacher", PASSWORD)
        started = await book.start(account, "bench", "127.0.0.1")
        # The old cookie was the same JWT without the session lookup behind it.
        old_token = tokens.issue(account.id, "unused", time.time() + 3600)

        async def stateless() -> Account | None:
            claims = tokens.check(old_token)
            assert claims is not None
            return await store.account(claims.user_id)

        clock = [time.time()]

        async def seen() -> None:
            clock[0] += SEEN_EVERY_S + 1  # every check finds last_seen_at due
            assert await book.check(started.token, clock[0]) is not None

        for _ in range(20):  # warm the pool and the statement caches
            await stateless()
            await book.check(started.token)
        results: dict[str, list[float]] = {"stateless": [], "session": [], "session_seen": []}
        for _ in range(rounds):
            results["stateless"].append(await timed(stateless))
            results["session"].append(await timed(lambda: book.check(started.token)))
            results["session_seen"].append(await timed(seen))
        sign_ins = []
        for _ in range(5):

            async def sign_in() -> None:
                signed = await store.authenticate("bench", PASSWORD)
                assert isinstance(signed, Account)
                await book.start(signed, "bench", "127.0.0.1")

            sign_ins.append(await timed(sign_in))
        await engine.dispose()
    figures: dict[str, Any] = {name: summary(s) for name, s in results.items()}
    figures["added_mean_ms"] = round(
        figures["session"]["mean_ms"] - figures["stateless"]["mean_ms"], 4
    )
    figures["sign_in"] = summary(sign_ins)
    figures["rounds"] = rounds
    figures["database"] = engine.dialect.name
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="e.g. postgresql+asyncpg://…")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.rounds, args.database_url))))


if __name__ == "__main__":
    main()
