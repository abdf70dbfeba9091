"""Upload a document to a room and fetch its pages: the routes take a ticket, not a cookie.

The ticket (`access`, from the socket event `document_access`) names a room and a participant;
an upload also needs that participant to hold `share` in the live room right now.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from rooms.commands import StopSharing
from rooms.refusals import Reason
from rooms.roles import Permission
from server.db.engine import sessions
from server.documents.refusals import MESSAGES, DocumentRefusal, Refused
from server.documents.render import page_name
from server.documents.serve import entry_response, file_response
from server.documents.store import DOCUMENT_ID
from server.errors import error
from server.journal.documents import Withheld, attach_to_lesson, lesson_document
from server.keys import ENGINE, SIGNALLING, TOKENS
from server.openapi import Refused as Refused_
from server.openapi import acting_user

routes = web.RouteTableDef()
_CHUNK = 256 * 1024
# The HTTP status of each refusal: the file's fault (415, 413, 422) or the server's (503, 504).
STATUS: dict[DocumentRefusal, int] = {
    DocumentRefusal.TOO_LARGE: 413,
    DocumentRefusal.UNSUPPORTED: 415,
    DocumentRefusal.FLASH: 415,
    DocumentRefusal.CONVERTER_MISSING: 503,
    DocumentRefusal.CONVERSION_TIMEOUT: 504,
}


def _refused(code: DocumentRefusal, message: str | None = None) -> web.Response:
    return web.json_response(
        {"error": {"code": code.value, "message": message or MESSAGES[code]}},
        status=STATUS.get(code, 422),
    )


def _ticket(request: web.Request, room_id: str) -> str | web.Response:
    """The participant the request's ticket names, if it is for this room."""
    token = request.headers.get("X-Sabaq-Access") or request.query.get("access", "")
    claims = request.app[TOKENS].check_document_access(token) if token else None
    if claims is None:
        return error(Reason.NOT_SIGNED_IN, "Open the room first: this address needs its ticket.")
    if claims[0] != room_id:
        return error(Reason.NOT_PERMITTED)
    return claims[1]


def _clean_name(raw: str) -> str:
    """The file's name as people see it: no folders, no control characters, not too long."""
    name = os.path.basename(raw.replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] or "document"


def _new_upload(folder: Path) -> tuple[int, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix="upload-", dir=folder)


@routes.post("/api/rooms/{room_id}/documents")
async def upload(request: web.Request) -> web.Response:
    """Upload a document (the raw bytes as the body) to a room; answers once it is converted."""
    room_id = request.match_info["room_id"]
    who = _ticket(request, room_id)
    if isinstance(who, web.Response):
        return who
    signalling = request.app[SIGNALLING]
    live = signalling.rooms.get(room_id)
    participant = live.room.participants.get(who) if live is not None else None
    if participant is None or not participant.may(Permission.SHARE):
        return error(Reason.NOT_PERMITTED, "Only hosts and presenters can share documents.")
    limits = signalling.document_limits
    if (request.content_length or 0) > limits.max_bytes:
        return _refused(DocumentRefusal.TOO_LARGE)
    store = signalling.documents
    handle, name = await asyncio.to_thread(_new_upload, store.work_root)
    path = Path(name)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(handle, "wb") as sink:
            # Streamed and counted: the app's 64 KiB body limit is for JSON, not for files,
            # and a missing or false Content-Length must not let more than the cap in.
            async for chunk in request.content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > limits.max_bytes:
                    return _refused(DocumentRefusal.TOO_LARGE)
                digest.update(chunk)
                sink.write(chunk)
        document_id = digest.hexdigest()
        shown_name, by = _clean_name(request.query.get("name", "")), participant.name

        def progress(step: dict[str, Any]) -> None:
            if step["page"] == 1:  # the room holds it from its first page: it can be shared
                store.attach(room_id, document_id, shown_name, by)
            payload = {
                "document": document_id,
                "page": step["page"],
                "pages": step["pages"],
                "by": who,  # the uploader's page knows its own upload by this
                "name": shown_name,
            }
            task = asyncio.create_task(
                signalling.emit_to_staff(room_id, "document_progress", payload)
            )
            store.keep(task)

        try:
            await store.add(path, document_id, limits, progress)
        except Refused as refusal:
            await _withdraw(request, room_id, document_id, who)
            return _refused(refusal.code, refusal.message)
        store.attach(room_id, document_id, shown_name, by)
        document = store.in_room(room_id, document_id)
        assert document is not None
        await attach_to_lesson(sessions(request.app[ENGINE]), room_id, document)
        # Everyone: a page shared while converting is complete now, and pupils may fetch ahead.
        await signalling.emit_to_room(room_id, "document_added", {"document": document})
        return web.json_response({"document": document}, status=201)
    finally:
        with contextlib.suppress(FileNotFoundError):  # moved into the store on success
            os.unlink(name)


async def _withdraw(request: web.Request, room_id: str, document_id: str, who: str) -> None:
    """A conversion failed after its first page: out of the room, and off its stage."""
    signalling = request.app[SIGNALLING]
    if signalling.documents.meta(document_id) is not None:
        return  # the same bytes were converted before: the room may keep them
    signalling.documents.detach(room_id, document_id)
    live = signalling.rooms.get(room_id)
    share = live.room.share if live is not None else None
    if share is not None and share.document.id == document_id:
        await signalling.apply_to_room(room_id, StopSharing(actor=who))


@routes.get("/api/rooms/{room_id}/documents/{document_id}/{file}")
async def document_file(request: web.Request) -> web.StreamResponse:
    """A page image, the converted video, the original file, or (`entry?name=`) one file of
    a zip, to members of the room."""
    room_id = request.match_info["room_id"]
    who = _ticket(request, room_id)
    if isinstance(who, web.Response):
        return who
    store = request.app[SIGNALLING].documents
    document_id, file = request.match_info["document_id"], request.match_info["file"]
    document = store.in_room(room_id, document_id)
    if document is None:
        return error(Reason.UNKNOWN_DOCUMENT)
    if file == "entry":
        name = request.query.get("name", "")
        return await entry_response(request, store.folder(document_id), document, name)
    return file_response(store.folder(document_id), document, file)


async def _after_lesson(request: web.Request) -> dict[str, Any] | web.Response:
    """The lesson's document the URL names, if the signed-in account may have it after the
    lesson (`lesson_after`: its class once it ended, its teacher, administrators)."""
    try:
        account = await acting_user(request)
    except Refused_ as refused:  # a one-time sign-in
        return refused.response
    if account is None:
        return error(Reason.NOT_SIGNED_IN)
    lesson_id, document_id = int(request.match_info["lesson_id"]), request.match_info["document_id"]
    if not DOCUMENT_ID.match(document_id) or lesson_id > 2**62:
        return error(Reason.UNKNOWN_DOCUMENT)
    try:
        async with sessions(request.app[ENGINE])() as s:
            row = await lesson_document(s, lesson_id, document_id, account)
    except Withheld as withheld:
        return error(withheld.reason, withheld.message)
    meta = request.app[SIGNALLING].documents.meta(document_id)
    if meta is None:
        return error(Reason.UNKNOWN_DOCUMENT)
    return {**meta, "name": row.name}


@routes.get(r"/api/lessons/{lesson_id:\d+}/documents/{document_id}/{file}")
async def lesson_document_file(request: web.Request) -> web.StreamResponse:
    """A document shared in a lesson, after it: to its class, its teacher, administrators.

    The same files as in the room (`entry?name=` too), checked by the signed-in session, not
    a room ticket: the room is gone, the lesson stays.
    """
    document = await _after_lesson(request)
    if isinstance(document, web.Response):
        return document
    folder = request.app[SIGNALLING].documents.folder(request.match_info["document_id"])
    file = request.match_info["file"]
    if file == "entry":
        name = request.query.get("name", "")
        return await entry_response(request, folder, document, name)
    return file_response(folder, document, file)


class PageQuery(BaseModel):
    """`?width=1280`: one of the widths the document's pages were rendered in (its `widths`)."""

    model_config = ConfigDict(extra="forbid")
    width: int


@routes.get(r"/api/lessons/{lesson_id:\d+}/documents/{document_id}/pages/{page}")
async def lesson_document_page(request: web.Request) -> web.StreamResponse:
    """Page N of a lesson's document at `?width=W` (the replay's page image), by the same rule.

    The page and the width are checked against the document (its page count, the widths it
    was rendered in), so a wrong one is told what is wrong rather than `unknown_document`.
    """
    document = await _after_lesson(request)
    if isinstance(document, web.Response):
        return document
    if document.get("shown_as") != "pages":
        return error(Reason.NO_SUCH_PAGE, "This document has no pages (a video or an archive).")
    pages, widths = int(document.get("pages") or 0), [int(w) for w in document.get("widths", [])]
    raw_page, raw_width = request.match_info["page"], request.query.get("width", "")
    page = int(raw_page) if raw_page.isdigit() and len(raw_page) <= 5 else 0
    if not 1 <= page <= pages:
        return error(Reason.NO_SUCH_PAGE, f"The document has pages 1 to {pages}.")
    width = int(raw_width) if raw_width.isdigit() and len(raw_width) <= 5 else 0
    if width not in widths:
        allowed = ", ".join(str(w) for w in sorted(widths))
        return error(Reason.OUT_OF_RANGE, f"A page comes in these widths: {allowed}.")
    folder = request.app[SIGNALLING].documents.folder(request.match_info["document_id"])
    return file_response(folder, document, page_name(page, width))
