"""The school's recording quota (server/recordings.py): counted off the event loop, still refusing.

The quota is checked by walking every file of every recording the school keeps; that walk used to
run on the event loop, where it held up every lesson's signalling for as long as it took.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from media.recorder import RecordingSummary
from media.router import AiortcRouter
from media.settings import MediaSettings
from server.recordings import MB, Recordings, folder_bytes

FILES = 3000  # a school's worth of recorded tracks and timelines, in small files


def stored_recordings(root: Path) -> dict[Path, bytes]:
    """Recordings already on disk: more than 1 MB in many files, in two rooms."""
    kept: dict[Path, bytes] = {}
    for n in range(FILES):
        room = "room-a" if n % 2 else "room-b"
        folder = root / room / f"20260101T0{n % 10}0000Z-s{n % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"track-{n}.webm"
        body = bytes([n % 251]) * 400
        path.write_bytes(body)
        kept[path] = body
    return kept


async def test_a_spent_quota_is_counted_in_a_thread_refused_and_keeps_every_file(
    tmp_path: Path,
) -> None:
    root = tmp_path / "recordings"
    kept = await asyncio.to_thread(stored_recordings, root)
    assert await asyncio.to_thread(folder_bytes, root) > 1 * MB
    recordings = Recordings(root)
    router = AiortcRouter(MediaSettings(gather_address="127.0.0.1", ice_servers=()))
    stopped: list[RecordingSummary] = []

    # The loop turns while the quota is counted: another task runs meanwhile.
    turns = 0

    async def turning() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(turning())
    await asyncio.sleep(0)
    before = turns
    try:
        started = await recordings.start("room-c", "s1", router, 1, stopped.append)
    finally:
        ticker.cancel()
    during = turns - before
    assert during > 0, "the event loop stood still while the quota was counted"

    # Refused: nothing started, nobody told from here (the signalling says "quota").
    assert started is None and recordings.recording("room-c") is None and stopped == []
    assert not (root / "room-c").exists()
    # Nothing stored was lost.
    found = await asyncio.to_thread(lambda: {p: p.read_bytes() for p in root.rglob("*.webm")})
    assert found == kept


async def test_under_the_quota_the_recording_starts_once(tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    await asyncio.to_thread(stored_recordings, root)
    recordings = Recordings(root)
    router = AiortcRouter(MediaSettings(gather_address="127.0.0.1", ice_servers=()))
    stopped: list[RecordingSummary] = []
    # Two starts at once (a command and its retry): one recording.
    first, second = await asyncio.gather(
        recordings.start("room-c", "s1", router, 2, stopped.append),
        recordings.start("room-c", "s1", router, 2, stopped.append),
    )
    try:
        assert first is not None and first is second
        assert recordings.recording("room-c") is first
    finally:
        summary = await recordings.stop("room-c")
        await router.close()
    assert summary is not None and summary.stopped_because == "stopped"
