"""A lesson's recordings after the lesson (docs/recordings.md): the list, the files (with HTTP
ranges, so a player seeks), and the retention sweep that deletes old ones into the audit log.

Who may watch is who may have the lesson's documents (`lesson_after`): its teacher and
administrators, and the pupils of its class once the lesson ended — checked on the signed-in
session for every request, files included.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from rooms.refusals import Reason
from server import openapi
from server.db.engine import sessions
from server.db.tables import AuditRow, Lesson
from server.errors import error
from server.journal import school
from server.journal.documents import Withheld, lesson_after
from server.keys import ENGINE, SIGNALLING
from server.openapi import Refused, acting_user
from server.recordings import folder_bytes

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

RECORDING_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{1,32}$")
FILE_NAME = re.compile(
    r"^[A-Za-z0-9_-]{1,80}-(mic|camera|screen)-\d{1,4}\.(webm|mkv)$|^timeline\.jsonl$"
)
EARLY = "The lesson's recording opens for its class after the lesson."
SWEEP_S = 3600.0
# H.264 tracks are Matroska (.mkv): WebM admits only VP8/VP9/AV1 (media/recorder.py).
FILE_TYPES = {".webm": "video/webm", ".mkv": "video/x-matroska"}


def describe(folder: Path, base_url: str) -> dict[str, Any] | None:
    """One recording folder as the API shows it (None: not a recording)."""
    timeline = folder / "timeline.jsonl"
    if not RECORDING_ID.match(folder.name) or not timeline.is_file():
        return None
    started, duration, tracks = None, 0, []
    for line in timeline.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        duration = max(duration, int(event.get("t", 0)))
        if event.get("type") == "recording_started":
            started = event.get("wall")
        elif event.get("type") == "track" and (folder / str(event.get("file"))).is_file():
            tracks.append(
                {
                    "file": event["file"],
                    "url": f"{base_url}/{folder.name}/{event['file']}",
                    "participant_id": event.get("participant_id"),
                    "source": event.get("source"),
                    "kind": event.get("kind"),
                    "start_ms": event.get("t", 0),
                }
            )
    return {
        "id": folder.name,
        "started_at": started,
        "duration_ms": duration,
        "tracks": tracks,
        "timeline_url": f"{base_url}/{folder.name}/timeline.jsonl",
    }


async def _lesson(request: web.Request) -> Lesson | web.Response:
    try:
        account = await acting_user(request)
    except Refused as refused:  # a one-time sign-in
        return refused.response
    if account is None:
        return error(Reason.NOT_SIGNED_IN)
    lesson_id = int(request.match_info["lesson_id"])
    if lesson_id > 2**62:
        return error(Reason.UNKNOWN_LESSON)
    try:
        async with sessions(request.app[ENGINE])() as s:
            return await lesson_after(s, lesson_id, account, EARLY)
    except Withheld as withheld:
        return error(withheld.reason, withheld.message)


def _folder(request: web.Request, lesson: Lesson) -> Path:
    return request.app[SIGNALLING].recordings.folder / (lesson.room_id or "-")


@routes.get(r"/api/lessons/{lesson_id:\d+}/recordings")
async def lesson_recordings(request: web.Request) -> web.Response:
    """The lesson's recordings, oldest first."""
    lesson = await _lesson(request)
    if isinstance(lesson, web.Response):
        return lesson
    folder = _folder(request, lesson)
    base = f"/api/lessons/{lesson.id}/recordings"
    found = sorted(folder.iterdir()) if folder.is_dir() else []
    described = await asyncio.to_thread(lambda: [describe(f, base) for f in found])
    return web.json_response({"recordings": [r for r in described if r is not None]})


@routes.get(r"/api/lessons/{lesson_id:\d+}/recordings/{recording}/{file}")
async def recording_file(request: web.Request) -> web.StreamResponse:
    """One file of a recording (WebM or the timeline); ranges for seeking."""
    lesson = await _lesson(request)
    if isinstance(lesson, web.Response):
        return lesson
    recording, file = request.match_info["recording"], request.match_info["file"]
    if not RECORDING_ID.match(recording) or not FILE_NAME.match(file):
        return error(Reason.NOT_FOUND)
    path = _folder(request, lesson) / recording / file
    if not path.is_file():
        return error(Reason.NOT_FOUND)
    kind = FILE_TYPES.get(path.suffix, "application/x-ndjson")
    return web.FileResponse(
        path, headers={"Content-Type": kind, "Cache-Control": "private, no-store"}
    )


async def sweep(app: web.Application, now: float) -> list[str]:
    """Delete recordings older than the school's retention period; each deletion is written to
    the audit log (children's data: who may ask when it went). Returns what was deleted."""
    root = app[SIGNALLING].recordings.folder
    async with sessions(app[ENGINE])() as s:
        days = (await school.load(s)).recording_retention_days
    limit = now - days * 86400
    deleted = []
    for room in sorted(root.iterdir()) if root.is_dir() else []:
        for folder in sorted(room.iterdir()) if room.is_dir() else []:
            if not RECORDING_ID.match(folder.name):
                continue
            made = time.mktime(time.strptime(folder.name[:16], "%Y%m%dT%H%M%SZ")) - time.timezone
            if made >= limit or app[SIGNALLING].recordings.recording(room.name) is not None:
                continue
            size = await asyncio.to_thread(folder_bytes, folder)  # a walk: off the event loop
            await asyncio.to_thread(shutil.rmtree, folder)
            deleted.append(f"{room.name}/{folder.name}")
            async with sessions(app[ENGINE])() as s, s.begin():
                s.add(
                    AuditRow(
                        at=now,
                        actor_id=None,
                        actor="retention",
                        action="recording_deleted",
                        target_id=None,
                        target=room.name[:64],
                        detail=json.dumps(
                            {"recording": folder.name, "bytes": size, "retention_days": days}
                        ),
                    )
                )
            log.info("recording %s/%s deleted after %d days", room.name, folder.name, days)
    return deleted


async def retention(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the sweep at start and every hour, never on the live path."""

    async def forever() -> None:
        while True:
            try:
                await sweep(app, time.time())
            except Exception:  # a failed sweep is tried again in an hour
                log.exception("recording retention sweep")
            await asyncio.sleep(SWEEP_S)  # a period, not synchronisation

    task = asyncio.create_task(forever())
    yield
    task.cancel()


WHO = "the lesson's teacher, administrators, and its class's pupils once the lesson ended"
ERRORS = (Reason.NOT_SIGNED_IN, Reason.NOT_PERMITTED, Reason.UNKNOWN_LESSON)
openapi.describe(
    lesson_recordings,
    "GET",
    "/api/lessons/{lesson_id}/recordings",
    who=WHO,
    answer_type="application/json",
    errors=ERRORS,
)
openapi.describe(
    recording_file,
    "GET",
    "/api/lessons/{lesson_id}/recordings/{recording}/{file}",
    who=WHO,
    answer_type="video/webm",
    errors=(*ERRORS, Reason.NOT_FOUND),
)
