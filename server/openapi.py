"""The route registry: what each API route takes, who may call it, and the OpenAPI document.

Each API handler is registered with who may call it, what it takes (path ids, query and body
models) and what it answers (a model, a status, its error reasons). The registry checks and
parses all of that before the handler runs, so a handler holds only its own logic, and the
OpenAPI 3.1 document is built from the same declarations and from the pydantic models' own JSON
Schemas (JSON Schema 2020-12, as OpenAPI 3.1 uses). No library: the document is a few dozen lines
over what pydantic already generates, and a library would bring its own route decorators in
place of aiohttp's.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from rooms.refusals import MESSAGES, Reason
from server.csrf import UNSAFE
from server.db.accounts import Account
from server.errors import STATUS, error
from server.journal.views import LessonError
from server.keys import SESSIONS
from server.sessions import Current
from server.signalling import SESSION_COOKIE

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)
PARAM = re.compile(r"\{([a-z_]+)(?::([^}]+))?\}")
STRING_PARAMS = {"room_id"}
REF = "#/components/schemas/{model}"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented route."""

    method: str
    path: str
    who: str
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[Reason, ...] = ()
    body_type: str = "application/json"
    answer_type: str = "application/json"


OPERATIONS: dict[Handler, Operation] = {}


@dataclass(frozen=True, slots=True)
class Who:
    """Who may call a route: the words of the document and the check the registry makes."""

    text: str
    kinds: tuple[str, ...] = ()  # the account kinds let in; empty: any signed-in account
    refusal: str | None = None  # the NOT_PERMITTED sentence for the other kinds
    signed_in: bool = True  # False: anyone, and nobody's account is looked up
    # True: a sign-in with a one-time password may call it (its only use: a new password).
    one_time: bool = False

    def called(self, text: str) -> Who:
        """The same check under other words (e.g. "the lesson's teacher")."""
        return Who(text, self.kinds, self.refusal, self.signed_in, self.one_time)


ANYONE = Who("anyone", signed_in=False)
SIGNED_IN = Who("anyone signed in")
# Choosing a new password is what a one-time sign-in is for.
SIGNED_IN_ONE_TIME = Who("anyone signed in, also with a one-time password", one_time=True)
TEACHER = Who("a teacher", ("teacher",), "Only teachers can do this.")
ADMIN = Who("an administrator", ("admin",), "Only administrators can do this.")


class Refused(Exception):
    """A request answered with an error before (or instead of) the handler's own answer.

    An exception rather than a returned answer, so that a check or a parse (the registry's own
    or a handler's helper) stops the request from any depth without an isinstance test after
    every call; the registry's wrapper turns it back into the answer.
    """

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass(frozen=True, slots=True)
class Call:
    """What the registry checked and parsed for one request, handed to the handler."""

    request: web.Request
    user: Account | None  # None only where `who` lets anyone in
    ids: dict[str, int]  # the numeric ids of the path, by name
    parsed_query: BaseModel | None
    parsed_body: BaseModel | None

    @property
    def app(self) -> web.Application:
        return self.request.app

    @property
    def account(self) -> Account:
        """The signed-in account of a route whose `who` requires one."""
        if self.user is None:
            raise TypeError("this route lets anyone in; it has no account")
        return self.user

    def query(self, model: type[M]) -> M:
        """The validated query, typed as the model the route declared."""
        return _declared(self.parsed_query, model)

    def body(self, model: type[M]) -> M:
        """The validated body, typed as the model the route declared."""
        return _declared(self.parsed_body, model)


Endpoint = Callable[[Call], Awaitable[web.StreamResponse]]
Guard = Callable[[web.Request], web.Response | None]


def _declared(parsed: BaseModel | None, model: type[M]) -> M:
    # The handler names the model again only so that it is typed; a mismatch with the route's
    # declaration is a programming error, not a bad request.
    if not isinstance(parsed, model):
        raise TypeError(f"the route did not declare {model.__name__}")
    return parsed


class Registry:
    """An aiohttp route table whose routes are also described for the OpenAPI document."""

    def __init__(self) -> None:
        self.routes = web.RouteTableDef()

    def route(
        self,
        method: str,
        path: str,
        *,
        who: Who,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        answer: type[BaseModel] | None = None,
        status: int = 200,
        errors: tuple[Reason, ...] = (),
        body_type: str = JSON,
        answer_type: str = JSON,
        guard: Guard | None = None,
    ) -> Callable[[Endpoint], Handler]:
        """Register a handler for `method path`, describe it, and check what it takes.

        Before the handler runs, in this order: `who` (the account), `guard` (a check that must
        come before the body is read, e.g. a rate limit), the body's content type (a JSON route
        takes a body only as `application/json`), the numeric path ids, the query, the
        JSON body (another content type, e.g. a CSV file, is declared by `body_type` alone and
        read by the handler). The first refusal is the answer; a LessonError raised by the
        handler becomes its typed error answer. `errors` lists the handler's own refusals: those
        of these checks are added to the document here.
        """
        ids = [name for name, _ in PARAM.findall(path) if _numeric(name)]
        writes_json = method.upper() in UNSAFE and body_type == JSON
        # The refusals the registry itself answers are documented by it too, so that no route
        # can forget one; they come first, as the checks do.
        implied = (
            *((Reason.CROSS_ORIGIN,) if method.upper() in UNSAFE else ()),
            *((Reason.NOT_SIGNED_IN,) if who.signed_in else ()),
            *((Reason.PASSWORD_CHANGE_REQUIRED,) if who.signed_in and not who.one_time else ()),
            *((Reason.NOT_PERMITTED,) if who.kinds else ()),
            *((Reason.INVALID_PAYLOAD,) if ids or query or body else ()),
            *((Reason.UNSUPPORTED_MEDIA_TYPE,) if writes_json else ()),
        )

        def register(endpoint: Endpoint) -> Handler:
            @functools.wraps(endpoint)
            async def handler(request: web.Request) -> web.StreamResponse:
                try:
                    user = await _user(request, who)
                    refusal = guard(request) if guard is not None else None
                    if refusal is not None:
                        return refusal
                    if writes_json:
                        _json_only(request)
                    call = Call(
                        request,
                        user,
                        {name: _path_id(request, name) for name in ids},
                        None if query is None else _query(request, query),
                        None if body is None else await _body(request, body),
                    )
                    return await endpoint(call)
                except Refused as refused:
                    return refused.response
                except LessonError as exc:
                    return error(exc.reason, exc.message)

            describe(
                handler,
                method,
                path,
                who=who.text,
                body=body,
                query=query,
                answer=answer,
                status=status,
                errors=(*implied, *(r for r in errors if r not in implied)),
                body_type=body_type,
                answer_type=answer_type,
            )
            self.routes.route(method, path)(handler)
            return handler

        return register


_CURRENT: web.RequestKey[Current | None] = web.RequestKey("session")  # checked once a request


async def current_session(request: web.Request) -> Current | None:
    """The open session the cookie names (checked once per request), or None."""
    if _CURRENT in request:
        return request[_CURRENT]
    token = request.cookies.get(SESSION_COOKIE)
    current = await request.app[SESSIONS].check(token) if token else None
    request[_CURRENT] = current
    return current


async def current_user(request: web.Request) -> Account | None:
    """The signed-in account from the session cookie (also a one-time sign-in's)."""
    current = await current_session(request)
    return None if current is None else current.account


async def acting_user(request: web.Request) -> Account | None:
    """The signed-in account, for routes a one-time sign-in may not use (None: nobody).

    Raises Refused (`password_change_required`) for a one-time sign-in.
    """
    account = await current_user(request)
    if account is not None and account.must_change_password:
        raise Refused(error(Reason.PASSWORD_CHANGE_REQUIRED))
    return account


async def _user(request: web.Request, who: Who) -> Account | None:
    if not who.signed_in:
        return None
    account = await (current_user(request) if who.one_time else acting_user(request))
    if account is None:
        raise Refused(error(Reason.NOT_SIGNED_IN))
    if who.kinds and account.kind not in who.kinds:
        raise Refused(error(Reason.NOT_PERMITTED, who.refusal))
    return account


def _numeric(name: str) -> bool:
    # The same rule as the document's path parameters: an `_id` is a number unless listed.
    return name.endswith("_id") and name not in STRING_PARAMS


def _path_id(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 12:
        raise Refused(error(Reason.INVALID_PAYLOAD, f"{name}: an id is a number."))
    return int(raw)


def _json_only(request: web.Request) -> None:
    """A body of a JSON route must say it is JSON.

    An HTML form can post any text as `text/plain` or form-encoded without asking the server
    first; a JSON content type from another origin needs the browser's CORS preflight, which
    this server never grants. A route without a body accepts no body at all of another type.
    """
    if request.body_exists and request.content_type != JSON:
        log.warning(
            "refused %s %s from %s: body sent as %r",
            request.method,
            request.path,
            request.remote or "?",
            request.content_type,
        )
        raise Refused(error(Reason.UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json."))


async def _body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(
            error(Reason.PAYLOAD_TOO_LARGE, "The request is larger than 64 KiB.")
        ) from None
    try:
        return model.model_validate(json.loads(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError):
            raise Refused(_invalid(exc, "body")) from None
        raise Refused(error(Reason.INVALID_PAYLOAD, "The body must be a JSON object.")) from None


def _query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise Refused(_invalid(exc, "query")) from None


def _invalid(exc: ValidationError, whole: str) -> web.Response:
    """The first problem pydantic found, with where it is (`whole`: the problem is everywhere)."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or whole
    return error(Reason.INVALID_PAYLOAD, f"{where}: {first['msg']}.")


def describe(handler: Handler, method: str, path: str, *, who: str, **details: Any) -> None:
    """Describe a handler registered elsewhere (with a plain RouteTableDef)."""
    summary = (handler.__doc__ or handler.__name__).strip().splitlines()[0]
    OPERATIONS[handler] = Operation(method.upper(), path, who, summary, **details)


def openapi_path(path: str) -> str:
    """aiohttp's `{name:regex}` becomes OpenAPI's `{name}`."""
    return PARAM.sub(lambda m: "{" + m[1] + "}", path)


def _path_parameters(path: str) -> list[dict[str, Any]]:
    parameters = []
    for name, regex in PARAM.findall(path):
        schema: dict[str, Any]
        if regex and re.fullmatch(r"[a-z|]+", regex):
            schema = {"type": "string", "enum": regex.split("|")}
        elif _numeric(name):
            schema = {"type": "integer", "minimum": 1}
        else:
            schema = {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in field.items() if k != "title"},
        }
        for name, field in schema["properties"].items()
    ]


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": [r.value for r in Reason]},
                "message": {"type": "string", "description": "a sentence for a person"},
            },
        }
    },
}


def _responses(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.answer is not None:
        responses[str(op.status)] = {
            "description": op.answer.__doc__.strip().splitlines()[0] if op.answer.__doc__ else "",
            "content": {op.answer_type: {"schema": {"$ref": REF.format(model=op.answer.__name__)}}},
        }
    elif op.status == 204:
        responses["204"] = {"description": "done; no content"}
    else:
        responses[str(op.status)] = {
            "description": "the answer",
            "content": {op.answer_type: {"schema": {}}},
        }
    by_status: dict[int, list[Reason]] = {}
    for reason in op.errors:
        by_status.setdefault(STATUS.get(reason, 400), []).append(reason)
    for status, reasons in sorted(by_status.items()):
        text = "; ".join(f"`{r.value}`: {MESSAGES[r]}" for r in reasons)
        responses[str(status)] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
        }
    return responses


def document(app: web.Application, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every described route the application serves."""
    operations = []
    for route in app.router.routes():
        op = OPERATIONS.get(route.handler)
        if op is not None and route.method == op.method:
            operations.append(op)
    models: set[type[BaseModel]] = set()
    for op in operations:
        models.update(m for m in (op.body, op.answer) if m is not None)
    _, top = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template=REF,
    )
    schemas: dict[str, Any] = {**top.get("$defs", {}), "Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(operations, key=lambda o: (o.path, o.method)):
        entry: dict[str, Any] = {
            "summary": op.summary,
            "description": f"Who: {op.who}.",
            "operationId": f"{op.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', op.path.lower())}",
            "responses": _responses(op),
        }
        parameters = _path_parameters(op.path)
        if op.query is not None:
            parameters += _query_parameters(op.query, schemas)
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {op.body_type: {"schema": {"$ref": REF.format(model=op.body.__name__)}}},
            }
        elif op.body_type != "application/json":
            entry["requestBody"] = {
                "required": True,
                "content": {op.body_type: {"schema": {"type": "string"}}},
            }
        if op.who != "anyone":
            entry["security"] = [{"session": []}]
        paths.setdefault(openapi_path(op.path), {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Sabaq's HTTP API: sign-in, rooms, and the class journal "
            "(docs/protocol.md, docs/journal.md). Errors are "
            '`{"error": {"code", "message"}}` with a 4xx status.',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "sabaq_session"}
            },
        },
    }
