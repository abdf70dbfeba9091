"""web/src/speaking.js's pure part (levels → speaking participants), run by Node."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_quality_js import run, web_module


def speaking(samples: list[list[dict[str, Any]]], owners: dict[str, str]) -> list[list[str]]:
    """Speaking participants after each sample of inbound stats (track ids → owners)."""
    return list(
        run(
            f"""
import {{ loudTracks, SpeakingHold }} from {json.dumps(web_module("speaking.js"))};
const owners = {json.dumps(owners)};
const hold = new SpeakingHold();
console.log(JSON.stringify({json.dumps(samples)}.map((stats) => [...hold.update(new Set(
  [...loudTracks(stats)].filter((id) => id in owners).map((id) => owners[id])))].sort())));
"""
        )
    )


def audio(track: str, level: float) -> dict[str, Any]:
    return {"type": "inbound-rtp", "kind": "audio", "trackIdentifier": track, "audioLevel": level}


def test_a_voice_marks_its_sender_through_short_pauses() -> None:
    quiet = [audio("t-aru", 0.001), audio("t-bek", 0.0)]
    aru = [audio("t-aru", 0.2), audio("t-bek", 0.001)]
    both = [audio("t-aru", 0.05), audio("t-bek", 0.5)]
    got = speaking([quiet, aru, quiet, quiet, quiet, quiet, both], {"t-aru": "A", "t-bek": "B"})
    # Held through three quiet samples, dropped at the fourth.
    assert got == [[], ["A"], ["A"], ["A"], ["A"], [], ["A", "B"]]


def test_video_and_unknown_tracks_mark_nobody() -> None:
    video = {"type": "inbound-rtp", "kind": "video", "trackIdentifier": "t-aru", "audioLevel": 1}
    stranger = audio("t-gone", 0.9)  # a track no tile shows any more
    assert speaking([[video, stranger]], {"t-aru": "A"}) == [[]]
