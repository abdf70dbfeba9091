"""Structural checks that need no conversion: zip listings and media durations (worker side)."""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from server.documents.limits import Limits
from server.documents.refusals import DocumentRefusal, Refused

_CHUNK = 64 * 1024
# Small entries compress absurdly well (a file of zeros); only ratios above this size count.
_RATIO_FLOOR = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe(info: zipfile.ZipInfo) -> bool:
    """Names that would escape a folder if extracted, links, and encrypted entries."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name) or ".." in PurePosixPath(name).parts:
        return True
    if stat.S_ISLNK(info.external_attr >> 16):
        return True
    return bool(info.flag_bits & 0x1)


def zip_listing(path: Path, limits: Limits) -> list[dict[str, Any]]:
    """The archive's entries, each decompressed in memory as a stream (never onto disk).

    Declared sizes can lie, so the real bytes are counted while reading: the total and each
    entry's ratio are checked chunk by chunk, and reading stops at the first excess.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > limits.max_zip_entries:
                raise Refused(DocumentRefusal.ZIP_TOO_MANY_ENTRIES)
            for info in infos:
                if _unsafe(info):
                    raise Refused(DocumentRefusal.ZIP_UNSAFE_ENTRY)
            total = 0
            entries: list[dict[str, Any]] = []
            for info in infos:
                size = 0
                if not info.is_dir():
                    with archive.open(info) as stream:
                        while chunk := stream.read(_CHUNK):
                            size += len(chunk)
                            total += len(chunk)
                            ratio = size / max(info.compress_size, 1)
                            too_dense = size > _RATIO_FLOOR and ratio > limits.max_zip_ratio
                            if total > limits.max_zip_total or too_dense:
                                raise Refused(DocumentRefusal.ZIP_BOMB)
                entries.append({"name": info.filename, "size": size, "dir": info.is_dir()})
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        raise Refused(DocumentRefusal.DAMAGED) from None
    return entries


def audio_duration(path: Path) -> float:
    """An MP3's duration in seconds, read by FFmpeg (av) from the stream itself."""
    import av  # imported late: only the worker decodes media

    try:
        with av.open(str(path)) as container:
            audio = [s for s in container.streams if s.type == "audio"]
            if not audio or not audio[0].codec_context.name.startswith("mp3"):
                raise Refused(DocumentRefusal.UNSUPPORTED)
            # Decode the first packets: a header followed by garbage must not pass.
            decoded = 0
            for frame in container.decode(audio[0]):
                decoded += frame.samples if isinstance(frame, av.AudioFrame) else 0
                if decoded > 44_100:
                    break
            duration = container.duration
    except av.FFmpegError:
        raise Refused(DocumentRefusal.DAMAGED) from None
    if decoded == 0 or not duration:
        raise Refused(DocumentRefusal.DAMAGED)
    return round(duration / 1_000_000, 3)
