"""Attendance rules on interval lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rooms.attendance import (
    Departure,
    Presence,
    Rules,
    Status,
    assess,
    current_stretch,
    held_window,
    merge,
)

START, END = 1000.0, 1000.0 + 45 * 60
RULES = Rules()
D, L, IN = Departure.DISCONNECTED, Departure.LEFT, Departure.STILL_IN


def at(minute: float) -> float:
    return START + minute * 60


def test_never_joined_is_absent() -> None:
    a = assess([], START, END, RULES)
    assert a.status is Status.ABSENT and a.attended_s == 0 and a.first_join is None


def test_join_before_start_counts_from_the_start() -> None:
    a = assess([Presence(START - 600, END, L)], START, END, RULES)
    assert a.attended_s == END - START and a.status is Status.PRESENT
    assert not a.late and not a.left_early


def test_fifty_percent_threshold_one_second_either_side() -> None:
    half = (END - START) / 2
    exactly = assess([Presence(START, START + half, L)], START, END, RULES)
    assert exactly.status is Status.PRESENT
    short = assess([Presence(START, START + half - 1, L)], START, END, RULES)
    assert short.status is Status.ABSENT and short.left_early


def test_late_is_strictly_after_ten_minutes() -> None:
    assert not assess([Presence(at(10), END, L)], START, END, RULES).late
    assert assess([Presence(at(10) + 1, END, L)], START, END, RULES).late


def test_reconnect_storm_within_grace_is_one_interval_and_network_time() -> None:
    storm = [Presence(at(i), at(i) + 50, D) for i in range(0, 44)] + [Presence(at(44), END, IN)]
    merged, drops = merge(storm, RULES.reconnect_grace_s)
    assert len(merged) == 1 and sum(b - a for a, b in drops) == 44 * 10
    a = assess(storm, START, END, RULES)
    assert a.status is Status.PRESENT and a.attended_s == END - START
    assert a.network_lost_s == 44 * 10 and a.last_leave is None and not a.left_early


def test_drop_longer_than_grace_is_time_away() -> None:
    presences = [Presence(at(0), at(10), D), Presence(at(12), END, L)]
    a = assess(presences, START, END, RULES)
    assert a.attended_s == END - START - 120 and a.network_lost_s == 0 and a.away_s == 120


def test_leaving_on_purpose_is_not_merged_even_if_short() -> None:
    presences = [Presence(at(0), at(10), L), Presence(at(10) + 30, END, L)]
    merged, drops = merge(presences, RULES.reconnect_grace_s)
    assert len(merged) == 2 and drops == []


def test_left_early_and_overlapping_tabs() -> None:
    a = assess([Presence(at(0), at(30), L), Presence(at(5), at(20), L)], START, END, RULES)
    assert a.left_early and a.attended_s == 30 * 60 and a.status is Status.PRESENT


def test_presence_entirely_outside_the_lesson_is_absent() -> None:
    a = assess([Presence(END + 10, END + 100, L)], START, END, RULES)
    assert a.status is Status.ABSENT


def test_bad_rules_and_lessons_are_refused() -> None:
    with pytest.raises(ValueError):
        Rules(present_ratio=0)
    with pytest.raises(ValueError):
        assess([], END, START, RULES)


@given(
    st.lists(
        st.tuples(
            st.floats(START - 600, END + 600),
            st.floats(0, 3000),
            st.sampled_from([D, L]),
        ),
        max_size=20,
    )
)
def test_attended_never_exceeds_the_lesson_and_parts_add_up(
    raw: list[tuple[float, float, Departure]],
) -> None:
    presences = [Presence(j, j + d, how) for j, d, how in raw]
    a = assess(presences, START, END, RULES)
    assert 0 <= a.attended_s <= END - START + 1e-6
    assert abs(a.attended_s + a.away_s - (END - START)) < 1e-6
    assert a.network_lost_s <= a.attended_s + 1e-6


def test_the_window_is_the_scheduled_time_up_to_end_lesson() -> None:
    # Started ten minutes early, ended twenty minutes in: the scheduled start to End lesson.
    assert held_window(1000, 3700, 400, 2200) == (1000, 2200)
    # Ended after the scheduled end (a lesson that ran over): the scheduled time.
    assert held_window(1000, 3700, 900, 4000) == (1000, 3700)


def test_a_lesson_held_wholly_before_its_time_is_assessed_over_the_time_it_was_held() -> None:
    assert held_window(10_000, 12_700, 1000, 3400) == (1000, 3400)
    # Started and ended at once (or never started): a second-long window, never an empty one.
    assert held_window(10_000, 12_700, 1000, 1000) == (1000, 1001)
    assert held_window(10_000, 12_700, None, 1000) == (1000, 1001)


def test_the_current_stretch_says_since_when_or_when_they_left() -> None:
    still = [Presence(100, 400, Departure.DISCONNECTED), Presence(430, 900, Departure.STILL_IN)]
    assert current_stretch(still, 60) == (100, None)  # a short drop does not restart "since"
    gone = [Presence(100, 400, Departure.LEFT)]
    assert current_stretch(gone, 60) == (None, 400)
    assert current_stretch([], 60) == (None, None)
