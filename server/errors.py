"""JSON error answers with the protocol's shape: a code and a human sentence."""

from __future__ import annotations

from aiohttp import web

from rooms.refusals import MESSAGES, Reason

STATUS: dict[Reason, int] = {
    Reason.INVALID_PAYLOAD: 400,
    Reason.NAME_REQUIRED: 400,
    Reason.NAME_TOO_LONG: 400,
    Reason.PAYLOAD_TOO_LARGE: 413,
    Reason.NOT_SIGNED_IN: 401,
    Reason.NOT_PERMITTED: 403,
    Reason.UNKNOWN_ROOM: 404,
    Reason.UNKNOWN_LESSON: 404,
    Reason.INVALID_CREDENTIALS: 401,
    Reason.INVALID_STATE: 409,
    Reason.RATE_LIMITED: 429,
    Reason.UNKNOWN_CLASS: 404,
    Reason.UNKNOWN_SUBJECT: 404,
    Reason.UNKNOWN_TOPIC: 404,
    Reason.UNKNOWN_ASSIGNMENT: 404,
    Reason.UNKNOWN_TEACHER: 404,
    Reason.UNKNOWN_RECORD: 404,
    Reason.UNKNOWN_PUPIL: 400,
    Reason.OUT_OF_RANGE: 400,
    Reason.PUPIL_ABSENT: 409,
    Reason.ALREADY_EXISTS: 409,
    Reason.UNSUPPORTED_MEDIA_TYPE: 415,
    Reason.ONE_TIME_PASSWORD_USED: 401,
    Reason.PASSWORD_CHANGE_REQUIRED: 403,
    Reason.UNKNOWN_SESSION: 404,
    Reason.UNKNOWN_USER: 404,
    Reason.CROSS_ORIGIN: 403,
    Reason.NOT_FOUND: 404,
    Reason.METHOD_NOT_ALLOWED: 405,
    Reason.INTERNAL_ERROR: 500,
    Reason.ACCOUNT_DISABLED: 403,
    Reason.ROOM_CLOSED: 409,
    Reason.LESSON_CLOSED: 409,
    Reason.LESSON_NOT_STARTED: 409,
    Reason.LESSON_NOT_TODAY: 409,
    Reason.LESSON_OVER: 409,
    Reason.CHANGED_MEANWHILE: 409,
    Reason.RECORD_NOT_DEAD: 409,
    Reason.NOTHING_SHARED: 409,
    Reason.NO_SUCH_PAGE: 400,
    Reason.UNKNOWN_DOCUMENT: 404,
}


def error(reason: Reason, message: str | None = None, status: int | None = None) -> web.Response:
    """A JSON error response."""
    return web.json_response(
        {"error": {"code": reason.value, "message": message or MESSAGES[reason]}},
        status=status or STATUS.get(reason, 400),
    )
