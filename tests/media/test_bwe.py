"""The viewer's link measured from its transport feedback (media/bwe.py, twcc.parse_feedback,
layer_select.ProbedChoice): pure parts, against a simulated bottleneck (a FIFO at a rate with a
byte-limited queue, as bench/_shaper.py's tc line)."""

from __future__ import annotations

import itertools
import random
import re

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from hypothesis import given, settings
from hypothesis import strategies as st

from media.aiortc_hooks import free_extension_id, transport_cc_ids, with_viewer_transport_cc
from media.bwe import LinkEstimate, Reported, SendLog, probe_rate
from media.layer_select import ProbedChoice
from media.router import AiortcRouter
from media.settings import MediaSettings
from media.transport import AiortcTransport
from media.twcc import TRANSPORT_CC_URI, feedback_packet, feedback_packets, parse_feedback

LAYERS = [150_000.0, 580_000.0]  # the bench's calm picture: 240 and 480 lines


def line(
    sends: list[tuple[float, int]], kbps: float, queue_ms: float = 200.0
) -> list[float | None]:
    """Arrival time of each (send time s, bytes) through a FIFO of `kbps` holding `queue_ms`
    of it; None for what overflowed the queue (tail drop)."""
    rate = kbps * 1000 / 8  # bytes/s
    limit = rate * queue_ms / 1000
    free_at = 0.0  # when the link finishes what it holds
    out: list[float | None] = []
    for at, size in sends:
        backlog = max(0.0, free_at - at) * rate
        if backlog + size > limit + 1514:
            out.append(None)
            continue
        free_at = max(free_at, at) + size / rate
        out.append(free_at)
    return out


def video(start: float, seconds: float, bps: float, fps: float = 25.0) -> list[tuple[float, int]]:
    """Frames of `bps` at `fps`, each sent as a burst of packets of at most 1,200 bytes."""
    sends = []
    frame = int(bps / 8 / fps)  # whole bytes: a fraction left over would never be sent
    t = start
    while t < start + seconds:
        left = frame
        while left > 0:
            size = int(min(1200, left))
            sends.append((t, size + 40))
            left -= size
        t += 1 / fps
    return sends


class Link:
    """A viewer link: sends numbered, the browser's feedback every 50 ms."""

    def __init__(
        self,
        kbps: float | None,
        stall: float = 0.0,
        seed: int = 0,
        loss: float = 0.0,
        queue_ms: float = 200.0,
    ) -> None:
        self.kbps = kbps
        self.loss = loss  # dropped at random, whatever the rate (a radio link, bench --loss)
        self.queue_ms = queue_ms
        self.log = SendLog()
        self.estimate = LinkEstimate()
        self.pending: list[tuple[int, float]] = []  # (16-bit number, arrival)
        self.lost: list[int] = []
        self.rng = random.Random(seed)
        # A loaded receiver: now and then its network thread stalls this long, and what
        # arrived meanwhile is stamped when it wakes.
        self.stall = stall
        self.overuses: list[float] = []
        self.results: list[float] = []

    def send(self, sends: list[tuple[float, int]]) -> None:
        """Send and run the feedback loop over the sends' time span."""
        arrivals = (
            line(sends, self.kbps, self.queue_ms)
            if self.kbps is not None
            else [t + 0.0005 for t, _ in sends]
        )
        if self.loss:
            arrivals = [None if self.rng.random() < self.loss else a for a in arrivals]
        stalls = []
        if self.stall:
            t = min(at for at, _ in sends)
            while t < max(at for at, _ in sends) + 1:
                t += self.rng.uniform(0.2, 1.0)
                stalls.append((t, t + self.stall))
        events: list[tuple[float, int, float | None]] = []
        for (at, size), arrival in zip(sends, arrivals, strict=True):
            seq = self.log.take(at, size)
            if arrival is not None:
                for begin, end in stalls:
                    if begin <= arrival < end:
                        arrival = end
            events.append((at, seq, arrival))
        end = max(t for t, _ in sends) + 0.3
        t = min(t for t, _ in sends)
        while t < end:
            t += 0.05
            got = [(seq, a) for _, seq, a in events if a is not None and t - 0.05 < a <= t]
            lost = [seq for at, seq, a in events if a is None and t - 0.05 < at + 0.01 <= t]
            self.feed(t, got, lost)

    def feed(self, now: float, got: list[tuple[int, float]], lost: list[int]) -> None:
        if not got:
            return
        arrived = {seq: a for seq, a in got}
        seqs = sorted(set(arrived) | set(lost))
        base = seqs[0]
        statuses: list[int | None] = [None] * (seqs[-1] - base + 1)
        for seq, a in arrived.items():
            statuses[seq - base] = round(a * 1e6)
        packet = feedback_packet(1, 2, base, 0, statuses)
        parsed = parse_feedback(packet)
        assert parsed is not None
        overuse, result = self.estimate.feedback(now, self.log.reported(*parsed))
        if overuse:
            self.overuses.append(now)
        if result is not None:
            self.results.append(result)


# -- the feedback parser --------------------------------------------------------------------


@settings(max_examples=200)
@given(
    st.integers(0, 0xFFFF),
    st.lists(st.one_of(st.none(), st.integers(0, 300_000)), min_size=1, max_size=400),
)
def test_the_parser_reads_back_what_the_builder_wrote(base: int, gaps: list[int | None]) -> None:
    arrivals: list[int | None] = []
    at = 5_000_000
    for gap in gaps:
        if gap is None:
            arrivals.append(None)
        else:
            at += gap
            arrivals.append(at)
    if all(a is None for a in arrivals):
        arrivals[0] = at
    packet = feedback_packet(7, 9, base, 3, arrivals)
    parsed = parse_feedback(packet)
    assert parsed is not None
    got_base, got = parsed
    assert got_base == base and len(got) == len(arrivals)
    for want, have in zip(arrivals, got, strict=True):
        assert (want is None) == (have is None)
        if want is not None and have is not None:
            assert abs(want - have) <= 125  # a quarter millisecond, rounded


def test_one_bit_vectors_and_truncated_packets() -> None:
    # A one-bit status vector (14 symbols: received with a small delta, or not), as a
    # browser may send: numbers 100..113, every other one arrived, 1 ms apart.
    chunk = 0x8000 | 0b10101010101010
    deltas = bytes([4] * 7)
    body = (
        (1).to_bytes(4, "big")
        + (2).to_bytes(4, "big")
        + (100).to_bytes(2, "big")
        + (14).to_bytes(2, "big")
        + (10).to_bytes(3, "big")
        + b"\x00"
        + chunk.to_bytes(2, "big")
        + deltas
    )
    body += b"\x00" * (-len(body) % 4)
    packet = bytes([0x8F, 205]) + ((len(body) + 4) // 4 - 1).to_bytes(2, "big") + body
    parsed = parse_feedback(packet)
    assert parsed is not None
    base, arrivals = parsed
    assert base == 100
    assert arrivals[1::2] == [None] * 7
    assert arrivals[0::2] == [640_000 + 1000 * (k + 1) for k in range(7)]
    assert parse_feedback(packet[:22]) is None
    assert parse_feedback(b"\x81\xc9\x00\x07" + bytes(28)) is None  # a receiver report
    # Inside a compound packet with a receiver report before it.
    rr = b"\x80\xc9\x00\x01" + bytes(4)
    assert feedback_packets(rr + packet) == [packet]


# -- the estimate ---------------------------------------------------------------------------


def test_numbers_are_matched_to_what_was_sent_across_the_wrap() -> None:
    log = SendLog()
    log.next_seq = 0xFFFE
    a = log.take(1.0, 100)
    b = log.take(1.1, 200)
    c = log.take(1.2, 300)
    assert (a, b, c) == (0xFFFE, 0xFFFF, 0)
    reported = log.reported(0xFFFE, [10, None, 30])
    assert reported == [
        (0xFFFE, 1.0, 100, 10e-6),
        (0xFFFF, 1.1, 200, None),
        (0x10000, 1.2, 300, 30e-6),
    ]
    assert log.unwrap(5) is None  # not sent yet


def test_a_clean_link_reads_no_overuse_and_sets_no_limit() -> None:
    link = Link(kbps=None)
    link.send(video(0.0, 10.0, 600_000))
    assert link.overuses == [] and link.estimate.estimate_bps is None


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 1000), st.sampled_from([0.02, 0.05, 0.08]))
def test_a_loaded_receiver_stamping_late_is_not_overuse(seed: int, stall: float) -> None:
    link = Link(kbps=None, stall=stall, seed=seed)
    link.send(video(0.0, 6.0, 600_000))
    assert link.overuses == []


def test_the_high_layer_into_a_300_kbit_line_is_overuse_within_a_third_of_a_second() -> None:
    link = Link(kbps=300)
    link.send(video(0.0, 2.0, 600_000))
    assert link.overuses, "never saw the queue"
    assert link.overuses[0] <= 0.35
    estimate = link.estimate.estimate_bps
    assert estimate is not None and 200_000 <= estimate <= 300_000
    # Below the line's rate it keeps the low layer and the audio.
    assert estimate >= LAYERS[0] + 64_000


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 1000))
def test_random_loss_is_not_a_full_link(seed: int) -> None:
    """5 % of packets lost at random (bench.glass --loss 5): a lower layer would lose as many,
    so the viewer keeps the top one (at a 10 % threshold a 0.5 s window read 10-12 % now and
    then, and moved the viewer to a 5 fps low layer for the rest of the run)."""
    link = Link(kbps=None, seed=seed, loss=0.05)
    link.send(video(0.0, 20.0, 1_700_000, fps=30.0))
    assert link.overuses == []


def test_a_policer_at_half_the_rate_is_overuse() -> None:
    """No queue to read (a policer drops what is over its rate): the loss says it."""
    link = Link(kbps=300, queue_ms=0.0)
    link.send(video(0.0, 2.0, 600_000))
    assert link.overuses, "never saw the loss"


def test_the_same_line_carrying_the_low_layer_is_not_overuse() -> None:
    link = Link(kbps=300)
    link.send(video(0.0, 10.0, 190_000))
    assert link.overuses == []


def probe(start: float, bps: float, media_bps: float) -> list[tuple[float, int]]:
    """A 40 ms probe cluster: media plus 255-byte padding packets every 10 ms up to `bps`."""
    sends = video(start, 0.04, media_bps)
    for k in range(5):
        due = bps / 8 * 0.01 * k - sum(s for t, s in sends if t <= start + 0.01 * k)
        while due > 0:
            sends.append((start + 0.01 * k, 280))
            due -= 280
    return sorted(sends)


def measured(kbps: float | None, bps: float) -> tuple[float, float]:
    """(the cluster's send rate, the estimate it gives) through a line of `kbps`."""
    sends = probe(0.0, bps, 190_000)
    arrivals = (
        line(sends, kbps)
        if kbps is not None
        else [t + 0.001 * (i % 3) for i, (t, _) in enumerate(sends)]
    )
    packets: list[Reported] = [
        (i, t, size, arrival)
        for i, ((t, size), arrival) in enumerate(zip(sends, arrivals, strict=True))
    ]
    result = probe_rate(packets)
    assert result is not None
    return result


def test_a_probe_reads_the_lines_rate_and_an_open_link_as_open() -> None:
    sent, estimate = measured(300, 800_000)
    assert sent >= 500_000 and 0.8 * 300_000 <= estimate <= 300_000
    # An open link (arrivals jittered by up to 2 ms) carried what was sent.
    sent, estimate = measured(None, 800_000)
    assert estimate == sent
    # So does a line of 1 Mbit/s.
    sent, estimate = measured(1000, 800_000)
    assert estimate == sent


def test_a_probe_that_lost_packets_did_not_carry_them() -> None:
    packets: list[Reported] = [(i, i * 0.004, 1000, i * 0.004 + 0.001) for i in range(10)]
    whole = probe_rate(packets)
    half = probe_rate([p if p[0] % 2 else (p[0], p[1], p[2], None) for p in packets])
    assert whole is not None and half is not None
    assert half[1] < 0.6 * whole[1]


def test_the_link_estimate_takes_a_completed_probe() -> None:
    link = Link(kbps=300)
    link.send(video(0.0, 2.0, 190_000))
    first = link.log.next_seq
    link.estimate.start_probe(first, 800_000, 2.0)
    sends = probe(2.0, 800_000, 190_000)
    link.estimate.end_probe(first + len(sends) - 1, 2.04)
    link.send(sends)
    assert len(link.results) == 1 and 0.8 * 300_000 <= link.results[0] <= 300_000
    assert link.overuses == []  # the probe's own queue is not overuse


# -- the choice -----------------------------------------------------------------------------


def test_no_limit_seen_keeps_the_top_layer() -> None:
    assert ProbedChoice().choose(0.0, None, LAYERS, 1) == (1, None)


def test_down_at_once_and_up_only_after_a_probe_passed() -> None:
    choice = ProbedChoice()
    assert choice.choose(10.0, 255_000, LAYERS, 1) == (0, None)
    choice.trouble(10.0)
    # No probe within the hold, then one at what the top layer needs, with margin.
    assert choice.choose(12.0, 255_000, LAYERS, 0) == (0, None)
    layer, rate = choice.choose(14.5, 255_000, LAYERS, 0)
    assert layer == 0 and rate is not None
    assert rate >= (LAYERS[1] + 64_000) * 1.15
    # While it runs, no second one and no switch.
    assert choice.choose(14.6, 255_000, LAYERS, 0) == (0, None)
    # It passed: the estimate (its send rate) covers the top layer, so up.
    assert choice.probe_done(14.7, rate)
    assert choice.choose(14.7, rate, LAYERS, 0) == (1, None)


def test_a_failed_probe_doubles_the_wait_and_keeps_the_layer() -> None:
    choice = ProbedChoice()
    choice.trouble(0.0)
    asked = []
    now = 0.0
    while now < 60.0:
        layer, rate = choice.choose(now, 285_000, LAYERS, 0)
        assert layer == 0
        if rate is not None:
            asked.append(now)
            assert not choice.probe_done(now + 0.1, 285_000)
        now += 0.1
    gaps = [round(b - a) for a, b in itertools.pairwise(asked)]
    assert asked[0] >= 4.0 and gaps == [8, 16, 32][: len(gaps)]


def test_a_probe_nobody_answered_counts_as_failed() -> None:
    choice = ProbedChoice()
    _, rate = choice.choose(5.0, 255_000, LAYERS, 0)
    assert rate is not None
    assert choice.choose(8.0, 255_000, LAYERS, 0) == (0, None)  # timed out: counted failed
    assert choice.probe_hold_s == 8.0


def test_overuse_soon_after_going_up_doubles_the_wait() -> None:
    choice = ProbedChoice()
    assert choice.choose(1.0, 900_000, LAYERS, 0) == (1, None)
    choice.trouble(3.0)
    assert choice.probe_hold_s == 8.0


# -- SDP ------------------------------------------------------------------------------------

MID_EXT = "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    f"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n{MID_EXT}"
    "a=rtpmap:111 opus/48000/2\r\n"
    f"m=video 9 UDP/TLS/RTP/SAVPF 97 98\r\na=mid:1\r\n{MID_EXT}"
    "a=rtpmap:97 VP8/90000\r\na=rtcp-fb:97 nack\r\na=rtpmap:98 rtx/90000\r\na=fmtp:98 apt=97\r\n"
)


def test_the_viewer_is_offered_transport_cc_on_video_only() -> None:
    ext_id = free_extension_id(OFFER)
    assert ext_id == 4  # aiortc's own IDs 1-3 are skipped even where this offer lacks them
    sdp = with_viewer_transport_cc(OFFER, ext_id)
    audio, video_section = sdp.split("m=video")
    assert TRANSPORT_CC_URI not in audio and "transport-cc" not in audio
    assert f"a=extmap:4 {TRANSPORT_CC_URI}" in video_section
    assert "a=rtcp-fb:97 transport-cc" in video_section
    assert "a=rtcp-fb:98 transport-cc" not in video_section  # not on RTX
    # A browser's answer that keeps both is read back per MID.
    assert transport_cc_ids(sdp) == {"1": 4}


async def test_the_transport_wide_id_stays_the_same_across_offers() -> None:
    """aiortc offers its audio-level extension (ID 2) only once an audio m-line exists: an ID
    picked as "the smallest free" moved from 2 to 4 between a viewer's first offer (camera) and
    the next (camera + mic), and the browser then read other extensions as the numbers."""
    router = AiortcRouter()
    try:
        settings = MediaSettings()
        transport = AiortcTransport(router, "pupil", "subscribe", settings)
        producer = _producer("video")
        transport._add_consumer(producer)  # type: ignore[arg-type]
        first = await transport.create_offer()
        transport._negotiating = False
        transport._add_consumer(_producer("audio"))  # type: ignore[arg-type]
        second = await transport.create_offer()
        ids = [
            re.findall(rf"a=extmap:(\d+) {re.escape(TRANSPORT_CC_URI)}", o) for o in (first, second)
        ]
        assert ids[0] and set(ids[0]) == set(ids[1]) and len(set(ids[1])) == 1, ids
        await transport.close()
    finally:
        await router.close()


class _FakeProducer:
    """What a subscribe transport reads of a producer to offer its copy."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.codec = (
            RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
            if kind == "video"
            else RTCRtpCodecParameters(
                mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111
            )
        )
        self.participant_id = "teacher"
        self.id = kind
        self.source = "camera" if kind == "video" else "mic"
        self.top = 0
        self.simulcast = False
        self.closed = False

    def attach(self, consumer: object) -> None:
        pass

    def detach(self, consumer: object) -> None:
        pass


def _producer(kind: str) -> _FakeProducer:
    return _FakeProducer(kind)
