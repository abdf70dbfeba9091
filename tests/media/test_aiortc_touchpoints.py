"""Fail loudly when an aiortc/aioice upgrade moves an internal that media/ relies on."""

from __future__ import annotations

import asyncio
import inspect
from importlib.metadata import version

import aioice
import aioice.ice
import aiortc.clock
import aiortc.rtcdtlstransport
import aiortc.rtcpeerconnection
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import aiortc.sdp
import pylibsrtp
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import HeaderExtensionsMap

from media import aiortc_hooks
from media.aiortc_hooks import (
    IdleTrack,
    arrival_ms,
    install_host_address,
    install_prompt_ice_completion,
    srtp_protector,
    srtp_unprotector,
)

pytestmark = pytest.mark.timeout(20)


def params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def source(obj: object) -> str:
    return inspect.getsource(obj)  # type: ignore[arg-type]


def test_versions_are_the_pinned_ones() -> None:
    assert version("aiortc") == "1.16.0", "media/aiortc_hooks.py was written against 1.16.0"
    assert version("aioice").startswith("0.")


def test_aioice_gathers_through_module_level_get_host_addresses() -> None:
    assert params(aioice.ice.get_host_addresses) == ["use_ipv4", "use_ipv6"]
    assert "get_host_addresses(" in source(aioice.ice.Connection.gather_candidates)


async def test_install_host_address_gathers_exactly_loopback() -> None:
    install_host_address("127.0.0.1")
    conn = aioice.Connection(ice_controlling=True, stun_server=None)
    try:
        await conn.gather_candidates()
        hosts = {c.host for c in conn.local_candidates}
        assert hosts == {"127.0.0.1"}
    finally:
        await conn.close()


def test_aioice_connect_paces_checks_and_completes_through_the_check_list() -> None:
    # install_prompt_ice_completion() wakes connect() from this pacing sleep.
    connect = source(aioice.ice.Connection.connect)
    assert "asyncio.sleep(0.02)" in connect and "self._check_list_state.get()" in connect
    assert "self._query_consent_task = " in connect
    assert params(aioice.ice.Connection._check_list_maybe_complete) == ["self"]
    assert "ICE_COMPLETED" in source(aioice.ice.Connection._check_list_maybe_complete)
    assert "self._closing = True" in source(aioice.ice.Connection.close)


async def _ice_pair() -> tuple[aioice.Connection, aioice.Connection]:
    """Two connected aioice agents on loopback, as the SFU (controlling) and a browser: the
    SFU learns the browser's address from its checks (no candidates in the answer)."""
    install_host_address("127.0.0.1")
    sfu = aioice.Connection(ice_controlling=True, stun_server=None)
    browser = aioice.Connection(ice_controlling=False, stun_server=None)
    await sfu.gather_candidates()
    await browser.gather_candidates()
    sfu.remote_username, sfu.remote_password = browser.local_username, browser.local_password
    browser.remote_username, browser.remote_password = sfu.local_username, sfu.local_password
    for candidate in sfu.local_candidates:
        await browser.add_remote_candidate(candidate)
    await browser.add_remote_candidate(None)
    return sfu, browser


async def test_ice_connect_returns_when_the_check_list_completes() -> None:
    install_prompt_ice_completion()
    prompt = 0
    for _ in range(5):
        sfu, browser = await _ice_pair()
        try:
            await asyncio.gather(sfu.connect(), browser.connect())
            # Returned before the paced loop's next tick took the completion off its queue
            # (it ticks every 20 ms; without the hook connect() returns only after that).
            prompt += sfu._check_list_state.qsize() == 1
        finally:
            await sfu.close()
            await browser.close()
    assert prompt >= 3


async def test_ice_closed_right_after_completing_leaves_no_consent_checks() -> None:
    install_prompt_ice_completion()
    sfu, browser = await _ice_pair()
    await asyncio.gather(sfu.connect(), browser.connect())
    finishing = list(aiortc_hooks._ice_finishing)
    await sfu.close()
    await browser.close()
    await asyncio.gather(*finishing, return_exceptions=True)
    consent = sfu._query_consent_task
    assert consent is None or consent.cancelled() or consent.done()


def test_receiver_internals() -> None:
    assert params(RTCRtpReceiver._handle_rtp_packet) == ["self", "packet", "arrival_time_ms"]
    assert params(RTCRtpReceiver._handle_rtcp_packet) == ["self", "packet"]
    assert params(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"]
    assert params(RTCRtpReceiver._send_rtcp_nack) == ["self", "media_ssrc", "lost"]
    init = source(RTCRtpReceiver.__init__)
    assert "self.__remote_streams: dict[int, StreamStatistics]" in init
    assert "self.__decoder_queue" in init
    assert "self.__remote_bitrate_estimator = RemoteBitrateEstimator()" in init
    assert "self.__rtcp_ssrc: Optional[int] = None" in init
    assert params(RTCRtpReceiver._send_rtcp) == ["self", "packet"]
    # aiortc's RR loop reads the statistics we keep feeding.
    assert "self.__remote_streams.items()" in source(RTCRtpReceiver._run_rtcp)
    assert params(aiortc.rtcrtpreceiver.StreamStatistics.add) == ["self", "packet"]
    assert params(aiortc.rtcrtpreceiver.NackGenerator.add) == ["self", "packet"]
    # The decoder is created only by the worker fed from the receiver's queue.
    assert params(aiortc.rtcrtpreceiver.decoder_worker)[1] == "input_q"
    assert "get_decoder(codec)" in source(aiortc.rtcrtpreceiver.decoder_worker)


def test_dtls_transport_dispatches_to_instance_handlers() -> None:
    assert params(RTCDtlsTransport._send_rtp) == ["self", "data"]
    dispatch = source(RTCDtlsTransport._handle_rtp_data)
    assert "receiver._handle_rtp_packet(packet, arrival_time_ms=arrival_time_ms)" in dispatch
    assert "recipient._handle_rtcp_packet(packet)" in source(RTCDtlsTransport._handle_rtcp_data)
    assert "register_sender(sender, ssrc=sender._ssrc)" in source(
        RTCDtlsTransport._register_rtp_sender
    )


def test_rtp_parser_reads_rids_once_configured() -> None:
    """read_rids_in_aiortc: the DTLS transport parses with its own extensions map, whose
    configure() sets only the IDs it is given (simulcast's RIDs added to what was agreed)."""
    assert "RtpPacket.parse(data, self._rtp_header_extensions_map)" in source(
        RTCDtlsTransport._handle_rtp_data
    )
    # SSRCs placed by RID join aiortc's routing table, where sender reports are routed.
    assert "self._rtp_router = RtpRouter()" in source(RTCDtlsTransport.__init__)
    assert "self.ssrc_table.get(packet.ssrc)" in source(
        aiortc.rtcdtlstransport.RtpRouter.route_rtcp
    )
    configure = source(HeaderExtensionsMap.configure)
    assert "rtp_stream_id = ext.id" in configure and "repaired_rtp_stream_id" in configure
    assert "HeaderExtensions()" not in configure  # does not reset the IDs set before


def test_sender_internals() -> None:
    assert params(RTCRtpSender._handle_rtcp_packet) == ["self", "packet"]
    assert params(RTCRtpSender._send_rtcp) == ["self", "packets"]
    rtcp = source(RTCRtpSender._run_rtcp)
    assert "RtcpSrPacket(" in rtcp and "await self._send_rtcp(packets)" in rtcp
    # The encoder is only created once a track yields a frame, which IdleTrack never does.
    frame = source(RTCRtpSender._next_encoded_frame)
    assert frame.index("await self.__track.recv()") < frame.index("get_encoder(codec)")
    init = source(RTCRtpSender.__init__)
    assert "self._ssrc = " in init and "self._rtx_ssrc = " in init
    assert "self._stream_id = " in init


def test_transceiver_and_peer_connection_internals() -> None:
    pc_source = source(aiortc.rtcpeerconnection)
    assert "transceiver._codecs = common" in pc_source
    assert "transceiver._headerExtensions = find_common_header_extensions(" in pc_source
    assert "transceiver._offerDirection = direction" in pc_source
    assert 'media.msid = f"{transceiver.sender._stream_id} {transceiver.sender._track_id}"' in (
        pc_source
    )
    assert params(aiortc.rtcpeerconnection.is_codec_compatible) == ["a", "b"]
    assert hasattr(RTCRtpTransceiver, "setCodecPreferences")


async def test_idle_track_sender_negotiates_without_encoding() -> None:
    pc = RTCPeerConnection()
    try:
        t = pc.addTransceiver(IdleTrack("video"), direction="sendonly")
        assert t.sender._track_id == t.sender.track.id
        offer = await pc.createOffer()
        assert "a=sendonly" in offer.sdp
        assert f"a=ssrc:{t.sender._ssrc} " in offer.sdp
    finally:
        await pc.close()


@pytest.mark.parametrize("attr", ["_ssrc", "_rtx_ssrc", "_stream_id"])
async def test_sender_attributes_exist(attr: str) -> None:
    pc = RTCPeerConnection()
    try:
        t = pc.addTransceiver("audio", direction="sendonly")
        assert hasattr(t.sender, attr)
        assert hasattr(t, "_codecs") and hasattr(t, "_headerExtensions")
        assert hasattr(t.receiver, "_RTCRtpReceiver__remote_streams")
        assert hasattr(t.receiver, "_RTCRtpReceiver__decoder_queue")
        assert hasattr(t.receiver, "_RTCRtpReceiver__remote_bitrate_estimator")
        assert hasattr(t.receiver, "_RTCRtpReceiver__rtcp_ssrc")
    finally:
        await pc.close()


def test_pylibsrtp_is_the_pinned_one_with_its_session_buffers() -> None:
    assert version("pylibsrtp") == "1.0.0", "aiortc_hooks calls libsrtp on Session buffers"
    session = pylibsrtp.Session(
        pylibsrtp.Policy(key=bytes(30), ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    )
    assert len(session._cdata) == 1500 and len(session._buffer) == 1500
    assert session._srtp[0] is not None
    assert pylibsrtp.SRTP_MAX_TRAILER_LEN == 144


def _rtp(seq: int, payload: bytes) -> bytes:
    return (
        bytes([0x80, 96]) + seq.to_bytes(2, "big") + bytes(4) + (1234).to_bytes(4, "big") + payload
    )


def test_lean_protect_and_unprotect_match_pylibsrtp() -> None:
    key = bytes(range(30))

    def session(direction: int) -> pylibsrtp.Session:
        return pylibsrtp.Session(pylibsrtp.Policy(key=key, ssrc_type=direction))

    ours, theirs = (
        session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND),
        session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND),
    )
    protect = srtp_protector(ours)
    packets = [_rtp(seq, bytes([seq]) * 200) for seq in range(1, 5)]
    protected = [protect(p) for p in packets]
    assert protected == [theirs.protect(p) for p in packets]
    unprotect = srtp_unprotector(session(pylibsrtp.Policy.SSRC_ANY_INBOUND))
    assert [unprotect(p) for p in protected if p is not None] == packets
    # A replayed or forged packet is dropped (None), as aiortc drops it, not raised.
    assert protected[0] is not None
    assert unprotect(protected[0]) is None
    assert unprotect(protected[1][:-1] + b"\x00") is None  # type: ignore[index]
    assert protect(_rtp(9, bytes(1500))) is None  # no room for the SRTP tag


def test_rtp_tap_touch_points() -> None:
    # The tap shadows StunProtocol.datagram_received on the connection's protocols, and
    # aioice hands non-STUN datagrams to the connection from there.
    init = source(aioice.ice.Connection.__init__)
    assert "self._protocols: list[StunProtocol] = []" in init
    assert params(aioice.ice.StunProtocol.datagram_received) == ["self", "data", "addr"]
    received = source(aioice.ice.StunProtocol.datagram_received)
    assert "self.receiver.data_received(data, self.local_candidate.component)" in received
    assert "self._nominated" in source(aioice.ice.Connection.recvfrom)
    # aiortc decrypts with the same sessions the tap uses, and routes RTCP from plaintext.
    dtls_init = source(RTCDtlsTransport.__init__)
    assert "self._rx_srtp: Session = None" in dtls_init
    assert "self._tx_srtp: Session = None" in dtls_init
    recv = source(RTCDtlsTransport._recv_next)
    assert "data = self._rx_srtp.unprotect(data)" in recv
    assert "data = self._rx_srtp.unprotect_rtcp(data)" in recv
    assert params(RTCDtlsTransport._handle_rtcp_data) == ["self", "data"]
    assert "RtcpPacket.parse(data)" in source(RTCDtlsTransport._handle_rtcp_data)
    # With transport-cc the tap decrypts every RTP packet (to count it) and hands aiortc the
    # plaintext of SSRCs not bound yet: aiortc's own path does the same after unprotect.
    assert params(RTCDtlsTransport._handle_rtp_data) == ["self", "data", "arrival_time_ms"]
    assert "await self._handle_rtp_data(data, arrival_time_ms=arrival_time_ms)" in recv
    assert "RtpPacket.parse(data, self._rtp_header_extensions_map)" in source(
        RTCDtlsTransport._handle_rtp_data
    )
    # aiortc's arrival clock, which arrival_ms reproduces without datetime arithmetic.
    assert abs(arrival_ms() - aiortc.clock.current_ms()) <= 2
    # REMB: aiortc's receiver estimates video only, and its sender applies REMB to the encoder.
    assert "self.__remote_bitrate_estimator = RemoteBitrateEstimator()" in source(
        RTCRtpReceiver.__init__
    )
    assert "self.__encoder.target_bitrate = bitrate" in source(RTCRtpSender._handle_rtcp_packet)
    # Subscribe offers drop goog-remb: aiortc writes rtcp-fb lines in this form.
    assert 'lines.append(f"a=rtcp-fb:{codec.payloadType} {value}")' in source(aiortc.sdp)


@pytest.mark.parametrize("loop_factory", ["asyncio", "uvloop"])
def test_event_loops_look_datagram_received_up_per_datagram(loop_factory: str) -> None:
    # The tap is an instance attribute set on a protocol that is already receiving.
    import asyncio

    import uvloop

    async def check() -> list[bytes]:
        loop = asyncio.get_running_loop()
        got: list[bytes] = []
        arrived = asyncio.Event()

        class Plain(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                got.append(b"class:" + data)
                arrived.set()

        transport, protocol = await loop.create_datagram_endpoint(
            Plain, local_addr=("127.0.0.1", 0)
        )
        sender, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=transport.get_extra_info("sockname")
        )
        try:
            sender.sendto(b"one")
            await asyncio.wait_for(arrived.wait(), 5)
            arrived.clear()

            def tapped(data: bytes, addr: tuple[str, int]) -> None:
                got.append(b"tap:" + data)
                arrived.set()

            protocol.datagram_received = tapped  # type: ignore[method-assign]
            sender.sendto(b"two")
            await asyncio.wait_for(arrived.wait(), 5)
            return got
        finally:
            sender.close()
            transport.close()

    run = uvloop.run if loop_factory == "uvloop" else asyncio.run
    assert run(check()) == [b"class:one", b"tap:two"]
