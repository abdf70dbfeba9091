"""The journal's HTTP API for teachers and pupils: schedule, lessons, marks, assignments, diary."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from rooms.names import clean_name
from rooms.refusals import Reason, Refusal
from server.errors import error
from server.journal import models
from server.journal.views import Actor
from server.journal.weeks import monday_of, this_week
from server.keys import ARCHIVE, COURIER, DIARIES, GRADEBOOK, LESSONS, SCHOOL_ADMIN, SETTINGS
from server.openapi import SIGNED_IN, TEACHER, Call, Refused, Registry, Who

api = Registry()
routes = api.routes
# The lesson's teacher while the teaching table gives them its class (and subject), or an
# administrator, who may act for any class; the account kinds are checked before the handler,
# the lesson itself in views.own_lesson.
OWNER = Who(
    "the lesson's teacher (who teaches its class) or an administrator",
    ("teacher", "admin"),
    "Only teachers and administrators can do this.",
)
PUPIL = Who("a pupil (their own diary only)", ("pupil",), "The diary is a pupil's.")
LESSON_ERRORS = (Reason.UNKNOWN_LESSON,)


class LessonBody(BaseModel):
    """`POST /api/lessons`; times are Unix seconds; `subject_id` may replace `subject`."""

    model_config = ConfigDict(extra="forbid")
    class_id: StrictInt
    subject: StrictStr | None = Field(None, max_length=1000)
    subject_id: models.Id | None = None
    starts_at: StrictFloat | StrictInt
    ends_at: StrictFloat | StrictInt
    topic: StrictStr | None = Field(None, max_length=200)
    teacher_id: StrictInt | None = Field(
        None, description="the lesson's teacher: an administrator names one, a teacher never"
    )


class Correction(BaseModel):
    """The teacher's correction of one pupil's proposed attendance."""

    model_config = ConfigDict(extra="forbid")
    pupil_id: StrictInt
    status: Literal["present", "absent"] | None = None
    comment: StrictStr | None = Field(None, max_length=500)


class EndBody(BaseModel):
    """`POST /api/lessons/{id}/end`; `keep_open_s`: the room stays open this long for questions
    (0: it closes for everyone now). The attendance is computed up to End lesson either way."""

    model_config = ConfigDict(extra="forbid")
    corrections: list[Correction] = Field(default_factory=list, max_length=200)
    keep_open_s: StrictInt = Field(0, ge=0, le=3600)


def _actor(call: Call) -> Actor:
    return Actor(call.account.id, admin=call.account.kind == "admin")


def answer(model: BaseModel, status: int = 200) -> web.Response:
    """A model as a JSON answer."""
    return web.json_response(model.model_dump(mode="json"), status=status)


async def _week(call: Call) -> str:
    """The ISO week asked for (default: this week on the school's clock)."""
    week = call.query(models.WeekQuery).week
    if week is None:
        return this_week((await call.app[SCHOOL_ADMIN].settings()).zone)
    if monday_of(week) is None:
        raise Refused(error(Reason.INVALID_PAYLOAD, "week: an ISO week like 2026-W47."))
    return week


@api.route(
    "POST",
    "/api/lessons",
    who=OWNER.called("a teacher of the class, or an administrator for a teacher of it"),
    body=LessonBody,
    answer=models.LessonAnswer,
    status=201,
    errors=(Reason.NAME_REQUIRED, Reason.UNKNOWN_SUBJECT),
)
async def create_lesson(call: Call) -> web.Response:
    """Put a lesson in the signed-in teacher's schedule (an administrator: in a teacher's).

    The teaching table must give the teacher the class (and the subject, if it is one of the
    school's), as for the thematic plan: a teacher of 7B cannot open a lesson of 7A and so
    read its pupils or mark them.
    """
    body = call.body(LessonBody)
    teacher_id = call.account.id
    if call.account.kind == "admin":
        if body.teacher_id is None:
            return error(Reason.INVALID_PAYLOAD, "teacher_id: name the lesson's teacher.")
        teacher_id = body.teacher_id
    elif body.teacher_id is not None:
        return error(Reason.INVALID_PAYLOAD, "teacher_id: only an administrator names a teacher.")
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
    lesson = await call.app[LESSONS].create(
        teacher_id,
        body.class_id,
        subject,
        float(body.starts_at),
        float(body.ends_at),
        body.topic,
    )
    return answer(models.LessonAnswer(lesson=lesson), status=201)


@api.route(
    "GET",
    "/api/lessons",
    who=TEACHER,
    answer=models.LessonList,
)
async def all_lessons(call: Call) -> web.Response:
    """Every lesson of the signed-in teacher, in time order."""
    schedule = await call.app[LESSONS].schedule(call.account.id)
    return answer(models.LessonList(lessons=schedule.lessons))


@api.route(
    "GET",
    "/api/schedule",
    who=TEACHER,
    query=models.WeekQuery,
    answer=models.Schedule,
)
async def week_schedule(call: Call) -> web.Response:
    """The signed-in teacher's lessons of one ISO week (default: this week)."""
    return answer(await call.app[LESSONS].schedule(call.account.id, await _week(call)))


@api.route(
    "GET",
    "/api/lessons/{lesson_id}",
    who=OWNER,
    answer=models.LessonDetail,
    errors=LESSON_ERRORS,
)
async def lesson_journal(call: Call) -> web.Response:
    """A lesson with its attendance, marks, assignments, pupils and thematic plan."""
    await call.app[ARCHIVE].flush()  # connection lines written as someone left count
    return answer(await call.app[LESSONS].journal(call.ids["lesson_id"], _actor(call)))


@api.route(
    "GET",
    "/api/pupils/{pupil_id}/connections",
    who=OWNER,
    answer=models.PupilConnections,
    errors=(Reason.UNKNOWN_PUPIL,),
)
async def pupil_connections(call: Call) -> web.Response:
    """A pupil's connection over their latest lessons, newest first (a teacher of their class)."""
    await call.app[ARCHIVE].flush()  # a line written as someone left a moment ago counts
    history = await call.app[LESSONS].pupil_connections(call.ids["pupil_id"], _actor(call))
    return answer(history)


@api.route(
    "POST",
    "/api/lessons/{lesson_id}/start",
    who=OWNER,
    answer=models.StartAnswer,
    errors=(*LESSON_ERRORS, Reason.LESSON_CLOSED, Reason.LESSON_NOT_TODAY, Reason.LESSON_OVER),
)
async def start_lesson(call: Call) -> web.Response:
    """ "Start lesson": opens the lesson's room and answers with its invite link."""
    lesson, room_id = await call.app[LESSONS].start(call.ids["lesson_id"], _actor(call))
    invite = f"{call.app[SETTINGS].base_url}/r/{room_id}"
    return answer(models.StartAnswer(lesson=lesson, invite_url=invite))


@api.route(
    "GET",
    "/api/lessons/{lesson_id}/attendance",
    who=OWNER,
    answer=models.ProposalAnswer,
    errors=LESSON_ERRORS,
)
async def proposed_attendance(call: Call) -> web.Response:
    """The attendance proposed right now, with who of the class is missing."""
    await call.app[ARCHIVE].flush()  # presence records of the last moments count too
    proposal = await call.app[LESSONS].proposal(call.ids["lesson_id"], _actor(call))
    return web.json_response({"attendance": proposal})


@api.route(
    "POST",
    "/api/lessons/{lesson_id}/end",
    who=OWNER,
    body=EndBody,
    answer=models.QueuedAnswer,
    errors=(
        *LESSON_ERRORS,
        Reason.LESSON_CLOSED,
        Reason.LESSON_NOT_STARTED,
        Reason.UNKNOWN_PUPIL,
    ),
)
async def end_lesson(call: Call) -> web.Response:
    """ "End lesson": confirm or correct the attendance; it goes to the journal exactly once."""
    body = call.body(EndBody)
    corrections: dict[int, tuple[Any, Any]] = {
        c.pupil_id: (c.status, c.comment) for c in body.corrections
    }
    await call.app[ARCHIVE].flush()
    queued = await call.app[LESSONS].end(
        call.ids["lesson_id"], _actor(call), corrections, body.keep_open_s
    )
    await call.app[ARCHIVE].flush()  # the room's closing is in the guest log once we answer
    call.app[COURIER].notify()
    return answer(models.QueuedAnswer(queued=queued))


@api.route(
    "PUT",
    "/api/lessons/{lesson_id}/topic",
    who=OWNER,
    body=models.TopicBody,
    answer=models.LessonAnswer,
    errors=(*LESSON_ERRORS, Reason.UNKNOWN_TOPIC),
)
async def set_topic(call: Call) -> web.Response:
    """Give the lesson a topic of its thematic plan, or a typed one."""
    body = call.body(models.TopicBody)
    lesson = await call.app[GRADEBOOK].set_topic(
        call.ids["lesson_id"], _actor(call), body.topic_id, body.topic
    )
    return answer(models.LessonAnswer(lesson=lesson))


MARK_ERRORS = (*LESSON_ERRORS, Reason.UNKNOWN_PUPIL)


@api.route(
    "PUT",
    "/api/lessons/{lesson_id}/marks/{pupil_id}",
    who=OWNER,
    body=models.MarkBody,
    answer=models.MarkAnswer,
    errors=(*MARK_ERRORS, Reason.OUT_OF_RANGE, Reason.PUPIL_ABSENT, Reason.CHANGED_MEANWHILE),
)
async def put_mark(call: Call) -> web.Response:
    """Give or replace a pupil's mark (within the school's scale) with a comment."""
    body = call.body(models.MarkBody)
    mark = await call.app[GRADEBOOK].put_mark(
        call.ids["lesson_id"], _actor(call), call.ids["pupil_id"], body.value, body.comment
    )
    return answer(models.MarkAnswer(mark=mark))


@api.route(
    "DELETE",
    "/api/lessons/{lesson_id}/marks/{pupil_id}",
    who=OWNER,
    status=204,
    errors=MARK_ERRORS,
)
async def delete_mark(call: Call) -> web.Response:
    """Take a pupil's mark back."""
    await call.app[GRADEBOOK].delete_mark(call.ids["lesson_id"], _actor(call), call.ids["pupil_id"])
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
async def add_assignment(call: Call) -> web.Response:
    """Set homework, classwork or independent work for the class or chosen pupils."""
    made = await call.app[GRADEBOOK].add_assignment(
        call.ids["lesson_id"], _actor(call), call.body(models.AssignmentBody)
    )
    return answer(models.AssignmentAnswer(assignment=made), status=201)


@api.route(
    "DELETE",
    "/api/lessons/{lesson_id}/assignments/{assignment_id}",
    who=OWNER,
    status=204,
    errors=(*LESSON_ERRORS, Reason.UNKNOWN_ASSIGNMENT),
)
async def delete_assignment(call: Call) -> web.Response:
    """Withdraw an assignment."""
    await call.app[GRADEBOOK].delete_assignment(
        call.ids["lesson_id"], _actor(call), call.ids["assignment_id"]
    )
    return web.Response(status=204)


PLAN_ERRORS = (Reason.UNKNOWN_CLASS, Reason.UNKNOWN_SUBJECT)
PLANNER = TEACHER.called("a teacher of the class and subject")


@api.route(
    "GET",
    "/api/plan",
    who=PLANNER,
    query=models.PlanQuery,
    answer=models.PlanAnswer,
    errors=PLAN_ERRORS,
)
async def get_plan(call: Call) -> web.Response:
    """The teacher's thematic plan for a class and subject."""
    query = call.query(models.PlanQuery)
    topics = await call.app[GRADEBOOK].plan(call.account.id, query.class_id, query.subject_id)
    return answer(models.PlanAnswer(topics=topics))


@api.route(
    "PUT",
    "/api/plan",
    who=PLANNER,
    query=models.PlanQuery,
    body=models.PlanBody,
    answer=models.PlanAnswer,
    errors=(*PLAN_ERRORS, Reason.UNKNOWN_TOPIC),
)
async def put_plan(call: Call) -> web.Response:
    """Replace the thematic plan (topics with an id keep it)."""
    query = call.query(models.PlanQuery)
    topics = await call.app[GRADEBOOK].save_plan(
        call.account.id, query.class_id, query.subject_id, call.body(models.PlanBody).topics
    )
    return answer(models.PlanAnswer(topics=topics))


@api.route(
    "GET",
    "/api/diary",
    who=PUPIL,
    query=models.WeekQuery,
    answer=models.Diary,
)
async def diary(call: Call) -> web.Response:
    """The signed-in pupil's week: lessons, topics, homework, marks, attendance; read-only."""
    return answer(await call.app[DIARIES].week(call.account.id, await _week(call)))


@api.route(
    "GET",
    "/api/school",
    who=SIGNED_IN,
    answer=models.SchoolInfo,
)
async def school_info(call: Call) -> web.Response:
    """The school's name, time zone and mark scale."""
    settings = await call.app[SCHOOL_ADMIN].settings()
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
    who=SIGNED_IN,
    answer=models.YearList,
)
async def years(call: Call) -> web.Response:
    """The school years with their periods."""
    return answer(models.YearList(years=await call.app[SCHOOL_ADMIN].years()))


@api.route(
    "GET",
    "/api/subjects",
    who=SIGNED_IN,
    answer=models.SubjectList,
)
async def subjects(call: Call) -> web.Response:
    """The school's subjects."""
    return answer(models.SubjectList(subjects=await call.app[SCHOOL_ADMIN].subjects()))


@api.route(
    "GET",
    "/api/teaching",
    who=TEACHER,
    answer=models.TeachingList,
)
async def my_teaching(call: Call) -> web.Response:
    """What the signed-in teacher teaches (class and subject pairs)."""
    teacher = call.account
    admin = call.app[SCHOOL_ADMIN]
    rows = await admin.teaching(teacher.id)
    return answer(
        models.TeachingList(
            teaching=rows,
            teachers=[t for t in await admin.teachers() if t.id == teacher.id],
            classes=[c for c in await admin.classes() if c.id in {r.class_id for r in rows}],
            subjects=[s for s in await admin.subjects() if s.id in {r.subject_id for r in rows}],
        )
    )
