"""Every error code the API can answer has its own sentence in kk, ru and en, and the pages'
mapping (web/src/i18n.js's errorText, behind every journal page's error region) gives it.

A code that shares its sentence with another (as `invalid_state` once answered a lesson that
could not end with a sentence about polls) fails here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rooms.refusals import Reason
from tests.conftest import LiveServer
from tests.journal.helpers import api

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "web" / "public" / "locales"
LANGUAGES = ("kk", "ru", "en")
CODE = re.compile(r"`([a-z_]+)`:")

# i18n.js in Node: the locale files instead of the network, and no page to translate.
NODE_SCRIPT = """
import fs from "node:fs";
globalThis.fetch = async (url) => {
  const lang = String(url).match(/([a-z]+)\\.json/)[1];
  const text = fs.readFileSync(new URL(`${lang}.json`, %(locales)s), "utf-8");
  return { ok: true, status: 200, json: async () => JSON.parse(text) };
};
globalThis.document = {
  documentElement: { lang: "", getAttribute: () => null },
  querySelectorAll: () => [],
};
const { errorText, setLanguage } = await import(%(i18n)s);
const codes = %(codes)s;
const out = {};
for (const lang of %(langs)s) {
  await setLanguage(lang);
  out[lang] = Object.fromEntries(codes.map((code) => [code, errorText({ code, message: "?" })]));
}
console.log(JSON.stringify(out));
"""


def page_sentences(codes: list[str]) -> dict[str, dict[str, str]]:
    """What the pages show for each code, in each language (errorText run by Node)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: scripts/install installs Debian's nodejs")
    script = NODE_SCRIPT % {
        "locales": json.dumps(LOCALES.as_uri() + "/"),
        "i18n": json.dumps((ROOT / "web" / "src" / "i18n.js").as_uri()),
        "codes": json.dumps(codes),
        "langs": json.dumps(list(LANGUAGES)),
    }
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result: dict[str, dict[str, str]] = json.loads(out.stdout)
    return result


def documented_codes(document: dict[str, Any]) -> dict[str, set[str]]:
    """Every error code the OpenAPI document says a route answers, by route."""
    codes: dict[str, set[str]] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    found = CODE.findall(response["description"])
                    codes.setdefault(f"{method.upper()} {path}", set()).update(found)
    return codes


async def test_every_error_code_has_its_own_sentence_on_the_pages(
    live_server: LiveServer,
) -> None:
    document = (await api(live_server, None, "GET", "/api/openapi.json"))[1]
    by_route = documented_codes(document)
    journal_codes = set().union(*(c for route, c in by_route.items() if "/lessons" in route))
    # The lesson routes answer each refusal with its own code (never the catch-all).
    assert {"lesson_closed", "lesson_not_started", "lesson_not_today", "lesson_over"} <= (
        journal_codes
    )
    assert "invalid_state" not in journal_codes
    codes = sorted(set().union(*by_route.values()) | {r.value for r in Reason})
    shown = page_sentences(codes)
    for lang in LANGUAGES:
        strings = json.loads((LOCALES / f"{lang}.json").read_text("utf-8"))
        fallback = strings["error.unknown_error"]
        for code in codes:
            sentence = strings.get(f"error.{code}", "")
            assert sentence.strip(), f"{lang}: error.{code} has no sentence"
            assert shown[lang][code] == sentence, f"{lang}: the pages do not show error.{code}"
            assert sentence != fallback, f"{lang}: error.{code} is the generic sentence"
        sentences: dict[str, list[str]] = {}
        for code in codes:
            sentences.setdefault(shown[lang][code], []).append(code)
        shared = [group for group in sentences.values() if len(group) > 1]
        assert shared == [], f"{lang}: codes sharing one sentence: {shared}"


def test_every_refusal_the_journal_raises_is_documented_on_some_route() -> None:
    """A refusal raised in the journal's code but declared on no route would reach the pages
    unannounced (as the mark's retry once answered an undeclared `invalid_state`)."""
    raised = {
        Reason[name].value
        for source in (ROOT / "server" / "journal").glob("*.py")
        for name in re.findall(r"Reason\.([A-Z_]+)", source.read_text("utf-8"))
    }
    from server.journal import admin_api  # noqa: F401 — registers routes
    from server.openapi import OPERATIONS

    declared = {r.value for op in OPERATIONS.values() for r in op.errors}
    assert raised - declared == set()
