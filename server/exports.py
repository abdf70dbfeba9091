"""Exports a host takes away after a lesson: the public chat and the poll results."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime

from aiohttp import web

from rooms.refusals import Reason
from server.errors import error
from server.keys import ARCHIVE, STORE
from server.openapi import current_user

routes = web.RouteTableDef()


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


async def _owned_room(request: web.Request) -> str | web.Response:
    account = await current_user(request)
    if account is None:
        return error(Reason.NOT_SIGNED_IN)
    room = await request.app[STORE].room(request.match_info["room_id"])
    if room is None:
        return error(Reason.UNKNOWN_ROOM)
    if room.owner_id != account.id:
        return error(Reason.NOT_PERMITTED, "Only the room's host can export it.")
    return room.id


def _download(body: str, name: str, content_type: str) -> web.Response:
    response = web.Response(text=body, content_type=content_type, charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@routes.get("/api/rooms/{room_id}/chat.{fmt:csv|txt}")
async def export_chat(request: web.Request) -> web.Response:
    """The room's public chat as CSV or plain text (deleted messages left out)."""
    room_id = await _owned_room(request)
    if isinstance(room_id, web.Response):
        return room_id
    messages = await request.app[ARCHIVE].chat(room_id)
    if request.match_info["fmt"] == "csv":
        body = _csv(
            [("time_utc", "name", "role", "text")]
            + [(_when(m.at), m.sender_name, m.sender_role, m.text) for m in messages]
        )
        return _download(body, f"chat-{room_id}.csv", "text/csv")
    body = "".join(f"[{_when(m.at)}] {m.sender_name}: {m.text}\n" for m in messages)
    return _download(body, f"chat-{room_id}.txt", "text/plain")


@routes.get("/api/rooms/{room_id}/polls.csv")
async def export_polls(request: web.Request) -> web.Response:
    """One line per poll option (or text answer) with its count."""
    room_id = await _owned_room(request)
    if isinstance(room_id, web.Response):
        return room_id
    rows: list[tuple[object, ...]] = [("poll", "question", "kind", "answer", "votes", "voters")]
    for poll in await request.app[ARCHIVE].polls(room_id):
        results = poll["results"]
        for option, count in zip(poll["options"], results["counts"], strict=True):
            rows.append(
                (poll["id"], poll["question"], poll["kind"], option, count, results["voters"])
            )
        for text in results.get("texts", []):
            rows.append((poll["id"], poll["question"], poll["kind"], text, 1, results["voters"]))
    return _download(_csv(rows), f"polls-{room_id}.csv", "text/csv")
