"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from rooms.ratelimit import KeyedBuckets
from server.archive import Archive
from server.auth import Tokens
from server.db.accounts import Store
from server.demo import DemoSchool
from server.journal.admin import SchoolAdmin
from server.journal.diary import Diaries
from server.journal.gradebook import Gradebook
from server.journal.lessons import Lessons
from server.journal.outbox import Courier
from server.people import People
from server.sessions import Sessions
from server.settings import Settings
from server.signalling import Signalling

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
STORE = web.AppKey("store", Store)
ARCHIVE = web.AppKey("archive", Archive)
COURIER = web.AppKey("courier", Courier)
LESSONS = web.AppKey("lessons", Lessons)
GRADEBOOK = web.AppKey("gradebook", Gradebook)
DIARIES = web.AppKey("diaries", Diaries)
SCHOOL_ADMIN = web.AppKey("school_admin", SchoolAdmin)
TOKENS = web.AppKey("tokens", Tokens)
SESSIONS = web.AppKey("sessions", Sessions)
PEOPLE = web.AppKey("people", People)
DEMO: web.AppKey[DemoSchool | None] = web.AppKey("demo")
SIGNALLING = web.AppKey("signalling", Signalling)
REDIS: web.AppKey[Redis | None] = web.AppKey("redis")
LOGIN_LIMITS = web.AppKey("login_limits", KeyedBuckets)
# The OpenAPI document, made at the first request (the routes do not change after start-up).
OPENAPI: web.AppKey[dict[str, object]] = web.AppKey("openapi")
