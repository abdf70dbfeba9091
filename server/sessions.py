"""Sessions kept on the server: a sign-in works until it expires, is signed out or is ended.

The cookie is a signed JWT naming a random session id (`sid`); the database keeps the sha256
of that id with the session's user, times, browser and address. Each request checks the
signature (no database work for a forged cookie), then makes one indexed lookup that also
reads the account — the one query the stateless token needed anyway. Ending a session is
marking its row: the next request with that cookie is anonymous.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth import Tokens
from server.db.accounts import Account, account_of
from server.db.tables import SessionRow, User

# A sign-in with a one-time password is good for choosing a new one, not for a school day.
ONE_TIME_LIFETIME_S = 3600.0
# `last_seen_at` is written at most this often per session: a write per request is not worth
# what the administrator's list gains from it.
SEEN_EVERY_S = 60.0
# Ended and expired sessions stay listed this long (an administrator may ask what happened).
KEEP_ENDED_S = 30 * 24 * 3600.0
# Where the keys of ended sessions are published for every node's sockets (server/signouts.py).
SIGNED_OUT_CHANNEL = "sabaq:signed_out"
MAX_USER_AGENT = 200
MAX_ADDRESS = 64


class Why(StrEnum):
    """Why a session ended: what the `signed_out` event tells its sockets."""

    SIGNED_OUT = "signed_out"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a secret
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a reason, not a secret
    ENDED_BY_ADMIN = "ended_by_admin"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Current:
    """The open session a request's cookie names, and its account."""

    account: Account
    session_id: int
    key: str


@dataclass(frozen=True, slots=True)
class Started:
    """A new session: the cookie value and how long it lasts."""

    token: str
    key: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class OpenSession:
    """An open session as an administrator sees it."""

    id: int
    created_at: float
    last_seen_at: float
    expires_at: float
    user_agent: str
    address: str


def session_key(sid: str) -> str:
    """What the database keeps of a session id."""
    return hashlib.sha256(sid.encode()).hexdigest()


class Sessions:
    """Starts, checks and ends the server-side sessions behind session cookies."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], tokens: Tokens) -> None:
        self._sessions = sessions
        self._tokens = tokens

    async def start(
        self, account: Account, user_agent: str, address: str, now: float | None = None
    ) -> Started:
        """A new session of this account and its cookie value."""
        now = time.time() if now is None else now
        lifetime = ONE_TIME_LIFETIME_S if account.must_change_password else self._tokens.lifetime_s
        sid = secrets.token_urlsafe(32)
        key = session_key(sid)
        async with self._sessions() as s:
            # Old rows of this user go as a new one comes: the table stays small without a job.
            await s.execute(
                delete(SessionRow).where(
                    SessionRow.user_id == account.id,
                    SessionRow.expires_at < now - KEEP_ENDED_S,
                )
            )
            s.add(
                SessionRow(
                    key=key,
                    user_id=account.id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + lifetime,
                    user_agent=user_agent[:MAX_USER_AGENT],
                    address=address[:MAX_ADDRESS],
                )
            )
            await s.commit()
        expires = now + lifetime
        return Started(self._tokens.issue(account.id, sid, expires, now), key, expires)

    async def check(self, token: str, now: float | None = None) -> Current | None:
        """The open session this cookie value names, or None."""
        claims = self._tokens.check(token)
        if claims is None:
            return None
        now = time.time() if now is None else now
        key = session_key(claims.sid)
        async with self._sessions() as s:
            row = (
                await s.execute(
                    select(SessionRow.id, SessionRow.last_seen_at, User)
                    .join(User, User.id == SessionRow.user_id)
                    .where(
                        SessionRow.key == key,
                        SessionRow.ended_at.is_(None),
                        SessionRow.expires_at > now,
                        User.disabled.is_(False),
                    )
                )
            ).first()
            if row is None:
                return None
            session_id, last_seen, user = row
            if user.id != claims.user_id:  # cannot happen unless the secret leaked
                return None
            if now - last_seen > SEEN_EVERY_S:
                await s.execute(
                    update(SessionRow).where(SessionRow.id == session_id).values(last_seen_at=now)
                )
                await s.commit()
        return Current(account_of(user), session_id, key)

    async def end(self, key: str, why: Why, now: float | None = None) -> bool:
        """End one session (by its key); False if it was not open."""
        async with self._sessions() as s:
            ended = await s.scalar(
                update(SessionRow)
                .where(SessionRow.key == key, SessionRow.ended_at.is_(None))
                .values(ended_at=time.time() if now is None else now, ended_why=why.value)
                .returning(SessionRow.id)
            )
            await s.commit()
        return ended is not None

    async def end_one_of(
        self, user_id: int, session_id: int, why: Why, now: float | None = None
    ) -> str | None:
        """End a user's session by its id; its key, or None if it was not an open one of theirs."""
        now = time.time() if now is None else now
        async with self._sessions() as s:
            key = await s.scalar(
                update(SessionRow)
                .where(
                    SessionRow.id == session_id,
                    SessionRow.user_id == user_id,
                    SessionRow.ended_at.is_(None),
                    SessionRow.expires_at > now,
                )
                .values(ended_at=now, ended_why=why.value)
                .returning(SessionRow.key)
            )
            await s.commit()
        return key

    async def end_all_of(self, user_id: int, why: Why, now: float | None = None) -> list[str]:
        """End every open session of a user; the keys of those ended."""
        now = time.time() if now is None else now
        async with self._sessions() as s:
            keys = await s.scalars(
                update(SessionRow)
                .where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None))
                .values(ended_at=now, ended_why=why.value)
                .returning(SessionRow.key)
            )
            ended = list(keys)
            await s.commit()
        return ended

    async def open_of(self, user_id: int, now: float | None = None) -> list[OpenSession]:
        """A user's open sessions, newest first."""
        now = time.time() if now is None else now
        async with self._sessions() as s:
            rows = await s.scalars(
                select(SessionRow)
                .where(
                    SessionRow.user_id == user_id,
                    SessionRow.ended_at.is_(None),
                    SessionRow.expires_at > now,
                )
                .order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
            )
            return [
                OpenSession(
                    r.id, r.created_at, r.last_seen_at, r.expires_at, r.user_agent, r.address
                )
                for r in rows
            ]
