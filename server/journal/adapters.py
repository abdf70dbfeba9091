"""Where attendance goes: one interface, so another journal is one more class."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp


@dataclass(frozen=True, slots=True)
class Delivered:
    """The journal has the record (now, or already from an earlier try with the same key)."""


@dataclass(frozen=True, slots=True)
class Retry:
    """A failure worth trying again (network error, timeout, 5xx, 408, 429)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The journal refused the record for good (other 4xx): it goes to the dead-letter list."""

    reason: str


Result = Delivered | Retry | Rejected


class JournalAdapter(Protocol):
    """Delivers one record; must be idempotent for one key."""

    async def deliver(self, key: str, record: dict[str, Any]) -> Result:
        """Send one record under its idempotency key."""
        ...


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`, as the X-Sabaq-Signature header carries it."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class HttpJournal:
    """A school journal reached over HTTP: JSON body, HMAC signature, idempotency key."""

    def __init__(self, url: str, secret: bytes, timeout_s: float = 10.0) -> None:
        self._url = url
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None

    async def deliver(self, key: str, record: dict[str, Any]) -> Result:
        """POST the record; 2xx and 409 (already have it) both mean delivered."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        body = json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "X-Sabaq-Timestamp": timestamp,
            "X-Sabaq-Signature": signature(self._secret, timestamp, body),
        }
        try:
            async with self._http.post(self._url, data=body, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Retry(f"{type(exc).__name__}: {exc}"[:200])
        if 200 <= status < 300 or status == 409:
            return Delivered()
        if status >= 500 or status in (408, 429):
            return Retry(f"HTTP {status}")
        return Rejected(f"HTTP {status}")

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._http is not None:
            await self._http.close()
