"""An administrator's view of a user's open sessions, and ending them (docs/protocol.md)."""

from __future__ import annotations

import logging
from dataclasses import asdict

from aiohttp import web
from pydantic import BaseModel

from rooms.refusals import Reason
from server import signouts
from server.errors import error
from server.keys import PEOPLE, SESSIONS, STORE
from server.openapi import ADMIN, Call, Refused, Registry
from server.people import Actor
from server.sessions import Why

log = logging.getLogger(__name__)
api = Registry()
routes = api.routes


class SessionOut(BaseModel):
    """An open session: when it began and was last used, and from which browser and address."""

    id: int
    created_at: float
    last_seen_at: float
    expires_at: float
    user_agent: str
    address: str


class SessionList(BaseModel):
    """A user's open sessions, newest first."""

    sessions: list[SessionOut]


class EndedCount(BaseModel):
    """How many sessions were ended."""

    ended: int


async def _known_user(call: Call) -> int:
    user_id = call.ids["user_id"]
    if await call.app[STORE].account(user_id) is None:
        raise Refused(error(Reason.UNKNOWN_USER))
    return user_id


@api.route(
    "GET",
    "/api/admin/users/{user_id}/sessions",
    who=ADMIN,
    answer=SessionList,
    errors=(Reason.UNKNOWN_USER,),
)
async def user_sessions(call: Call) -> web.Response:
    """A user's open sessions."""
    found = await call.app[SESSIONS].open_of(await _known_user(call))
    return web.json_response({"sessions": [asdict(s) for s in found]})


@api.route(
    "DELETE",
    "/api/admin/users/{user_id}/sessions/{session_id}",
    who=ADMIN,
    status=204,
    errors=(Reason.UNKNOWN_USER, Reason.UNKNOWN_SESSION),
)
async def end_session(call: Call) -> web.Response:
    """End one open session of a user; its sockets are told `signed_out`."""
    user_id = await _known_user(call)
    key = await call.app[SESSIONS].end_one_of(user_id, call.ids["session_id"], Why.ENDED_BY_ADMIN)
    if key is None:
        return error(Reason.UNKNOWN_SESSION)
    await signouts.announce(call.app, [key], Why.ENDED_BY_ADMIN)
    await call.app[PEOPLE].record(
        Actor(call.account.id, call.account.login), "sessions.end", user_id, sessions=1
    )
    log.info("%s ended session %d of user %d", call.account.login, call.ids["session_id"], user_id)
    return web.Response(status=204)


@api.route(
    "DELETE",
    "/api/admin/users/{user_id}/sessions",
    who=ADMIN,
    answer=EndedCount,
    errors=(Reason.UNKNOWN_USER,),
)
async def end_all_sessions(call: Call) -> web.Response:
    """End every open session of a user; their sockets are told `signed_out`."""
    user_id = await _known_user(call)
    ended = await signouts.end_all(call.app, user_id, Why.ENDED_BY_ADMIN)
    await call.app[PEOPLE].record(
        Actor(call.account.id, call.account.login), "sessions.end", user_id, sessions=ended
    )
    log.info("%s ended all %d sessions of user %d", call.account.login, ended, user_id)
    return web.json_response({"ended": ended})
