"""`sabaq doc inspect`: one JSON object and 0, or one sentence and 2 (the upload's own path)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.cli import main
from tests.documents import samples


def test_inspect_prints_one_json_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = samples.pdf(tmp_path / "slides.pdf", 2)
    assert main(["doc", "inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == {
        "kind": "pdf",
        "shown_as": "pages",
        "pages": 2,
        "widths": [640, 1280, 1920],
    }
    assert out.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"<html><body>hi</body></html>", "document_unsupported"),
        (b"FWS\x09", "document_flash"),
        (b"", "document_empty"),
    ],
)
def test_inspect_refuses_with_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, code: str
) -> None:
    path = tmp_path / "slides.pdf"
    path.write_bytes(content)
    assert main(["doc", "inspect", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and code in captured.err


def test_inspect_limits_come_from_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SABAQ_DOC_MAX_PAGES", "1")
    assert main(["doc", "inspect", str(samples.pdf(tmp_path / "two.pdf", 2))]) == 2
    assert "document_too_many_pages" in capsys.readouterr().err
