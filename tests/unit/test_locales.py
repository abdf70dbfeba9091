"""Every refusal the server can send has a sentence in every language the client speaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rooms.refusals import Reason

LOCALES = Path(__file__).resolve().parents[2] / "web" / "public" / "locales"


def _strings(lang: str) -> dict[str, str]:
    strings: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text("utf-8"))
    return strings


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_every_reason_has_a_sentence(lang: str) -> None:
    strings = _strings(lang)
    missing = [r.value for r in Reason if not strings.get(f"error.{r.value}", "").strip()]
    assert missing == []


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_english_key_is_translated(lang: str) -> None:
    assert sorted(set(_strings("en")) ^ set(_strings(lang))) == []


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_every_document_refusal_has_a_sentence(lang: str) -> None:
    from server.documents.refusals import MESSAGES, DocumentRefusal

    strings = _strings(lang)
    assert [c.value for c in DocumentRefusal if not strings.get(f"error.{c.value}", "")] == []
    assert set(MESSAGES) == set(DocumentRefusal)
