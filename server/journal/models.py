"""The journal's objects as the API carries them: request bodies (strict) and answers.

The same models validate what comes in, shape what goes out and generate the OpenAPI document,
so the document cannot drift from the code.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from rooms.chat_policy import PrivateChat
from rooms.recording import RecordingRule

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Id = Annotated[StrictInt, Field(ge=1, le=2**53)]


def _iso_date_only(value: Any) -> Any:
    # pydantic would also take a number of seconds as a date; the API takes only "YYYY-MM-DD".
    if not isinstance(value, str | date) or (isinstance(value, str) and not ISO_DATE.match(value)):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class Body(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """An answer object."""

    model_config = ConfigDict(extra="forbid")


class Kind(StrEnum):
    """What an assignment is."""

    HOMEWORK = "homework"
    CLASSWORK = "classwork"
    INDEPENDENT = "independent"


class Difficulty(StrEnum):
    """How hard an assignment is."""

    BASIC = "basic"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


# --- answers ---------------------------------------------------------------------------------


class Lesson(Out):
    """A lesson of the schedule."""

    id: int
    class_id: int
    class_name: str
    subject: str
    subject_id: int | None
    teacher_id: int
    teacher_name: str
    starts_at: float = Field(description="Unix seconds")
    ends_at: float = Field(description="Unix seconds")
    topic: str | None
    topic_id: int | None
    room_id: str | None
    invite_url: str | None = Field(description="the lesson's room while it is open")
    state: str = Field(description="scheduled | open | closed")
    ended_at: float | None
    period: str | None = Field(description="the period (term) the lesson falls in, if any")
    week: str = Field(description="ISO week, e.g. 2026-W47, in the school's time zone")


class LessonAnswer(Out):
    """One lesson."""

    lesson: Lesson


class StartAnswer(Out):
    """A started lesson and its room's invite link."""

    lesson: Lesson
    invite_url: str


class Pupil(Out):
    """A pupil of a class."""

    id: int
    name: str


class AttendanceEntry(Out):
    """The journal's attendance of one pupil for one lesson (after the lesson closed)."""

    pupil_id: int
    name: str
    status: str = Field(description="present | absent")
    late: bool
    left_early: bool
    attended_min: float
    comment: str | None


class ProposalEntry(Out):
    """The attendance the bridge proposes for one pupil while the lesson runs."""

    pupil_id: int
    name: str
    status: str = Field(description="present | absent: what End lesson would record now")
    late: bool
    left_early: bool
    attended_min: float
    network_lost_min: float
    in_room_now: bool
    since: float | None = Field(
        None, description="in the room since (reconnects merged); null when not in the room"
    )
    left_at: float | None = Field(None, description="when they left; null if in or never came")


class ProposalAnswer(Out):
    """The proposed attendance now."""

    attendance: list[ProposalEntry]


class Mark(Out):
    """A mark with the teacher's comment."""

    pupil_id: int
    value: int
    comment: str | None
    at: float = Field(description="Unix seconds of the last change")


class MarkAnswer(Out):
    """A mark just given."""

    mark: Mark


class Assignment(Out):
    """Work set in a lesson."""

    id: int
    lesson_id: int
    kind: Kind
    difficulty: Difficulty
    text: str
    due_on: date | None
    pupil_ids: list[int] | None = Field(description="null: for the whole class")


class AssignmentAnswer(Out):
    """An assignment just set."""

    assignment: Assignment


class Topic(Out):
    """A topic of a thematic plan."""

    id: int
    position: int
    title: str
    hours: int


class MarkScale(Out):
    """The school's mark scale."""

    mark_min: int
    mark_max: int


class SchoolInfo(Out):
    """What every signed-in page may show of the school."""

    name: str
    timezone: str
    mark_min: int
    mark_max: int


class GuestVisit(Out):
    """One stretch of time someone who is not a pupil of the class spent in the lesson's room."""

    name: str
    institution: str | None
    kind: str = Field(description="guest | teacher | pupil (of another class) | admin")
    joined_at: float
    left_at: float | None = Field(description="null while still in the room")


class LessonDocument(Out):
    """A document shared in the lesson's room (docs/documents.md)."""

    id: str = Field(description="the file's sha-256")
    name: str
    kind: str
    shown_as: str = Field(description="pages | player | listing")
    pages: int | None
    uploaded_by: str
    uploaded_at: float
    url: str = Field(
        "",
        description="where the lesson's people open it after the room (the original file; an "
        "FLV's MP4)",
    )


class ConnectionLine(Out):
    """One pupil's connection over one lesson (several room sessions of it merged)."""

    pupil_id: int
    name: str
    lesson_id: int
    subject: str
    starts_at: float
    samples: int = Field(description="readings kept (one every 2 s while media was up)")
    delay_p50_ms: int
    delay_p95_ms: int
    loss_pct: float = Field(description="mean packet loss of the readings, %")
    loss_p95_pct: float
    good_s: int
    fair_s: int
    poor_s: int
    video_lost_s: int = Field(description="time video shown to them decoded nothing")
    disconnections: int
    verdict: str = Field(description="good | fair | poor (docs/journal.md)")
    poor_streak: int = Field(
        description="lessons in a row, this one and those before it, whose verdict was poor"
    )


class PupilConnections(Out):
    """A pupil's connection over their latest lessons, newest first."""

    pupil: Pupil
    class_name: str
    lessons: list[ConnectionLine]
    poor_last_3: bool = Field(description="the line was poor in each of the last 3 lessons")


class LessonDetail(Out):
    """Everything the lesson page shows."""

    lesson: Lesson
    attendance: list[AttendanceEntry]
    marks: list[Mark]
    assignments: list[Assignment]
    pupils: list[Pupil]
    plan: list[Topic] = Field(description="the thematic plan of the lesson's class and subject")
    mark_scale: MarkScale
    guests: list[GuestVisit] = Field(
        description="the lesson's guest log: visitors who never become pupils' records"
    )
    documents: list[LessonDocument] = Field(
        description="documents shared in the lesson's room, first shared first"
    )
    connections: list[ConnectionLine] = Field(
        default_factory=list,
        description="each pupil's connection over the lesson, kept when they left",
    )


class Schedule(Out):
    """A teacher's lessons in one week."""

    week: str
    period: str | None
    week_number: int | None = Field(description="the week's number within its period")
    lessons: list[Lesson]


class LessonList(Out):
    """A teacher's lessons."""

    lessons: list[Lesson]


class QueuedAnswer(Out):
    """How many attendance records went to the outbox."""

    queued: int


class PlanAnswer(Out):
    """A thematic plan."""

    topics: list[Topic]


class DiaryLesson(Out):
    """One lesson in a pupil's diary."""

    lesson_id: int
    starts_at: float
    ends_at: float
    subject: str
    teacher: str
    topic: str | None
    room_url: str | None = Field(description="the lesson's room, only while it is open")
    homework: list[Assignment]
    mark: Mark | None
    attendance: str | None = Field(description="present | absent, once the journal has it")
    documents: list[LessonDocument] = Field(
        default_factory=list,
        description="documents shared in the lesson, once it has ended (the asynchronous format)",
    )
    replay_url: str | None = Field(
        default=None,
        description="the lesson's recording, once it has ended and if it was recorded",
    )


class DiaryDay(Out):
    """A school day of the diary."""

    date: date
    lessons: list[DiaryLesson]


class Diary(Out):
    """A pupil's week: read-only, filled from the journal."""

    week: str
    period: str | None
    week_number: int | None = Field(description="the week's number within its period")
    class_name: str | None
    today: date = Field(description="today in the school's time zone (the diary marks it)")
    open_now: list[DiaryLesson] = Field(
        description="lessons of the pupil's classes whose room is open now, whatever the week "
        'shown (the diary\'s "Now: … — Join" banner)'
    )
    days: list[DiaryDay]


class Period(Out):
    """A term or quarter."""

    id: int
    year_id: int
    name: str
    starts_on: date
    ends_on: date


class Year(Out):
    """A school year with its periods."""

    id: int
    name: str
    starts_on: date
    ends_on: date
    periods: list[Period]


class YearList(Out):
    """The school years."""

    years: list[Year]


class YearAnswer(Out):
    """A school year just made."""

    year: Year


class Subject(Out):
    """A subject."""

    id: int
    name: str


class SubjectList(Out):
    """The school's subjects."""

    subjects: list[Subject]


class SubjectAnswer(Out):
    """A subject just made."""

    subject: Subject


class Person(Out):
    """An account as an administrator lists it."""

    id: int
    login: str
    name: str


class TeachingRow(Out):
    """A teacher teaches a subject to a class."""

    id: int
    teacher_id: int
    teacher_name: str
    class_id: int
    class_name: str
    subject_id: int
    subject_name: str


class ClassInfo(Out):
    """A class and how many pupils it has."""

    id: int
    name: str
    pupils: int


class TeachingList(Out):
    """Who teaches what to whom, and what a new row can be made from."""

    teaching: list[TeachingRow]
    teachers: list[Person]
    classes: list[ClassInfo]
    subjects: list[Subject]


class TeachingAnswer(Out):
    """A teaching row just made."""

    teaching: TeachingRow


class DeadLetter(Out):
    """An outbox record."""

    id: int
    key: str
    destination: str
    state: str
    attempts: int
    last_error: str | None
    created_at: float


class OutboxList(Out):
    """Outbox records, oldest first."""

    records: list[DeadLetter]


class LineError(Out):
    """A problem on one line of an imported file."""

    line: int
    error: str


class Created(Out):
    """What an import made (or would make, on a dry run)."""

    pupils: int
    classes: list[str]
    teachers: int = 0


class Password(Out):
    """A new pupil's one-time password (shown once)."""

    login: str
    password: str


class ImportAnswer(Out):
    """The per-line report of a CSV import; nothing changed unless `ok` and not a dry run."""

    ok: bool
    dry_run: bool
    lines: list[LineError]
    created: Created
    passwords: list[Password]


# --- request bodies --------------------------------------------------------------------------


class TopicBody(Body):
    """`PUT /api/lessons/{id}/topic`: a topic of the plan, or typed text."""

    topic_id: Id | None = None
    topic: StrictStr | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one(self) -> TopicBody:
        if (self.topic_id is None) == (self.topic is None):
            raise ValueError("give either topic_id or topic")
        return self


class MarkBody(Body):
    """`PUT /api/lessons/{id}/marks/{pupil_id}`."""

    value: StrictInt = Field(ge=-(2**31), le=2**31 - 1)
    comment: StrictStr | None = Field(None, max_length=500)


class AssignmentBody(Body):
    """`POST /api/lessons/{id}/assignments`."""

    kind: Kind
    difficulty: Difficulty = Difficulty.BASIC
    text: StrictStr = Field(min_length=1, max_length=2000)
    due_on: IsoDate | None = None
    pupil_ids: list[Id] | None = Field(None, min_length=1, max_length=100)


class PlanTopicBody(Body):
    """One topic of a plan being saved; `id` keeps an existing topic (and lessons using it)."""

    id: Id | None = None
    title: StrictStr = Field(min_length=1, max_length=200)
    hours: StrictInt = Field(1, ge=1, le=200)


class PlanBody(Body):
    """`PUT /api/plan?class_id=&subject_id=`: the whole plan, in order."""

    topics: list[PlanTopicBody] = Field(max_length=300)


class PeriodBody(Body):
    """A period of a new school year."""

    name: StrictStr = Field(min_length=1, max_length=64)
    starts_on: IsoDate
    ends_on: IsoDate


class YearBody(Body):
    """`POST /api/admin/years`."""

    name: StrictStr = Field(min_length=1, max_length=64)
    starts_on: IsoDate
    ends_on: IsoDate
    periods: list[PeriodBody] = Field(default_factory=list, max_length=12)


class SubjectBody(Body):
    """`POST /api/admin/subjects`."""

    name: StrictStr = Field(min_length=1, max_length=64)


class TeachingBody(Body):
    """`POST /api/admin/teaching`."""

    teacher_id: Id
    class_id: Id
    subject_id: Id


class SchoolPatch(Body):
    """`PUT /api/admin/school`: any of the settings; the others stay as they are."""

    name: StrictStr | None = Field(None, min_length=1, max_length=120)
    timezone: StrictStr | None = Field(None, max_length=64)
    mark_min: StrictInt | None = Field(None, ge=0, le=100)
    mark_max: StrictInt | None = Field(None, ge=1, le=100)
    present_ratio: StrictFloat | StrictInt | None = Field(None, gt=0, le=1)
    late_after_min: StrictFloat | StrictInt | None = Field(None, ge=0, le=240)
    left_early_min: StrictFloat | StrictInt | None = Field(None, ge=0, le=240)
    reconnect_grace_s: StrictFloat | StrictInt | None = Field(None, ge=0, le=3600)
    finalise_grace_min: StrictFloat | StrictInt | None = Field(None, ge=0, le=24 * 60)
    private_chat: PrivateChat | None = None
    recording: RecordingRule | None = None
    recording_quota_mb: StrictInt | None = Field(None, ge=0, le=10_000_000)
    recording_retention_days: StrictInt | None = Field(None, ge=1, le=3650)


class Flag(StrEnum):
    """A yes/no query parameter."""

    YES = "1"
    NO = "0"


# --- query parameters (strings in the URL, converted) ----------------------------------------


class Query(BaseModel):
    """Query parameters: unknown ones are refused."""

    model_config = ConfigDict(extra="forbid")


class WeekQuery(Query):
    """`?week=2026-W47` (default: the current week in the school's time zone)."""

    week: str | None = Field(None, pattern=r"^\d{4}-W\d{2}$")


class PlanQuery(Query):
    """`?class_id=&subject_id=`."""

    class_id: int = Field(ge=1, le=2**53)
    subject_id: int = Field(ge=1, le=2**53)


class OutboxQuery(Query):
    """`?state=dead` (default: every record)."""

    state: str | None = Field(None, pattern=r"^(pending|delivered|dead)$")


class ImportQuery(Query):
    """`?dry_run=1&new_classes=1&people=teachers` (a file of teachers: login,full_name)."""

    dry_run: Flag = Flag.NO
    new_classes: Flag = Flag.NO
    people: Literal["pupils", "teachers"] = "pupils"
