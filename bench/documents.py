"""Document conversion figures for docs/documents.md, printed as one JSON object.

    .venv/bin/python -m bench.documents

A 20-slide pptx (made by LibreOffice from a flat ODP) and a 50-page PDF are converted through
the upload's own path (worker process, limits) while a 5 ms probe watches the event loop.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from server.documents.limits import Limits
from server.documents.pipeline import run_worker
from tests.documents import samples


def _sizes(out: Path, width: int) -> list[int]:
    return sorted(p.stat().st_size for p in out.glob(f"*-{width}.webp"))


async def _convert(source: Path, out: Path) -> dict[str, Any]:
    wall_gaps: list[float] = []
    cpu_gaps: list[float] = []
    first_page: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        last_wall, last_cpu = time.perf_counter(), time.thread_time()
        while not done.is_set():
            await asyncio.sleep(0.005)
            wall, cpu = time.perf_counter(), time.thread_time()
            wall_gaps.append(wall - last_wall - 0.005)
            cpu_gaps.append(cpu - last_cpu)
            last_wall, last_cpu = wall, cpu

    def progress(message: dict[str, Any]) -> None:
        if not first_page:
            first_page.append(time.perf_counter() - started)

    task = asyncio.create_task(probe())
    started = time.perf_counter()
    result = await run_worker("convert", source, Limits(), out=out, progress=progress)
    seconds = time.perf_counter() - started
    done.set()
    await task
    sizes = _sizes(out, 1280)
    return {
        "pages": result["pages"],
        "seconds": round(seconds, 2),
        "first_page_s": round(first_page[0], 2),
        "bytes_per_page_1280": {
            "median": int(statistics.median(sizes)),
            "max": sizes[-1],
        },
        "bytes_per_page_640_median": int(statistics.median(_sizes(out, 640))),
        "loop_longest_gap_ms": round(max(wall_gaps) * 1000, 1),
        "loop_longest_cpu_ms": round(max(cpu_gaps) * 1000, 2),
    }


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        deck = samples.office(samples.flat_odp(tmp / "deck.fodp", 20), "pptx", tmp)
        pdf = samples.pdf(tmp / "book.pdf", 50)
        return {
            "pptx_20_slides": await _convert(deck, tmp / "deck"),
            "pdf_50_pages": await _convert(pdf, tmp / "book"),
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
