"""The journal's HTTP API for teachers and pupils: schedule, lessons, marks, assignments, diary."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from rooms.names import clean_name
from rooms.refusals import Reason, Refusal
from server.errors import error
from server.http_api import current_user, read_body, read_query, teacher_or_error
from server.journal import models
from server.journal.views import LessonError
from server.journal.weeks import monday_of, this_week
from server.keys import ARCHIVE, COURIER, DIARIES, GRADEBOOK, LESSONS, SCHOOL_ADMIN, SETTINGS
from server.openapi import Registry

api = Registry()
routes = api.routes
TEACHER = "a teacher"
OWNER = "the lesson's teacher"
LESSON_ERRORS = (
    Reason.NOT_SIGNED_IN,
    Reason.NOT_PERMITTED,
    Reason.UNKNOWN_LESSON,
    Reason.INVALID_PAYLOAD,
)


class LessonBody(BaseModel):
    """`POST /api/lessons`; times are Unix seconds; `subject_id` may replace `subject`."""

    model_config = ConfigDict(extra="forbid")
    class_id: StrictInt
    subject: StrictStr | None = Field(None, max_length=1000)
    subject_id: models.Id | None = None
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


def path_id(request: web.Request, name: str) -> int | web.Response:
    """A numeric id from the path, or a 400 answer."""
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 12:
        return error(Reason.INVALID_PAYLOAD, f"{name}: an id is a number.")
    return int(raw)


def failed(exc: LessonError) -> web.Response:
    """The typed error answer for a refused journal operation."""
    return error(exc.reason, exc.message)


def answer(model: BaseModel, status: int = 200) -> web.Response:
    """A model as a JSON answer."""
    return web.json_response(model.model_dump(mode="json"), status=status)


async def _context(request: web.Request) -> tuple[int, int] | web.Response:
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    lesson_id = path_id(request, "lesson_id")
    return lesson_id if isinstance(lesson_id, web.Response) else (teacher.id, lesson_id)


async def _week(request: web.Request, week: str | None) -> str | web.Response:
    if week is None:
        return this_week((await request.app[SCHOOL_ADMIN].settings()).zone)
    if monday_of(week) is None:
        return error(Reason.INVALID_PAYLOAD, "week: an ISO week like 2026-W47.")
    return week


@api.route(
    "POST",
    "/api/lessons",
    who=TEACHER,
    body=LessonBody,
    answer=models.LessonAnswer,
    status=201,
    errors=(
        Reason.NOT_SIGNED_IN,
        Reason.NOT_PERMITTED,
        Reason.INVALID_PAYLOAD,
        Reason.NAME_REQUIRED,
        Reason.UNKNOWN_SUBJECT,
    ),
)
async def create_lesson(request: web.Request) -> web.Response:
    """Put a lesson in the signed-in teacher's schedule."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    body = await read_body(request, LessonBody)
    if isinstance(body, web.Response):
        return body
    subject: str | int
    if body.subject_id is not None:
        if body.subject is not None:
            return error(Reason.INVALID_PAYLOAD, "Give subject or subject_id, not both.")
        subject = body.subject_id
    else:
        name = clean_name(body.subject or "")
        if isinstance(name, Refusal):
            return error(name.reason, "The subject must be 1 to 64 characters.")
        subject = name
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
        return failed(exc)
    return answer(models.LessonAnswer(lesson=lesson), status=201)


@api.route(
    "GET",
    "/api/lessons",
    who=TEACHER,
    answer=models.LessonList,
    errors=(Reason.NOT_SIGNED_IN, Reason.NOT_PERMITTED),
)
async def all_lessons(request: web.Request) -> web.Response:
    """Every lesson of the signed-in teacher, in time order."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    schedule = await request.app[LESSONS].schedule(teacher.id)
    return answer(models.LessonList(lessons=schedule.lessons))


@api.route(
    "GET",
    "/api/schedule",
    who=TEACHER,
    query=models.WeekQuery,
    answer=models.Schedule,
    errors=(Reason.NOT_SIGNED_IN, Reason.NOT_PERMITTED, Reason.INVALID_PAYLOAD),
)
async def week_schedule(request: web.Request) -> web.Response:
    """The signed-in teacher's lessons of one ISO week (default: this week)."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    query = read_query(request, models.WeekQuery)
    if isinstance(query, web.Response):
        return query
    week = await _week(request, query.week)
    if isinstance(week, web.Response):
        return week
    return answer(await request.app[LESSONS].schedule(teacher.id, week))


@api.route(
    "GET",
    "/api/lessons/{lesson_id}",
    who=OWNER,
    answer=models.LessonDetail,
    errors=LESSON_ERRORS,
)
async def lesson_journal(request: web.Request) -> web.Response:
    """A lesson with its attendance, marks, assignments, pupils and thematic plan."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    try:
        return answer(await request.app[LESSONS].journal(context[1], context[0]))
    except LessonError as exc:
        return failed(exc)


@api.route(
    "POST",
    "/api/lessons/{lesson_id}/start",
    who=OWNER,
    answer=models.StartAnswer,
    errors=(*LESSON_ERRORS, Reason.INVALID_STATE),
)
async def start_lesson(request: web.Request) -> web.Response:
    """ "Start lesson": opens the lesson's room and answers with its invite link."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    try:
        lesson, room_id = await request.app[LESSONS].start(context[1], context[0])
    except LessonError as exc:
        return failed(exc)
    invite = f"{request.app[SETTINGS].base_url}/r/{room_id}"
    return answer(models.StartAnswer(lesson=lesson, invite_url=invite))


@api.route(
    "GET",
    "/api/lessons/{lesson_id}/attendance",
    who=OWNER,
    answer=models.ProposalAnswer,
    errors=(*LESSON_ERRORS, Reason.INVALID_STATE),
)
async def proposed_attendance(request: web.Request) -> web.Response:
    """The attendance proposed right now, with who of the class is missing."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    await request.app[ARCHIVE].flush()  # presence records of the last moments count too
    try:
        proposal = await request.app[LESSONS].proposal(context[1], context[0])
    except LessonError as exc:
        return failed(exc)
    return web.json_response({"attendance": proposal})


@api.route(
    "POST",
    "/api/lessons/{lesson_id}/end",
    who=OWNER,
    body=EndBody,
    answer=models.QueuedAnswer,
    errors=(*LESSON_ERRORS, Reason.INVALID_STATE, Reason.UNKNOWN_PUPIL),
)
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
        return failed(exc)
    request.app[COURIER].notify()
    return answer(models.QueuedAnswer(queued=queued))


@api.route(
    "PUT",
    "/api/lessons/{lesson_id}/topic",
    who=OWNER,
    body=models.TopicBody,
    answer=models.LessonAnswer,
    errors=(*LESSON_ERRORS, Reason.UNKNOWN_TOPIC),
)
async def set_topic(request: web.Request) -> web.Response:
    """Give the lesson a topic of its thematic plan, or a typed one."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    body = await read_body(request, models.TopicBody)
    if isinstance(body, web.Response):
        return body
    try:
        lesson = await request.app[GRADEBOOK].set_topic(
            context[1], context[0], body.topic_id, body.topic
        )
    except LessonError as exc:
        return failed(exc)
    return answer(models.LessonAnswer(lesson=lesson))


MARK_ERRORS = (*LESSON_ERRORS, Reason.UNKNOWN_PUPIL)


@api.route(
    "PUT",
    "/api/lessons/{lesson_id}/marks/{pupil_id}",
    who=OWNER,
    body=models.MarkBody,
    answer=models.MarkAnswer,
    errors=(*MARK_ERRORS, Reason.OUT_OF_RANGE, Reason.PUPIL_ABSENT),
)
async def put_mark(request: web.Request) -> web.Response:
    """Give or replace a pupil's mark (within the school's scale) with a comment."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    pupil_id = path_id(request, "pupil_id")
    if isinstance(pupil_id, web.Response):
        return pupil_id
    body = await read_body(request, models.MarkBody)
    if isinstance(body, web.Response):
        return body
    try:
        mark = await request.app[GRADEBOOK].put_mark(
            context[1], context[0], pupil_id, body.value, body.comment
        )
    except LessonError as exc:
        return failed(exc)
    return answer(models.MarkAnswer(mark=mark))


@api.route(
    "DELETE",
    "/api/lessons/{lesson_id}/marks/{pupil_id}",
    who=OWNER,
    status=204,
    errors=MARK_ERRORS,
)
async def delete_mark(request: web.Request) -> web.Response:
    """Take a pupil's mark back."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    pupil_id = path_id(request, "pupil_id")
    if isinstance(pupil_id, web.Response):
        return pupil_id
    try:
        await request.app[GRADEBOOK].delete_mark(context[1], context[0], pupil_id)
    except LessonError as exc:
        return failed(exc)
    return web.Response(status=204)


@api.route(
    "POST",
    "/api/lessons/{lesson_id}/assignments",
    who=OWNER,
    body=models.AssignmentBody,
    answer=models.AssignmentAnswer,
    status=201,
    errors=(*LESSON_ERRORS, Reason.UNKNOWN_PUPIL),
)
async def add_assignment(request: web.Request) -> web.Response:
    """Set homework, classwork or independent work for the class or chosen pupils."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    body = await read_body(request, models.AssignmentBody)
    if isinstance(body, web.Response):
        return body
    try:
        made = await request.app[GRADEBOOK].add_assignment(context[1], context[0], body)
    except LessonError as exc:
        return failed(exc)
    return answer(models.AssignmentAnswer(assignment=made), status=201)


@api.route(
    "DELETE",
    "/api/lessons/{lesson_id}/assignments/{assignment_id}",
    who=OWNER,
    status=204,
    errors=(*LESSON_ERRORS, Reason.UNKNOWN_ASSIGNMENT),
)
async def delete_assignment(request: web.Request) -> web.Response:
    """Withdraw an assignment."""
    context = await _context(request)
    if isinstance(context, web.Response):
        return context
    assignment_id = path_id(request, "assignment_id")
    if isinstance(assignment_id, web.Response):
        return assignment_id
    try:
        await request.app[GRADEBOOK].delete_assignment(context[1], context[0], assignment_id)
    except LessonError as exc:
        return failed(exc)
    return web.Response(status=204)


PLAN_ERRORS = (
    Reason.NOT_SIGNED_IN,
    Reason.NOT_PERMITTED,
    Reason.INVALID_PAYLOAD,
    Reason.UNKNOWN_CLASS,
    Reason.UNKNOWN_SUBJECT,
)


@api.route(
    "GET",
    "/api/plan",
    who="a teacher of the class and subject",
    query=models.PlanQuery,
    answer=models.PlanAnswer,
    errors=PLAN_ERRORS,
)
async def get_plan(request: web.Request) -> web.Response:
    """The teacher's thematic plan for a class and subject."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    query = read_query(request, models.PlanQuery)
    if isinstance(query, web.Response):
        return query
    try:
        topics = await request.app[GRADEBOOK].plan(teacher.id, query.class_id, query.subject_id)
    except LessonError as exc:
        return failed(exc)
    return answer(models.PlanAnswer(topics=topics))


@api.route(
    "PUT",
    "/api/plan",
    who="a teacher of the class and subject",
    query=models.PlanQuery,
    body=models.PlanBody,
    answer=models.PlanAnswer,
    errors=(*PLAN_ERRORS, Reason.UNKNOWN_TOPIC),
)
async def put_plan(request: web.Request) -> web.Response:
    """Replace the thematic plan (topics with an id keep it)."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    query = read_query(request, models.PlanQuery)
    if isinstance(query, web.Response):
        return query
    body = await read_body(request, models.PlanBody)
    if isinstance(body, web.Response):
        return body
    try:
        topics = await request.app[GRADEBOOK].save_plan(
            teacher.id, query.class_id, query.subject_id, body.topics
        )
    except LessonError as exc:
        return failed(exc)
    return answer(models.PlanAnswer(topics=topics))


@api.route(
    "GET",
    "/api/diary",
    who="a pupil (their own diary only)",
    query=models.WeekQuery,
    answer=models.Diary,
    errors=(Reason.NOT_SIGNED_IN, Reason.NOT_PERMITTED, Reason.INVALID_PAYLOAD),
)
async def diary(request: web.Request) -> web.Response:
    """The signed-in pupil's week: lessons, topics, homework, marks, attendance; read-only."""
    account = await current_user(request)
    if account is None:
        return error(Reason.NOT_SIGNED_IN)
    if account.kind != "pupil":
        return error(Reason.NOT_PERMITTED, "The diary is a pupil's.")
    query = read_query(request, models.WeekQuery)
    if isinstance(query, web.Response):
        return query
    week = await _week(request, query.week)
    if isinstance(week, web.Response):
        return week
    return answer(await request.app[DIARIES].week(account.id, week))


@api.route(
    "GET",
    "/api/school",
    who="anyone signed in",
    answer=models.SchoolInfo,
    errors=(Reason.NOT_SIGNED_IN,),
)
async def school_info(request: web.Request) -> web.Response:
    """The school's name, time zone and mark scale."""
    if await current_user(request) is None:
        return error(Reason.NOT_SIGNED_IN)
    settings = await request.app[SCHOOL_ADMIN].settings()
    return answer(
        models.SchoolInfo(
            name=settings.name,
            timezone=settings.timezone,
            mark_min=settings.mark_min,
            mark_max=settings.mark_max,
        )
    )


@api.route(
    "GET",
    "/api/years",
    who="anyone signed in",
    answer=models.YearList,
    errors=(Reason.NOT_SIGNED_IN,),
)
async def years(request: web.Request) -> web.Response:
    """The school years with their periods."""
    if await current_user(request) is None:
        return error(Reason.NOT_SIGNED_IN)
    return answer(models.YearList(years=await request.app[SCHOOL_ADMIN].years()))


@api.route(
    "GET",
    "/api/subjects",
    who="anyone signed in",
    answer=models.SubjectList,
    errors=(Reason.NOT_SIGNED_IN,),
)
async def subjects(request: web.Request) -> web.Response:
    """The school's subjects."""
    if await current_user(request) is None:
        return error(Reason.NOT_SIGNED_IN)
    return answer(models.SubjectList(subjects=await request.app[SCHOOL_ADMIN].subjects()))


@api.route(
    "GET",
    "/api/teaching",
    who=TEACHER,
    answer=models.TeachingList,
    errors=(Reason.NOT_SIGNED_IN, Reason.NOT_PERMITTED),
)
async def my_teaching(request: web.Request) -> web.Response:
    """What the signed-in teacher teaches (class and subject pairs)."""
    teacher = await teacher_or_error(request)
    if isinstance(teacher, web.Response):
        return teacher
    admin = request.app[SCHOOL_ADMIN]
    rows = await admin.teaching(teacher.id)
    return answer(
        models.TeachingList(
            teaching=rows,
            teachers=[t for t in await admin.teachers() if t.id == teacher.id],
            classes=[c for c in await admin.classes() if c.id in {r.class_id for r in rows}],
            subjects=[s for s in await admin.subjects() if s.id in {r.subject_id for r in rows}],
        )
    )
