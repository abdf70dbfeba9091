"""Tables of accounts, classes and rooms (the journal grows beside them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base; the schema itself is created only by Alembic migrations."""


class User(Base):
    """A stable identity: a teacher, a pupil or an administrator."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Generated passwords (demo school, CSV import) are one-time: the owner chooses their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # A one-time password works for one sign-in, whose only use is choosing a new password.
    one_time_spent: Mapped[bool] = mapped_column(Boolean, default=False)
    # A disabled account cannot sign in and has no open sessions (a pupil who left, say).
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionRow(Base):
    """A sign-in: the cookie names it, and it works only while it is here and not ended."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the cookie's sid
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_why: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(64))


class AuditRow(Base):
    """One change an administrator (or the command line) made to accounts: who, what, when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Float)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    target: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)  # JSON: what changed (never a password)


class SchoolClass(Base):
    """A class of pupils, e.g. 7A."""

    __tablename__ = "classes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class ClassMember(Base):
    """A pupil belongs to a class."""

    __tablename__ = "class_members"
    __table_args__ = (UniqueConstraint("class_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class RoomRecord(Base):
    """A room as created by a teacher; its live state is in memory, not here."""

    __tablename__ = "rooms"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("classes.id", ondelete="SET NULL"), nullable=True
    )
    guest_policy: Mapped[str] = mapped_column(String(16))
    # The host's private-chat choice (rooms/chat_policy.py); None: the school's setting.
    private_chat: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChatRecord(Base):
    """A public chat message kept with the lesson (private messages are never stored)."""

    __tablename__ = "chat_messages"
    __table_args__ = (UniqueConstraint("session", "message_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    session: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[int] = mapped_column(Integer)
    sender_name: Mapped[str] = mapped_column(String(64))
    sender_role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class PollRecord(Base):
    """A poll's question and results as last closed or published."""

    __tablename__ = "poll_results"
    __table_args__ = (UniqueConstraint("session", "poll_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    session: Mapped[str] = mapped_column(String(32))
    poll_id: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)


class OutboxRecord(Base):
    """A record waiting to reach a journal; written in the same transaction as its cause."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    destination: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    delivered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    retried_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class PresenceRecord(Base):
    """One stretch of someone's time in a room session: the input of attendance."""

    __tablename__ = "presence"
    __table_args__ = (UniqueConstraint("session", "participant_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    session: Mapped[str] = mapped_column(String(32))
    participant_id: Mapped[str] = mapped_column(String(32))
    identity: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    institution: Mapped[str | None] = mapped_column(String(64), nullable=True)
    joined_at: Mapped[float] = mapped_column(Float)
    left_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    how: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ConnectionQualityRecord(Base):
    """One person's connection over one room session (server/quality_log.py)."""

    __tablename__ = "connection_quality"
    __table_args__ = (UniqueConstraint("session", "identity"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    session: Mapped[str] = mapped_column(String(32))
    identity: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(64))
    samples: Mapped[int] = mapped_column(Integer)
    delay_p50_ms: Mapped[int] = mapped_column(Integer)
    delay_p95_ms: Mapped[int] = mapped_column(Integer)
    loss_pct: Mapped[float] = mapped_column(Float)
    loss_p95_pct: Mapped[float] = mapped_column(Float)
    good_s: Mapped[int] = mapped_column(Integer)
    fair_s: Mapped[int] = mapped_column(Integer)
    poor_s: Mapped[int] = mapped_column(Integer)
    video_lost_s: Mapped[int] = mapped_column(Integer)
    disconnections: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(8))
    at: Mapped[float] = mapped_column(Float)


class Lesson(Base):
    """A lesson of the schedule: a class, a subject, a teacher, a time; later a room."""

    __tablename__ = "lessons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[float] = mapped_column(Float)
    ends_at: Mapped[float] = mapped_column(Float)
    topic: Mapped[str | None] = mapped_column(String(200), nullable=True)
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[str] = mapped_column(String(16))
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    # When Start lesson opened its room (null for lessons started before migration 0011).
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subjects.id", ondelete="SET NULL"), nullable=True
    )
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_topics.id", ondelete="SET NULL"), nullable=True
    )


class AttendanceRecord(Base):
    """The built-in journal's attendance mark of one pupil for one lesson."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("lesson_id", "pupil_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    late: Mapped[bool] = mapped_column(Boolean)
    left_early: Mapped[bool] = mapped_column(Boolean)
    attended_s: Mapped[float] = mapped_column(Float)
    network_lost_s: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(String(500), nullable=True)


class SchoolSettingsRow(Base):
    """The school's one row of settings: its name, time zone, mark scale and attendance rules."""

    __tablename__ = "school_settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    mark_min: Mapped[int] = mapped_column(Integer)
    mark_max: Mapped[int] = mapped_column(Integer)
    present_ratio: Mapped[float] = mapped_column(Float)
    late_after_min: Mapped[float] = mapped_column(Float)
    left_early_min: Mapped[float] = mapped_column(Float)
    reconnect_grace_s: Mapped[float] = mapped_column(Float)
    finalise_grace_min: Mapped[float] = mapped_column(Float)
    private_chat: Mapped[str] = mapped_column(String(16), default="staff")
    recording: Mapped[str] = mapped_column(String(16), default="off")
    recording_quota_mb: Mapped[int] = mapped_column(Integer, default=2000)
    recording_retention_days: Mapped[int] = mapped_column(Integer, default=30)


class SchoolYear(Base):
    """An academic year, e.g. 2026-2027."""

    __tablename__ = "school_years"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Period(Base):
    """A term or quarter of a school year."""

    __tablename__ = "periods"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year_id: Mapped[int] = mapped_column(
        ForeignKey("school_years.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Subject(Base):
    """A subject taught at the school."""

    __tablename__ = "subjects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Teaching(Base):
    """A teacher teaches a subject to a class."""

    __tablename__ = "teaching"
    __table_args__ = (UniqueConstraint("teacher_id", "class_id", "subject_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))


class PlanTopic(Base):
    """One topic of a thematic plan (per teacher, class and subject), in order."""

    __tablename__ = "plan_topics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[int] = mapped_column(Integer)


class MarkRecord(Base):
    """A pupil's mark for a lesson, with the teacher's comment; one per (lesson, pupil)."""

    __tablename__ = "marks"
    __table_args__ = (UniqueConstraint("lesson_id", "pupil_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(500), nullable=True)
    at: Mapped[float] = mapped_column(Float)


class AssignmentRecord(Base):
    """Work set in a lesson: homework, classwork or independent work."""

    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    difficulty: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    for_all: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[float] = mapped_column(Float)


class AssignmentPupil(Base):
    """A pupil an assignment is for, when it is not for the whole class."""

    __tablename__ = "assignment_pupils"
    __table_args__ = (UniqueConstraint("assignment_id", "pupil_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class LessonDocument(Base):
    """A document shared in a lesson's room: the lesson keeps it (docs/documents.md)."""

    __tablename__ = "lesson_documents"
    __table_args__ = (UniqueConstraint("lesson_id", "document_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    # The sha-256 of the file: its folder in DATA/documents/.
    document_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    shown_as: Mapped[str] = mapped_column(String(8))
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[float] = mapped_column(Float)
