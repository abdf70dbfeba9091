"""The aiohttp application factory: every resource set up and torn down in `cleanup_ctx`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

from rooms.ratelimit import KeyedBuckets
from rooms.refusals import Reason
from server import (
    csrf,
    exports,
    fanout,
    http_api,
    metrics,
    openapi,
    pages,
    people_api,
    recordings_api,
    sessions_api,
    signouts,
)
from server.archive import Archive
from server.auth import Tokens, installation_secret
from server.db.accounts import Store
from server.db.engine import migrate, open_engine, sessions
from server.demo import CREDENTIALS_FILE, announce, create_demo_school
from server.documents import http as document_routes
from server.documents.isolation import sandbox_context
from server.journal import admin_api as journal_admin_api
from server.journal import api as journal_api
from server.journal.adapters import HttpJournal, JournalAdapter
from server.journal.admin import SchoolAdmin
from server.journal.csv_export import CsvJournal
from server.journal.demo import furnish as furnish_demo_journal
from server.journal.diary import Diaries
from server.journal.gradebook import Gradebook
from server.journal.lessons import BuiltinJournal, Lessons, finalise_forever
from server.journal.outbox import Courier
from server.keys import (
    ARCHIVE,
    COURIER,
    DEMO,
    DIARIES,
    ENGINE,
    GRADEBOOK,
    LESSONS,
    LOGIN_LIMITS,
    OPENAPI,
    PEOPLE,
    REDIS,
    SCHOOL_ADMIN,
    SESSIONS,
    SETTINGS,
    SIGNALLING,
    STORE,
    TOKENS,
)
from server.ownership import Ownership
from server.people import People
from server.room_state import RoomStates
from server.sessions import Sessions
from server.settings import Settings
from server.signalling import Signalling
from server.socket_guard import GuardedServer

log = logging.getLogger(__name__)
# engine.io cuts off frames above this; our own per-event cap (64 KiB) answers with an error.
MAX_FRAME_BYTES = 1024 * 1024


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    settings.data.mkdir(parents=True, exist_ok=True)
    engine = open_engine(settings.db_url)
    await migrate(engine)
    store = Store(sessions(engine))
    app[ENGINE], app[STORE], app[ARCHIVE] = engine, store, Archive(sessions(engine))
    app[TOKENS] = Tokens(installation_secret(settings.data), settings.session_hours * 3600)
    app[SESSIONS] = Sessions(sessions(engine), app[TOKENS])
    app[PEOPLE] = People(sessions(engine))
    app[DEMO] = await create_demo_school(store, settings.data) if settings.demo else None
    demo = app[DEMO]
    if demo is not None:
        journal = await furnish_demo_journal(
            sessions(engine),
            store,
            demo.teacher[0],
            demo.class_id,
            settings.data,
            CREDENTIALS_FILE,
            time.time(),
        )
        log.info("demo school created; its logins are in %s", settings.data / CREDENTIALS_FILE)
        announce(settings.base_url, demo.teacher, journal.admin, settings.data / CREDENTIALS_FILE)
    adapters: dict[str, JournalAdapter] = {"builtin": BuiltinJournal(sessions(engine))}
    http_journal = None
    if settings.journal_url and settings.journal_secret:
        http_journal = HttpJournal(
            settings.journal_url, settings.journal_secret.get_secret_value().encode()
        )
        adapters["http"] = http_journal
    if settings.journal_csv is not None:
        adapters["csv"] = CsvJournal(settings.journal_csv)
    courier = Courier(sessions(engine), adapters)
    courier.start()
    app[LESSONS] = Lessons(sessions(engine), store, tuple(adapters), settings.base_url)
    app[GRADEBOOK] = Gradebook(sessions(engine), settings.base_url)
    app[DIARIES] = Diaries(sessions(engine), settings.base_url, settings.data / "recordings")
    app[SCHOOL_ADMIN] = SchoolAdmin(sessions(engine))
    finaliser = asyncio.create_task(finalise_forever(app[LESSONS], courier), name="finaliser")
    app[COURIER] = courier
    yield
    finaliser.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await finaliser
    await courier.stop()
    if http_journal is not None:
        await http_journal.close()
    await engine.dispose()


async def _signalling(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    # The Redis manager fans out emits between nodes; live room state stays per process.
    manager = fanout.client_manager(settings.redis)
    app[REDIS] = Redis.from_url(settings.redis) if settings.redis else None
    sio = GuardedServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=settings.origins,
        max_http_buffer_size=MAX_FRAME_BYTES,
        transports=["websocket", "polling"],
    )
    sio.attach(app)
    # Which node serves which room; a client with short timeouts, so that a Redis outage
    # turns joins away in about a second instead of holding them (docs/scaling.md).
    ownership = states = None
    if settings.redis:
        leases = Redis.from_url(settings.redis, socket_timeout=2, socket_connect_timeout=1)
        ownership = Ownership(leases, settings.own_url)
        states = RoomStates(leases, lambda room_id: app[SIGNALLING].room_and_session(room_id))
    app[SIGNALLING] = Signalling(
        sio, settings, app[STORE], app[TOKENS], app[ARCHIVE], app[SESSIONS], ownership, states
    )
    if ownership is not None:
        await ownership.start(app[SIGNALLING].move_out)
    # End lesson (and the finaliser) close the lesson's room for everyone.
    app[LESSONS].close_rooms_with(app[SIGNALLING].close_room)
    yield
    await app[SIGNALLING].close()
    if states is not None:
        await states.close()  # before the leases go: a node taking a room over reads it
    if ownership is not None:
        await ownership.stop()
        await ownership.redis.aclose()
    await manager.flush()
    await app[ARCHIVE].close()  # the last presence records of the rooms just closed
    redis = app[REDIS]
    if redis is not None:
        await redis.aclose()


def _describe_documents() -> None:
    # server/documents/http.py registers plain routes (a ticket, not a cookie, says who).
    who = "a participant of the room, by the ticket of the socket event document_access"
    openapi.describe(
        document_routes.upload,
        "POST",
        "/api/rooms/{room_id}/documents",
        who=who + " (with share)",
        body_type="application/octet-stream",
        status=201,
        errors=(Reason.NOT_SIGNED_IN, Reason.NOT_PERMITTED),
    )
    openapi.describe(
        document_routes.document_file,
        "GET",
        "/api/rooms/{room_id}/documents/{document_id}/{file}",
        who=who,
        answer_type="image/webp",
        errors=(Reason.NOT_SIGNED_IN, Reason.NOT_PERMITTED, Reason.UNKNOWN_DOCUMENT),
    )
    openapi.describe(
        document_routes.lesson_document_file,
        "GET",
        "/api/lessons/{lesson_id}/documents/{document_id}/{file}",
        who="the lesson's teacher, administrators, and its class's pupils once the lesson ended",
        answer_type="application/octet-stream",
        errors=(
            Reason.NOT_SIGNED_IN,
            Reason.NOT_PERMITTED,
            Reason.UNKNOWN_LESSON,
            Reason.UNKNOWN_DOCUMENT,
        ),
    )
    openapi.describe(
        document_routes.lesson_document_page,
        "GET",
        "/api/lessons/{lesson_id}/documents/{document_id}/pages/{page}",
        who="the lesson's teacher, administrators, and its class's pupils once the lesson ended",
        query=document_routes.PageQuery,
        answer_type="image/webp",
        errors=(
            Reason.NOT_SIGNED_IN,
            Reason.NOT_PERMITTED,
            Reason.UNKNOWN_LESSON,
            Reason.UNKNOWN_DOCUMENT,
            Reason.NO_SUCH_PAGE,
            Reason.OUT_OF_RANGE,
        ),
    )


def _describe_exports() -> None:
    # exports.py registers plain aiohttp routes; they are described here for the OpenAPI document.
    errors = (
        Reason.NOT_SIGNED_IN,
        Reason.PASSWORD_CHANGE_REQUIRED,
        Reason.NOT_PERMITTED,
        Reason.UNKNOWN_ROOM,
    )
    openapi.describe(
        exports.export_chat,
        "GET",
        "/api/rooms/{room_id}/chat.{fmt:csv|txt}",
        who="the room's host",
        answer_type="text/csv",
        errors=errors,
    )
    openapi.describe(
        exports.export_polls,
        "GET",
        "/api/rooms/{room_id}/polls.csv",
        who="the room's host",
        answer_type="text/csv",
        errors=errors,
    )


def create_app(settings: Settings) -> web.Application:
    """A ready-to-run Sabaq application for these settings."""
    app = web.Application(
        # The headers first, so that every refusal after them carries them too.
        middlewares=[pages.security_headers, csrf.same_origin(settings.origins)],
        client_max_size=64 * 1024,
    )
    app[SETTINGS] = settings
    app[OPENAPI] = {}
    app[LOGIN_LIMITS] = KeyedBuckets(rate=0.2, burst=10)  # 10 tries, then one per 5 s
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_signalling)
    app.cleanup_ctx.append(metrics.metrics_context)
    app.cleanup_ctx.append(signouts.relay)
    app.cleanup_ctx.append(recordings_api.retention)
    app.cleanup_ctx.append(sandbox_context)
    app.add_routes(http_api.routes)
    app.add_routes(metrics.routes)
    app.add_routes(sessions_api.routes)
    app.add_routes(people_api.routes)
    app.add_routes(exports.routes)
    app.add_routes(document_routes.routes)
    app.add_routes(recordings_api.routes)
    _describe_exports()
    _describe_documents()
    app.add_routes(journal_api.routes)
    app.add_routes(journal_admin_api.routes)
    app.add_routes(pages.routes)
    pages.add_static(app)
    return app
