"""web/src/news.js (what changed for you, as notices; the knock banner's view), run by Node."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_quality_js import run, web_module

NOW = 1_000.0


def news(call: str) -> Any:
    """The JSON of one news.js expression."""
    return run(
        f"""
import * as news from {json.dumps(web_module("news.js"))};
console.log(JSON.stringify({call}));
"""
    )


def person(**fields: Any) -> dict[str, Any]:
    base = {"id": "p", "role": "participant", "mic": False, "camera": False}
    base.update(granted_until=None, chat_muted=False)
    return {**base, **fields}


def notices(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = news(
        f"news.changeNotices({json.dumps(before)}, {json.dumps(after)}, {NOW})"
    )
    return result


def test_a_grant_says_what_you_may_turn_on() -> None:
    pupil = person()
    assert notices(pupil, person(mic=True)) == [{"key": "notice.mic", "action": "mic"}]
    assert notices(pupil, person(camera=True)) == [{"key": "notice.camera", "action": "camera"}]
    both = person(mic=True, camera=True, granted_until=NOW + 120)
    assert notices(pupil, both) == [{"key": "notice.mic_camera", "action": "mic"}]
    # Made presenter: mic, camera and share come with the role.
    presenter = person(role="presenter", mic=True, camera=True)
    assert notices(pupil, presenter) == [{"key": "notice.presenter", "action": "mic"}]
    assert notices(presenter, pupil) == [{"key": "notice.role", "params": {"role": "participant"}}]
    assert notices(pupil, pupil) == []


def test_rights_ending_by_time_or_by_the_host() -> None:
    timed = person(mic=True, granted_until=NOW)
    assert notices(timed, person()) == [{"key": "notice.time_up"}]
    kept = person(mic=True, granted_until=NOW + 90)
    assert notices(kept, person()) == [{"key": "notice.mic_taken"}]
    both = person(mic=True, camera=True)
    assert notices(both, person()) == [{"key": "notice.rights_taken"}]
    # Camera taken, mic kept: said too.
    assert notices(both, person(mic=True)) == [{"key": "notice.camera_taken"}]


def test_chat_mute_layout_and_lock() -> None:
    assert notices(person(), person(chat_muted=True)) == [{"key": "notice.chat_muted"}]
    assert notices(person(chat_muted=True), person()) == [{"key": "notice.chat_unmuted"}]
    assert news('news.layoutNotice("discussion")') == {
        "key": "notice.layout",
        "params": {"layout": "discussion"},
    }
    assert news("news.chatLockNotice(true)") == {"key": "notice.chat_locked"}
    fake_t = "(k, p) => k + JSON.stringify(p || {})"
    text = news(f'news.noticeText(news.layoutNotice("sharing"), {fake_t})')
    assert text == 'notice.layout{"layout":"layout.sharing{}"}'


def test_countdown() -> None:
    assert news(f"news.secondsLeft({NOW + 125.2}, {NOW})") == 126
    assert news(f"news.secondsLeft({NOW}, {NOW})") is None
    assert news(f"news.secondsLeft(null, {NOW})") is None
    assert news("[news.clock(126), news.clock(9), news.clock(0)]") == ["2:06", "0:09", "0:00"]
    # Read out at the start (by the page) and at 60, 30 and 10 seconds left, not every second.
    marks = news(
        "[[61, 60], [60, 59], [31, 29], [11, 10], [12, 11], [null, 5], [5, null]]"
        ".map(([a, b]) => news.crossedMark(a, b))"
    )
    assert marks == [60, None, 30, 10, None, None, None]


def test_knock_view() -> None:
    lobby = [{"id": f"k{i}", "name": f"Guest {i}"} for i in range(5)]
    view = news(f"news.knockView({json.dumps(lobby)}, 3)")
    assert (view["count"], [k["id"] for k in view["shown"]], view["more"], view["all"]) == (
        5,
        ["k0", "k1", "k2"],
        2,
        True,
    )
    one = news(f"news.knockView({json.dumps(lobby[:1])}, 3)")
    assert (one["count"], one["more"], one["all"]) == (1, 0, False)
    fresh = news(f"news.freshKnocks({json.dumps(lobby[:2])}, {json.dumps(lobby)})")
    assert [k["id"] for k in fresh] == ["k2", "k3", "k4"]
