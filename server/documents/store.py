"""Converted documents, content-addressed in the data folder, and which room holds which.

documents/<sha256>/original        the uploaded bytes
documents/<sha256>/N-W.webp        page N at W pixels (appear one by one while converting)
documents/<sha256>/video.mp4       an FLV's conversion
documents/<sha256>/meta.json       written last: the document is complete
documents/rooms/<room>/<sha256>.json   the room's copy: its name, who uploaded it, when
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from server.documents.limits import Limits
from server.documents.pipeline import Progress, run_worker

DOCUMENT_ID = re.compile(r"^[0-9a-f]{64}$")
ROOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)  # readers see the old file or the whole new one


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data


def _finish(upload: Path, out: Path, document_id: str, result: dict[str, Any]) -> None:
    """Keep the original beside its pages; meta.json last, so it marks a complete document."""
    result["id"] = document_id
    result["bytes"] = upload.stat().st_size
    os.replace(upload, out / "original")
    _write_json(out / "meta.json", result)


class DocumentStore:
    """Documents of every room of this installation."""

    def __init__(self, root: Path, work_root: Path) -> None:
        self.root = root
        self.work_root = work_root
        self._converting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        # Documents whose pages are being made: shareable from their first page on.
        self._partial: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def keep(self, task: asyncio.Task[None]) -> None:
        """Hold a fire-and-forget task (a progress report) until it is done."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def folder(self, document_id: str) -> Path:
        """Where one document's files are (the id is checked by the caller)."""
        return self.root / document_id

    def meta(self, document_id: str) -> dict[str, Any] | None:
        """A complete document's description, or None."""
        if not DOCUMENT_ID.match(document_id):
            return None
        return _read_json(self.folder(document_id) / "meta.json")

    async def add(
        self, upload: Path, document_id: str, limits: Limits, progress: Progress | None = None
    ) -> dict[str, Any]:
        """Check and convert an upload once; the same bytes again reuse the first conversion.

        `upload` is moved into the store on success and left to the caller otherwise.
        """
        known = self.meta(document_id)
        if known is not None:
            return known
        running = self._converting.get(document_id)
        if running is not None:  # the same file uploaded twice at once: one conversion
            return await asyncio.shield(running)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._converting[document_id] = future

        def pages_made(step: dict[str, Any]) -> None:
            partial = self._partial.setdefault(
                document_id,
                {
                    "id": document_id,
                    "kind": step.get("kind", ""),
                    "shown_as": "pages",
                    "pages": step["pages"],
                    "widths": list(limits.widths),
                    "aspect": step.get("aspect"),
                    "converting": True,
                },
            )
            partial["ready"] = step["page"]
            if progress is not None:
                progress(step)

        try:
            out = self.folder(document_id)
            shutil.rmtree(out, ignore_errors=True)  # a conversion a crash cut short
            result = await run_worker(
                "convert", upload, limits, work_root=self.work_root, out=out, progress=pages_made
            )
            first = self._partial.get(document_id)
            if first is not None and first.get("aspect"):
                result["aspect"] = first["aspect"]  # the stage's shape before a page loads
            _finish(upload, out, document_id, result)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # nobody else may be waiting: no "never retrieved" warning
            raise
        finally:
            del self._converting[document_id]
            self._partial.pop(document_id, None)

    def partial(self, document_id: str) -> dict[str, Any] | None:
        """A document still being converted, with how many pages are ready, or None."""
        return self._partial.get(document_id)

    def attach(self, room_id: str, document_id: str, name: str, by: str) -> dict[str, Any]:
        """The document becomes the room's, under the name it was uploaded with."""
        folder = self.root / "rooms" / room_id
        folder.mkdir(parents=True, exist_ok=True)
        entry = {"id": document_id, "name": name, "by": by, "at": time.time()}
        _write_json(folder / f"{document_id}.json", entry)
        return entry

    def detach(self, room_id: str, document_id: str) -> None:
        """The room no longer holds the document (its conversion failed after the first page)."""
        if ROOM_ID.match(room_id) and DOCUMENT_ID.match(document_id):
            (self.root / "rooms" / room_id / f"{document_id}.json").unlink(missing_ok=True)

    def in_room(self, room_id: str, document_id: str) -> dict[str, Any] | None:
        """The room's copy of a document (its name) merged with the document, or None.

        A document still converting is there once its first page is (`converting`, `ready`).
        """
        if not ROOM_ID.match(room_id) or not DOCUMENT_ID.match(document_id):
            return None
        entry = _read_json(self.root / "rooms" / room_id / f"{document_id}.json")
        meta = self.meta(document_id) or self._partial.get(document_id)
        if entry is None or meta is None:
            return None
        return {**meta, "name": entry["name"], "by": entry["by"], "at": entry["at"]}

    def of_room(self, room_id: str) -> list[dict[str, Any]]:
        """Every document of a room, oldest first."""
        folder = self.root / "rooms" / room_id
        if not ROOM_ID.match(room_id) or not folder.is_dir():
            return []
        found = [self.in_room(room_id, p.stem) for p in folder.glob("*.json")]
        return sorted((d for d in found if d is not None), key=lambda d: float(d["at"]))
