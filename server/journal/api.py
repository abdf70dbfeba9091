"""The journal's HTTP API for teachers: schedule, start and end lessons, see attendance."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from rooms.names import clean_name
from rooms.refusals import Reason, Refusal
from server.errors import error
from server.http_api import read_body, teacher_or_error
from server.journal.lessons import LessonError
from server.keys import ARCHIVE, COURIER, LESSONS, SETTINGS

routes = web.RouteTableDef()


class LessonBody(BaseModel):
    """`POST /api/lessons`; times are Unix seconds."""

    model_config = ConfigDict(extra="forbid")
    class_id: StrictInt
    subject: StrictStr = Field(max_length=1000)
    starts_at: StrictFloat | StrictInt
    ends_at: StrictFloat | StrictInt
    topic: StrictStr | None = Field(None, max_length=200)


class Correction(BaseModel):
    """The teacher's correction of one pupil's proposed attendance."""

    model_config = ConfigDict(extra="forbid")
    pupil_id: StrictInt
    status: Literal["present", "absent"] | None = None
    comment: StrictStr | None = Field(None, max_length=500)


class EndBody(BaseModel):
    """`POST /api/lessons/{id}/end`."""

    model_config = ConfigDict(extra="forbid")
    corrections: list[Correction] = Field(default_factory=list, max_length=200)


def _lesson_id(request: web.Request) -> int | web.Response:
    raw = request.match_info["lesson_id"]
    if not raw.isdigit() or len(raw) > 12:
        return error(Reason.INVALID_PAYLOAD, "A lesson id is a number.")
    return int(raw)


def _failed(exc: LessonError) -> web.Response:
    return error(exc.reason, exc.message)


async def _context(request: web.Request) -> tuple[int, int] | web.Response:
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    lesson_id = _lesson_id(request)
    return lesson_id if isinstance(lesson_id, web.Response) else (teacher.id, lesson_id)


@routes.post("/api/lessons")
async def create_lesson(request: web.Request) -> web.Response:
    """Put a lesson in the signed-in teacher's schedule."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    body = await read_body(request, LessonBody)
    if isinstance(body, web.Response):
        return body
    subject = clean_name(body.subject)
    if isinstance(subject, Refusal):
        return error(subject.reason, "The subject must be 1 to 64 characters.")
    try:
        lesson = await request.app[LESSONS].create(
            teacher.id,
            body.class_id,
            subject,
            float(body.starts_at),
            float(body.ends_at),
            body.topic,
        )
    except LessonError as exc:
        return _failed(exc)
    return web.json_response({"lesson": lesson}, status=201)


@routes.get("/api/lessons")
async def schedule(request: web.Request) -> web.Response:
    """The signed-in teacher's schedule."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    return web.json_response({"lessons": await request.app[LESSONS].schedule(teacher.id)})


@routes.get("/api/lessons/{lesson_id}")
async def lesson_journal(request: web.Request) -> web.Response:
    """A lesson with its attendance as the journal holds it."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    try:
        return web.json_response(await request.app[LESSONS].journal(context[1], context[0]))
    except LessonError as exc:
        return _failed(exc)


@routes.post("/api/lessons/{lesson_id}/start")
async def start_lesson(request: web.Request) -> web.Response:
    """ "Start lesson": opens the lesson's room and answers with its invite link."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    try:
        lesson, room_id = await request.app[LESSONS].start(context[1], context[0])
    except LessonError as exc:
        return _failed(exc)
    invite = f"{request.app[SETTINGS].base_url}/r/{room_id}"
    return web.json_response({"lesson": lesson, "invite_url": invite})


@routes.get("/api/lessons/{lesson_id}/attendance")
async def proposed_attendance(request: web.Request) -> web.Response:
    """The attendance proposed right now, with who of the class is missing."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    await request.app[ARCHIVE].flush()  # presence records of the last moments count too
    try:
        proposal = await request.app[LESSONS].proposal(context[1], context[0])
    except LessonError as exc:
        return _failed(exc)
    return web.json_response({"attendance": proposal})


@routes.post("/api/lessons/{lesson_id}/end")
async def end_lesson(request: web.Request) -> web.Response:
    """ "End lesson": confirm or correct the attendance; it goes to the journal exactly once."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    body = await read_body(request, EndBody)
    if isinstance(body, web.Response):
        return body
    corrections: dict[int, tuple[Any, Any]] = {
        c.pupil_id: (c.status, c.comment) for c in body.corrections
    }
    await request.app[ARCHIVE].flush()
    try:
        queued = await request.app[LESSONS].end(context[1], context[0], corrections)
    except LessonError as exc:
        return _failed(exc)
    request.app[COURIER].notify()
    return web.json_response({"queued": queued})
