"""Passwords (argon2id) and signed, expiring tokens (JWT, HS256) for sessions and resumes."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


# argon2 is slow on purpose (~0.2 s of CPU here): on the event loop each sign-in would stall every
# room's media and signalling for that long. argon2-cffi releases the GIL, so a worker thread
# does it; one worker, so a class signing in at once queues there.


def _one_core() -> None:
    """Keeps the worker (and the threads argon2 starts per hash, which inherit its CPU set) on
    one core, so the event loop always has another: a hash then takes 0.23 s instead of 0.14."""
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(0, {cpus[-1]})  # 0: this thread only


_password_worker = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="password", initializer=_one_core
)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    """An argon2id hash with a random salt (computed off the event loop)."""
    return await asyncio.get_running_loop().run_in_executor(
        _password_worker, _hasher.hash, password
    )


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches (checked off the event loop); never raises on a wrong
    password or a broken hash."""
    return await asyncio.get_running_loop().run_in_executor(
        _password_worker, _verify, password_hash, password
    )


# Verifying against a dummy hash when the login is unknown keeps the timing of both cases alike.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def generate_password() -> str:
    """A password people can type: 4 groups of 4 lowercase letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def installation_secret(data_dir: Path) -> bytes:
    """The per-installation signing key, created on first start, readable by the owner only."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(secrets.token_bytes(32))
    return path.read_bytes()


@dataclass(frozen=True, slots=True)
class SessionClaims:
    """Which server-side session a cookie names (server/sessions.py checks it is still open)."""

    user_id: int
    sid: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class ResumeClaims:
    """An admitted person's way back into the same lesson after a network blip."""

    room: str
    session: str
    identity: str
    name: str
    institution: str | None


class Tokens:
    """Issues and checks session and resume tokens signed with the installation secret."""

    AUDIENCE = "sabaq-session"
    RESUME_AUDIENCE = "sabaq-resume"
    RESUME_LIFETIME_S = 12 * 3600

    def __init__(self, secret: bytes, lifetime_s: float) -> None:
        self._secret = secret
        self._lifetime = lifetime_s

    @property
    def lifetime_s(self) -> float:
        """How long a session lasts."""
        return self._lifetime

    def issue(self, user_id: int, sid: str, expires_at: float, now: float | None = None) -> str:
        """A cookie value naming session `sid` of this user, expiring with it."""
        issued = time.time() if now is None else now
        claims = {
            "sub": str(user_id),
            "sid": sid,
            "aud": self.AUDIENCE,
            "iat": int(issued),
            "exp": int(expires_at),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def check(self, token: str) -> SessionClaims | None:
        """The claims of a validly signed, unexpired token, or None.

        The signature alone no longer makes a session: the session it names must also still be
        open on the server. It spares that lookup for forged or garbled cookies.
        """
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self.AUDIENCE,
                options={"require": ["sub", "sid", "exp", "aud"]},
            )
            sid = claims["sid"]
            if not isinstance(sid, str):
                return None
            return SessionClaims(int(claims["sub"]), sid, float(claims["exp"]))
        except (jwt.PyJWTError, ValueError):
            return None

    def issue_resume(self, claims: ResumeClaims, now: float | None = None) -> str:
        """A token that lets this person back into this room session without knocking."""
        issued = time.time() if now is None else now
        payload = {
            "aud": self.RESUME_AUDIENCE,
            "exp": int(issued + self.RESUME_LIFETIME_S),
            "room": claims.room,
            "session": claims.session,
            "sub": claims.identity,
            "name": claims.name,
            "inst": claims.institution,
        }
        return jwt.encode(payload, self._secret, algorithm="HS256")

    def check_resume(self, token: str) -> ResumeClaims | None:
        """The claims of a valid resume token, or None."""
        try:
            c = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self.RESUME_AUDIENCE,
                options={"require": ["sub", "exp", "aud", "room", "session", "name"]},
            )
            return ResumeClaims(c["room"], c["session"], c["sub"], c["name"], c.get("inst"))
        except (jwt.PyJWTError, KeyError):
            return None

    DOCUMENT_AUDIENCE = "sabaq-documents"
    DOCUMENT_LIFETIME_S = 2 * 3600

    def issue_document_access(self, room: str, participant: str, now: float) -> str:
        """Lets a participant of `room` fetch (and, if they may share, upload) its documents.

        HTTP knows no room membership (it lives in the socket's room), so the socket hands
        this short-lived ticket to the page; the upload route re-checks `share` in the room.
        """
        payload = {
            "aud": self.DOCUMENT_AUDIENCE,
            "exp": int(now + self.DOCUMENT_LIFETIME_S),
            "room": room,
            "sub": participant,
        }
        return jwt.encode(payload, self._secret, algorithm="HS256")

    def check_document_access(self, token: str) -> tuple[str, str] | None:
        """(room, participant) of a valid document ticket, or None."""
        try:
            c = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self.DOCUMENT_AUDIENCE,
                options={"require": ["sub", "exp", "aud", "room"]},
            )
        except jwt.PyJWTError:
            return None
        room, sub = c.get("room"), c.get("sub")
        return (room, sub) if isinstance(room, str) and isinstance(sub, str) else None
