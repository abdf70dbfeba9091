"""The administrator's HTTP API for accounts: list, add, edit, disable, reset, move; audit log."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from rooms.refusals import Reason
from server import signouts
from server.keys import PEOPLE
from server.openapi import ADMIN, Call, Registry
from server.people import Actor
from server.sessions import Why

log = logging.getLogger(__name__)
api = Registry()
routes = api.routes


class PersonOut(BaseModel):
    """An account as an administrator sees it (`class_id`: a pupil's class)."""

    id: int
    login: str
    display_name: str
    kind: str = Field(description="teacher | pupil | admin")
    disabled: bool
    must_change_password: bool
    class_id: int | None
    class_name: str | None


class PersonList(BaseModel):
    """Accounts, by kind then name."""

    users: list[PersonOut]


class PersonAnswer(BaseModel):
    """One account."""

    user: PersonOut


class NewPassword(BaseModel):
    """An account and its new one-time password (shown once: it is not kept readable)."""

    user: PersonOut
    password: str


class UsersQuery(BaseModel):
    """`?kind=teacher`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["teacher", "admin", "pupil"] | None = None


class NewUser(BaseModel):
    """`POST /api/admin/users`: a teacher or an administrator (pupils come from the import)."""

    model_config = ConfigDict(extra="forbid")
    login: StrictStr = Field(min_length=1, max_length=64)
    display_name: StrictStr = Field(min_length=1, max_length=200)
    kind: Literal["teacher", "admin"]


class UserPatch(BaseModel):
    """`PATCH /api/admin/users/{id}`: what to change (absent fields stay as they are)."""

    model_config = ConfigDict(extra="forbid")
    display_name: StrictStr | None = Field(None, min_length=1, max_length=200)
    kind: Literal["teacher", "admin"] | None = None
    disabled: StrictBool | None = None
    class_id: StrictInt | None = Field(None, ge=1, description="move a pupil to this class")


class AuditOut(BaseModel):
    """One change to accounts: who (`actor`), what (`action`, `detail`), to whom, when."""

    id: int
    at: float
    actor_id: int | None
    actor: str
    action: str
    target_id: int | None
    target: str
    detail: dict[str, object]


class AuditList(BaseModel):
    """The newest changes first."""

    entries: list[AuditOut]


class AuditQuery(BaseModel):
    """`?limit=100`."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(100, ge=1, le=500)


def _actor(call: Call) -> Actor:
    return Actor(call.account.id, call.account.login)


@api.route("GET", "/api/admin/users", who=ADMIN, query=UsersQuery, answer=PersonList)
async def list_users(call: Call) -> web.Response:
    """Every account, or those of one kind."""
    people = await call.app[PEOPLE].everyone(call.query(UsersQuery).kind)
    return web.json_response({"users": [asdict(p) for p in people]})


@api.route(
    "POST",
    "/api/admin/users",
    who=ADMIN,
    body=NewUser,
    answer=NewPassword,
    status=201,
    errors=(Reason.ALREADY_EXISTS,),
)
async def add_user(call: Call) -> web.Response:
    """Add a teacher or an administrator with a one-time password."""
    body = call.body(NewUser)
    person, password = await call.app[PEOPLE].add(
        _actor(call), body.login, body.display_name, body.kind
    )
    log.info("%s added %s %s", call.account.login, person.kind, person.login)
    return web.json_response({"user": asdict(person), "password": password}, status=201)


@api.route(
    "PATCH",
    "/api/admin/users/{user_id}",
    who=ADMIN,
    body=UserPatch,
    answer=PersonAnswer,
    errors=(Reason.UNKNOWN_USER, Reason.UNKNOWN_CLASS),
)
async def edit_user(call: Call) -> web.Response:
    """Rename, change between teacher and administrator, disable or enable, move a pupil.

    Disabling ends every session of the account (its sockets are told `signed_out`).
    """
    body = call.body(UserPatch)
    person, just_disabled = await call.app[PEOPLE].edit(
        _actor(call),
        call.ids["user_id"],
        display_name=body.display_name,
        kind=body.kind,
        disabled=body.disabled,
        class_id=body.class_id,
    )
    if just_disabled:
        await signouts.end_all(call.app, person.id, Why.DISABLED)
    log.info("%s edited account %s", call.account.login, person.login)
    return web.json_response({"user": asdict(person)})


@api.route(
    "POST",
    "/api/admin/users/{user_id}/password",
    who=ADMIN,
    answer=NewPassword,
    errors=(Reason.UNKNOWN_USER,),
)
async def reset_password(call: Call) -> web.Response:
    """A new one-time password for anyone; every session of the account ends."""
    person, password = await call.app[PEOPLE].reset_password(_actor(call), call.ids["user_id"])
    await signouts.end_all(call.app, person.id, Why.PASSWORD_RESET)
    log.info("%s reset the password of %s", call.account.login, person.login)
    return web.json_response({"user": asdict(person), "password": password})


@api.route("GET", "/api/admin/audit", who=ADMIN, query=AuditQuery, answer=AuditList)
async def audit_log(call: Call) -> web.Response:
    """The newest changes to accounts (who, what, when)."""
    entries = await call.app[PEOPLE].audit(call.query(AuditQuery).limit)
    return web.json_response({"entries": [asdict(e) for e in entries]})
