"""Typed refusals: every 'no' the room core can say, with a sentence a person understands."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Machine-readable refusal codes, shared with the protocol (docs/protocol.md)."""

    INVALID_PAYLOAD = "invalid_payload"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    NAME_REQUIRED = "name_required"
    NAME_TOO_LONG = "name_too_long"
    UNKNOWN_ROOM = "unknown_room"
    UNKNOWN_PARTICIPANT = "unknown_participant"
    NOT_SIGNED_IN = "not_signed_in"
    NOT_JOINED = "not_joined"
    ALREADY_JOINED = "already_joined"
    NOT_PERMITTED = "not_permitted"
    DENIED = "denied"
    NOT_EXPECTED = "not_expected"
    INVALID_ROLE = "invalid_role"
    RATE_LIMITED = "rate_limited"
    UNSUPPORTED_VERSION = "unsupported_version"
    ROOM_FULL = "room_full"
    TOO_LONG = "too_long"
    EMPTY = "empty"
    CHAT_LOCKED = "chat_locked"
    CHAT_MUTED = "chat_muted"
    PRIVATE_NOT_ALLOWED = "private_not_allowed"
    UNKNOWN_MESSAGE = "unknown_message"
    UNKNOWN_POLL = "unknown_poll"
    POLL_NOT_OPEN = "poll_not_open"
    INVALID_CHOICE = "invalid_choice"
    INVALID_STATE = "invalid_state"
    INVALID_CREDENTIALS = "invalid_credentials"
    UNKNOWN_LESSON = "unknown_lesson"
    UNKNOWN_PUPIL = "unknown_pupil"
    UNKNOWN_CLASS = "unknown_class"
    UNKNOWN_SUBJECT = "unknown_subject"
    UNKNOWN_TOPIC = "unknown_topic"
    UNKNOWN_ASSIGNMENT = "unknown_assignment"
    UNKNOWN_TEACHER = "unknown_teacher"
    UNKNOWN_RECORD = "unknown_record"
    OUT_OF_RANGE = "out_of_range"
    PUPIL_ABSENT = "pupil_absent"
    ALREADY_EXISTS = "already_exists"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    SERVER_RESTARTING = "server_restarting"
    ROOM_ELSEWHERE = "room_elsewhere"
    TRY_AGAIN_SOON = "try_again_soon"
    ROOM_CLOSED = "room_closed"
    ONE_TIME_PASSWORD_USED = "one_time_password_used"  # noqa: S105 - a code, not a secret
    PASSWORD_CHANGE_REQUIRED = "password_change_required"  # noqa: S105 - a code
    UNKNOWN_SESSION = "unknown_session"
    UNKNOWN_USER = "unknown_user"
    CROSS_ORIGIN = "cross_origin"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INTERNAL_ERROR = "internal_error"
    ACCOUNT_DISABLED = "account_disabled"
    LESSON_CLOSED = "lesson_closed"
    LESSON_NOT_STARTED = "lesson_not_started"
    LESSON_NOT_TODAY = "lesson_not_today"
    LESSON_OVER = "lesson_over"
    CHANGED_MEANWHILE = "changed_meanwhile"
    RECORD_NOT_DEAD = "record_not_dead"
    NOTHING_SHARED = "nothing_shared"
    NO_SUCH_PAGE = "no_such_page"
    UNKNOWN_DOCUMENT = "unknown_document"


MESSAGES: dict[Reason, str] = {
    Reason.INVALID_PAYLOAD: "The request is malformed.",
    Reason.PAYLOAD_TOO_LARGE: "The request is too large.",
    Reason.NAME_REQUIRED: "Please enter a name.",
    Reason.NAME_TOO_LONG: "The name is too long (at most 64 characters).",
    Reason.UNKNOWN_ROOM: "This room does not exist.",
    Reason.UNKNOWN_PARTICIPANT: "That person is not in this room.",
    Reason.NOT_SIGNED_IN: "Please sign in first.",
    Reason.NOT_JOINED: "Join the room first.",
    Reason.ALREADY_JOINED: "You are already in a room on this connection.",
    Reason.NOT_PERMITTED: "You are not allowed to do that.",
    Reason.DENIED: "This meeting does not admit guests.",
    Reason.NOT_EXPECTED: "This room does not let you straight in: ask to enter.",
    Reason.INVALID_ROLE: "That role cannot be given this way.",
    Reason.RATE_LIMITED: "Too many requests; please wait a moment.",
    Reason.UNSUPPORTED_VERSION: "This client speaks a protocol version the server does not.",
    Reason.ROOM_FULL: "The room is full.",
    Reason.TOO_LONG: "The text is too long.",
    Reason.EMPTY: "The text is empty.",
    Reason.CHAT_LOCKED: "The host has locked this chat.",
    Reason.CHAT_MUTED: "The host has muted your chat.",
    Reason.PRIVATE_NOT_ALLOWED: "Private messages to that person are not allowed in this room.",
    Reason.UNKNOWN_MESSAGE: "There is no such message.",
    Reason.UNKNOWN_POLL: "There is no such poll.",
    Reason.POLL_NOT_OPEN: "This poll is not open for answers.",
    Reason.INVALID_CHOICE: "That answer does not fit this poll.",
    Reason.INVALID_STATE: "That cannot be done right now.",
    Reason.INVALID_CREDENTIALS: "Wrong login or password.",
    Reason.UNKNOWN_LESSON: "There is no such lesson.",
    Reason.UNKNOWN_PUPIL: "That pupil is not in this class.",
    Reason.UNKNOWN_CLASS: "There is no such class.",
    Reason.UNKNOWN_SUBJECT: "There is no such subject.",
    Reason.UNKNOWN_TOPIC: "That topic is not in the thematic plan.",
    Reason.UNKNOWN_ASSIGNMENT: "There is no such assignment.",
    Reason.UNKNOWN_TEACHER: "There is no such teacher.",
    Reason.UNKNOWN_RECORD: "There is no such outbox record.",
    Reason.OUT_OF_RANGE: "The value is outside the school's scale.",
    Reason.PUPIL_ABSENT: "The journal has this pupil absent from this lesson.",
    Reason.ALREADY_EXISTS: "That already exists.",
    Reason.UNSUPPORTED_MEDIA_TYPE: "The request body has the wrong content type.",
    Reason.SERVER_RESTARTING: "The server is restarting; try again in a few seconds.",
    Reason.ROOM_ELSEWHERE: "This room is served by another node of the server; go there.",
    Reason.TRY_AGAIN_SOON: (
        "The server cannot let anyone new in just now; it tries again in a few seconds."
    ),
    Reason.ROOM_CLOSED: "This lesson has ended; its room is closed.",
    Reason.ONE_TIME_PASSWORD_USED: (
        "This one-time password has already been used. Ask your administrator for a new one."
    ),
    Reason.PASSWORD_CHANGE_REQUIRED: "Please choose your own password first.",
    Reason.UNKNOWN_SESSION: "There is no such open session.",
    Reason.UNKNOWN_USER: "There is no such account.",
    Reason.CROSS_ORIGIN: "Changes are accepted only from Sabaq's own pages.",
    Reason.NOT_FOUND: "There is no such address.",
    Reason.METHOD_NOT_ALLOWED: "This address does not accept that method.",
    Reason.INTERNAL_ERROR: "The server failed; please try again.",
    Reason.ACCOUNT_DISABLED: "This account is disabled. Ask your administrator.",
    Reason.LESSON_CLOSED: "This lesson has already ended.",
    Reason.LESSON_NOT_STARTED: "This lesson has not been started; start it first.",
    Reason.LESSON_NOT_TODAY: "A lesson can be started on its own day only.",
    Reason.LESSON_OVER: "This lesson's time is over; it can no longer be started.",
    Reason.CHANGED_MEANWHILE: "Someone changed this at the same moment; please try again.",
    Reason.RECORD_NOT_DEAD: "Only an undelivered record can be sent again.",
    Reason.NOTHING_SHARED: "No document is being shared.",
    Reason.NO_SUCH_PAGE: "The shared document has no such page.",
    Reason.UNKNOWN_DOCUMENT: "There is no such document in this room.",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """A command the room did not accept; nothing in the room changed."""

    reason: Reason
    detail: str = ""

    @property
    def message(self) -> str:
        """The human sentence for this refusal."""
        return self.detail or MESSAGES[self.reason]
