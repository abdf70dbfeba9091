"""Exports a host takes away after a lesson: the public chat and the poll results."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from rooms.refusals import Reason
from server.errors import error
from server.keys import ARCHIVE, STORE
from server.openapi import Refused, acting_user
from server.spreadsheet import safe_cell

routes = web.RouteTableDef()


def _csv(rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


async def _owned_room(request: web.Request) -> str | web.Response:
    try:
        account = await acting_user(request)
    except Refused as refused:  # a one-time sign-in
        return refused.response
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
    """One line per poll option with its count; for a named poll, also who answered what."""
    room_id = await _owned_room(request)
    if isinstance(room_id, web.Response):
        return room_id
    rows: list[tuple[object, ...]] = [
        ("poll", "question", "kind", "answer", "votes", "voters", "name")
    ]
    for poll in await request.app[ARCHIVE].polls(room_id):
        rows.extend(_poll_rows(poll))
    return _download(_csv(rows), f"polls-{room_id}.csv", "text/csv")


def _poll_rows(poll: dict[str, Any]) -> list[tuple[object, ...]]:
    """Count lines (no name), then one line per person and chosen option or text (named polls).

    A named line leaves `votes` empty, so summing the column still gives the counts.
    """
    results = poll["results"]
    head = (poll["id"], poll["question"], poll["kind"])
    voters = results["voters"]
    rows: list[tuple[object, ...]] = [
        (*head, option, count, voters, "")
        for option, count in zip(poll["options"], results["counts"], strict=True)
    ]
    named = results.get("named")
    if named is None:  # anonymous: text answers without their authors
        rows.extend((*head, text, 1, voters, "") for text in results.get("texts", []))
        return rows
    for answer in named:
        if answer["text"] is not None:
            rows.append((*head, answer["text"], 1, voters, answer["name"]))
        for choice in answer["choices"]:
            rows.append((*head, poll["options"][choice], "", voters, answer["name"]))
    return rows
