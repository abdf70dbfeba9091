"""Writes only from our own pages: the origin check on every unsafe request (SECURITY.md).

The session cookie is `SameSite=Lax`, which keeps it off cross-*site* requests but not off
requests from another origin of the same site (another service on the school's domain), and
plain HTML forms can send a JSON-looking body as `text/plain`. So every POST, PUT, PATCH and
DELETE must come from the server's own public origin or the operator's allow-list, by its
`Origin` header, or by its `Referer` when a browser leaves `Origin` out.

A request with neither header is let through: browsers send `Origin` on every cross-origin
unsafe request (fetch, XHR and form posts alike), so only a non-browser client (the CLI, a
script, a test) sends neither, and such a client carries no cookie it was not given.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from rooms.refusals import Reason
from server.errors import error

log = logging.getLogger(__name__)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, or None if it has none (e.g. `null`)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def refusal(request: web.Request, allowed: frozenset[str]) -> str | None:
    """Why this request may not write (None: it may)."""
    if request.method not in UNSAFE:
        return None
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None:
        if origin_of(origin) in allowed:
            return None
        return f"Origin {origin[:100]!r} is not allowed"
    referer = request.headers.get(hdrs.REFERER)
    if referer is not None:
        if origin_of(referer) in allowed:
            return None
        return f"Referer {referer[:100]!r} is not from an allowed origin"
    return None  # neither header: not a browser (see the module's docstring)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def same_origin(origins: Iterable[str]) -> Middleware:
    """A middleware refusing unsafe requests from other origins with `cross_origin` (403)."""
    allowed = frozenset(o.lower() for o in origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        why = refusal(request, allowed)
        if why is None:
            return await handler(request)
        log.warning(
            "refused %s %s from %s: %s", request.method, request.path, request.remote or "?", why
        )
        return error(Reason.CROSS_ORIGIN)

    return middleware
