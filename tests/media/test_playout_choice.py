"""The choice of each viewer's rendering from its page's jitter readings (media/playout.py)."""

from __future__ import annotations

from media.playout import JITTERY_MS, SMOOTHED_MS, STEADY_MS, STEADY_READINGS, PlayoutChoice


def test_a_steady_line_keeps_low_latency_rendering() -> None:
    choice = PlayoutChoice((0, 200))
    assert choice.delay_ms == (0, 200)
    for jitter in (0, 1, STEADY_MS, JITTERY_MS):
        assert choice.reading(jitter) is False
    assert choice.delay_ms == (0, 200)


def test_one_jittery_reading_smooths_at_once_and_only_once() -> None:
    choice = PlayoutChoice((0, 200))
    assert choice.reading(JITTERY_MS + 0.5) is True
    assert choice.delay_ms == SMOOTHED_MS == (0, 10_000)
    assert choice.reading(40) is False  # already smoothed: nothing to send again
    assert choice.delay_ms == SMOOTHED_MS


def test_low_latency_comes_back_after_enough_steady_readings_in_a_row() -> None:
    choice = PlayoutChoice((0, 200))
    choice.reading(25)
    for _ in range(STEADY_READINGS - 1):
        assert choice.reading(STEADY_MS) is False
    # In between (neither steady nor jittery) starts the count again.
    assert choice.reading((STEADY_MS + JITTERY_MS) / 2) is False
    for _ in range(STEADY_READINGS - 1):
        assert choice.reading(1) is False
    assert choice.delay_ms == SMOOTHED_MS
    assert choice.reading(1) is True
    assert choice.delay_ms == (0, 200)
    # A swing back: smoothed again at the first jittery reading.
    assert choice.reading(JITTERY_MS * 3) is True
    assert choice.delay_ms == SMOOTHED_MS
