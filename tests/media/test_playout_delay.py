"""The playout-delay header extension on forwarded video (MediaSettings.video_playout_delay_ms)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from media import aiortc_hooks as hooks
from media.router import AiortcRouter
from media.rtp import (
    PLAYOUT_DELAY_URI,
    ExtensionIds,
    build_packet,
    extension_block,
    parse_rtp,
    playout_delay_value,
)
from media.settings import MediaSettings
from media.transport import AiortcTransport

from .helpers import loopback_configuration, publish

pytestmark = pytest.mark.timeout(60)


def elements(packet: bytes) -> dict[int, bytes]:
    """ID → data of a packet's one-byte-header extension elements (RFC 8285)."""
    csrc = packet[0] & 0x0F
    if not packet[0] & 0x10:
        return {}
    at = 12 + 4 * csrc
    assert packet[at : at + 2] == b"\xbe\xde"
    end = at + 4 + 4 * int.from_bytes(packet[at + 2 : at + 4], "big")
    at += 4
    found: dict[int, bytes] = {}
    while at < end:
        if packet[at] == 0:  # padding
            at += 1
            continue
        ext_id, size = packet[at] >> 4, (packet[at] & 0x0F) + 1
        found[ext_id] = packet[at + 1 : at + 1 + size]
        at += 1 + size
    return found


def test_the_value_packs_minimum_and_maximum_in_10_ms_units() -> None:
    assert playout_delay_value(0, 200) == 20
    assert playout_delay_value(100, 500) == (10 << 12) | 50
    for bad in ((-10, 0), (50, 40), (0, 40960)):
        with pytest.raises(ValueError):
            playout_delay_value(*bad)
    with pytest.raises(ValueError):
        MediaSettings(video_playout_delay_ms=(30, 20))


def test_the_element_rides_with_the_others_and_parses() -> None:
    ids = ExtensionIds(mid=1, abs_send_time=3, playout_delay=5, playout_delay_value=20)
    block = extension_block(ids, b"1", 0x123456, None)
    packet = build_packet(
        payload_type=96,
        marker=1,
        sequence_number=7,
        timestamp=9,
        ssrc=11,
        extensions=block,
        payload=b"x" * 10,
    )
    assert elements(packet) == {1: b"1", 3: b"\x12\x34\x56", 5: b"\x00\x00\x14"}
    header = parse_rtp(packet, 3, 0)
    assert header is not None and header.abs_send_time == 0x123456 and header.payload == b"x" * 10
    # Not agreed: not sent.
    assert 5 not in elements(
        build_packet(
            payload_type=96,
            marker=1,
            sequence_number=7,
            timestamp=9,
            ssrc=11,
            extensions=extension_block(ExtensionIds(mid=1), b"1", None, None),
            payload=b"x",
        )
    )


def test_offers_add_it_to_video_under_a_free_id_and_answers_are_read() -> None:
    sdp = (
        "v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
        "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=extmap:3 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=mid:1\r\n"
        "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    )
    out = hooks.with_extension(sdp, PLAYOUT_DELAY_URI)
    assert out.count(PLAYOUT_DELAY_URI) == 1
    # In the video section, under an ID no section uses (one ID, one extension in a bundle).
    assert out.endswith(f"a=extmap:4 {PLAYOUT_DELAY_URI}\r\n")
    assert hooks.with_extension(out, PLAYOUT_DELAY_URI) == out  # once
    assert hooks.answered_extension_ids(out, PLAYOUT_DELAY_URI) == {"1": 4}
    assert hooks.answered_extension_ids(sdp, PLAYOUT_DELAY_URI) == {}


@pytest.fixture
async def router() -> AsyncIterator[AiortcRouter]:
    r = AiortcRouter(MediaSettings(video_playout_delay_ms=(0, 200)))
    yield r
    await r.close()


class Viewer(NamedTuple):
    """What viewer_packets gives: the video RTP received, decrypted (a list that keeps
    growing), the IDs agreed, the viewer's connection, its subscribe transport on the server,
    and an event set at each new video packet."""

    packets: list[bytes]
    agreed: dict[str, int]
    pc: RTCPeerConnection
    transport: AiortcTransport
    arrived: asyncio.Event


async def viewer_packets(router: AiortcRouter, *, browser_accepts: bool) -> Viewer:
    """A viewer whose answer accepts the offered extension (as Chromium does) or not (as
    aiortc does), once it has received 20 video packets."""
    pc = RTCPeerConnection(loopback_configuration())
    transport = await router.create_transport("viewer", "subscribe")
    agreed: dict[str, int] = {}
    video_ssrcs: set[int] = set()
    got: list[bytes] = []
    done = asyncio.Event()
    arrived = asyncio.Event()

    async def negotiate(_t: Any) -> None:
        offer = await transport.create_offer()
        for section in re.split(r"(?m)^(?=m=)", offer):
            if section.startswith("m=video"):
                video_ssrcs.update(int(n) for n in re.findall(r"(?m)^a=ssrc:(\d+)", section))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = pc.localDescription.sdp
        if browser_accepts:
            agreed.update(hooks.answered_extension_ids(offer, PLAYOUT_DELAY_URI))
            for mid, ext_id in agreed.items():
                answer = re.sub(
                    rf"(a=mid:{mid}\r\n)", rf"\1a=extmap:{ext_id} {PLAYOUT_DELAY_URI}\r\n", answer
                )
        await transport.accept_answer(answer)
        for t in pc.getTransceivers():
            if t.kind != "video":
                continue
            dtls = t.receiver.transport
            original = dtls._handle_rtp_data

            async def tap(data: bytes, arrival_time_ms: int, original: Any = original) -> None:
                if int.from_bytes(data[8:12], "big") in video_ssrcs:
                    got.append(data)
                    arrived.set()
                if len(got) >= 20:
                    done.set()
                await original(data, arrival_time_ms)

            dtls._handle_rtp_data = tap  # type: ignore[method-assign]

    transport.on_negotiation_needed(negotiate)
    await publish(router, "teacher", audio=True)
    async with asyncio.timeout(30):
        await done.wait()
    return Viewer(got, agreed, pc, transport, arrived)


async def test_video_to_a_browser_that_agreed_carries_min_0_max_200(router: AiortcRouter) -> None:
    packets, agreed, pc, _, _ = await viewer_packets(router, browser_accepts=True)
    try:
        assert len(agreed) == 1  # the video m-line only
        (ext_id,) = agreed.values()
        assert all(elements(p).get(ext_id) == b"\x00\x00\x14" for p in packets)
    finally:
        await pc.close()


async def test_a_jittery_line_switches_the_packets_to_smoothing_and_back(
    router: AiortcRouter,
) -> None:
    """The viewer's jitter readings (AiortcTransport.line_jitter) change the element on the
    video already flowing: (0, 10 s), the browser's own values, then (0, 200 ms) again."""
    packets, agreed, pc, transport, arrived = await viewer_packets(router, browser_accepts=True)
    (ext_id,) = agreed.values()

    async def until(value: int) -> int:
        """Index of the first packet from now on carrying `value`."""
        at, want = len(packets), value.to_bytes(3, "big")
        async with asyncio.timeout(10):
            while True:
                for i in range(at, len(packets)):
                    if elements(packets[i]).get(ext_id) == want:
                        return i
                at = len(packets)
                arrived.clear()
                await arrived.wait()

    try:
        assert transport.line_jitter(2) is None  # steady: nothing changes
        assert transport.line_jitter(40) == (0, 10_000)
        smoothed = await until(playout_delay_value(0, 10_000))
        for _ in range(3):
            changed = transport.line_jitter(1)
        assert changed == (0, 200)
        low = await until(playout_delay_value(0, 200))
        assert low > smoothed
        # Every packet carries one of the two values, none without the element.
        values = {elements(p).get(ext_id) for p in packets}
        assert values == {b"\x00\x00\x14", b"\x00\x03\xe8"}
    finally:
        await pc.close()


async def test_nothing_is_added_where_the_answer_left_it_out(router: AiortcRouter) -> None:
    packets, agreed, pc, _, _ = await viewer_packets(router, browser_accepts=False)
    try:
        assert agreed == {}
        assert all(PLAYOUT_DELAY_URI not in str(e) for e in agreed)
        assert all(len(elements(p)) <= 2 for p in packets)  # mid and abs-send-time only
    finally:
        await pc.close()
