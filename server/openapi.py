"""The route registry and the OpenAPI 3.1 document generated from it.

Each API handler is registered with what it takes (body and query models) and answers (a model,
a status, its error reasons); the document is built from these and from the pydantic models'
own JSON Schemas, which are JSON Schema 2020-12 as OpenAPI 3.1 uses. No library: the document is
a few dozen lines over what pydantic already generates, and a library would bring its own route
decorators in place of aiohttp's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from rooms.refusals import MESSAGES, Reason
from server.errors import STATUS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)
PARAM = re.compile(r"\{([a-z_]+)(?::([^}]+))?\}")
STRING_PARAMS = {"room_id"}
REF = "#/components/schemas/{model}"


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


class Registry:
    """An aiohttp route table whose routes are also described for the OpenAPI document."""

    def __init__(self) -> None:
        self.routes = web.RouteTableDef()

    def route(
        self,
        method: str,
        path: str,
        *,
        who: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        answer: type[BaseModel] | None = None,
        status: int = 200,
        errors: tuple[Reason, ...] = (),
        body_type: str = "application/json",
        answer_type: str = "application/json",
    ) -> Callable[[H], H]:
        """Register a handler for `method path` and describe it."""

        def register(handler: H) -> H:
            describe(
                handler,
                method,
                path,
                who=who,
                body=body,
                query=query,
                answer=answer,
                status=status,
                errors=errors,
                body_type=body_type,
                answer_type=answer_type,
            )
            self.routes.route(method, path)(handler)
            return handler

        return register


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
        elif name.endswith("_id") and name not in STRING_PARAMS:
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
