"""web/src/presence_text.js, run by Node with the real locale files: what the live attendance
says about a pupil is a fact of now, never a verdict."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "web" / "public" / "locales"

SCRIPT = """
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
const { setLanguage } = await import(%(i18n)s);
const { presenceText, proposalNotes } = await import(%(module)s);
await setLanguage(%(lang)s);
const clock = (s) => `T${s}`;
console.log(JSON.stringify({
  here: presenceText({ in_room_now: true, since: 603, late: false }, clock),
  here_late: presenceText({ in_room_now: true, since: 603, late: true }, clock),
  left: presenceText({ in_room_now: false, left_at: 1220, late: false }, clock),
  never: presenceText({ in_room_now: false, since: null, left_at: null, late: false }, clock),
  notes: proposalNotes({ late: true, left_early: true }),
  none: proposalNotes({ late: false, left_early: false }),
}));
"""


def run(lang: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: scripts/install installs Debian's nodejs")
    script = SCRIPT % {
        "locales": json.dumps(LOCALES.as_uri() + "/"),
        "i18n": json.dumps((ROOT / "web" / "src" / "i18n.js").as_uri()),
        "module": json.dumps((ROOT / "web" / "src" / "presence_text.js").as_uri()),
        "lang": json.dumps(lang),
    }
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_facts_of_now_in_english() -> None:
    said = run("en")
    assert said["here"] == {"text": "In the room since T603", "kind": "here"}
    assert said["here_late"] == {"text": "In the room since T603, joined late", "kind": "here"}
    assert said["left"] == {"text": "Left at T1220", "kind": "left"}
    assert said["never"] == {"text": "Not here yet", "kind": "none"}
    assert (said["notes"], said["none"]) == ("late, left early", "")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_no_verdict_while_the_lesson_runs(lang: str) -> None:
    strings = json.loads((LOCALES / f"{lang}.json").read_text("utf-8"))
    said = run(lang)
    verdicts = {strings["journal.status_absent"], strings["attendance.status_absent"]}
    for key in ("here", "here_late", "left", "never"):
        text = said[key]["text"]
        assert not any(v.lower() in text.lower() for v in verdicts), (lang, text)
        assert "presence." not in text  # every sentence is translated
