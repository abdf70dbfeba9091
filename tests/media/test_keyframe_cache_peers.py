"""Integration: a new viewer's first picture comes from the producer's keyframe cache.

Real aiortc peers on 127.0.0.1 through the router. The publisher is made deaf to keyframe
requests (its sender's keyframe hook does nothing), so a viewer that decodes anything after that
can only have been given a keyframe the server already held.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from media.consumer import AiortcConsumer
from media.keyframe_cache import KeyframeCache
from media.producer import AiortcProducer
from media.router import AiortcRouter

from .helpers import Publisher, Subscriber, publish, subscribe


@pytest.fixture
async def router() -> AsyncIterator[AiortcRouter]:
    r = AiortcRouter()
    yield r
    await r.close()


@dataclass
class Lesson:
    """The teacher publishing video to a viewer who was there first; late viewers join later."""

    router: AiortcRouter
    early: Subscriber
    pub: Publisher
    late: list[Subscriber] = field(default_factory=list)

    async def join_late(self) -> Subscriber:
        self.late.append(await subscribe(self.router, "late"))
        return self.late[-1]


@pytest.fixture
async def lesson(router: AiortcRouter) -> AsyncIterator[Lesson]:
    early = await subscribe(router, "early")
    try:
        pub = await publish(router, "teacher", audio=False)
        try:
            made = Lesson(router, early, pub)
            yield made
            for late in made.late:
                await late.close()
        finally:
            await pub.pc.close()
    finally:
        await early.close()


def deaf_to_keyframe_requests(pub: Publisher) -> None:
    """From now on the publisher's encoder makes no keyframe on a PLI (aiortc's: one in 3000)."""
    for transceiver in pub.pc.getTransceivers():
        transceiver.sender._send_keyframe = lambda: None  # type: ignore[method-assign]


def video_consumer(sub: Subscriber) -> AiortcConsumer:
    (consumer,) = [c for c in sub.transport.consumers if c.producer.kind == "video"]
    return consumer


@pytest.mark.timeout(60)
async def test_a_late_viewer_decodes_the_cached_keyframe_without_a_new_one(
    router: AiortcRouter, lesson: Lesson
) -> None:
    early = lesson.early
    await early.wait_for(lambda: early.frames("video") >= 30, 20)
    (producer,) = router.producers()
    assert isinstance(producer, AiortcProducer) and producer.keyframes is not None
    # A second of frames since the keyframe: too long a run, the keyframe is kept alone.
    assert not producer.keyframes.live
    deaf_to_keyframe_requests(lesson.pub)
    late = await lesson.join_late()
    await late.wait_for(lambda: late.frames("video") >= 1, 10)
    consumer = video_consumer(late)
    assert consumer.keyframes_from_cache == 1
    # Live video waits for the next keyframe, asked for as before (and never made here).
    assert consumer.keyframe_requests >= 1


@pytest.mark.timeout(60)
async def test_a_viewer_soon_after_a_keyframe_plays_on_live_without_asking(
    router: AiortcRouter, lesson: Lesson
) -> None:
    early = lesson.early
    await early.wait_for(lambda: early.frames("video") >= 5, 20)
    (producer,) = router.producers()
    # Room for the whole run from the next keyframe until the late viewer is connected
    # (ICE and DTLS take a while on a loaded machine).
    cache = producer.keyframes = KeyframeCache(max_packets=4096, max_span=90000 * 30)
    producer.request_keyframe()
    await early.wait_for(lambda: cache.live, 10)
    deaf_to_keyframe_requests(lesson.pub)
    requests_before = producer.keyframe_requests_sent
    late = await lesson.join_late()
    await late.wait_for(lambda: late.frames("video") >= 30, 20)
    consumer = video_consumer(late)
    assert consumer.keyframes_from_cache == 1
    # The delta frames after the cached run decoded on from it: nobody asked for a keyframe
    # (aiortc's receiver asks on a gap it cannot repair), and none was made.
    assert consumer.keyframe_requests == 0
    assert producer.keyframe_requests_sent == requests_before
    assert consumer.retransmissions == 0
