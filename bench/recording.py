"""Recorded-lesson sync: `python -m bench.recording [--seconds 60]`.

An aiortc publisher (a beep and a white picture together every second, a dark moving gradient
between) is recorded through the router for the given time; the files are read back with av
and each beep paired with its picture. Prints one JSON object: frames, marks paired, drift
(video - audio) max and mean in ms, bytes, and how each stream was anchored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from media.recorder import Recording
from media.router import AiortcRouter
from media.settings import MediaSettings

from ._recording import MarkedAudioTrack, MarkedVideoTrack, SharedClock, sync_report


async def run(seconds: float, folder: Path) -> dict[str, Any]:
    """Record `seconds` of the marked publisher into `folder`; the sync report."""
    router = AiortcRouter(MediaSettings(gather_address="127.0.0.1", ice_servers=()))
    rec = Recording(folder, router)
    rec.start()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    clock = SharedClock()
    pc.addTransceiver(MarkedAudioTrack(clock), direction="sendonly")
    video = pc.addTransceiver(MarkedVideoTrack(clock), direction="sendonly")
    caps = RTCRtpSender.getCapabilities("video").codecs
    video.setCodecPreferences([c for c in caps if c.mimeType.lower() in ("video/vp8", "video/rtx")])
    transport = await router.create_transport("teacher", "publish")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await transport.accept_offer(pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    started = time.monotonic()
    try:
        await asyncio.sleep(seconds)  # the length of the lesson being recorded
        summary = await rec.stop()
    finally:
        await pc.close()
        await router.close()
    files = {t.kind: folder / t.file for t in summary.tracks}
    report = sync_report(files["audio"], files["video"])
    report.pop("audio_marks_s")
    return {
        "seconds": round(time.monotonic() - started, 1),
        **report,
        "bytes": summary.bytes,
        "anchored_by": sorted({t.anchored_by for t in summary.tracks}),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sabaq-bench-recording-") as folder:
        print(json.dumps(await run(args.seconds, Path(folder))))


if __name__ == "__main__":
    asyncio.run(main())
