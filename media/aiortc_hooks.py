"""Every place where media/ reaches into aiortc or aioice internals (aiortc pinned to 1.16.0).

tests/media/test_aiortc_touchpoints.py checks each of these, so an aiortc upgrade that moves
one fails loudly instead of silently decoding, re-encoding or dropping media.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aioice.ice
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
)
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    RtpPacket,
    pack_remb_fci,
)

from .settings import MediaSettings

__all__ = [
    "IdleTrack",
    "NackGenerator",
    "RtcpPacket",
    "RtpPacket",
    "RtpSink",
    "SenderIds",
    "codec_preferences",
    "hook_receiver",
    "hook_sender",
    "install_host_address",
    "negotiated_codecs",
    "rtc_configuration",
    "rtp_sink",
    "send_nack",
    "send_pli",
    "sender_ids",
]

RtpHandler = Callable[[RtpPacket, int], Awaitable[None]]
RtcpHandler = Callable[[Any], Awaitable[None]]
SenderInfoSource = Callable[[], RtcpSenderInfo | None]

_installed_address: list[str] = []


def install_host_address(address: str) -> None:
    """Make aioice gather host candidates on exactly this address (it skips 127.0.0.1 itself)."""
    _installed_address[:] = [address]
    is_v6 = ":" in address

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        if (is_v6 and use_ipv6) or (not is_v6 and use_ipv4):
            return [address]
        return []

    aioice.ice.get_host_addresses = get_host_addresses


def rtc_configuration(settings: MediaSettings) -> RTCConfiguration:
    """Peer-connection settings: explicit (possibly empty) ICE servers, one bundled transport."""
    servers = [
        RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
        for s in settings.ice_servers
    ]
    return RTCConfiguration(iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


_CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ \S+ \d+ )(\S+)( .*)$", re.MULTILINE)


def announce(sdp: str, settings: MediaSettings) -> str:
    """Rewrite our host candidates to the announced address (server behind NAT)."""
    announced = settings.announced_address
    if announced is None or announced == settings.gather_address:
        return sdp
    gathered = settings.gather_address

    def swap(m: re.Match[str]) -> str:
        return m.group(1) + (announced if m.group(2) == gathered else m.group(2)) + m.group(3)

    sdp = _CANDIDATE.sub(swap, sdp)
    return sdp.replace(f"c=IN IP4 {gathered}", f"c=IN IP4 {announced}")


class IdleTrack(MediaStreamTrack):
    """A track that never yields: the sender negotiates its m-line and RTCP but never encodes."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def recv(self) -> Any:
        """Wait forever (until the sender's task is cancelled)."""
        await self._never
        raise RuntimeError("unreachable")


def hook_receiver(
    receiver: RTCRtpReceiver, clock_rate: int, on_rtp: RtpHandler, on_rtcp: RtcpHandler
) -> None:
    """Divert a receiver's RTP to us before its jitter buffer and decoder; keep its RTCP RR."""
    original_rtcp = receiver._handle_rtcp_packet
    # aiortc's own RR loop reports on these statistics; we keep feeding them.
    streams: dict[int, StreamStatistics] = receiver.__dict__["_RTCRtpReceiver__remote_streams"]

    # The uplink's bandwidth estimate goes back to the publisher as REMB, as aiortc would do:
    # without feedback a browser's encoder stays at its start bitrate.
    estimator: Any = receiver.__dict__["_RTCRtpReceiver__remote_bitrate_estimator"]

    async def handle_rtp(packet: RtpPacket, arrival_time_ms: int) -> None:
        stats = streams.get(packet.ssrc)
        if stats is None:
            stats = streams[packet.ssrc] = StreamStatistics(clock_rate)
        stats.add(packet)
        ast = packet.extensions.abs_send_time
        if estimator is not None and ast is not None:
            remb = estimator.add(
                abs_send_time=ast,
                arrival_time_ms=arrival_time_ms,
                payload_size=len(packet.payload) + packet.padding_size,
                ssrc=packet.ssrc,
            )
            rtcp_ssrc = receiver.__dict__["_RTCRtpReceiver__rtcp_ssrc"]
            if remb is not None and rtcp_ssrc is not None:
                await receiver._send_rtcp(
                    RtcpPsfbPacket(
                        fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb)
                    )
                )
        await on_rtp(packet, arrival_time_ms)

    async def handle_rtcp(packet: Any) -> None:
        await original_rtcp(packet)
        await on_rtcp(packet)

    # Instance attributes shadow the methods: RTCDtlsTransport looks them up per packet.
    receiver._handle_rtp_packet = handle_rtp  # type: ignore[method-assign]
    receiver._handle_rtcp_packet = handle_rtcp  # type: ignore[method-assign]


async def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Ask the remote sender for a keyframe (RTCP PLI)."""
    await receiver._send_rtcp_pli(media_ssrc)


async def send_nack(receiver: RTCRtpReceiver, media_ssrc: int, lost: list[int]) -> None:
    """Ask the remote sender to retransmit packets (RTCP generic NACK)."""
    await receiver._send_rtcp_nack(media_ssrc, lost)


def hook_sender(sender: RTCRtpSender, on_rtcp: RtcpHandler, sender_info: SenderInfoSource) -> None:
    """Take over a sender's incoming RTCP (NACK, PLI/FIR) and fill its SRs with forwarded data."""
    original_rtcp = sender._handle_rtcp_packet

    async def handle_rtcp(packet: Any) -> None:
        if isinstance(packet, RtcpSrPacket) or type(packet).__name__ == "RtcpRrPacket":
            await original_rtcp(packet)  # keeps aiortc's RTT / remote-inbound stats
        await on_rtcp(packet)

    async def send_rtcp(packets: list[Any]) -> None:
        out = b""
        for packet in packets:
            if isinstance(packet, RtcpSrPacket):
                info = sender_info()
                if info is None:
                    continue  # no mapping yet: an SR of zeros would break lip sync
                packet = RtcpSrPacket(ssrc=packet.ssrc, sender_info=info)
            out += bytes(packet)
        if out:
            with contextlib.suppress(ConnectionError):
                await sender.transport._send_rtp(out)

    sender._handle_rtcp_packet = handle_rtcp  # type: ignore[method-assign]
    sender._send_rtcp = send_rtcp  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class SenderIds:
    """What a consumer needs from its negotiated sender to write packets."""

    ssrc: int
    rtx_ssrc: int
    mid: str
    codec: RTCRtpCodecParameters
    rtx_payload_type: int | None
    extension_ids: dict[str, int]


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    """Codecs agreed for this m-line, remote payload types (set by setRemoteDescription)."""
    return list(transceiver._codecs)


def sender_ids(transceiver: RTCRtpTransceiver) -> SenderIds:
    """Read a negotiated sender's SSRCs, MID, codec, RTX payload type and extension IDs."""
    codecs: list[RTCRtpCodecParameters] = transceiver._codecs
    primary = codecs[0]
    rtx_pt = next(
        (
            c.payloadType
            for c in codecs
            if c.mimeType.lower().endswith("/rtx")
            and c.parameters.get("apt") == primary.payloadType
        ),
        None,
    )
    ext = {e.uri: e.id for e in transceiver._headerExtensions}
    if transceiver.mid is None or primary.payloadType is None:
        raise ValueError("transceiver not negotiated")
    return SenderIds(
        ssrc=transceiver.sender._ssrc,
        rtx_ssrc=transceiver.sender._rtx_ssrc,
        mid=transceiver.mid,
        codec=primary,
        rtx_payload_type=rtx_pt,
        extension_ids=ext,
    )


def codec_preferences(kind: str, codec: RTCRtpCodecParameters) -> list[RTCRtpCodecCapability]:
    """Capabilities restricting a consumer's m-line to the producer's codec (plus RTX)."""
    from aiortc.rtcpeerconnection import is_codec_compatible

    caps = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [
        c
        for c in caps
        if not c.mimeType.lower().endswith("/rtx") and is_codec_compatible(_as_params(c), codec)
    ][:1]
    if not chosen:
        raise ValueError(f"codec {codec.mimeType} not supported for forwarding")
    rtx = [c for c in caps if c.mimeType.lower().endswith("/rtx")]
    return chosen + rtx


def _as_params(cap: RTCRtpCodecCapability) -> RTCRtpCodecParameters:
    return RTCRtpCodecParameters(
        mimeType=cap.mimeType,
        clockRate=cap.clockRate,
        channels=cap.channels,
        payloadType=0,
        parameters=dict(cap.parameters),
    )


RtpSink = Callable[[bytes], None]


def rtp_sink(sender: RTCRtpSender) -> RtpSink | None:
    """A synchronous 'protect and sendto' for RTP on a connected sender, else None.

    aiortc's path (RTCDtlsTransport._send_rtp → RTCIceTransport._send → aioice) costs three
    coroutines per packet and per viewer; the fan-out calls this instead.
    """
    dtls = sender.transport
    if dtls.state != "connected":
        return None
    srtp = dtls._tx_srtp
    pair = dtls.transport._connection._nominated.get(1)
    if srtp is None or pair is None:
        return None
    udp = pair.protocol.transport
    addr = pair.remote_addr
    protect = srtp.protect

    # No per-packet state check: consumers close with their transport, and a datagram
    # transport that lost its socket drops (and counts) what it is given.
    def send(data: bytes) -> None:
        udp.sendto(protect(data), addr)

    return send
