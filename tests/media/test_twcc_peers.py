"""Transport-wide feedback on a real connection: an aiortc publisher sends numbered RTP by hand
and reads the server's transport feedback, as a browser's send-side estimator would."""

from __future__ import annotations

import asyncio
import itertools
import re
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from media import aiortc_hooks as hooks
from media.router import AiortcRouter
from media.twcc import TRANSPORT_CC_URI

from .helpers import loopback_configuration
from .test_twcc import decode

pytestmark = pytest.mark.timeout(30)

TWCC_ID = 5
# SSRCs the publisher never signals: Chromium's probes are padding on such streams (a layer's
# RTX before its first retransmission is placed, or one no receiver ever takes).
UNKNOWN_SSRCS = (0x5EED0001, 0x5EED0002)
SPACING_S = 0.004


@pytest.fixture
async def router() -> AsyncIterator[AiortcRouter]:
    r = AiortcRouter()
    yield r
    await r.close()


def offer_transport_cc(sdp: str) -> str:
    """The aiortc publisher's offer as a browser's would be: transport-cc on its video m-lines
    (aiortc's own offer has none)."""
    out = []
    for section in re.split(r"(?=^m=)", sdp, flags=re.MULTILINE):
        if section.startswith("m=video"):
            section = re.sub(
                r"^(a=mid:\S+\r\n)",
                rf"\1a=extmap:{TWCC_ID} {TRANSPORT_CC_URI}\r\n",
                section,
                flags=re.MULTILINE,
            )
            section = re.sub(
                r"^(a=rtpmap:(\d+) VP8/90000\r\n)",
                r"\1a=rtcp-fb:\2 transport-cc\r\n",
                section,
                flags=re.MULTILINE,
            )
        out.append(section)
    return "".join(out)


def padding_packet(payload_type: int, seq: int, ssrc: int, transport_seq: int) -> bytes:
    """A padding-only RTP packet carrying a transport-wide number, as a bandwidth probe is."""
    header = bytes([0x80 | 0x20 | 0x10, payload_type]) + struct.pack("!HII", seq, 90_000, ssrc)
    extension = b"\xbe\xde\x00\x01" + bytes([(TWCC_ID << 4) | 1]) + struct.pack("!H", transport_seq)
    padding = bytes(199) + bytes([200])
    return header + extension + b"\x00" + padding


def feedback_in(rtcp: bytes) -> list[bytes]:
    """The transport-feedback packets (RTPFB, FMT 15) of a compound RTCP packet."""
    found, pos = [], 0
    while pos + 4 <= len(rtcp):
        size = (int.from_bytes(rtcp[pos + 2 : pos + 4], "big") + 1) * 4
        if rtcp[pos + 1] == 205 and rtcp[pos] & 0x1F == 15:
            found.append(rtcp[pos : pos + size])
        pos += size
    return found


def send_paced(dtls: Any, payload_type: int, numbers: list[int]) -> None:
    """Send a padding packet per transport-wide number, SPACING_S apart, alternating between
    the unknown SSRCs. Blocking on purpose: the event loop (the server's too, in this process)
    reads nothing until the last one is sent, as a busy server would."""
    pair: Any = dtls.transport._connection._nominated[1]
    for i, number in enumerate(numbers):
        packet = padding_packet(payload_type, i, UNKNOWN_SSRCS[i % 2], number)
        pair.protocol.transport.sendto(dtls._tx_srtp.protect(packet), pair.remote_addr)
        time.sleep(SPACING_S)  # the sender's pacing, not a wait for anything


@pytest.mark.timeout(30)
async def test_probe_padding_on_unknown_ssrcs_is_reported_with_its_arrival_spacing(
    router: AiortcRouter,
) -> None:
    """Padding-only packets on SSRCs no receiver has (aiortc cannot route them: the two video
    m-lines share payload types) are in the feedback as received, and their arrival times keep
    the 4 ms the publisher spaced them by although the server's event loop read them all at
    once (it was busy: the sending below blocks it). Before, such packets were left out, which
    the browser reads as lost probes, and arrivals were stamped when read, all alike: a probe
    whose receive interval is zero is discarded (docs/media.md, "The start-up ramp")."""
    pc = RTCPeerConnection(loopback_configuration())
    transport = await router.create_transport("teacher", "publish")
    try:
        for _ in range(2):  # camera and screen: two video m-lines with the same payload types
            pc.addTransceiver(hooks.IdleTrack("video"), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        answer = await transport.accept_offer(
            offer_transport_cc(pc.localDescription.sdp), {"0": "camera", "1": "screen"}
        )
        assert f"a=extmap:{TWCC_ID} {TRANSPORT_CC_URI}" in answer
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        rtx = re.search(r"^a=rtpmap:(\d+) rtx/90000", answer, re.MULTILINE)
        assert rtx is not None

        dtls = pc.getTransceivers()[0].sender.transport
        server_dtls = transport.pc.getTransceivers()[0].receiver.transport
        received: list[bytes] = []
        handle_rtcp = dtls._handle_rtcp_data

        async def keep_rtcp(data: bytes) -> None:
            received.extend(feedback_in(data))
            await handle_rtcp(data)

        dtls._handle_rtcp_data = keep_rtcp  # type: ignore[method-assign]
        async with asyncio.timeout(10):
            while not (dtls.state == "connected" and hooks.rtp_tap(server_dtls).installed):
                await asyncio.sleep(0.02)  # a condition polled until the deadline

        numbers = list(range(100, 110))
        send_paced(dtls, int(rtx.group(1)), numbers)

        arrivals: dict[int, int | None] = {}
        try:
            async with asyncio.timeout(5):
                while not all(n in arrivals for n in numbers):  # polled until the deadline
                    for packet in received:
                        base, _count, _reference, times, _size = decode(packet)
                        for offset, arrival in enumerate(times):
                            arrivals.setdefault((base + offset) & 0xFFFF, arrival)
                    await asyncio.sleep(0.02)
        except TimeoutError:
            pytest.fail(f"numbers {numbers} not all in the feedback: {arrivals}")
        got = [arrivals[n] for n in numbers]
        assert None not in got, got
        steps = [b - a for a, b in itertools.pairwise(got)]  # type: ignore[operator]
        assert all(step >= 3_500 for step in steps), steps
        tap = hooks.rtp_tap(server_dtls)
        assert tap.handed_to_aiortc >= len(numbers)  # and aiortc still saw each
    finally:
        await pc.close()
        await transport.close()
