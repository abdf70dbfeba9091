"""Passwords (argon2id) and signed, expiring session tokens (JWT, HS256)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


def hash_password(password: str) -> str:
    """An argon2id hash with a random salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches; never raises on a wrong password or a broken hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against a dummy hash when the login is unknown keeps the timing of both cases alike.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


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
    """Who a session token speaks for."""

    user_id: int
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

    def issue(self, user_id: int, now: float | None = None) -> str:
        """A token for this user, valid for the configured lifetime."""
        issued = time.time() if now is None else now
        claims = {
            "sub": str(user_id),
            "aud": self.AUDIENCE,
            "iat": int(issued),
            "exp": int(issued + self._lifetime),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def check(self, token: str) -> SessionClaims | None:
        """The claims of a valid, unexpired token, or None."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self.AUDIENCE,
                options={"require": ["sub", "exp", "aud"]},
            )
            return SessionClaims(user_id=int(claims["sub"]), expires_at=float(claims["exp"]))
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
