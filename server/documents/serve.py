"""Sending a stored document's files: page images, the video, the original, one zip entry.

Who may is decided by the caller (a room ticket, or the lesson's people by session); this
module only answers for a document it is given, with `nosniff` and a `Content-Disposition`.
"""

from __future__ import annotations

import asyncio
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import quote

from aiohttp import web

from rooms.refusals import Reason
from server.errors import error

FILE = re.compile(r"^(?:\d{1,5}-\d{1,4}\.webp|video\.mp4|original)$")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "mp3": "audio/mpeg",
    "zip": "application/zip",
    "png": "image/png",
    "jpeg": "image/jpeg",
}
# Content-addressed: a URL's bytes never change. `private`: only members may see them.
IMMUTABLE = "private, max-age=31536000, immutable"
_CHUNK = 64 * 1024


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"


def file_response(folder: Path, document: dict[str, Any], file: str) -> web.StreamResponse:
    """One of the document's files (`FILE`), or `unknown_document`."""
    path = folder / file
    if not FILE.match(file) or not path.is_file():
        return error(Reason.UNKNOWN_DOCUMENT)
    if file == "original":
        media_type = MEDIA_TYPES.get(str(document["kind"]), "application/octet-stream")
        disposition = _attachment(str(document["name"]))
    elif file == "video.mp4":
        media_type, disposition = "video/mp4", 'inline; filename="video.mp4"'
    else:
        media_type, disposition = "image/webp", f'inline; filename="{file}"'
    return web.FileResponse(
        path,
        headers={
            "Content-Type": media_type,
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": IMMUTABLE,
        },
    )


def _open_entry(path: Path, index: int, name: str) -> tuple[zipfile.ZipFile, IO[bytes]]:
    archive = zipfile.ZipFile(path)
    try:
        info = archive.infolist()[index]
        if info.filename != name:  # the listing and the archive disagree: refuse
            raise KeyError(name)
        return archive, archive.open(info)
    except BaseException:
        archive.close()
        raise


async def entry_response(
    request: web.Request, folder: Path, document: dict[str, Any], name: str
) -> web.StreamResponse:
    """One file of a zip, inflated in memory and streamed: never extracted onto disk.

    Only a name of the listing made when the zip was checked (its bombs and unsafe names
    refused then) is served; the listing's real size caps what is sent.
    """
    entries = document.get("entries") if document.get("shown_as") == "listing" else None
    found = [
        (i, e)
        for i, e in enumerate(entries or [])
        if e.get("name") == name and not e.get("dir", False)
    ]
    source = folder / "original"
    if not found or not source.is_file():
        return error(Reason.UNKNOWN_DOCUMENT, "The archive has no such file.")
    index, entry = found[0]
    try:
        archive, stream = await asyncio.to_thread(_open_entry, source, index, name)
    except (KeyError, IndexError, zipfile.BadZipFile, OSError):
        return error(Reason.UNKNOWN_DOCUMENT, "The archive has no such file.")
    size = int(entry["size"])
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": _attachment(PurePosixPath(name).name or "file"),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": IMMUTABLE,
        }
    )
    response.content_length = size
    try:
        await response.prepare(request)
        sent = 0
        while sent < size and (chunk := await asyncio.to_thread(stream.read, _CHUNK)):
            chunk = chunk[: size - sent]
            sent += len(chunk)
            await response.write(chunk)
        await response.write_eof()
    finally:
        stream.close()
        archive.close()
    return response
