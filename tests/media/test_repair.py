"""Loss repair towards the publisher: the pure schedule, and real aiortc peers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from media import aiortc_hooks as hooks
from media.repair import WINDOW, RepairSchedule
from media.router import AiortcRouter
from media.rtp import RtpHeader

from .helpers import Subscriber, drop_incoming_rtp, publish, subscribe

pytestmark = pytest.mark.timeout(60)


def test_a_new_gap_is_nacked_at_once_and_again_after_the_retry_interval() -> None:
    r = RepairSchedule(min_retry_ms=20, give_up_ms=150)
    assert r.received(100, 0) == []
    assert r.received(103, 1) == [101, 102]
    assert r.next_due() == 21
    assert r.due(10) == ([], False)
    assert r.due(21) == ([101, 102], False)  # the old rule never asked again
    assert r.received(101, 25) == []  # repaired (second try: no round-trip sample)
    assert r.rtt_ms is None
    assert r.due(41) == ([102], False)
    assert r.repaired == 1


def test_round_trips_from_first_try_repairs_stretch_the_retry_interval() -> None:
    r = RepairSchedule(min_retry_ms=20)
    r.received(1, 0)
    r.received(3, 0)
    r.received(2, 40)  # first try answered 40 ms later
    assert r.rtt_ms == 40 and r.retry_ms == 60
    r.received(5, 100)
    assert r.due(140) == ([], False)
    assert r.due(160) == ([4], False)


def test_a_hole_that_cannot_be_repaired_in_time_costs_one_keyframe() -> None:
    r = RepairSchedule(min_retry_ms=20, give_up_ms=150)
    r.received(10, 0)
    r.received(13, 0)
    assert r.due(149)[1] is False
    assert r.due(150) == ([], True)
    assert r.holes == {} and r.given_up == 2
    assert r.next_due() is None


def test_a_viewers_nack_for_a_packet_we_lack_asks_the_publisher_once_per_interval() -> None:
    r = RepairSchedule(min_retry_ms=20)
    assert r.ask(5, 0) is False  # nothing received yet
    r.received(65530, 0)
    r.received(2, 0)  # across the wrap: 65531..1 missing
    assert r.ask(65535, 5) is False  # NACKed at 0, within the interval
    assert r.ask(65535, 21) is True
    assert r.ask(2, 21) is False  # the highest: we hold it
    assert r.ask(3, 21) is False  # not sent yet
    r.holes.pop(65533)  # a packet we never saw missing (e.g. dropped from the hole list)
    assert r.ask(65533, 22) is True
    assert r.ask((2 - WINDOW) % 65536, 22) is False  # too old to be held anywhere


def test_late_and_duplicate_packets_change_nothing() -> None:
    r = RepairSchedule()
    r.received(7, 0)
    assert r.received(7, 1) == []
    assert r.received(6, 1) == []  # older, not a hole: a late original
    assert r.holes == {} and r.repaired == 0


def test_an_unfinished_frame_followed_by_quiet_asks_once_for_the_next_packet() -> None:
    r = RepairSchedule(tail_ms=10)
    assert r.tail_probe(0) is None  # nothing received
    r.received(65534, 0, marker=True)
    assert r.tail_probe(50) is None  # the frame ended: nothing to ask for
    r.received(65535, 60, marker=False)
    assert r.tail_probe(69) is None  # not quiet long enough
    assert r.tail_probe(70) == 0  # across the wrap
    assert r.tail_probe(90) is None  # asked once
    r.received(0, 91, marker=False)  # the repair: still no marker
    assert r.tail_probe(101) == 1
    r.received(3, 102, marker=True)
    assert r.tail_probe(200) is None and set(r.holes) == {1, 2}


def test_a_quiet_spell_is_reported_once_until_a_new_packet_comes() -> None:
    r = RepairSchedule(tail_ms=10)
    assert r.quiet_spell(100) is False  # nothing received
    r.received(5, 0, marker=True)
    assert r.quiet_spell(9) is False  # not quiet long enough
    assert r.quiet_spell(10) is True
    assert r.quiet_spell(50) is False  # the same spell
    r.received(4, 60)  # an older packet repaired: the newest is still 5
    assert r.quiet_spell(75) is False
    r.received(6, 80, marker=True)
    assert r.quiet_spell(90) is True


def test_a_repair_of_an_older_packet_does_not_move_the_newest() -> None:
    r = RepairSchedule(tail_ms=10)
    r.received(1, 0, marker=True)
    r.received(3, 0, marker=False)
    r.received(2, 5, marker=True)  # a hole repaired, the newest still unfinished
    assert r.tail_probe(10) == 4


@pytest.fixture
async def router() -> AsyncIterator[AiortcRouter]:
    r = AiortcRouter()
    yield r
    await r.close()


@asynccontextmanager
async def teacher_to_pupil(router: AiortcRouter) -> AsyncIterator[tuple[Subscriber, Any, Any]]:
    """A pupil watching an aiortc teacher's noise video: (the pupil, the producer, the
    producer's RTP hook, whose `_on_rtp` a test wraps to lose chosen packets)."""
    sub = await subscribe(router, "pupil")
    pub = await publish(router, "teacher", audio=False, noise=True)
    try:
        await sub.wait_for(lambda: sub.frames("video") >= 5, 20)
        (producer,) = router.producers()
        yield sub, producer, producer._hook
    finally:
        await sub.close()
        await pub.pc.close()


async def test_a_lost_retransmission_is_asked_for_again(router: AiortcRouter) -> None:
    """The publisher→server hop loses one packet and its first retransmission, and nothing
    else: only a retry on a timer repairs it (the old rule NACKed when a new gap appeared)."""
    async with teacher_to_pupil(router) as (sub, producer, hook):
        deliver = hook._on_rtp
        target: list[int] = []
        arrivals: list[int] = []

        def lossy(header: RtpHeader, arrival_ms: int) -> None:
            seq = header.sequence_number
            if header.payload_type in producer._rtx_pts:
                seq = int.from_bytes(header.payload[:2], "big")
            elif not target:
                target.append((seq + 10) % 65536)
            if target and seq == target[0]:
                arrivals.append(arrival_ms)
                if len(arrivals) <= 2:  # the original and the first repair are lost
                    return
            deliver(header, arrival_ms)

        hook._on_rtp = lossy
        repair = producer.repair
        assert repair is not None
        await sub.wait_for(lambda: repair.repaired >= 1, 10)
        assert len(arrivals) >= 3  # NACKs in flight may bring more than one repair
        frames = sub.frames("video")
        await sub.wait_for(lambda: sub.frames("video") >= frames + 30, 10)


async def test_a_retransmission_of_a_packet_held_is_not_forwarded_again(
    router: AiortcRouter,
) -> None:
    """Chromium pads its bandwidth probes with RTX copies of packets it sent: forwarded again,
    a viewer got each as an SRTP replay (dropped unread, after crossing its link)."""
    sub = await subscribe(router, "pupil")
    pub = await publish(router, "teacher", audio=False, noise=True)
    try:
        await sub.wait_for(lambda: sub.frames("video") >= 5, 20)
        (producer,) = router.producers()
        (consumer,) = producer._fanout
        layer = producer.layers[0]
        assert layer.ssrc is not None and producer._rtx_pts
        held = max(
            (sp for seq in range(65536) if (sp := layer.history.get(seq)) is not None),
            key=lambda sp: sp.timestamp,
        )
        rtx_pt = next(iter(producer._rtx_pts))
        assert rtx_pt is not None
        copy = RtpHeader(
            payload_type=rtx_pt,
            marker=held.marker,
            sequence_number=1,
            timestamp=held.timestamp,
            ssrc=layer.ssrc + 1,
            payload=held.sequence_number.to_bytes(2, "big") + held.payload,
            padding_size=0,
            abs_send_time=None,
            audio_level=None,
        )
        sent = consumer.packets_sent + consumer.retransmissions
        producer._on_rtp(copy, hooks.arrival_ms())
        assert consumer.packets_sent + consumer.retransmissions == sent
        assert producer.duplicates == 1
    finally:
        await sub.close()
        await pub.pc.close()


async def test_a_lost_frame_tail_is_asked_for_when_nothing_follows(router: AiortcRouter) -> None:
    """The publisher→server hop loses the last packet of one frame (its marker) and then
    everything new until that packet is repaired. Without a tail probe nothing shows the hole
    (the old rule waited for the next frame's packets to make a gap); with it, it is asked for
    and repaired."""
    async with teacher_to_pupil(router) as (sub, producer, hook):
        deliver = hook._on_rtp
        dropped: list[int] = []
        repaired: list[int] = []

        def lossy(header: RtpHeader, arrival_ms: int) -> None:
            seq = header.sequence_number
            if header.payload_type in producer._rtx_pts:
                if dropped and int.from_bytes(header.payload[:2], "big") == dropped[0]:
                    repaired.append(arrival_ms)
            elif not dropped and header.marker and sub.frames("video") >= 10:
                dropped.append(seq)
                return  # the original tail is lost
            elif dropped and not repaired and (seq - dropped[0]) % 65536 < 32768:
                return  # and every later frame, until the tail is repaired
            deliver(header, arrival_ms)

        hook._on_rtp = lossy
        await sub.wait_for(lambda: bool(repaired), 10)
        assert producer.tail_probes >= 1
        frames = sub.frames("video")
        await sub.wait_for(lambda: sub.frames("video") >= frames + 10, 10)


async def test_a_viewer_losing_packets_gets_its_last_packet_again_when_the_stream_pauses(
    router: AiortcRouter,
) -> None:
    """A viewer's lost last packet leaves it no gap to NACK until the next frame: a viewer
    that NACKed lately gets the last packet resent once the stream is quiet; one whose link
    loses nothing gets nothing extra."""
    lossy_sub = await subscribe(router, "pupil1")
    clean_sub = await subscribe(router, "pupil2")
    pub = await publish(router, "teacher", audio=False, noise=True)
    try:
        await lossy_sub.wait_for(lambda: lossy_sub.frames("video") >= 3, 20)
        await clean_sub.wait_for(lambda: clean_sub.frames("video") >= 3, 20)
        counts = drop_incoming_rtp(lossy_sub.pc, 0.05)
        (producer,) = router.producers()
        by_viewer = {c.viewer_id: c for c in producer._fanout}
        lossy, clean = by_viewer["pupil1"], by_viewer["pupil2"]
        await lossy_sub.wait_for(lambda: lossy.tail_probes >= 3, 20)
        assert counts["dropped"] > 0 and lossy.nacks_received > 0
        # Only a viewer that NACKed gets resends (a clean link seldom does: none in most runs).
        assert clean.nacks_received > 0 or clean.tail_probes == 0
    finally:
        await lossy_sub.close()
        await clean_sub.close()
        await pub.pc.close()
