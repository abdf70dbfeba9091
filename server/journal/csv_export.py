"""The CSV export journal: one file per school day, a row per (lesson, pupil), once per key.

The courier marks a record delivered only after this adapter returns; if the process dies in
between, the record comes again under the same key. So before appending, the day's file is read
for the key: a row already there means "delivered", and nothing is written twice. A row cut short
by a crash in the middle of the write is cut off before the next append.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: one process per installation there
    fcntl = None  # type: ignore[assignment]

from server.journal.adapters import Delivered, Rejected, Result, Retry
from server.spreadsheet import safe_cell

COLUMNS = (
    "key",
    "date",
    "lesson_id",
    "starts_at",
    "class_name",
    "subject",
    "pupil_id",
    "pupil_name",
    "status",
    "late",
    "left_early",
    "attended_min",
    "network_lost_min",
    "comment",
)
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _row(key: str, record: dict[str, Any], day: str) -> list[str]:
    starts = datetime.fromtimestamp(float(record["starts_at"]), UTC).isoformat(timespec="seconds")
    values = {
        **record,
        "key": key,
        "date": day,
        "starts_at": starts,
        "pupil_name": record.get("name", ""),
    }
    return [safe_cell(values.get(column)) for column in COLUMNS]


def _keys(path: Path) -> set[str]:
    with path.open(encoding="utf-8", newline="") as source:
        return {row[0] for row in csv.reader(source) if row}


def _append(path: Path, key: str, line: str) -> bool:
    """Append one line unless the key is already in the file; True if it was appended."""
    with path.open("a+b") as out:
        # Several server processes may deliver: one checks and writes at a time.
        if fcntl is not None:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX)
        size = out.seek(0, os.SEEK_END)
        if size:
            out.seek(size - 1)
            if out.read(1) != b"\n":  # the last append was cut short by a crash
                out.seek(0)
                content = out.read()
                size = out.truncate(content.rfind(b"\n") + 1)
        if size and key in _keys(path):
            return False
        header = "" if size else ",".join(COLUMNS) + "\r\n"
        out.seek(0, os.SEEK_END)
        out.write((header + line).encode("utf-8"))
        out.flush()
        os.fsync(out.fileno())
    return True


class CsvJournal:
    """Attendance appended to `DIR/attendance-YYYY-MM-DD.csv`, idempotent by key."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._lock = asyncio.Lock()  # one writer per file at a time in this process

    def path_for(self, day: str) -> Path:
        """The file of one school day."""
        return self._folder / f"attendance-{day}.csv"

    async def deliver(self, key: str, record: dict[str, Any]) -> Result:
        """Append the record's row to its day's file, unless that file has its key already."""
        try:
            day = str(record.get("date") or "")
            if not DAY.match(day):
                day = datetime.fromtimestamp(float(record["starts_at"]), UTC).date().isoformat()
            buffer = io.StringIO()
            csv.writer(buffer).writerow(_row(key, record, day))
        except (KeyError, TypeError, ValueError) as exc:
            return Rejected(f"bad record: {exc}"[:200])
        try:
            async with self._lock:
                await asyncio.to_thread(self._folder.mkdir, parents=True, exist_ok=True)
                await asyncio.to_thread(_append, self.path_for(day), key, buffer.getvalue())
        except OSError as exc:  # a full disk or a folder gone: worth trying again later
            return Retry(f"{type(exc).__name__}: {exc}"[:200])
        return Delivered()
