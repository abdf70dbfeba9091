"""Fixtures shared by the integration tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("SABAQ_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The local Redis (database 15, emptied before and after)."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()  # type: ignore[misc]  # redis-py types ping as sync|async
    except OSError as exc:
        pytest.fail(f"Redis is not running at {REDIS_URL} (scripts/install starts it): {exc}")
    await client.flushdb()
    yield REDIS_URL
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def data(tmp_path: Path, demo_data: Path) -> Path:
    """A copy of the demo school, shared by several nodes (one SQLite database, one secret)."""
    shutil.copytree(demo_data, tmp_path / "data")
    return tmp_path / "data"
