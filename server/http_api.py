"""The JSON HTTP API: sign-in, classes and rooms (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from rooms.names import clean_name
from rooms.policy import GuestPolicy
from rooms.refusals import Reason, Refusal
from server import openapi, signouts
from server.db.accounts import Account, StoredRoom
from server.errors import error
from server.keys import LOGIN_LIMITS, OPENAPI, SESSIONS, SETTINGS, SIGNALLING, STORE
from server.openapi import (
    ANYONE,
    SIGNED_IN_ONE_TIME,
    TEACHER,
    Call,
    Registry,
    Who,
    current_session,
    current_user,
)
from server.sessions import Why
from server.signalling import SESSION_COOKIE

log = logging.getLogger(__name__)
api = Registry()
routes = api.routes
MAX_TITLE = 120
try:
    VERSION = version("sabaq")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0"


class LoginBody(BaseModel):
    """`POST /api/session`."""

    model_config = ConfigDict(extra="forbid")
    login: StrictStr = Field(min_length=1, max_length=64)
    password: StrictStr = Field(min_length=1, max_length=256)


class RoomBody(BaseModel):
    """`POST /api/rooms`."""

    model_config = ConfigDict(extra="forbid")
    title: StrictStr = Field(max_length=1000)
    class_id: StrictInt | None = None
    guest_policy: GuestPolicy = GuestPolicy.ASK_HOST


class UserOut(BaseModel):
    """The protocol's User object."""

    id: int
    login: str
    display_name: str
    kind: str = Field(description="teacher | pupil | admin")
    must_change_password: bool


class UserAnswer(BaseModel):
    """The signed-in user."""

    user: UserOut


class MeAnswer(BaseModel):
    """Who is signed in (null: nobody)."""

    user: UserOut | None


class RoomInfo(BaseModel):
    """A room as its teacher sees it."""

    id: str
    title: str
    class_id: int | None
    class_name: str | None
    guest_policy: GuestPolicy
    invite_url: str


class RoomAnswer(BaseModel):
    """A room just created."""

    room: RoomInfo


class RoomList(BaseModel):
    """A teacher's rooms."""

    rooms: list[RoomInfo]


class RoomPublic(BaseModel):
    """What anyone may know of a room before joining."""

    id: str
    title: str
    class_name: str | None
    lesson_id: int | None = Field(description="the journal lesson the room was opened for")
    enters_directly: bool = Field(
        description="the signed-in caller is the room's teacher or a pupil of its class, so a "
        "join enters at once (the page joins without asking); false for anyone else"
    )
    recording: bool = Field(
        False,
        description="the lesson in this room is being recorded now: the entry page says so "
        "before anyone enters (rooms live on this process only; docs/recordings.md)",
    )


class RoomPublicAnswer(BaseModel):
    """A room's public facts."""

    room: RoomPublic


class ClassRow(BaseModel):
    """A class and its number of pupils."""

    id: int
    name: str
    pupils: int


class ClassList(BaseModel):
    """The school's classes."""

    classes: list[ClassRow]


def _login_limit(request: web.Request) -> web.Response | None:
    """Sign-in and password tries share one bucket per address.

    A route guard, checked before the body is read: a client over the limit hears
    `rate_limited` whatever it sent, and a flood of tries costs no parsing.
    """
    address = request.remote or "?"
    if request.app[LOGIN_LIMITS].take(address, time.monotonic()):
        return None
    log.warning("sign-in rate limit hit from %s", address)
    return error(Reason.RATE_LIMITED)


def _room_info(app: web.Application, room: StoredRoom) -> dict[str, Any]:
    return {
        "id": room.id,
        "title": room.title,
        "class_id": room.class_id,
        "class_name": room.class_name,
        "guest_policy": room.guest_policy,
        "invite_url": f"{app[SETTINGS].base_url}/r/{room.id}",
    }


@api.route(
    "POST",
    "/api/session",
    who=ANYONE,
    body=LoginBody,
    answer=UserAnswer,
    errors=(
        Reason.INVALID_CREDENTIALS,
        Reason.ONE_TIME_PASSWORD_USED,
        Reason.ACCOUNT_DISABLED,
        Reason.RATE_LIMITED,
    ),
    guard=_login_limit,
)
async def sign_in(call: Call) -> web.Response:
    """Check login and password; start a session and set its cookie.

    A one-time password's sign-in spends it; its session may only choose a new password.
    """
    request = call.request
    address = request.remote or "?"
    body = call.body(LoginBody)
    account = await request.app[STORE].authenticate(body.login, body.password)
    if isinstance(account, Reason):
        log.info("failed sign-in for %r from %s (%s)", body.login, address, account.value)
        return error(account)
    response = web.json_response({"user": account.public()})
    await _start_session(request, account, response)
    log.info("%s signed in from %s", account.login, address)
    return response


async def _start_session(request: web.Request, account: Account, response: web.Response) -> None:
    """A new server-side session for this account, its cookie set on the response."""
    started = await request.app[SESSIONS].start(
        account, request.headers.get("User-Agent", ""), request.remote or "?"
    )
    response.set_cookie(
        SESSION_COOKIE,
        started.token,
        httponly=True,
        samesite="Lax",
        secure=request.app[SETTINGS].base_url.startswith("https://"),
        path="/",
        max_age=max(1, int(started.expires_at - time.time())),
    )


@api.route("DELETE", "/api/session", who=ANYONE, status=204)
async def sign_out(call: Call) -> web.Response:
    """End this session on the server (its sockets are told `signed_out`) and forget the cookie."""
    current = await current_session(call.request)
    if current is not None and await call.app[SESSIONS].end(current.key, Why.SIGNED_OUT):
        await signouts.announce(call.app, [current.key], Why.SIGNED_OUT)
        log.info("%s signed out", current.account.login)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


class PasswordBody(BaseModel):
    """`POST /api/password`."""

    model_config = ConfigDict(extra="forbid")
    current: StrictStr = Field(min_length=1, max_length=256)
    new: StrictStr = Field(min_length=10, max_length=256)


@api.route(
    "POST",
    "/api/password",
    who=SIGNED_IN_ONE_TIME,
    body=PasswordBody,
    status=204,
    errors=(Reason.INVALID_CREDENTIALS, Reason.RATE_LIMITED),
    guard=_login_limit,
)
async def change_password(call: Call) -> web.Response:
    """Choose a new password (required after a one-time one).

    Every session of the account ends, this one too (their sockets are told `signed_out`);
    the answer carries the cookie of a fresh session for whoever made the change.
    """
    account = call.account
    body = call.body(PasswordBody)
    if body.new == body.current:
        return error(Reason.INVALID_PAYLOAD, "The new password must differ from the current one.")
    if not await call.app[STORE].change_password(account.id, body.current, body.new):
        return error(Reason.INVALID_CREDENTIALS, "The current password is wrong.")
    ended = await signouts.end_all(call.app, account.id, Why.PASSWORD_CHANGED)
    response = web.Response(status=204)
    await _start_session(call.request, replace(account, must_change_password=False), response)
    log.info("%s chose a new password; %d sessions ended", account.login, ended)
    return response


@api.route("GET", "/api/me", who=ANYONE, answer=MeAnswer)
async def me(call: Call) -> web.Response:
    """Who is signed in (`user` is null for nobody: not an error for an anonymous page)."""
    account = await current_user(call.request)
    return web.json_response({"user": None if account is None else account.public()})


@api.route(
    "GET",
    "/api/classes",
    who=Who(
        "a teacher or an administrator",
        ("teacher", "admin"),
        "Only teachers and administrators can do this.",
    ),
    answer=ClassList,
)
async def classes(call: Call) -> web.Response:
    """The classes a room may be made for: a teacher's own (the teaching table's), or every
    class for an administrator."""
    account = call.account
    rows = await call.app[STORE].classes(None if account.kind == "admin" else account.id)
    return web.json_response({"classes": [{"id": i, "name": n, "pupils": c} for i, n, c in rows]})


@api.route(
    "POST",
    "/api/rooms",
    who=TEACHER,
    body=RoomBody,
    answer=RoomAnswer,
    status=201,
    errors=(Reason.NAME_REQUIRED, Reason.NAME_TOO_LONG, Reason.NOT_PERMITTED),
)
async def create_room(call: Call) -> web.Response:
    """A teacher creates a room and gets its invite link."""
    teacher = call.account
    body = call.body(RoomBody)
    title = clean_name(body.title)
    if isinstance(title, Refusal):
        message = {
            Reason.NAME_REQUIRED: "Please give the room a title.",
            Reason.NAME_TOO_LONG: "The title is too long (at most 64 characters).",
        }
        return error(title.reason, message.get(title.reason, title.message))
    store = call.app[STORE]
    if body.class_id is not None and not await store.teaches_class(teacher.id, body.class_id):
        # A room of a class lets its pupils in without knocking and shows it to them, so it
        # takes the same right as the class's lessons: the teaching table must give the class.
        if not await store.class_exists(body.class_id):
            return error(Reason.INVALID_PAYLOAD, "There is no class with that id.")
        return error(Reason.NOT_PERMITTED, "You do not teach this class.")
    room = await store.create_room(title, teacher.id, body.class_id, body.guest_policy.value)
    log.info("%s created room %s (%r)", teacher.login, room.id, room.title)
    return web.json_response({"room": _room_info(call.app, room)}, status=201)


@api.route(
    "GET",
    "/api/rooms",
    who=TEACHER,
    answer=RoomList,
)
async def my_rooms(call: Call) -> web.Response:
    """The signed-in teacher's rooms."""
    rooms = await call.app[STORE].rooms_of(call.account.id)
    return web.json_response({"rooms": [_room_info(call.app, r) for r in rooms]})


@api.route(
    "GET",
    "/api/rooms/{room_id}",
    who=ANYONE,
    answer=RoomPublicAnswer,
    errors=(Reason.UNKNOWN_ROOM,),
)
async def room_info(call: Call) -> web.Response:
    """What a room page shows before joining: its title, class and journal lesson (or null),
    and whether the signed-in caller would enter at once (the page then joins by itself)."""
    store = call.app[STORE]
    room = await store.room(call.request.match_info["room_id"])
    if room is None:
        return error(Reason.UNKNOWN_ROOM)

    async def enters_directly() -> bool:
        # The same rule as a join's (server/signalling.py): the owner, or one the room expects.
        # A one-time password must be changed first, so that account is not sent in.
        account = await current_user(call.request)
        if account is None or account.must_change_password:
            return False
        if account.id == room.owner_id:
            return True
        return await store.expected_in_room(account.id, room.owner_id, room.class_id)

    # Side by side: the room page waits for this answer before a pupil goes in.
    lesson_id, direct = await asyncio.gather(store.lesson_of_room(room.id), enters_directly())
    return web.json_response(
        {
            "room": {
                "id": room.id,
                "title": room.title,
                "class_name": room.class_name,
                "lesson_id": lesson_id,
                "enters_directly": direct,
                "recording": recording_now(call.app, room.id),
            }
        }
    )


def recording_now(app: web.Application, room_id: str) -> bool:
    """Whether the room is open on this process and being recorded."""
    live = app[SIGNALLING].rooms.get(room_id)
    return live is not None and live.room.recording.since is not None


@api.route("GET", "/api/openapi.json", who=ANYONE)
async def openapi_document(call: Call) -> web.Response:
    """The OpenAPI 3.1 document of every /api/ route, generated from the code."""
    cache = call.app[OPENAPI]
    if "document" not in cache:
        cache["document"] = openapi.document(call.app, "Sabaq", VERSION)
    return web.json_response(cache["document"])
