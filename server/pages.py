"""HTML pages, static files, health checks and the security headers on every answer."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from aiohttp import web
from sqlalchemy import text

from rooms.refusals import Reason
from server.documents.isolation import SANDBOX
from server.errors import error
from server.keys import ENGINE, REDIS, SETTINGS, SIGNALLING, STORE

log = logging.getLogger(__name__)
WEB = Path(__file__).resolve().parent.parent / "web"
PAGES = WEB / "pages"
PUBLIC = WEB / "public"

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
routes = web.RouteTableDef()


@functools.cache
def csp_for(public_url: str, several_nodes: bool) -> str:
    """The CSP of this server's answers. With several nodes on Redis a room page may be sent to
    a worker's own port on the same host name (docs/scaling.md): its socket may connect there."""
    if not several_nodes:
        return CSP
    parts = urlsplit(public_url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    nodes = f"{parts.scheme}://{host}:* {'wss' if secure else 'ws'}://{host}:*"
    return CSP.replace("connect-src 'self'", f"connect-src 'self' {nodes}")


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A strict CSP and friends on every answer, errors included (JSON too: it costs nothing)."""
    settings = request.app[SETTINGS]
    csp = csp_for(settings.base_url, settings.redis is not None)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # a redirect aiohttp raised (e.g. a trailing slash) stays one
            _secure(exc.headers, csp)
            raise
        response = _error_page(request, exc)
    except ConnectionError:  # the client went away mid-answer: nobody to answer
        raise
    except Exception:  # a bug: answered like every other error, and logged with its traceback
        log.exception("%s %s failed", request.method, request.path)
        response = error(Reason.INTERNAL_ERROR)
    _secure(response.headers, csp)
    return response


def _secure(headers: MutableMapping[str, str], csp: str) -> None:
    headers.setdefault("Content-Security-Policy", csp)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)"
    )


HTTP_REASONS = {
    404: Reason.NOT_FOUND,
    405: Reason.METHOD_NOT_ALLOWED,
    413: Reason.PAYLOAD_TOO_LARGE,
    415: Reason.UNSUPPORTED_MEDIA_TYPE,
}


def _error_page(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    """aiohttp's own refusals (no route, wrong method, body too large) in our shapes.

    A person who mistypes a page address gets the 404 page; everything else, and every
    answer under /api/, is the protocol's JSON error.
    """
    if exc.status == 404 and not request.path.startswith("/api/"):
        return page("404.html", status=404)
    fallback = Reason.INTERNAL_ERROR if exc.status >= 500 else Reason.INVALID_PAYLOAD
    reason = HTTP_REASONS.get(exc.status, fallback)
    response = error(reason, status=exc.status)
    if exc.status == 405:
        response.headers["Allow"] = exc.headers.get("Allow", "")
    return response


# `<!--#include NAME -->` in a page stands for web/pages/parts/NAME.html: the head's common
# lines and the top bar, the same on every page, are written once.
INCLUDE = re.compile(r"^[ \t]*<!--#include ([a-z]+) -->\n", re.MULTILINE)


def page_html(name: str) -> str:
    """One of web/pages with its parts put in (read each time: an edited page shows at once)."""
    text = (PAGES / name).read_text(encoding="utf-8")
    return INCLUDE.sub(lambda m: (PAGES / "parts" / f"{m[1]}.html").read_text("utf-8"), text)


def page(name: str, status: int = 200) -> web.Response:
    """One of web/pages, never cached (it names the current bundle)."""
    response = web.Response(text=page_html(name), status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/")
async def index(_request: web.Request) -> web.Response:
    """Sign-in and the teacher's dashboard."""
    return page("index.html")


LANGUAGES = ("kk", "ru", "en")  # web/src/i18n.js's list, its first choice when nothing matches last


def guessed_language(accept_language: str) -> str:
    """The language the page will pick when the user never chose one (navigator.languages is
    Accept-Language in the same order); a wrong guess only costs one unused preload."""
    for tag in accept_language.split(","):
        base = tag.split(";")[0].strip().lower().split("-")[0]
        if base in LANGUAGES:
            return base
    return "en"


@routes.get("/r/{room_id}")
async def room_page(request: web.Request) -> web.Response:
    """The room, or a 404 page that says the room does not exist.

    The page's first requests (the room, who you are, its strings) are announced as preloads,
    so the browser fetches them while it is still loading and running room.js instead of after
    it: ~150 ms off the way into a lesson (bench.join, docs/entry.md). `crossorigin` makes them
    match the page's same-origin `fetch` calls.
    """
    room_id = request.match_info["room_id"]
    if await request.app[STORE].room(room_id) is None:
        return page("404.html", status=404)
    response = page("room.html")
    language = guessed_language(request.headers.get("Accept-Language", ""))
    response.headers["Link"] = ", ".join(
        f"<{path}>; rel=preload; as=fetch; crossorigin"
        for path in (
            f"/api/rooms/{quote(room_id, safe='')}",
            "/api/me",
            f"/static/locales/{language}.json",
        )
    )
    return response


@routes.get("/journal")
async def journal_page(_request: web.Request) -> web.Response:
    """The teacher's week of lessons."""
    return page("journal.html")


@routes.get("/journal/lessons/{lesson_id:[0-9]{1,12}}")
async def lesson_page(_request: web.Request) -> web.Response:
    """One lesson: topic, Start lesson, attendance, marks, assignments."""
    return page("lesson.html")


@routes.get("/journal/pupils/{pupil_id:[0-9]{1,12}}")
async def pupil_page(_request: web.Request) -> web.Response:
    """A pupil's connection over their latest lessons, for a teacher of their class."""
    return page("pupil.html")


@routes.get("/replay/lessons/{lesson_id:[0-9]{1,12}}")
async def replay_page(_request: web.Request) -> web.Response:
    """A lesson's recording: video, sound, the shared document's pages and the public chat."""
    return page("replay.html")


@routes.get("/diary")
async def diary_page(_request: web.Request) -> web.Response:
    """The pupil's read-only diary."""
    return page("diary.html")


@routes.get("/admin")
async def admin_page(_request: web.Request) -> web.Response:
    """The administrator's page: settings, years, subjects, teaching, import, dead letters."""
    return page("admin.html")


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    """The process is alive."""
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """The process can serve: its database (and Redis, when configured) answer."""
    if request.app[SIGNALLING].draining:  # restarting: send new people elsewhere, at once
        return web.json_response({"status": "draining", "checks": {}}, status=503)
    checks: dict[str, str] = {}
    try:
        async with request.app[ENGINE].connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready", with the reason shown
        checks["database"] = f"error: {type(exc).__name__}"
    redis = request.app[REDIS]
    if redis is not None:
        try:
            await redis.ping()  # type: ignore[misc]  # redis-py types ping as sync|async
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    # Said beside the checks, not among them: a server without the conversion's network
    # sandbox still serves (docs/documents.md); the reason is in its start-up log.
    sandbox = "on" if request.app[SANDBOX].on else "off"
    return web.json_response(
        {
            "status": "ready" if ready else "not_ready",
            "checks": checks,
            "document_sandbox": sandbox,
        },
        status=200 if ready else 503,
    )


def add_static(app: web.Application) -> None:
    """Serve web/public under /static/."""
    PUBLIC.mkdir(parents=True, exist_ok=True)
    app.router.add_static("/static/", PUBLIC, follow_symlinks=False)
