"""The recorders of the live rooms on this process, and where their files go (docs/recordings.md).

A room's recording is started and stopped by the room core's `Recorder` effect (the host's
command, checked against the school's rule); this module only does the I/O: a folder per
recording under `data/recordings/ROOM/`, the school's disk quota, the room's public events into
the timeline, and telling the room when a recording stopped by itself (quota, full disk).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from media.recorder import Recording, RecordingSummary
from media.router import AiortcRouter
from rooms.model import Event, Everyone

log = logging.getLogger(__name__)

# Room events kept in the timeline: what a replay needs to show beside the media.
TIMELINE_EVENTS = frozenset(
    {
        "share_changed",
        "page_changed",
        "player_changed",
        "sharing_stopped",
        "layout_changed",
        "poll_updated",
        "chat_message",
        "chat_deleted",
        "participant_joined",
        "participant_left",
        "participant_updated",
        "recording",
    }
)
MB = 1024 * 1024


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under a folder (0 if there is none)."""
    if not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class Recordings:
    """One `Recording` per recorded room of this process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._active: dict[str, Recording] = {}

    def recording(self, room_id: str) -> Recording | None:
        """The room's running recording, if any."""
        return self._active.get(room_id)

    async def start(
        self,
        room_id: str,
        session: str,
        router: AiortcRouter,
        quota_mb: int,
        on_stopped: Callable[[RecordingSummary], None],
    ) -> Recording | None:
        """Start recording the room; None (and `on_stopped` is not called) if the quota is spent."""
        if room_id in self._active:
            return self._active[room_id]
        # The quota counts every file of every recording of the school: a walk that grows with
        # the years, in a thread, so the event loop (every lesson's signalling) never waits on it.
        used = await asyncio.to_thread(folder_bytes, self.folder)
        if room_id in self._active:  # started by another command meanwhile
            return self._active[room_id]
        left = quota_mb * MB - used
        if left <= 0:
            return None
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        directory = self.folder / room_id / f"{stamp}-{session}"

        def stopped(summary: RecordingSummary) -> None:
            if self._active.get(room_id) is recording:
                del self._active[room_id]
            log.info(
                "room %s: recording in %s stopped (%s), %d bytes in %d files",
                room_id,
                directory,
                summary.stopped_because,
                summary.bytes,
                len(summary.tracks),
            )
            on_stopped(summary)

        recording = Recording(directory, router, quota_bytes=left, on_stopped=stopped)
        recording.start()
        self._active[room_id] = recording
        return recording

    async def stop(self, room_id: str) -> RecordingSummary | None:
        """Stop the room's recording and wait for its files to be closed (idempotent)."""
        recording = self._active.get(room_id)
        if recording is None:
            return None
        return await recording.stop()

    def room_event(self, room_id: str, event: Event) -> None:
        """A room event sent to everyone: into the timeline if the room is being recorded."""
        recording = self._active.get(room_id)
        if recording is None or event.name not in TIMELINE_EVENTS:
            return
        if not isinstance(event.audience, Everyone):
            return  # private messages, staff-only draft polls: never in a recording
        payload: dict[str, Any] = dict(event.payload)
        recording.event(event.name, {"data": payload})

    async def close(self) -> None:
        """Shutdown: stop every recording, its files closed cleanly."""
        for room_id in list(self._active):
            await self.stop(room_id)
