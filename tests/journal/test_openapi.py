"""The OpenAPI document: generated from the code, valid OpenAPI 3.1, and complete."""

from __future__ import annotations

from openapi_spec_validator import validate

from server.openapi import openapi_path
from tests.conftest import LiveServer
from tests.journal.helpers import api


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
