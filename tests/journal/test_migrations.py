"""Migrations on databases made at older revisions with data in them, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from rooms.chat_policy import PrivateChat
from server.db.engine import migrate, open_engine, sessions
from server.journal import school
from tests.conftest import postgres_database

ROWS_0006 = [
    "INSERT INTO users (id, login, display_name, kind, password_hash, created_at,"
    " must_change_password) VALUES"
    " (1, 't', 'Teacher', 'teacher', 'x', CURRENT_TIMESTAMP, false),"
    " (2, 'p', 'Pupil', 'pupil', 'x', CURRENT_TIMESTAMP, false)",
    "INSERT INTO classes (id, name) VALUES (1, '7A')",
    "INSERT INTO class_members (id, class_id, user_id) VALUES (1, 1, 2)",
    "INSERT INTO rooms (id, title, owner_id, class_id, guest_policy, created_at)"
    " VALUES ('room1', 'Algebra', 1, 1, 'ask_host', CURRENT_TIMESTAMP)",
    "INSERT INTO lessons (id, class_id, teacher_id, subject, starts_at, ends_at, topic, room_id,"
    " state, ended_at) VALUES (1, 1, 1, 'Algebra', 1000, 3700, 'Fractions', 'room1', 'closed',"
    " 3700)",
    "INSERT INTO attendance (id, lesson_id, pupil_id, status, late, left_early, attended_s,"
    " network_lost_s, comment) VALUES (1, 1, 2, 'present', false, false, 2400, 30, 'ok')",
    "INSERT INTO outbox (id, key, destination, payload, state, attempts, created_at,"
    " next_attempt_at) VALUES (1, 'builtin:attendance:1:2', 'builtin', '{}', 'delivered', 1,"
    " 3700, 3700)",
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        made = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        yield made
        await made.dispose()
    else:
        async with postgres_database() as url:
            made = open_engine(url)
            yield made
            await made.dispose()


async def test_0007_keeps_lessons_attendance_and_outbox(engine: AsyncEngine) -> None:
    await migrate(engine, "0006")
    async with engine.begin() as connection:
        for statement in ROWS_0006:
            await connection.execute(text(statement))
    await migrate(engine, "0007")
    async with engine.connect() as connection:
        lesson = (
            await connection.execute(
                text("SELECT subject, topic, subject_id, topic_id, state FROM lessons")
            )
        ).one()
        attendance = (
            await connection.execute(text("SELECT lesson_id, status, comment FROM attendance"))
        ).all()
        outbox = (await connection.execute(text("SELECT key, retried_at FROM outbox"))).all()
        version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).one()
    assert tuple(lesson) == ("Algebra", "Fractions", None, None, "closed")
    assert [tuple(a) for a in attendance] == [(1, "present", "ok")]  # no cascade on the way
    assert [tuple(o) for o in outbox] == [("builtin:attendance:1:2", None)]
    assert version[0] == "0007"
    # The new references hold: a lesson's subject must exist.
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO subjects (id, name) VALUES (1, 'Algebra')"))
        await connection.execute(text("UPDATE lessons SET subject_id = 1"))
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE lessons SET subject_id = 99"))
    await migrate(engine)  # the later migrations break none of it
    # (Read with today's model, which knows the columns later migrations add.)
    async with sessions(engine)() as s:
        settings = await school.load(s)
    assert (settings.mark_min, settings.mark_max, settings.rules.present_ratio) == (1, 5, 0.5)
    assert settings.finalise_grace_s == 15 * 60


async def test_0008_adds_sessions_and_keeps_every_user_and_what_hangs_on_them(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0007")
    async with engine.begin() as connection:
        for statement in ROWS_0006:
            await connection.execute(text(statement))
    await migrate(engine, "0008")
    async with engine.connect() as connection:
        users = (
            await connection.execute(
                text("SELECT login, must_change_password, one_time_spent FROM users ORDER BY id")
            )
        ).all()
        kept = [
            (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("class_members", "rooms", "lessons", "attendance", "outbox")
        ]
        opened = (await connection.execute(text("SELECT count(*) FROM sessions"))).scalar_one()
    # Altering `users` must not cascade: a batch copy-and-drop on SQLite would empty these.
    assert [tuple(u) for u in users] == [("t", False, False), ("p", False, False)]
    assert kept == [1, 1, 1, 1, 1]
    assert opened == 0
    await migrate(engine, "0007")  # and back again
    await migrate(engine)
    # 0010 (disabled accounts, audit log) alters `users` in place too.
    async with engine.connect() as connection:
        disabled = (await connection.execute(text("SELECT disabled FROM users"))).scalars().all()
        lessons = (await connection.execute(text("SELECT count(*) FROM lessons"))).scalar_one()
    assert (list(disabled), lessons) == ([False, False], 1)


async def test_0009_private_chat_is_safe_by_default_and_keeps_every_room(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0007")
    async with engine.begin() as connection:
        for statement in ROWS_0006:
            await connection.execute(text(statement))
        await connection.execute(
            text(
                "INSERT INTO chat_messages (id, room_id, session, message_id, sender_name,"
                " sender_role, text, at, deleted) VALUES"
                " (1, 'room1', 's1', 1, 'Teacher', 'host', 'hello', 1000, false)"
            )
        )
    await migrate(engine, "0009")
    async with engine.connect() as connection:
        rooms = (await connection.execute(text("SELECT id, private_chat FROM rooms"))).all()
        kept = [
            (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("chat_messages", "lessons", "attendance")
        ]
    # A room that never chose follows the school; adding the column cascaded nothing away.
    assert [tuple(r) for r in rooms] == [("room1", None)]
    assert kept == [1, 1, 1]
    async with engine.connect() as connection:
        # Raw SQL: today's ORM row has columns later migrations added (0014's recording).
        setting = (
            await connection.execute(text("SELECT private_chat FROM school_settings"))
        ).scalar_one()
    assert PrivateChat(setting) is PrivateChat.STAFF
    await migrate(engine, "0008")  # and back again
    await migrate(engine)


async def test_0011_gives_lessons_a_start_time_left_empty_for_old_ones(engine: AsyncEngine) -> None:
    await migrate(engine, "0007")
    async with engine.begin() as connection:
        for statement in ROWS_0006:
            await connection.execute(text(statement))
    await migrate(engine, "0011")
    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT state, started_at FROM lessons"))).one()
        kept = (await connection.execute(text("SELECT count(*) FROM attendance"))).scalar_one()
    # An old lesson has no start time: it is assessed over its scheduled time, as before.
    assert tuple(row) == ("closed", None)
    assert kept == 1
    await migrate(engine, "0010")  # and back again
    await migrate(engine)


async def test_0006_keeps_every_user_and_what_hangs_on_them(engine: AsyncEngine) -> None:
    # An installation upgraded from 0005 with people, rooms and attendance in it.
    await migrate(engine, "0005")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, login, display_name, kind, password_hash, created_at)"
                " VALUES (1, 't', 'Teacher', 'teacher', 'x', CURRENT_TIMESTAMP),"
                " (2, 'p', 'Pupil', 'pupil', 'x', CURRENT_TIMESTAMP)"
            )
        )
        for statement in ROWS_0006[1:]:
            if "INTO outbox" not in statement:  # 0005's outbox has other columns
                await connection.execute(text(statement))
    await migrate(engine, "0006")
    async with engine.connect() as connection:
        users = (
            await connection.execute(text("SELECT login, must_change_password FROM users"))
        ).all()
        kept = [
            (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("class_members", "rooms", "lessons", "attendance")
        ]
    # Altering `users` must not cascade: a batch copy-and-drop on SQLite would empty these.
    assert sorted(tuple(u) for u in users) == [("p", False), ("t", False)]
    assert kept == [1, 1, 1, 1]


async def test_0012_adds_lesson_documents_one_per_lesson_and_file(engine: AsyncEngine) -> None:
    await migrate(engine, "0007")
    async with engine.begin() as connection:
        for statement in ROWS_0006:
            await connection.execute(text(statement))
    await migrate(engine, "0012")
    row = (
        "INSERT INTO lesson_documents (lesson_id, document_id, name, kind, shown_as, pages,"
        " uploaded_by, uploaded_at) VALUES (1, 'abc', 'deck.pptx', 'pptx', 'pages', 20,"
        " 'Teacher', 3000)"
    )
    async with engine.begin() as connection:
        await connection.execute(text(row))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text(row))
    async with engine.connect() as connection:
        lessons = (await connection.execute(text("SELECT count(*) FROM lessons"))).scalar_one()
    assert lessons == 1
    await migrate(engine, "0011")  # and back again
    await migrate(engine)
