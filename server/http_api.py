"""The JSON HTTP API: sign-in, classes and rooms (docs/protocol.md)."""

from __future__ import annotations

import json
import logging
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from rooms.names import clean_name
from rooms.policy import GuestPolicy
from rooms.refusals import Reason, Refusal
from server import openapi
from server.db.accounts import Account, StoredRoom
from server.errors import error
from server.keys import LOGIN_LIMITS, OPENAPI, SETTINGS, STORE, TOKENS
from server.openapi import Registry
from server.signalling import SESSION_COOKIE

log = logging.getLogger(__name__)
api = Registry()
routes = api.routes
MAX_TITLE = 120
Q = TypeVar("Q", bound=BaseModel)
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


async def read_body(request: web.Request, model: type[BaseModel]) -> Any:
    """The request's JSON as `model`, or an error response."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return error(Reason.PAYLOAD_TOO_LARGE, "The request is larger than 64 KiB.")
    try:
        return model.model_validate(json.loads(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return error(Reason.INVALID_PAYLOAD, f"{where}: {first['msg']}.")
        return error(Reason.INVALID_PAYLOAD, "The body must be a JSON object.")


def read_query(request: web.Request, model: type[Q]) -> Q | web.Response:
    """The request's query parameters as `model`, or an error response."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "query"
        return error(Reason.INVALID_PAYLOAD, f"{where}: {first['msg']}.")


async def current_user(request: web.Request) -> Account | None:
    """The signed-in account from the session cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    claims = request.app[TOKENS].check(token) if token else None
    return None if claims is None else await request.app[STORE].account(claims.user_id)


def _room_info(request: web.Request, room: StoredRoom) -> dict[str, Any]:
    return {
        "id": room.id,
        "title": room.title,
        "class_id": room.class_id,
        "class_name": room.class_name,
        "guest_policy": room.guest_policy,
        "invite_url": f"{request.app[SETTINGS].base_url}/r/{room.id}",
    }


@api.route(
    "POST",
    "/api/session",
    who="anyone",
    body=LoginBody,
    answer=UserAnswer,
    errors=(Reason.INVALID_PAYLOAD, Reason.INVALID_CREDENTIALS, Reason.RATE_LIMITED),
)
async def sign_in(request: web.Request) -> web.Response:
    """Check login and password; set the session cookie."""
    address = request.remote or "?"
    if not request.app[LOGIN_LIMITS].take(address, time.monotonic()):
        log.warning("sign-in rate limit hit from %s", address)
        return error(Reason.RATE_LIMITED)
    body = await read_body(request, LoginBody)
    if isinstance(body, web.Response):
        return body
    account = await request.app[STORE].authenticate(body.login, body.password)
    if account is None:
        log.info("failed sign-in for %r from %s", body.login, address)
        return error(Reason.INVALID_CREDENTIALS)
    settings = request.app[SETTINGS]
    response = web.json_response({"user": account.public()})
    response.set_cookie(
        SESSION_COOKIE,
        request.app[TOKENS].issue(account.id),
        httponly=True,
        samesite="Lax",
        secure=settings.base_url.startswith("https://"),
        path="/",
        max_age=int(settings.session_hours * 3600),
    )
    log.info("%s signed in from %s", account.login, address)
    return response


@api.route("DELETE", "/api/session", who="anyone", status=204)
async def sign_out(_request: web.Request) -> web.Response:
    """Forget the session cookie."""
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
    who="anyone signed in",
    body=PasswordBody,
    status=204,
    errors=(
        Reason.NOT_SIGNED_IN,
        Reason.INVALID_PAYLOAD,
        Reason.INVALID_CREDENTIALS,
        Reason.RATE_LIMITED,
    ),
)
async def change_password(request: web.Request) -> web.Response:
    """Choose a new password (required after a one-time one)."""
    account = await current_user(request)
    if account is None:
        return error(Reason.NOT_SIGNED_IN)
    if not request.app[LOGIN_LIMITS].take(request.remote or "?", time.monotonic()):
        return error(Reason.RATE_LIMITED)
    body = await read_body(request, PasswordBody)
    if isinstance(body, web.Response):
        return body
    if body.new == body.current:
        return error(Reason.INVALID_PAYLOAD, "The new password must differ from the current one.")
    if not await request.app[STORE].change_password(account.id, body.current, body.new):
        return error(Reason.INVALID_CREDENTIALS, "The current password is wrong.")
    log.info("%s chose a new password", account.login)
    return web.Response(status=204)


@api.route("GET", "/api/me", who="anyone", answer=MeAnswer)
async def me(request: web.Request) -> web.Response:
    """Who is signed in (`user` is null for nobody: not an error for an anonymous page)."""
    account = await current_user(request)
    return web.json_response({"user": None if account is None else account.public()})


async def teacher_or_error(request: web.Request) -> Account | web.Response:
    account = await current_user(request)
    if account is None:
        return error(Reason.NOT_SIGNED_IN)
    if account.kind != "teacher":
        return error(Reason.NOT_PERMITTED, "Only teachers can do this.")
    return account


async def admin_or_error(request: web.Request) -> Account | web.Response:
    """The signed-in administrator, or the error answer."""
    account = await current_user(request)
    if account is None:
        return error(Reason.NOT_SIGNED_IN)
    if account.kind != "admin":
        return error(Reason.NOT_PERMITTED, "Only administrators can do this.")
    return account


@api.route(
    "GET",
    "/api/classes",
    who="a teacher or an administrator",
    answer=ClassList,
    errors=(Reason.NOT_SIGNED_IN, Reason.NOT_PERMITTED),
)
async def classes(request: web.Request) -> web.Response:
    """The school's classes, for a teacher choosing whom a room is for."""
    account = await current_user(request)
    if account is None:
        return error(Reason.NOT_SIGNED_IN)
    if account.kind not in ("teacher", "admin"):
        return error(Reason.NOT_PERMITTED, "Only teachers and administrators can do this.")
    rows = await request.app[STORE].classes()
    return web.json_response({"classes": [{"id": i, "name": n, "pupils": c} for i, n, c in rows]})


@api.route(
    "POST",
    "/api/rooms",
    who="a teacher",
    body=RoomBody,
    answer=RoomAnswer,
    status=201,
    errors=(
        Reason.NOT_SIGNED_IN,
        Reason.NOT_PERMITTED,
        Reason.INVALID_PAYLOAD,
        Reason.NAME_REQUIRED,
        Reason.NAME_TOO_LONG,
    ),
)
async def create_room(request: web.Request) -> web.Response:
    """A teacher creates a room and gets its invite link."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    body = await read_body(request, RoomBody)
    if isinstance(body, web.Response):
        return body
    title = clean_name(body.title)
    if isinstance(title, Refusal):
        message = {
            Reason.NAME_REQUIRED: "Please give the room a title.",
            Reason.NAME_TOO_LONG: "The title is too long (at most 64 characters).",
        }
        return error(title.reason, message.get(title.reason, title.message))
    store = request.app[STORE]
    if body.class_id is not None and not await store.class_exists(body.class_id):
        return error(Reason.INVALID_PAYLOAD, "There is no class with that id.")
    room = await store.create_room(title, teacher.id, body.class_id, body.guest_policy.value)
    log.info("%s created room %s (%r)", teacher.login, room.id, room.title)
    return web.json_response({"room": _room_info(request, room)}, status=201)


@api.route(
    "GET",
    "/api/rooms",
    who="a teacher",
    answer=RoomList,
    errors=(Reason.NOT_SIGNED_IN, Reason.NOT_PERMITTED),
)
async def my_rooms(request: web.Request) -> web.Response:
    """The signed-in teacher's rooms."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    rooms = await request.app[STORE].rooms_of(teacher.id)
    return web.json_response({"rooms": [_room_info(request, r) for r in rooms]})


@api.route(
    "GET",
    "/api/rooms/{room_id}",
    who="anyone",
    answer=RoomPublicAnswer,
    errors=(Reason.UNKNOWN_ROOM,),
)
async def room_info(request: web.Request) -> web.Response:
    """What a room page shows before joining: its title, class and journal lesson (or null)."""
    store = request.app[STORE]
    room = await store.room(request.match_info["room_id"])
    if room is None:
        return error(Reason.UNKNOWN_ROOM)
    return web.json_response(
        {
            "room": {
                "id": room.id,
                "title": room.title,
                "class_name": room.class_name,
                "lesson_id": await store.lesson_of_room(room.id),
            }
        }
    )


@api.route("GET", "/api/openapi.json", who="anyone")
async def openapi_document(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of every /api/ route, generated from the code."""
    cache = request.app[OPENAPI]
    if "document" not in cache:
        cache["document"] = openapi.document(request.app, "Sabaq", VERSION)
    return web.json_response(cache["document"])
