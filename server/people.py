"""Accounts an administrator manages: add, edit, disable, reset a password, move a pupil.

Every change is written to the audit log in the same transaction as the change itself, so the
log cannot miss one nor name one that did not happen. Ending the sessions a change ends
(disabling, a reset) is the caller's next step (server/signouts.py): the sockets to tell are
per process, not in the database.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms.names import clean_name
from rooms.refusals import Reason, Refusal
from server.auth import generate_password, hash_password
from server.db.tables import AuditRow, ClassMember, SchoolClass, User
from server.journal.views import LessonError

# The same rule as the CSV import's.
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
STAFF = ("teacher", "admin")
KINDS = ("teacher", "admin", "pupil")
MAX_AUDIT = 500


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: an administrator's account, or the command line (no account)."""

    id: int | None
    login: str


COMMAND_LINE = Actor(None, "(command line)")


@dataclass(frozen=True, slots=True)
class Person:
    """An account as the administrator's list shows it."""

    id: int
    login: str
    display_name: str
    kind: str
    disabled: bool
    must_change_password: bool
    class_id: int | None
    class_name: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    at: float
    actor_id: int | None
    actor: str
    action: str
    target_id: int | None
    target: str
    detail: dict[str, Any]


def _refuse(reason: Reason, message: str | None = None) -> LessonError:
    # LessonError is the typed refusal the route registry turns into an error answer.
    return LessonError(reason, message or Refusal(reason).message)


def _name(text: str) -> str:
    name = clean_name(text)
    if isinstance(name, Refusal):
        raise _refuse(Reason.INVALID_PAYLOAD, f"display_name: {name.message}")
    return name


def check_login(text: str) -> str:
    """A login as stored (lowercase), or a refusal."""
    login = text.strip().lower()
    if not LOGIN.match(login):
        raise _refuse(
            Reason.INVALID_PAYLOAD,
            "login: 2 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit.",
        )
    return login


def record_in(s: AsyncSession, actor: Actor, action: str, target: User, **detail: Any) -> None:
    s.add(
        AuditRow(
            at=time.time(),
            actor_id=actor.id,
            actor=actor.login,
            action=action,
            target_id=target.id,
            target=target.login,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
        )
    )


class People:
    """The administrator's work on accounts, each change with its audit line."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def everyone(self, kind: str | None = None) -> list[Person]:
        """Every account (or those of one kind), by kind then name."""
        async with self._sessions() as s:
            query = (
                select(User, SchoolClass.id, SchoolClass.name)
                .outerjoin(ClassMember, ClassMember.user_id == User.id)
                .outerjoin(SchoolClass, SchoolClass.id == ClassMember.class_id)
                .order_by(User.kind, User.display_name, User.id)
            )
            if kind is not None:
                query = query.where(User.kind == kind)
            rows = (await s.execute(query)).all()
        seen: dict[int, Person] = {}
        for user, class_id, class_name in rows:
            seen.setdefault(user.id, _person(user, class_id, class_name))
        return list(seen.values())

    async def by_login(self, login: str) -> Person:
        """The account with this login, or `unknown_user`."""
        async with self._sessions() as s:
            user_id = await s.scalar(select(User.id).where(User.login == login.strip().lower()))
            if user_id is None:
                raise _refuse(Reason.UNKNOWN_USER, f"There is no account {login!r}.")
            return await _person_in(s, user_id)

    async def class_id(self, name: str) -> int:
        """The id of the class with this name, or `unknown_class`."""
        async with self._sessions() as s:
            found = await s.scalar(select(SchoolClass.id).where(SchoolClass.name == name))
        if found is None:
            raise _refuse(Reason.UNKNOWN_CLASS, f"There is no class {name!r}.")
        return int(found)

    async def person(self, user_id: int) -> Person:
        """One account, or `unknown_user`."""
        async with self._sessions() as s:
            return await _person_in(s, user_id)

    async def add(
        self, actor: Actor, login: str, display_name: str, kind: str
    ) -> tuple[Person, str]:
        """A new teacher or administrator with a one-time password (returned, shown once)."""
        if kind not in STAFF:
            raise _refuse(Reason.INVALID_PAYLOAD, "kind: pupils come from the class import.")
        login, name = check_login(login), _name(display_name)
        password = generate_password()
        user = User(
            login=login,
            display_name=name,
            kind=kind,
            password_hash=await hash_password(password),
            created_at=datetime.now(UTC),
            must_change_password=True,
        )
        try:
            async with self._sessions() as s, s.begin():
                s.add(user)
                await s.flush()
                record_in(s, actor, "user.add", user, kind=kind, display_name=name)
        except IntegrityError:
            raise _refuse(Reason.ALREADY_EXISTS, f"The login {login!r} is taken.") from None
        return _person(user, None, None), password

    async def edit(
        self,
        actor: Actor,
        user_id: int,
        *,
        display_name: str | None = None,
        kind: str | None = None,
        disabled: bool | None = None,
        class_id: int | None = None,
    ) -> tuple[Person, bool]:
        """Change what is given; the account and whether it was just disabled."""
        name = _name(display_name) if display_name is not None else None
        just_disabled = False
        async with self._sessions() as s, s.begin():
            user = await s.get(User, user_id)
            if user is None:
                raise _refuse(Reason.UNKNOWN_USER)
            if name is not None and name != user.display_name:
                record_in(s, actor, "user.rename", user, old=user.display_name, new=name)
                user.display_name = name
            if kind is not None and kind != user.kind:
                if kind not in STAFF or user.kind not in STAFF:
                    raise _refuse(
                        Reason.INVALID_PAYLOAD,
                        "kind: only teachers and administrators change into each other.",
                    )
                if user.id == actor.id:
                    raise _refuse(Reason.NOT_PERMITTED, "You cannot change your own role.")
                record_in(s, actor, "user.kind", user, old=user.kind, new=kind)
                user.kind = kind
            if disabled is not None and disabled != user.disabled:
                if user.id == actor.id:
                    raise _refuse(Reason.NOT_PERMITTED, "You cannot disable your own account.")
                record_in(s, actor, "user.disable" if disabled else "user.enable", user)
                user.disabled = disabled
                just_disabled = disabled
            if class_id is not None:
                await _move(s, actor, user, class_id)
            await s.flush()
            person = await _person_in(s, user_id)
        return person, just_disabled

    async def reset_password(self, actor: Actor, user_id: int) -> tuple[Person, str]:
        """A new one-time password for anyone (returned, shown once)."""
        password = generate_password()
        password_hash = await hash_password(password)
        async with self._sessions() as s, s.begin():
            user = await s.get(User, user_id)
            if user is None:
                raise _refuse(Reason.UNKNOWN_USER)
            user.password_hash = password_hash
            user.must_change_password = True
            user.one_time_spent = False
            record_in(s, actor, "user.password_reset", user)
            await s.flush()
            person = await _person_in(s, user_id)
        return person, password

    async def audit(self, limit: int = 100) -> list[AuditEntry]:
        """The newest lines of the audit log, newest first."""
        async with self._sessions() as s:
            rows = await s.scalars(
                select(AuditRow).order_by(AuditRow.id.desc()).limit(min(limit, MAX_AUDIT))
            )
            return [
                AuditEntry(
                    r.id,
                    r.at,
                    r.actor_id,
                    r.actor,
                    r.action,
                    r.target_id,
                    r.target,
                    json.loads(r.detail),
                )
                for r in rows
            ]

    async def record(self, actor: Actor, action: str, user_id: int, **detail: Any) -> None:
        """An audit line for a change made elsewhere (e.g. sessions ended, an import)."""
        async with self._sessions() as s, s.begin():
            user = await s.get(User, user_id)
            if user is not None:
                record_in(s, actor, action, user, **detail)


async def _move(s: AsyncSession, actor: Actor, user: User, class_id: int) -> None:
    if user.kind != "pupil":
        raise _refuse(Reason.INVALID_PAYLOAD, "class_id: only pupils belong to a class.")
    target = await s.get(SchoolClass, class_id)
    if target is None:
        raise _refuse(Reason.UNKNOWN_CLASS)
    old = (
        await s.execute(
            select(SchoolClass.id, SchoolClass.name)
            .join(ClassMember, ClassMember.class_id == SchoolClass.id)
            .where(ClassMember.user_id == user.id)
        )
    ).first()
    if old is not None and old[0] == class_id:
        return
    await s.execute(delete(ClassMember).where(ClassMember.user_id == user.id))
    s.add(ClassMember(class_id=class_id, user_id=user.id))
    record_in(
        s, actor, "pupil.move", user, old=old[1] if old is not None else None, new=target.name
    )


def _person(user: User, class_id: int | None, class_name: str | None) -> Person:
    return Person(
        user.id,
        user.login,
        user.display_name,
        user.kind,
        bool(user.disabled),
        bool(user.must_change_password),
        class_id,
        class_name,
    )


async def _person_in(s: AsyncSession, user_id: int) -> Person:
    row = (
        await s.execute(
            select(User, SchoolClass.id, SchoolClass.name)
            .outerjoin(ClassMember, ClassMember.user_id == User.id)
            .outerjoin(SchoolClass, SchoolClass.id == ClassMember.class_id)
            .where(User.id == user_id)
            .limit(1)
        )
    ).first()
    if row is None:
        raise _refuse(Reason.UNKNOWN_USER)
    return _person(*row)
