"""The OpenAPI document: generated from the code, valid OpenAPI 3.1, and complete."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from server.openapi import openapi_path
from tests.conftest import LiveServer
from tests.integration.peers import sign_in
from tests.journal.helpers import admin, api


async def test_every_api_route_is_in_a_valid_openapi_document(live_server: LiveServer) -> None:
    status, document = await api(live_server, None, "GET", "/api/openapi.json")
    assert status == 200 and document["openapi"] == "3.1.0"
    validate(document)  # raises on any schema error
    served = {
        (openapi_path(route.resource.canonical), route.method.lower())
        for route in live_server.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method not in ("HEAD", "*")
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert served, "the app serves API routes"
    assert served - documented == set(), "routes missing from the OpenAPI document"
    assert documented - served == set(), "documented routes the app does not serve"


async def test_document_carries_the_models_and_error_codes(live_server: LiveServer) -> None:
    document = (await api(live_server, None, "GET", "/api/openapi.json"))[1]
    mark = document["paths"]["/api/lessons/{lesson_id}/marks/{pupil_id}"]["put"]
    body = document["components"]["schemas"]["MarkBody"]
    assert body["additionalProperties"] is False and body["properties"]["comment"]
    assert "out_of_range" in mark["responses"]["400"]["description"]
    assert "pupil_absent" in mark["responses"]["409"]["description"]
    assert [p["name"] for p in mark["parameters"]] == ["lesson_id", "pupil_id"]
    schedule = document["paths"]["/api/schedule"]["get"]
    assert [p["name"] for p in schedule["parameters"]] == ["week"]
    assert "text/csv" in document["paths"]["/api/admin/import"]["post"]["requestBody"]["content"]


async def test_answers_match_their_documented_schemas(live_server: LiveServer) -> None:
    server = live_server
    document = (await api(server, None, "GET", "/api/openapi.json"))[1]
    teacher = await sign_in(server, *server.teacher)
    pupil = await sign_in(server, *server.pupils[0])
    boss = await admin(server)
    lesson = (await api(server, teacher, "GET", "/api/schedule"))[1]["lessons"][0]
    room = (await api(server, teacher, "POST", "/api/rooms", {"title": "Club"}))[1]["room"]
    teaching = (await api(server, teacher, "GET", "/api/teaching"))[1]["teaching"][0]
    plan = f"?class_id={teaching['class_id']}&subject_id={teaching['subject_id']}"
    calls = [
        (None, "/api/me", "/api/me"),
        (teacher, "/api/me", "/api/me"),
        (teacher, "/api/rooms", "/api/rooms"),
        (None, f"/api/rooms/{room['id']}", "/api/rooms/{room_id}"),
        (teacher, "/api/classes", "/api/classes"),
        (teacher, "/api/lessons", "/api/lessons"),
        (teacher, "/api/schedule", "/api/schedule"),
        (teacher, f"/api/lessons/{lesson['id']}", "/api/lessons/{lesson_id}"),
        (teacher, "/api/teaching", "/api/teaching"),
        (teacher, "/api/plan" + plan, "/api/plan"),
        (pupil, "/api/diary", "/api/diary"),
        (pupil, "/api/years", "/api/years"),
        (pupil, "/api/subjects", "/api/subjects"),
        (pupil, "/api/school", "/api/school"),
        (boss, "/api/admin/school", "/api/admin/school"),
        (boss, "/api/admin/teaching", "/api/admin/teaching"),
        (boss, "/api/admin/outbox", "/api/admin/outbox"),
        (pupil, "/api/schedule", "/api/schedule"),  # an error answer
    ]
    for token, path, documented in calls:
        status, body = await api(server, token, "GET", path)
        responses = document["paths"][documented]["get"]["responses"]
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": document["components"]})
        errors = [e.message for e in validator.iter_errors(body)]
        assert errors == [], (path, errors)
    assert body["error"]["code"] == "not_permitted"
