"""The conversion worker: a process of its own, under memory limits, talking JSON lines.

    python -m server.documents.worker MODE SOURCE WORK OUT LIMITS_JSON

MODE is `inspect` (checks only) or `convert` (also writes pages / media into OUT). Each line
on stdout is one JSON object: {"progress": {...}}, then {"result": {...}} or {"refused": {...}}.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

from server.documents.checks import audio_duration, zip_listing
from server.documents.limits import Limits
from server.documents.refusals import Refused
from server.documents.render import open_image, pdf_pages, render_pdf, save_widths
from server.documents.sniff import OFFICE, Kind, sniff


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class _Progress:
    """Reports each page once it is on disk, with the kind (the server may share it already)."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind.value

    def __call__(self, page: int, pages: int, aspect: float) -> None:
        _say({"progress": {"page": page, "pages": pages, "aspect": aspect, "kind": self.kind}})


def run(mode: str, source: Path, work: Path, out: Path, limits: Limits) -> dict[str, Any]:
    """Check (and in `convert` mode, convert) one file; what it is and how it is shown."""
    kind = sniff(source)
    result: dict[str, Any] = {"kind": kind.value}
    convert = mode == "convert"
    progress = _Progress(kind)
    if kind in OFFICE or kind is Kind.PDF:
        pdf = source
        if kind in OFFICE:
            from server.documents.office import office_to_pdf

            pdf = office_to_pdf(source, kind, work, limits)
        result["shown_as"] = "pages"
        if convert:
            result["pages"] = render_pdf(pdf, out, limits, progress)
        else:
            result["pages"] = pdf_pages(pdf, limits)
    elif kind in (Kind.PNG, Kind.JPEG):
        image = open_image(source, limits)
        result.update(shown_as="pages", pages=1, width=image.width, height=image.height)
        if convert:
            progress(1, 1, save_widths(image, out, 1, limits))
    elif kind is Kind.MP3:
        result.update(shown_as="player", duration_s=audio_duration(source))
    elif kind is Kind.FLV:
        from server.documents.video import flv_to_mp4

        target = (out if convert else work) / "video.mp4"
        result.update(shown_as="player", duration_s=flv_to_mp4(source, target), media="video.mp4")
    else:
        result.update(shown_as="listing", entries=zip_listing(source, limits))
    if result["shown_as"] == "pages":
        result["widths"] = list(limits.widths)
    return result


def main(argv: list[str]) -> int:
    """Entry point; the exit status is 0 for a result or a refusal, 1 for a crash."""
    mode, source, work, out, raw = argv
    limits = Limits.from_json(json.loads(raw))
    # Address space, not resident memory: LibreOffice and pdfium allocate before they touch.
    cap = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Below the server's priority: a conversion must not take the CPU from the room's media.
    os.nice(10)
    try:
        result = run(mode, Path(source), Path(work), Path(out), limits)
    except Refused as refusal:
        _say({"refused": {"code": refusal.code.value, "message": refusal.message}})
        return 0
    except MemoryError:
        _say({"refused": {"code": "document_conversion_failed", "message": "out of memory"}})
        return 0
    _say({"result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
