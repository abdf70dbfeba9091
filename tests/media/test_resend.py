"""The per-viewer retransmission budget (media/resend.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from media.resend import ResendGate


def test_the_same_packet_is_not_resent_again_within_the_hold() -> None:
    gate = ResendGate()
    assert gate.allow(7, 1000, 0.0, 0)
    assert not gate.allow(7, 1000, 10.0, 0)  # the viewer asked again a round trip later
    assert gate.allow(8, 1000, 10.0, 0)
    assert gate.allow(7, 1000, 30.0, 0)  # a lost retransmission is repaired after the hold


def test_resending_costs_at_most_a_share_of_what_is_forwarded() -> None:
    gate = ResendGate(burst_bytes=10_000, tokens=10_000)
    forwarded = 0
    resent = 0
    for n in range(10_000):
        forwarded += 1200  # one packet forwarded per NACKed one: a viewer losing everything
        if gate.allow(n, 1200, float(n), forwarded):
            resent += 1200
    assert resent <= 0.5 * forwarded + 10_000
    assert resent >= 0.45 * forwarded  # and the budget is used, not starved


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40), st.integers(1, 1400), st.integers(0, 50), st.integers(0, 3000)
        ),
        max_size=200,
    )
)
def test_never_over_budget_nor_twice_within_the_hold(
    steps: list[tuple[int, int, int, int]],
) -> None:
    gate = ResendGate()
    now = 0.0
    forwarded = 0
    spent = 0
    last: dict[int, float] = {}
    for seq, size, step_ms, more in steps:
        now += step_ms
        forwarded += more
        if gate.allow(seq, size, now, forwarded):
            spent += size
            assert seq not in last or now - last[seq] >= gate.hold_ms
            last[seq] = now
        assert spent <= gate.burst_bytes + gate.share * forwarded
