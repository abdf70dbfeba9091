"""The recorder: a real aiortc publisher through the router into WebM files, read back with av."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import av
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from bench._recording import MarkedAudioTrack, MarkedVideoTrack, SharedClock, sync_report
from media.recorder import Recording, RecordingSummary
from media.router import AiortcRouter
from media.settings import MediaSettings

from .helpers import loopback_configuration, prefer_codec

pytestmark = pytest.mark.asyncio

SECONDS = 6.5


async def marked_publisher(
    router: AiortcRouter, pid: str, video_codec: str = "video/VP8"
) -> RTCPeerConnection:
    pc = RTCPeerConnection(loopback_configuration())
    clock = SharedClock()
    pc.addTransceiver(MarkedAudioTrack(clock), direction="sendonly")
    pc.addTransceiver(MarkedVideoTrack(clock), direction="sendonly")
    prefer_codec(pc, "video", video_codec)
    transport = await router.create_transport(pid, "publish")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await transport.accept_offer(pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return pc


async def wait_for(predicate: object, within: float) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.05)


def timeline(directory: Path) -> list[dict[str, object]]:
    lines = (directory / "timeline.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    ("video_codec", "suffix"), [("video/VP8", ".webm"), ("video/H264", ".mkv")], ids=["vp8", "h264"]
)
async def test_a_recorded_lesson_replays_in_sync(
    tmp_path: Path, video_codec: str, suffix: str
) -> None:
    router = AiortcRouter(MediaSettings(gather_address="127.0.0.1", ice_servers=()))
    rec = Recording(tmp_path, router)
    rec.start()
    pc = await marked_publisher(router, "teacher", video_codec)
    try:
        await wait_for(lambda: len(router.producers()) == 2, 10)
        video = next(p for p in router.producers() if p.kind == "video")
        rec.event("page_changed", {"page": 2})
        # Recorded media time, not a sleep for synchronisation: wait until the files hold it.
        await asyncio.sleep(SECONDS)
        rec.event("page_changed", {"page": 3})
        summary = await rec.stop()
    finally:
        await pc.close()
        await router.close()
    files = {t.kind: tmp_path / t.file for t in summary.tracks}
    assert set(files) == {"audio", "video"}
    assert files["video"].suffix == suffix
    with av.open(str(files["video"])) as f:
        ctx = f.streams.video[0].codec_context
        assert f"video/{ctx.name}" == video_codec.lower()
        if video_codec == "video/H264":
            # The header holds the publisher's parameter sets (avcC: version 1, then the SPS
            # profile), not those of the encoder context opened for the stream's parameters.
            profile = str(video.codec.parameters["profile-level-id"])[:2]
            assert ctx.extradata is not None and ctx.extradata[:2] == bytes([1, int(profile, 16)])
    assert all(t.anchored_by == "sender_report" for t in summary.tracks)
    report = sync_report(files["audio"], files["video"])
    assert report["marks"] >= 4, report
    assert report["drift_ms_max_abs"] <= 80, report
    # Every frame written is read back and decodes (Opus: 50 per second; video: ~30).
    by_kind = {t.kind: t for t in summary.tracks}
    assert report["audio_frames"] == by_kind["audio"].frames
    assert report["video_frames"] == by_kind["video"].frames
    assert by_kind["video"].frames >= 25 * (SECONDS - 2)
    events = timeline(tmp_path)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "recording_started" and kinds[-1] == "recording_stopped"
    assert sorted(str(e["file"]) for e in events if e["type"] == "track") == sorted(
        t.file for t in summary.tracks
    )
    pages = [e for e in events if e["type"] == "page_changed"]
    # The page events sit on the media's clock: the second comes after the last written frame
    # minus the batch delay, the first before the first beep.
    assert pages[0]["t"] < report["audio_marks_s"][0] * 1000
    assert abs(pages[1]["t"] - by_kind["video"].last_ms) < 600  # type: ignore[operator]


async def test_quota_stops_the_recording_and_keeps_what_was_written(tmp_path: Path) -> None:
    router = AiortcRouter(MediaSettings(gather_address="127.0.0.1", ice_servers=()))
    stopped: list[RecordingSummary] = []
    rec = Recording(tmp_path, router, quota_bytes=60_000, on_stopped=stopped.append)
    rec.start()
    pc = await marked_publisher(router, "teacher")
    try:
        await asyncio.wait_for(rec.done.wait(), 20)
    finally:
        await pc.close()
        await router.close()
    assert stopped and stopped[0].stopped_because == "quota"
    assert 0 < stopped[0].bytes <= 60_000
    for track in stopped[0].tracks:
        with av.open(str(tmp_path / track.file)) as f:
            assert sum(1 for _ in f.demux(f.streams[0]) if _.size) == track.frames
    assert timeline(tmp_path)[-1] == {
        "t": timeline(tmp_path)[-1]["t"],
        "type": "recording_stopped",
        "reason": "quota",
    }
