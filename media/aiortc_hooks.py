"""Every place where media/ reaches into aiortc or aioice internals (aiortc pinned to 1.16.0).

tests/media/test_aiortc_touchpoints.py checks each of these, so an aiortc upgrade that moves
one fails loudly instead of silently decoding, re-encoding or dropping media.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import struct
import sys
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import aioice.ice
import pylibsrtp
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
)
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import (
    RTCRtpCodecCapability,
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpParameters,
)
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
from pylibsrtp._binding import ffi as _srtp_ffi
from pylibsrtp._binding import lib as _srtp_lib

from .rtcpxr import Rrtr, dlrr_packet, find_rrtr
from .rtp import RtpHeader, parse_rtp, read_extension
from .settings import MediaSettings
from .simulcast import REPAIRED_RID_URI, RID_URI
from .twcc import TRANSPORT_CC_URI, TransportFeedback, feedback_packets, transport_seq

logger = logging.getLogger(__name__)

__all__ = [
    "IdleTrack",
    "NackGenerator",
    "ReceiverHook",
    "RtcpPacket",
    "RtpPacket",
    "RtpSink",
    "RtpTap",
    "SenderIds",
    "answered_extension_ids",
    "codec_preferences",
    "free_extension_id",
    "header_extension_ids",
    "hook_receiver",
    "hook_sender",
    "install_host_address",
    "install_prompt_ice_completion",
    "negotiated_codecs",
    "only_remb",
    "read_rids_in_aiortc",
    "rtc_configuration",
    "rtp_sink",
    "rtp_tap",
    "send_nack",
    "send_pli",
    "sender_ids",
    "wants_remb",
    "with_extension",
    "with_rrtr",
    "with_transport_cc",
    "with_viewer_transport_cc",
    "without_remb",
]

RtpHandler = Callable[[RtpHeader, int], None]
# (SSRC, RID, repaired RID) → True once the SSRC is placed in a simulcast layer.
StreamHandler = Callable[[int, str | None, str | None], bool]
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


_ice_completed: weakref.WeakKeyDictionary[aioice.ice.Connection, asyncio.Event] = (
    weakref.WeakKeyDictionary()
)
_ice_finishing: set[asyncio.Task[None]] = set()
_prompt_installed: list[bool] = []


def install_prompt_ice_completion() -> None:
    """Make aioice's `Connection.connect()` return the moment its check list completes.

    connect() paces its checks with a 20 ms sleep and looks at the check list only between
    sleeps, so a pair nominated just after a sleep began waited up to 20 ms — and DTLS, which
    aiortc starts only once connect() returns, waited with it (measured 3-30 ms on a join).
    The original connect() still runs to its end in the background (it cancels the leftover
    checks and starts the consent checks within one pacing interval). Idempotent.
    """
    cls = aioice.ice.Connection
    if _prompt_installed:
        return
    _prompt_installed.append(True)
    original_connect = cls.connect
    original_maybe_complete = cls._check_list_maybe_complete

    # functools.wraps: inspect.getsource() still shows aioice's own code (the touchpoint tests).
    @functools.wraps(original_maybe_complete)
    def maybe_complete(self: aioice.ice.Connection) -> bool:
        completed = original_maybe_complete(self)
        event = _ice_completed.get(self)
        if completed and event is not None:
            event.set()
        return completed

    @functools.wraps(original_connect)
    async def connect(self: aioice.ice.Connection) -> None:
        completed = _ice_completed[self] = asyncio.Event()
        paced = asyncio.ensure_future(original_connect(self))
        woken = asyncio.ensure_future(completed.wait())
        try:
            await asyncio.wait({paced, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            if not paced.done() and not completed.is_set():
                paced.cancel()  # we were cancelled ourselves
        if paced.done():
            paced.result()  # its outcome: returns, or raises ConnectionError
            return
        _ice_finishing.add(paced)
        paced.add_done_callback(lambda task: _after_connect(self, task))

    cls.connect = connect  # type: ignore[method-assign]
    cls._check_list_maybe_complete = maybe_complete  # type: ignore[method-assign]


def _after_connect(connection: aioice.ice.Connection, task: asyncio.Task[None]) -> None:
    """The original connect() of a completed check list ended in the background."""
    _ice_finishing.discard(task)
    if task.cancelled():
        return
    if task.exception() is not None:  # closed meanwhile: its close() already told aiortc
        logger.debug("ICE connect ended after completion: %r", task.exception())
    # Closed while it finished: it may have started consent checks after close() ran.
    consent = connection._query_consent_task
    if connection._closing and consent is not None:
        consent.cancel()


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


_REMB_FEEDBACK = re.compile(r"^a=rtcp-fb:\d+ goog-remb\r?\n", re.MULTILINE)


def without_remb(sdp: str) -> str:
    """Drop the offer's REMB feedback (server → viewer offers).

    The forwarder does not use viewers' bandwidth estimates, and an aiortc viewer whose
    estimator sees overuse sends REMB for nearly every packet: not asking for it spares the
    server that stream of RTCP. NACK and PLI stay.
    """
    return _REMB_FEEDBACK.sub("", sdp)


_SECTION = re.compile(r"(?=^m=)", re.MULTILINE)
_MID = re.compile(r"^a=mid:(\S+)", re.MULTILINE)
_TWCC_EXTMAP = re.compile(
    r"^a=extmap:(\d+)(?:/\w+)? " + re.escape(TRANSPORT_CC_URI) + r"\r?$", re.MULTILINE
)
_TWCC_FEEDBACK = re.compile(r"^a=rtcp-fb:(\d+) transport-cc\r?$", re.MULTILINE)


def transport_cc_ids(offer: str) -> dict[str, int]:
    """MID → the transport-wide sequence number's extension ID, for the offer's video m-lines
    that offer transport-cc feedback."""
    ids: dict[str, int] = {}
    for section in _SECTION.split(offer):
        mid, ext = _MID.search(section), _TWCC_EXTMAP.search(section)
        if section.startswith("m=video") and mid and ext and _TWCC_FEEDBACK.search(section):
            ids[mid.group(1)] = int(ext.group(1))
    return ids


def with_transport_cc(answer: str, offer: str) -> str:
    """Accept the publisher's transport-wide congestion control on its video m-lines.

    aiortc does not know transport-cc, so its answer leaves it out and keeps goog-remb, and a
    browser then follows our REMB. Here the answer takes the offer's transport-sequence-number
    extension and `transport-cc` feedback for each payload type that offered it, and drops
    goog-remb: the browser's own estimator (send-side, as on a direct call) sets the bitrate
    from our transport feedback (`TransportFeedbackLoop`).
    """
    ids = transport_cc_ids(offer)
    offered: dict[str, set[str]] = {}
    for section in _SECTION.split(offer):
        mid = _MID.search(section)
        if mid and mid.group(1) in ids:
            offered[mid.group(1)] = set(_TWCC_FEEDBACK.findall(section))
    out = []
    for section in _SECTION.split(answer):
        mid = _MID.search(section)
        if not section.startswith("m=video") or mid is None or mid.group(1) not in ids:
            out.append(section)
            continue
        newline = "\r\n" if "\r\n" in section else "\n"
        lines = [line for line in section.split(newline) if not line.endswith(" goog-remb")]
        result = []
        for line in lines:
            result.append(line)
            if line.startswith("a=mid:"):
                result.append(f"a=extmap:{ids[mid.group(1)]} {TRANSPORT_CC_URI}")
            elif line.startswith("a=rtpmap:"):
                pt = line[len("a=rtpmap:") :].split(" ", 1)[0]
                if pt in offered[mid.group(1)]:
                    result.append(f"a=rtcp-fb:{pt} transport-cc")
        out.append(newline.join(result))
    return "".join(out)


class TransportFeedbackLoop:
    """Sends transport feedback for one publish connection every FEEDBACK_INTERVAL_S while
    packets arrive (libwebrtc's receivers send every 50 to 250 ms).

    Fed by the connection's `RtpTap` with every authenticated RTP packet that carries a
    transport-wide number, whatever its SSRC: the browser's bandwidth probes are padding on
    SSRCs no receiver may have claimed yet, and a number left out of the feedback reads to the
    browser as a lost packet and a failed probe (docs/media.md, "The start-up ramp").
    """

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls = dtls
        self.feedback = TransportFeedback()
        self._timer: asyncio.TimerHandle | None = None
        # Any SSRC of ours on the connection (a receiver's RTCP SSRC), read when sending.
        self.sender_ssrc: Callable[[], int] = lambda: 0
        self._media_ssrc = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.recorded = 0

    def record(self, seq: int, media_ssrc: int, arrival_us: int) -> None:
        """A packet numbered `seq` arrived at `arrival_us` (the socket's receive clock)."""
        self.feedback.record(seq, arrival_us)
        self.recorded += 1
        self._media_ssrc = media_ssrc
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(FEEDBACK_INTERVAL_S, self._send)

    def _send(self) -> None:
        self._timer = None
        if self._dtls.state != "connected":
            return
        packets = self.feedback.build(self.sender_ssrc(), self._media_ssrc)
        if not packets:
            return
        self.sent += len(packets)
        task = asyncio.ensure_future(self._dtls._send_rtp(b"".join(packets)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


FEEDBACK_INTERVAL_S = 0.05
_feedback_loops: weakref.WeakKeyDictionary[RTCDtlsTransport, TransportFeedbackLoop] = (
    weakref.WeakKeyDictionary()
)


def feedback_loop(dtls: RTCDtlsTransport) -> TransportFeedbackLoop:
    """The transport-feedback loop of a publish connection, made on first use."""
    loop = _feedback_loops.get(dtls)
    if loop is None:
        loop = _feedback_loops[dtls] = TransportFeedbackLoop(dtls)
    return loop


# Linux's SIOCGSTAMPNS: when the kernel received the datagram last read from a socket
# (CLOCK_REALTIME, struct timespec of two 64-bit fields on 64-bit Linux).
_SIOCGSTAMPNS = 0x8907
_TIMESPEC = struct.Struct("qq")
_KERNEL_STAMPS = sys.platform == "linux" and struct.calcsize("P") == 8


def receive_clock(sock: Any) -> Callable[[], int]:
    """A function giving, in µs, when the datagram just read from `sock` reached the kernel.

    The event loop reads a socket when it gets to it: a busy loop (or machine) reads packets
    that came milliseconds apart in one batch, stamping them alike, and the browser's probe
    estimator then sees a probe arrive in no time and throws it away (its receive interval
    must be positive), or sees queueing that never was on the line. The kernel's own receive
    stamp is what a browser's network thread would have seen. Asked right after the read, in
    the protocol's datagram callback (asyncio and uvloop read and call back one datagram at a
    time). Elsewhere, or where the kernel has no stamp, the wall clock at the call (the same
    clock, CLOCK_REALTIME, so the two can mix on one connection).
    """
    fileno = getattr(sock, "fileno", None)
    fd = fileno() if fileno is not None else -1
    if not _KERNEL_STAMPS or fd < 0:
        return lambda: time.time_ns() // 1000
    import fcntl  # Linux only (see _KERNEL_STAMPS)

    buf = bytearray(_TIMESPEC.size)
    ioctl, unpack = fcntl.ioctl, _TIMESPEC.unpack_from
    # The first ask turns the socket's stamps on (it fails: nothing stamped yet); without it
    # the first datagram after would have none.
    with contextlib.suppress(OSError):
        ioctl(fd, _SIOCGSTAMPNS, buf, True)

    def now() -> int:
        try:
            ioctl(fd, _SIOCGSTAMPNS, buf, True)
        except OSError:
            return time.time_ns() // 1000
        seconds, nanoseconds = unpack(buf)
        return int(seconds) * 1_000_000 + int(nanoseconds) // 1000

    return now


_VIDEO_RTPMAP = re.compile(r"^(a=rtpmap:(\d+) (?!rtx/)[\w-]+/90000)(\r?\n)", re.MULTILINE)


def with_rrtr(sdp: str) -> str:
    """Offer viewers RTCP XR receiver reference times on video (server → viewer offers).

    Chromium leaves `rrtr` out of its answer but, offered it, sends RRTR reports and reads the
    DLRR answers (`RtpTap.dlrr`): a browser that only receives measures its round trip only so,
    and needs it to give requestVideoFrameCallback a captureTime (measured: none without it).
    """

    def add(m: re.Match[str]) -> str:
        return f"{m.group(1)}{m.group(3)}a=rtcp-fb:{m.group(2)} rrtr{m.group(3)}"

    return _VIDEO_RTPMAP.sub(add, sdp)


def free_extension_id(sdp: str, lowest: int = 4) -> int | None:
    """The smallest one-byte extension ID from `lowest` that no extmap in `sdp` uses. From 4:
    aiortc gives its own extensions fixed IDs 1-3 (mid, audio level, abs-send-time) and offers
    only those of the kinds present, so a lower ID free in one offer is taken in the next."""
    used = {int(n) for n in re.findall(r"(?m)^a=extmap:(\d+)", sdp)}
    return next((n for n in range(lowest, 15) if n not in used), None)


def with_viewer_transport_cc(sdp: str, ext_id: int) -> str:
    """Offer a viewer transport-wide congestion control on video (server → viewer offers): the
    transport-wide sequence number extension under `ext_id` and `transport-cc` feedback for
    each video payload type. The viewer's browser then reports when each numbered packet
    arrived (`link.ViewerLink`); the agreed ID is read back with `transport_cc_ids`. Keep
    `ext_id` the same in every offer of a connection (RFC 8843: one ID per bundle)."""

    def add(m: re.Match[str]) -> str:
        return f"{m.group(1)}{m.group(3)}a=rtcp-fb:{m.group(2)} transport-cc{m.group(3)}"

    out = []
    for section in _sections(_VIDEO_RTPMAP.sub(add, sdp)):
        if section.startswith("m=video ") and f" {TRANSPORT_CC_URI}" not in section:
            eol = "\r\n" if "\r\n" in section else "\n"
            section = section.rstrip("\r\n") + f"{eol}a=extmap:{ext_id} {TRANSPORT_CC_URI}{eol}"
        out.append(section)
    return "".join(out)


def _sections(sdp: str) -> list[str]:
    # The session part, then one string per m-section, each keeping its own line ends.
    return re.split(r"(?m)^(?=m=)", sdp)


def with_extension(sdp: str, uri: str, kind: str = "video") -> str:
    """Offer one more RTP header extension on every `kind` m-section (server → viewer offers),
    under the smallest one-byte ID no section uses yet.

    aiortc's SDP knows a fixed set of extensions; one it does not know is offered here as text
    and its agreed ID read back from the answer (`answered_extension_ids`).
    """
    # One ID means one extension across a BUNDLE group (RFC 8843): free in every section.
    used = {int(n) for n in re.findall(r"(?m)^a=extmap:(\d+)", sdp)}
    free = next((n for n in range(1, 15) if n not in used), None)
    if free is None:
        return sdp
    out = []
    for section in _sections(sdp):
        if section.startswith(f"m={kind} ") and f" {uri}" not in section:
            eol = "\r\n" if "\r\n" in section else "\n"
            section = section.rstrip("\r\n") + f"{eol}a=extmap:{free} {uri}{eol}"
        out.append(section)
    return "".join(out)


def answered_extension_ids(sdp: str, uri: str) -> dict[str, int]:
    """MID → the ID an answer agreed for header extension `uri` (m-sections without it left out)."""
    found: dict[str, int] = {}
    for section in _sections(sdp):
        mid = re.search(r"(?m)^a=mid:(\S+)", section)
        ext = re.search(rf"(?m)^a=extmap:(\d+)(?:/\w+)? {re.escape(uri)}\s*$", section)
        if mid and ext:
            found[mid.group(1)] = int(ext.group(1))
    return found


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


# aiortc's arrival clock (clock.current_ms) counts milliseconds since the NTP epoch through
# datetime arithmetic; the same value from time.time() costs a fraction of it per packet.
_NTP_EPOCH_OFFSET_MS = 2208988800000


def arrival_ms() -> int:
    """Now on aiortc's arrival clock (ms since 1900), as RTCDtlsTransport stamps packets."""
    return int(time.time() * 1000) + _NTP_EPOCH_OFFSET_MS


Unprotect = Callable[[bytes], bytes | None]
Protect = Callable[[bytes], bytes | None]

# Room pylibsrtp keeps after a packet in its buffer for the SRTP tag (and MKI).
_SRTP_TRAILER = pylibsrtp.SRTP_MAX_TRAILER_LEN


def _srtp_call(
    session: pylibsrtp.Session, func: Any, trailer: int
) -> Callable[[bytes], bytes | None]:
    # pylibsrtp's Session.protect/unprotect allocate an int* and check types on every call;
    # calling libsrtp on the session's own buffer with one preallocated length saved ~0.7 µs
    # of ~3.3 µs per 1.2 kB packet here. Synchronous, so sharing the session's buffer is safe.
    cdata = session._cdata
    buffer = session._buffer
    ctx = session._srtp[0]
    limit = len(cdata) - trailer
    length = _srtp_ffi.new("int *")
    ok = _srtp_lib.srtp_err_status_ok

    # The default argument keeps the session (and so its libsrtp context) alive as long
    # as this function: `ctx` is a raw pointer that pylibsrtp frees with the session.
    def process(data: bytes, _owner: pylibsrtp.Session = session) -> bytes | None:
        size = len(data)
        if size > limit:
            return None
        buffer[0:size] = data
        length[0] = size
        if func(ctx, cdata, length) != ok:
            return None  # replayed, forged or damaged: drop it, as aiortc does
        return cast(bytes, buffer[0 : length[0]])

    return process


def srtp_protector(session: pylibsrtp.Session) -> Protect:
    """SRTP-protect RTP packets with this session; None when libsrtp refuses one."""
    return _srtp_call(session, _srtp_lib.srtp_protect, _SRTP_TRAILER)


def srtp_unprotector(session: pylibsrtp.Session) -> Unprotect:
    """Check and decrypt SRTP packets with this session; None for a packet that fails."""
    return _srtp_call(session, _srtp_lib.srtp_unprotect, 0)


_SSRC = struct.Struct("!I")
RawRtpHandler = Callable[[bytes, int], None]


_RTCP_PSFB = 206
_RTCP_PSFB_REMB = 15  # "application layer feedback" format, carrying REMB


def only_remb(rtcp: bytes) -> bool:
    """True if a (compound) RTCP packet holds nothing but REMB messages."""
    pos, size = 0, len(rtcp)
    while pos + 4 <= size:
        if rtcp[pos + 1] != _RTCP_PSFB or rtcp[pos] & 0x1F != _RTCP_PSFB_REMB:
            return False
        pos += ((rtcp[pos + 2] << 8 | rtcp[pos + 3]) + 1) * 4
    return pos == size and size > 0


class RtpTap:
    """Takes a peer connection's SRTP straight from its UDP socket, ahead of aiortc.

    aiortc's receive path costs, per packet: a failed STUN parse, aioice's queue, a wake-up of
    the DTLS task, its coroutine chain, RtpPacket.parse and the RTP router. For SSRCs bound
    here the tap instead unprotects and hands the plaintext to a synchronous handler inside
    the socket's datagram callback. RTP of unbound SSRCs, STUN and DTLS go the usual way, so
    aiortc still learns new SSRCs and answers consent checks; a receiver hook binds an SSRC
    once aiortc has routed one of its packets.

    RTCP is unprotected here too. REMB-only packets are counted and dropped: viewers send
    them up to once per packet while their estimator sees overuse, and the forwarder does not
    use them (see docs/media.md). The rest (SR, RR, NACK, PLI, FIR, BYE) go to aiortc's RTCP
    router as before, which reaches our receiver and sender hooks.
    """

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls = dtls
        self.handlers: dict[int, RawRtpHandler] = {}
        self.installed = False
        self.packets = 0  # RTP packets taken by the tap (the rest went through aiortc)
        self.remb_dropped = 0
        self.rtcp_routed = 0
        # Viewers' receiver reference times, answered in our sender reports (rtcpxr.py); on
        # for subscribe connections.
        self.answer_rrtr = False
        self.rrtr: tuple[Rrtr, float] | None = None
        self.rrtr_answered = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # MID → handler for m-lines whose SSRCs are not signalled (simulcast): aiortc routes
        # such packets by payload type alone, which fails once two video m-lines share one.
        self.mid_routes: dict[bytes, RawRtpHandler] = {}
        self.mid_id = 0
        # A viewer's transport feedback (subscribe connections that agreed transport-cc):
        # taken here as bytes, since aiortc's parser reads any RTPFB as a NACK list.
        self.on_transport_feedback: Callable[[bytes], None] | None = None
        self.transport_feedback = 0
        # Transport-wide congestion control (publish connections that agreed it): every RTP
        # packet's number is recorded here, bound SSRC or not (`count_transport_cc`).
        self.transport_cc: TransportFeedbackLoop | None = None
        self.transport_cc_id = 0
        self.handed_to_aiortc = 0  # RTP of unbound SSRCs, unprotected here, for aiortc

    def route_mid(self, mid_id: int, mid: str, handler: RawRtpHandler) -> None:
        """Bind each new SSRC whose MID header extension (ID `mid_id`) says `mid` to handler."""
        self.mid_id = mid_id
        self.mid_routes[mid.encode()] = handler
        self.install()

    def count_transport_cc(self, extension_id: int, receiver: RTCRtpReceiver) -> None:
        """Record every RTP packet's transport-wide number (header extension `extension_id`)
        for the connection's feedback, from the first packet the tap sees; `receiver`'s RTCP
        SSRC signs the feedback. Extension IDs are the same on every m-line of a bundle."""
        if self.transport_cc is None:
            self.transport_cc = feedback_loop(self._dtls)
            rtcp_ssrc = receiver.__dict__

            def sender_ssrc() -> int:
                return int(rtcp_ssrc.get("_RTCRtpReceiver__rtcp_ssrc") or 0)

            self.transport_cc.sender_ssrc = sender_ssrc
        self.transport_cc_id = extension_id

    def bind(self, ssrc: int, handler: RawRtpHandler) -> None:
        """Send this SSRC's RTP to handler from now on (installs the tap on first use)."""
        self.handlers[ssrc] = handler
        self.install()

    def unbind(self, handler: RawRtpHandler) -> None:
        """Stop taking RTP for every SSRC bound to handler (it goes back to aiortc)."""
        for ssrc in [s for s, h in self.handlers.items() if h is handler]:
            del self.handlers[ssrc]
        for mid in [m for m, h in self.mid_routes.items() if h is handler]:
            del self.mid_routes[mid]

    def install(self) -> bool:
        """Put the tap in front of the connection's sockets once SRTP is up (idempotent)."""
        if self.installed:
            return True
        srtp = self._dtls._rx_srtp
        if srtp is None or self._dtls.state != "connected":
            return False  # nothing can be decrypted yet; the next call tries again
        self.installed = True
        unprotect = srtp_unprotector(srtp)
        unprotect_rtcp = _srtp_call(srtp, _srtp_lib.srtp_unprotect_rtcp, 0)
        handlers = self.handlers
        unpack_ssrc = _SSRC.unpack_from
        connection = self._dtls.transport._connection
        for protocol in connection._protocols:
            if not isinstance(protocol, aioice.ice.StunProtocol):
                continue  # e.g. a TURN allocation: stays on aiortc's path
            passthrough = protocol.datagram_received
            received_at = receive_clock(
                getattr(protocol.transport, "get_extra_info", lambda _: None)("socket")
            )

            def datagram_received(
                data: bytes,
                addr: tuple[Any, ...],
                passthrough: Any = passthrough,
                received_at: Callable[[], int] = received_at,
            ) -> None:
                if len(data) >= 12 and 127 < data[0] < 192:
                    # RTCP has payload types 192-208 in the second byte (RFC 5761).
                    if 191 < data[1] < 209:
                        self._rtcp(unprotect_rtcp(data))
                        return
                    ssrc = unpack_ssrc(data, 8)[0]
                    handler = handlers.get(ssrc)
                    if handler is None and self.mid_routes:
                        # SRTP leaves the header and its extensions in the clear.
                        handler = self.mid_routes.get(read_extension(data, self.mid_id) or b"")
                        if handler is not None:
                            handlers[ssrc] = handler
                    twcc = self.transport_cc
                    if handler is None and twcc is None:
                        passthrough(data, addr)
                        return
                    plain = unprotect(data)
                    if plain is None:
                        return  # failed authentication or replayed: aiortc would drop it too
                    if twcc is not None:
                        seq = transport_seq(plain, self.transport_cc_id)
                        if seq is not None:
                            twcc.record(seq, ssrc, received_at())
                    if handler is None:
                        # A new SSRC (aiortc learns it and a hook binds it) or one that no
                        # receiver takes (a probe's padding): aiortc's path, already counted.
                        self.handed_to_aiortc += 1
                        self._spawn(self._dtls._handle_rtp_data(plain, arrival_ms()))
                        return
                    self.packets += 1
                    try:
                        handler(plain, arrival_ms())
                    except Exception:
                        logger.exception("RTP handler failed")
                    return
                passthrough(data, addr)

            # The event loop looks the callback up on the protocol for each datagram
            # (asyncio and uvloop alike), so an instance attribute takes effect at once.
            protocol.datagram_received = datagram_received  # type: ignore[method-assign,assignment]
        return True

    def dlrr(self, sender_ssrc: int) -> bytes:
        """An XR DLRR block answering the viewer's latest receiver reference time, to go in
        the same compound packet as our sender report for `sender_ssrc` (Chromium drops its
        receiver round trip when a sender report comes without one); b"" if none came."""
        if self.rrtr is None:
            return b""
        rrtr, arrived = self.rrtr
        self.rrtr_answered += 1
        return dlrr_packet(sender_ssrc, rrtr, time.monotonic() - arrived)

    def _rtcp(self, plain: bytes | None) -> None:
        if plain is None:
            return  # failed authentication or replayed: aiortc would drop it too
        if only_remb(plain):
            self.remb_dropped += 1
            return
        if self.on_transport_feedback is not None:
            found = feedback_packets(plain)
            for packet in found:
                self.transport_feedback += 1
                try:
                    self.on_transport_feedback(packet)
                except Exception:
                    logger.exception("transport feedback handler failed")
            if found and sum(map(len, found)) == len(plain):
                return  # nothing else in it for aiortc
        if self.answer_rrtr:
            for rrtr in find_rrtr(plain):
                self.rrtr = (rrtr, time.monotonic())
        self.rtcp_routed += 1
        self._spawn(self._dtls._handle_rtcp_data(plain))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


_taps: weakref.WeakKeyDictionary[RTCDtlsTransport, RtpTap] = weakref.WeakKeyDictionary()


def rtp_tap(dtls: RTCDtlsTransport) -> RtpTap:
    """The tap of a DTLS transport (one per peer connection with bundle), made on first use."""
    tap = _taps.get(dtls)
    if tap is None:
        tap = _taps[dtls] = RtpTap(dtls)
    return tap


REMB_INTERVAL_MS = 200


class ReceiverHook:
    """A receiver whose RTP comes to us (tap or aiortc's path), never to its decoder.

    Does per packet what aiortc's receiver would still owe the publisher: statistics for its
    receiver reports and the bandwidth estimate it sends back as REMB.
    """

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        clock_rate: int,
        extension_ids: tuple[int, int],
        on_rtp: RtpHandler,
        remb: bool,
        transport_cc_id: int = 0,
        rid_ids: tuple[int, int] = (0, 0),
        on_stream: StreamHandler | None = None,
    ) -> None:
        self._receiver = receiver
        # Simulcast: a new SSRC is handed on only once on_stream placed it by its RID (or, for
        # a retransmission stream, its repaired RID); until then it is not even counted, so the
        # publisher, seeing no receiver report on it, keeps sending the RID.
        self._rid_id, self._repaired_id = rid_ids
        self._on_stream = on_stream
        self._placed: set[int] = set()
        self._clock_rate = clock_rate
        self._ast_id, self._level_id = extension_ids
        self._on_rtp = on_rtp
        # aiortc's own RR loop reports on these statistics; we keep feeding them.
        self._streams: dict[int, StreamStatistics] = receiver.__dict__[
            "_RTCRtpReceiver__remote_streams"
        ]
        # Without REMB feedback a browser's encoder stays at its start bitrate. aiortc runs its
        # estimator (~15 µs a packet) and sends REMB whether or not the sender asked for it;
        # we do only when the m-line negotiated goog-remb.
        self._estimator: Any = (
            receiver.__dict__["_RTCRtpReceiver__remote_bitrate_estimator"] if remb else None
        )
        self._tap: RtpTap | None = None
        if transport_cc_id:
            # The tap records every packet's number, SSRCs not bound to us yet included.
            self._tap = rtp_tap(receiver.transport)
            self._tap.count_transport_cc(transport_cc_id, receiver)
        self._tasks: set[asyncio.Task[None]] = set()
        self.remb_sent = 0
        self._last_remb_ms = -REMB_INTERVAL_MS
        self.packets_tapped = 0  # of the packets recorded, how many came from the tap
        self.closed = False

    def from_aiortc(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        """A packet that came through aiortc's path: hand it on, and tap its SSRC from now on."""
        ext = packet.extensions
        if self._on_stream is not None and packet.ssrc not in self._placed:
            self._place(packet.ssrc, ext.rtp_stream_id, ext.repaired_rtp_stream_id)
        header = RtpHeader(
            packet.payload_type,
            packet.marker,
            packet.sequence_number,
            packet.timestamp,
            packet.ssrc,
            packet.payload,
            packet.padding_size,
            ext.abs_send_time,
            ext.audio_level,
        )
        if self._on_stream is None or packet.ssrc in self._placed:
            self.record(header, arrival_time_ms)
        if self.closed:
            return
        if self._tap is None:
            self._tap = rtp_tap(self._receiver.transport)
        if packet.ssrc not in self._tap.handlers:
            self._tap.bind(packet.ssrc, self.from_tap)

    def from_tap(self, data: bytes, arrival_time_ms: int) -> None:
        """Plaintext RTP from the tap."""
        if self._on_stream is not None:
            ssrc = _SSRC.unpack_from(data, 8)[0]
            if ssrc not in self._placed:
                rid = read_extension(data, self._rid_id)
                repaired = read_extension(data, self._repaired_id)
                if not self._place(
                    ssrc,
                    rid.decode("ascii", "replace") if rid else None,
                    repaired.decode("ascii", "replace") if repaired else None,
                ):
                    return
        header = parse_rtp(data, self._ast_id, self._level_id)
        if header is not None:
            self.packets_tapped += 1
            self.record(header, arrival_time_ms)

    def _place(self, ssrc: int, rid: str | None, repaired: str | None) -> bool:
        if self._on_stream is None or not (rid or repaired):
            return False
        if self._on_stream(ssrc, rid, repaired):
            self._placed.add(ssrc)
            # aiortc routes RTCP (the publisher's sender reports, BYE) by its RTP router's SSRC
            # table, which an SSRC bound at the tap by MID never entered.
            self._receiver.transport._rtp_router.ssrc_table.setdefault(ssrc, self._receiver)
            return True
        return False

    def route_by_mid(self, mid_id: int, mid: str) -> None:
        """Take this m-line's unsignalled SSRCs at the tap by their MID (simulcast)."""
        if self._tap is None:
            self._tap = rtp_tap(self._receiver.transport)
        self._tap.route_mid(mid_id, mid, self.from_tap)

    def record(self, header: RtpHeader, arrival_time_ms: int) -> None:
        """Feed RR statistics and the bandwidth estimator, then the producer."""
        stats = self._streams.get(header.ssrc)
        if stats is None:
            stats = self._streams[header.ssrc] = StreamStatistics(self._clock_rate)
        # StreamStatistics reads only sequence_number and timestamp, which RtpHeader has.
        stats.add(cast(RtpPacket, header))
        ast = header.abs_send_time
        if self._estimator is not None and ast is not None:
            remb = self._estimator.add(
                abs_send_time=ast,
                arrival_time_ms=arrival_time_ms,
                payload_size=len(header.payload) + header.padding_size,
                ssrc=header.ssrc,
            )
            # aiortc's estimator returns an estimate with every packet while it sees overuse
            # (a loaded machine's jitter is enough): send at most one per interval, as
            # libwebrtc's REMB throttle does; the latest estimate goes out next.
            if remb is not None and arrival_time_ms - self._last_remb_ms >= REMB_INTERVAL_MS:
                self._last_remb_ms = arrival_time_ms
                self._send_remb(remb)
        self._on_rtp(header, arrival_time_ms)

    def count_repaired(self, ssrc: int, seq: int, timestamp: int) -> None:
        """Count a packet repaired by retransmission as received on its media stream: aiortc's
        receiver reports then give the loss left after repair (a late packet only raises the
        received count, it does not touch jitter)."""
        stats = self._streams.get(ssrc)
        if stats is not None:
            stats.add(cast(RtpPacket, RtpHeader(0, 0, seq, timestamp, ssrc, b"", 0, None, None)))

    def _send_remb(self, remb: tuple[int, list[int]]) -> None:
        rtcp_ssrc = self._receiver.__dict__["_RTCRtpReceiver__rtcp_ssrc"]
        if rtcp_ssrc is None:
            return
        self.remb_sent += 1
        packet = RtcpPsfbPacket(
            fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb)
        )
        task = asyncio.ensure_future(self._receiver._send_rtcp(packet))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Stop tapping this receiver's SSRCs (idempotent)."""
        self.closed = True
        if self._tap is not None:
            self._tap.unbind(self.from_tap)


def hook_receiver(
    receiver: RTCRtpReceiver,
    clock_rate: int,
    extension_ids: tuple[int, int],
    on_rtp: RtpHandler,
    on_rtcp: RtcpHandler,
    *,
    remb: bool,
    transport_cc_id: int = 0,
    rid_ids: tuple[int, int] = (0, 0),
    on_stream: StreamHandler | None = None,
) -> ReceiverHook:
    """Divert a receiver's RTP to on_rtp, before its jitter buffer and decoder; keep its RTCP.

    extension_ids: the (abs-send-time, ssrc-audio-level) IDs the publisher negotiated;
    remb: whether to estimate the uplink and send REMB (see `wants_remb`);
    transport_cc_id: the transport-wide sequence number's ID when transport-cc was agreed
    (`with_transport_cc`), else 0.
    """
    original_rtcp = receiver._handle_rtcp_packet
    hook = ReceiverHook(
        receiver, clock_rate, extension_ids, on_rtp, remb, transport_cc_id, rid_ids, on_stream
    )

    async def handle_rtp(packet: RtpPacket, arrival_time_ms: int) -> None:
        hook.from_aiortc(packet, arrival_time_ms)

    async def handle_rtcp(packet: Any) -> None:
        await original_rtcp(packet)
        await on_rtcp(packet)

    # Instance attributes shadow the methods: RTCDtlsTransport looks them up per packet.
    receiver._handle_rtp_packet = handle_rtp  # type: ignore[method-assign]
    receiver._handle_rtcp_packet = handle_rtcp  # type: ignore[method-assign]
    return hook


def read_rids_in_aiortc(dtls: RTCDtlsTransport, rid_id: int, repaired_id: int) -> None:
    """Make aiortc's RTP parser read the RID extensions (aiortc's SDP does not agree them, see
    simulcast.py): a simulcast SSRC's first packet comes through aiortc's path and is placed
    by its RID. `configure` only sets the IDs it is given."""
    extensions = [RTCRtpHeaderExtensionParameters(id=rid_id, uri=RID_URI)]
    if repaired_id:
        extensions.append(RTCRtpHeaderExtensionParameters(id=repaired_id, uri=REPAIRED_RID_URI))
    dtls._rtp_header_extensions_map.configure(RTCRtpParameters(headerExtensions=extensions))


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
                out += bytes(packet) + rtp_tap(sender.transport).dlrr(packet.ssrc)
                continue
            out += bytes(packet)
        if out and not send_rtcp_now(sender.transport, out):
            with contextlib.suppress(ConnectionError):
                await sender.transport._send_rtp(out)

    sender._handle_rtcp_packet = handle_rtcp  # type: ignore[method-assign]
    sender._send_rtcp = send_rtcp  # type: ignore[method-assign]


def send_rtcp_now(dtls: RTCDtlsTransport, data: bytes) -> bool:
    """Protect and send RTCP at once on the nominated pair; False if the connection is not up.

    Sender reports carry the time they are made (clock.py) and DLRR the delay since the
    viewer's RRTR: every millisecond spent in aiortc's send coroutines on a busy loop would be
    read by the viewer as round trip (measured: +10-15 ms of captureTime error under load).
    """
    srtp = dtls._tx_srtp
    pair = dtls.transport._connection._nominated.get(1)
    if dtls.state != "connected" or srtp is None or pair is None:
        return False
    pair.protocol.transport.sendto(srtp.protect_rtcp(data), pair.remote_addr)
    return True


@dataclass(frozen=True, slots=True)
class SenderIds:
    """What a consumer needs from its negotiated sender to write packets."""

    ssrc: int
    rtx_ssrc: int
    mid: str
    codec: RTCRtpCodecParameters
    rtx_payload_type: int | None
    extension_ids: dict[str, int]


def header_extension_ids(transceiver: RTCRtpTransceiver) -> dict[str, int]:
    """Header-extension URI → ID agreed for this m-line (the remote side's IDs)."""
    return {e.uri: e.id for e in transceiver._headerExtensions}


def wants_remb(codec: RTCRtpCodecParameters) -> bool:
    """True if the sender of this codec asked for REMB feedback (a=rtcp-fb goog-remb)."""
    return any(fb.type == "goog-remb" for fb in codec.rtcpFeedback)


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
    ext = header_extension_ids(transceiver)
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
    # The viewer's RTCP (NACK, PLI, reports) comes in through the tap from now on.
    tap = rtp_tap(dtls)
    tap.answer_rrtr = True
    tap.install()
    sendto = pair.protocol.transport.sendto
    addr = pair.remote_addr
    # srtp_protector's body, inlined: this runs once per packet and viewer.
    cdata = srtp._cdata
    buffer = srtp._buffer
    ctx = srtp._srtp[0]
    limit = len(cdata) - _SRTP_TRAILER
    length = _srtp_ffi.new("int *")
    protect = _srtp_lib.srtp_protect
    ok = _srtp_lib.srtp_err_status_ok

    # No per-packet state check: consumers close with their transport, and a datagram
    # transport that lost its socket drops (and counts) what it is given.
    def send(data: bytes, _owner: pylibsrtp.Session = srtp) -> None:
        # _owner: see _srtp_call (ctx is a raw pointer owned by the session).
        size = len(data)
        if size > limit:
            return
        buffer[0:size] = data
        length[0] = size
        if protect(ctx, cdata, length) == ok:
            sendto(buffer[0 : length[0]], addr)

    return send
