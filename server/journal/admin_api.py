"""The administrator's HTTP API: settings, years, subjects, teaching, dead letters, import."""

from __future__ import annotations

import logging

from aiohttp import web
from pydantic import ValidationError

from rooms.refusals import Reason
from server.db.engine import sessions
from server.errors import error
from server.journal import importer, models, outbox, school
from server.journal.api import answer
from server.keys import COURIER, ENGINE, SCHOOL_ADMIN
from server.openapi import ADMIN, Call, Registry
from server.people import Actor

log = logging.getLogger(__name__)
api = Registry()
routes = api.routes
MAX_CSV_BYTES = 1024 * 1024


@api.route("GET", "/api/admin/school", who=ADMIN, answer=school.SchoolSettings)
async def get_school(call: Call) -> web.Response:
    """The school's settings: name, time zone, mark scale, attendance rules."""
    return answer(await call.app[SCHOOL_ADMIN].settings())


@api.route(
    "PUT",
    "/api/admin/school",
    who=ADMIN,
    body=models.SchoolPatch,
    answer=school.SchoolSettings,
)
async def put_school(call: Call) -> web.Response:
    """Change any of the school's settings; the attendance rules apply from the next assessment."""
    body = call.body(models.SchoolPatch)
    try:
        settings = await call.app[SCHOOL_ADMIN].update_settings(body)
    except ValidationError as exc:
        return error(Reason.INVALID_PAYLOAD, str(exc.errors()[0]["msg"]) + ".")
    log.info(
        "%s changed the school settings: %s", call.account.login, body.model_dump(exclude_none=True)
    )
    return answer(settings)


@api.route(
    "POST",
    "/api/admin/years",
    who=ADMIN,
    body=models.YearBody,
    answer=models.YearAnswer,
    status=201,
    errors=(Reason.ALREADY_EXISTS,),
)
async def create_year(call: Call) -> web.Response:
    """A school year with its periods."""
    year = await call.app[SCHOOL_ADMIN].create_year(call.body(models.YearBody))
    return answer(models.YearAnswer(year=year), status=201)


@api.route(
    "POST",
    "/api/admin/subjects",
    who=ADMIN,
    body=models.SubjectBody,
    answer=models.SubjectAnswer,
    status=201,
    errors=(Reason.ALREADY_EXISTS,),
)
async def create_subject(call: Call) -> web.Response:
    """A new subject."""
    body = call.body(models.SubjectBody)
    name = " ".join(body.name.split())
    if not name:
        return error(Reason.NAME_REQUIRED, "Please give the subject a name.")
    subject = await call.app[SCHOOL_ADMIN].create_subject(name)
    return answer(models.SubjectAnswer(subject=subject), status=201)


@api.route("GET", "/api/admin/teaching", who=ADMIN, answer=models.TeachingList)
async def all_teaching(call: Call) -> web.Response:
    """Who teaches what to whom, with the teachers, classes and subjects to choose from."""
    school_admin = call.app[SCHOOL_ADMIN]
    return answer(
        models.TeachingList(
            teaching=await school_admin.teaching(),
            teachers=await school_admin.teachers(),
            classes=await school_admin.classes(),
            subjects=await school_admin.subjects(),
        )
    )


@api.route(
    "POST",
    "/api/admin/teaching",
    who=ADMIN,
    body=models.TeachingBody,
    answer=models.TeachingAnswer,
    status=201,
    errors=(
        Reason.UNKNOWN_TEACHER,
        Reason.UNKNOWN_CLASS,
        Reason.UNKNOWN_SUBJECT,
        Reason.ALREADY_EXISTS,
    ),
)
async def create_teaching(call: Call) -> web.Response:
    """Let a teacher teach a subject to a class."""
    row = await call.app[SCHOOL_ADMIN].create_teaching(call.body(models.TeachingBody))
    return answer(models.TeachingAnswer(teaching=row), status=201)


@api.route(
    "GET",
    "/api/admin/outbox",
    who=ADMIN,
    query=models.OutboxQuery,
    answer=models.OutboxList,
)
async def list_outbox(call: Call) -> web.Response:
    """The outbox records (e.g. `?state=dead`: the dead-letter list), oldest first."""
    query = call.query(models.OutboxQuery)
    letters = await call.app[COURIER].letters(query.state)
    return answer(
        models.OutboxList(
            records=[
                models.DeadLetter(
                    id=x.id,
                    key=x.key,
                    destination=x.destination,
                    state=x.state,
                    attempts=x.attempts,
                    last_error=x.last_error,
                    created_at=x.created_at,
                )
                for x in letters
            ]
        )
    )


@api.route(
    "POST",
    "/api/admin/outbox/{record_id}/retry",
    who=ADMIN,
    errors=(Reason.UNKNOWN_RECORD, Reason.RECORD_NOT_DEAD),
)
async def retry_letter(call: Call) -> web.Response:
    """Put a dead letter back in the queue; it is delivered (once) like any other."""
    record_id = call.ids["record_id"]
    try:
        found = await outbox.retry(sessions(call.app[ENGINE]), record_id)
    except outbox.NotDead as exc:
        return error(
            Reason.RECORD_NOT_DEAD, f"Only a dead letter can be retried; this one is {exc}."
        )
    if not found:
        return error(Reason.UNKNOWN_RECORD)
    call.app[COURIER].notify()
    log.info("%s retried outbox record %s", call.account.login, record_id)
    return web.json_response({"retried": record_id})


@api.route(
    "POST",
    "/api/admin/import",
    who=ADMIN,
    query=models.ImportQuery,
    answer=models.ImportAnswer,
    body_type="text/csv",
    errors=(Reason.PAYLOAD_TOO_LARGE, Reason.UNSUPPORTED_MEDIA_TYPE),
)
async def import_pupils(call: Call) -> web.Response:
    """Import classes and pupils (class,login,full_name) or teachers (login,full_name) from CSV.

    All or nothing, with a per-line report; new accounts get one-time passwords, and each is
    written to the audit log.

    The answer is 200 with `ok: false` and the lines when the file has problems, so the page
    can show them; nothing is changed then, nor on a dry run.
    """
    query = call.query(models.ImportQuery)
    if call.request.content_type not in ("text/csv", "text/plain"):
        return error(Reason.UNSUPPORTED_MEDIA_TYPE, "Send the file as text/csv.")
    if (call.request.content_length or 0) > MAX_CSV_BYTES:
        return error(Reason.PAYLOAD_TOO_LARGE, "The file is larger than 1 MiB.")
    # The app's body limit is 64 KiB; this route reads its own stream up to 1 MiB.
    raw = bytearray()
    while chunk := await call.request.content.read(64 * 1024):
        raw += chunk
        if len(raw) > MAX_CSV_BYTES:
            return error(Reason.PAYLOAD_TOO_LARGE, "The file is larger than 1 MiB.")
    try:
        text = bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError:
        return error(Reason.INVALID_PAYLOAD, "The file must be UTF-8 text.")
    dry_run = query.dry_run is models.Flag.YES
    db = sessions(call.app[ENGINE])
    kind = "teacher" if query.people == "teachers" else "pupil"
    report = importer.parse(text, kind)
    if report.rows:
        await importer.check_against(db, report, query.new_classes is models.Flag.YES)
    if report.ok and not dry_run:
        try:
            await importer.apply(db, report, actor=Actor(call.account.id, call.account.login))
        except importer.Conflict as exc:  # someone took a login between the check and now
            report.errors.append((0, str(exc)))
        else:
            log.info(
                "%s imported %d %s(s) from the web", call.account.login, len(report.passwords), kind
            )
    return answer(
        models.ImportAnswer(
            ok=report.ok,
            dry_run=dry_run,
            lines=[models.LineError(line=n, error=e) for n, e in report.errors],
            created=models.Created(
                pupils=len(report.rows) if report.ok and kind == "pupil" else 0,
                classes=report.new_classes if report.ok else [],
                teachers=len(report.rows) if report.ok and kind == "teacher" else 0,
            ),
            passwords=[models.Password(login=u, password=p) for u, p in report.passwords],
        )
    )
