"""Unit tests for the keyframe cache and the numbering a viewer gets from it."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media.keyframe_cache import KeyframeCache, compressed_timestamps
from media.rtp import Rewriter, SourcePacket, seq_newer

pytestmark = pytest.mark.timeout(20)

TICKS = 4500  # one frame at 20 fps on the 90 kHz video clock


def frame(seq: int, ts: int, packets: int, *, key: bool = False) -> list[SourcePacket]:
    """One video frame's packets: the first marks a keyframe start, the last has the marker."""
    return [
        SourcePacket(
            payload_type=96,
            marker=int(i == packets - 1),
            sequence_number=(seq + i) & 0xFFFF,
            timestamp=ts & 0xFFFFFFFF,
            payload=bytes([i]),
            keyframe_start=key and i == 0,
        )
        for i in range(packets)
    ]


def stream(seq: int, ts: int, frames: int, per_frame: int = 3) -> list[SourcePacket]:
    """A keyframe then delta frames, numbered on without a gap."""
    out: list[SourcePacket] = []
    for f in range(frames):
        out += frame(seq + f * per_frame, ts + f * TICKS, per_frame, key=f == 0)
    return out


def fill(cache: KeyframeCache, packets: list[SourcePacket]) -> None:
    for sp in packets:
        cache.add(sp)


def test_nothing_to_give_before_a_whole_keyframe() -> None:
    cache = KeyframeCache()
    fill(cache, frame(10, 0, 3)[:2])  # deltas: no keyframe seen
    assert cache.burst() is None
    fill(cache, frame(20, TICKS, 4, key=True)[:3])  # keyframe without its last packet
    assert cache.burst() is None


def test_a_short_run_is_given_whole_and_live() -> None:
    cache = KeyframeCache()
    packets = stream(100, 9000, 4)
    fill(cache, packets)
    burst = cache.burst()
    assert burst is not None and burst.live
    assert [p.sequence_number for p in burst.packets] == [p.sequence_number for p in packets]


def test_a_keyframe_with_a_gap_is_forgotten() -> None:
    cache = KeyframeCache()
    key = frame(100, 0, 4, key=True)
    fill(cache, [key[0], key[1], key[3]])  # key[2] lost
    assert cache.burst() is None


def test_a_long_run_keeps_the_keyframe_alone() -> None:
    cache = KeyframeCache(max_packets=10)
    packets = stream(100, 0, 6)  # 18 packets > 10
    fill(cache, packets)
    burst = cache.burst()
    assert burst is not None and not burst.live
    assert [p.sequence_number for p in burst.packets] == [100, 101, 102]
    assert len(cache) == 3  # the deltas' payloads are not kept
    # Stamped as the newest frame received: the next keyframe comes after it.
    assert burst.timestamps == (5 * TICKS,) * 3


def test_a_run_longer_than_its_time_bound_keeps_the_keyframe_alone() -> None:
    cache = KeyframeCache(max_packets=1000, max_span=2 * TICKS)
    fill(cache, stream(100, 0, 4))
    burst = cache.burst()
    assert burst is not None and not burst.live and len(burst.packets) == 3


def test_a_gap_after_the_keyframe_keeps_the_keyframe_alone() -> None:
    cache = KeyframeCache()
    packets = stream(100, 0, 3)
    del packets[4]
    fill(cache, packets)
    burst = cache.burst()
    assert burst is not None and not burst.live and len(burst.packets) == 3


def test_duplicates_and_late_retransmissions_change_nothing() -> None:
    cache = KeyframeCache()
    packets = stream(100, 0, 3)
    fill(cache, packets)
    cache.add(packets[2])
    cache.add(packets[7])
    burst = cache.burst()
    assert burst is not None and burst.live and len(burst.packets) == len(packets)


def test_a_new_keyframe_replaces_the_old_one() -> None:
    cache = KeyframeCache(max_packets=4)
    fill(cache, stream(100, 0, 3))  # overflows: keyframe alone
    fill(cache, stream(109, 3 * TICKS, 1))  # the next keyframe
    burst = cache.burst()
    assert burst is not None and burst.live
    assert [p.sequence_number for p in burst.packets] == [109, 110, 111]


def test_h264_parameter_sets_and_idr_of_one_frame_stay_one_keyframe() -> None:
    # SPS, PPS and IDR slice: two packets of one timestamp both flagged as keyframe starts.
    cache = KeyframeCache()
    packets = frame(100, 0, 3, key=True)
    packets[1].keyframe_start = True
    fill(cache, packets)
    burst = cache.burst()
    assert burst is not None and len(burst.packets) == 3


def test_compressed_timestamps_end_on_the_newest_frame_one_tick_apart() -> None:
    packets = tuple(stream(100, 1000, 4, per_frame=2))
    assert compressed_timestamps(packets) == (
        1000 + 3 * TICKS - 3,
        1000 + 3 * TICKS - 3,
        1000 + 3 * TICKS - 2,
        1000 + 3 * TICKS - 2,
        1000 + 3 * TICKS - 1,
        1000 + 3 * TICKS - 1,
        1000 + 3 * TICKS,
        1000 + 3 * TICKS,
    )


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(0, 0xFFFF),
    ts=st.integers(0, 0xFFFFFFFF),
    cached_frames=st.integers(1, 8),
    live_frames=st.integers(1, 5),
    per_frame=st.integers(1, 4),
    seq_start=st.integers(0, 0x7FFF),
    ts_offset=st.integers(0, 0xFFFFFFFF),
)
def test_a_viewer_starting_from_the_cache_sees_one_ordered_sequence(
    seq: int,
    ts: int,
    cached_frames: int,
    live_frames: int,
    per_frame: int,
    seq_start: int,
    ts_offset: int,
) -> None:
    """What a consumer sends: the burst under its moved timestamps, then live packets mapped
    as usual. Sequence numbers run on by one across the seam (wraparound included) and the
    timestamps never go back; the live ones are the producer's own, offset."""
    packets = stream(seq, ts, cached_frames + live_frames, per_frame)
    cut = cached_frames * per_frame
    cache = KeyframeCache(max_packets=64, max_span=1 << 20)
    fill(cache, packets[:cut])
    burst = cache.burst()
    assert burst is not None and burst.live
    rw = Rewriter(ssrc=1, payload_type=96, seq_start=seq_start, ts_offset=ts_offset)
    rw.start(burst.packets[0].sequence_number)
    sent: list[tuple[int, int]] = []
    for sp, moved in zip(burst.packets, burst.timestamps, strict=True):
        assert rw.accept(sp.sequence_number)
        sent.append((rw.map_seq(sp.sequence_number), rw.map_ts(moved)))
    for sp in packets[cut:]:
        assert rw.accept(sp.sequence_number)
        sent.append((rw.map_seq(sp.sequence_number), rw.map_ts(sp.timestamp)))
    assert sent[0][0] == seq_start
    for (s1, t1), (s2, t2) in itertools.pairwise(sent):
        assert s2 == (s1 + 1) & 0xFFFF
        assert t2 == t1 or (t2 - t1) % (1 << 32) < 1 << 31  # not older
    # The burst's newest frame keeps its real timestamp: live frames are spaced as captured.
    assert sent[cut][1] == (sent[cut - 1][1] + TICKS) % (1 << 32)


def test_a_viewer_after_a_lone_keyframe_numbers_the_next_keyframe_on() -> None:
    """The keyframe alone, then live from the next keyframe: no gap in sequence numbers and
    the next keyframe's timestamp after the cached picture's."""
    cache = KeyframeCache(max_packets=4)
    packets = stream(65530, 0, 5)  # wraps the sequence numbers
    fill(cache, packets)
    burst = cache.burst()
    assert burst is not None and not burst.live
    rw = Rewriter(ssrc=1, payload_type=96, seq_start=500, ts_offset=7)
    rw.start(burst.packets[0].sequence_number)
    for sp in burst.packets:
        rw.accept(sp.sequence_number)
    last_seq = rw.map_seq(burst.packets[-1].sequence_number)
    rw.resume()
    nxt = frame((packets[-1].sequence_number + 1) & 0xFFFF, 5 * TICKS, 2, key=True)
    rw.start(nxt[0].sequence_number)
    assert rw.map_seq(nxt[0].sequence_number) == (last_seq + 1) & 0xFFFF
    assert seq_newer(rw.map_seq(nxt[0].sequence_number), last_seq)
    assert rw.map_ts(nxt[0].timestamp) > rw.map_ts(burst.timestamps[-1])


def test_a_keyframe_kept_alone_for_long_is_replaced_by_the_next_one() -> None:
    """Minutes of delta frames after a lone keyframe (sequence numbers wrap past it), then a
    keyframe: that one is cached, not taken for a late retransmission."""
    cache = KeyframeCache(max_packets=4)
    fill(cache, stream(100, 0, 3))  # the keyframe alone from here on
    seq, ts = 109, 3 * TICKS
    for _ in range(40000):  # more than half the sequence space
        cache.add(frame(seq, ts, 1)[0])
        seq, ts = (seq + 1) & 0xFFFF, ts + TICKS
    fill(cache, frame(seq, ts, 2, key=True))
    burst = cache.burst()
    assert burst is not None
    assert burst.packets[0].sequence_number == seq and burst.live
