"""media/clock.py: the windowed minimum and how early a publisher's capture stamps run."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from media.clock import StampCheck, WindowMin


@given(st.lists(st.tuples(st.integers(0, 50), st.floats(-100, 100)), max_size=60))
def test_the_window_minimum_is_the_smallest_value_of_the_window(
    steps: list[tuple[int, float]],
) -> None:
    window = WindowMin(100)
    seen: list[tuple[int, float]] = []
    at = 0
    for step, value in steps:
        at += step
        window.add(at, value)
        seen.append((at, value))
        inside = [v for t, v in seen if t >= at - 100]
        assert window.get(at) == min(inside)
    assert window.get(at + 101) is None  # all of it left the window


def test_stamps_are_early_by_what_network_and_encoder_do_not_explain() -> None:
    check = StampCheck(1000, 1000, 1000)
    assert check.early_ms(0) == 0  # nothing known
    for at, gap in ((0, 44.0), (30, 31.0), (60, 52.0)):
        check.frames.add(at, gap)  # the quickest frame: 31 ms after its stamp
    check.reports.add(10, 3.0)
    check.reports.add(40, 1.0)  # the quickest report: 1 ms one way
    assert check.early_ms(60) == 0  # the publisher's encoding time not known: no guess
    check.encodes.add(50, 5.0)
    assert check.early_ms(60) == 25.0
    # The quickest of the publisher's recent readings: a slow one after it does not count.
    check.encodes.add(55, 40.0)
    assert check.early_ms(60) == 25.0
    # Stamps the network and encoder explain (or that run late): left alone, never negative.
    slow = StampCheck(1000, 1000, 1000)
    slow.frames.add(0, 31.0)
    slow.reports.add(0, 1.0)
    slow.encodes.add(0, 40.0)
    assert slow.early_ms(0) == 0
    # A report "before" it was sent counts as no network time, not as time to add.
    late = StampCheck(1000, 1000, 1000)
    late.frames.add(0, 20.0)
    late.reports.add(0, -2.0)
    late.encodes.add(0, 5.0)
    assert late.early_ms(0) == 15.0
    # Old figures leave the window: the check follows the publisher when its stamps move.
    check.frames.add(1500, 9.0)
    check.reports.add(1500, 1.0)
    check.encodes.add(1500, 5.0)
    assert check.early_ms(1500) == 3.0
