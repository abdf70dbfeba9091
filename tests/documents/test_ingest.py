"""Ingestion end to end through the worker process: every kind, every bad input, no leftovers."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from server.documents.limits import Limits
from server.documents.pipeline import run_worker
from server.documents.refusals import DocumentRefusal, Refused
from tests.documents import samples

LIMITS = Limits(widths=(640, 1280))
needs_soffice = pytest.mark.skipif(
    samples.soffice() is None, reason="LibreOffice (libreoffice-impress) is not installed"
)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


async def _inspect(path: Path, work: Path, limits: Limits = LIMITS) -> dict[str, Any]:
    try:
        return await run_worker("inspect", path, limits, work_root=work)
    finally:
        assert os.listdir(work) == []  # the throwaway folder is gone


async def _refused(path: Path, work: Path, limits: Limits = LIMITS) -> DocumentRefusal:
    with pytest.raises(Refused) as caught:
        await _inspect(path, work, limits)
    return caught.value.code


async def test_pdf_pages_render_one_by_one(tmp_path: Path, work: Path) -> None:
    source = samples.pdf(tmp_path / "lesson.bin", 3)  # the name says nothing
    out = tmp_path / "out"
    seen: list[dict[str, Any]] = []
    result = await run_worker(
        "convert", source, LIMITS, work_root=work, out=out, progress=seen.append
    )
    assert result == {"kind": "pdf", "shown_as": "pages", "pages": 3, "widths": [640, 1280]}
    assert [(p["page"], p["pages"]) for p in seen] == [(1, 3), (2, 3), (3, 3)]
    assert sorted(p.name for p in out.iterdir()) == [
        f"{n}-{w}.webp" for n in (1, 2, 3) for w in (1280, 640)
    ]
    assert (out / "1-1280.webp").read_bytes()[8:12] == b"WEBP"
    assert os.listdir(work) == []


@pytest.mark.parametrize("maker", [samples.png, samples.jpeg])
async def test_pictures_are_one_page(tmp_path: Path, work: Path, maker: Any) -> None:
    result = await _inspect(maker(tmp_path / "picture.pdf"), work)
    assert result["pages"] == 1 and result["shown_as"] == "pages"
    assert (result["width"], result["height"]) == (800, 600)


async def test_mp3_has_a_duration(tmp_path: Path, work: Path) -> None:
    result = await _inspect(samples.mp3(tmp_path / "song.mp3", 2.0), work)
    assert result["kind"] == "mp3" and result["shown_as"] == "player"
    assert result["duration_s"] == pytest.approx(2.0, abs=0.1)


async def test_flv_becomes_h264_aac_mp4(tmp_path: Path, work: Path) -> None:
    import av

    out = tmp_path / "out"
    result = await run_worker(
        "convert", samples.flv(tmp_path / "old.flv"), LIMITS, work_root=work, out=out
    )
    assert result["kind"] == "flv" and result["media"] == "video.mp4"
    with av.open(str(out / "video.mp4")) as video:
        assert sorted(s.codec_context.name for s in video.streams) == ["aac", "h264"]


async def test_zip_is_listed_not_extracted(tmp_path: Path, work: Path) -> None:
    result = await _inspect(samples.good_zip(tmp_path / "a.zip"), work)
    assert result["shown_as"] == "listing"
    assert [(e["name"], e["size"]) for e in result["entries"]] == [
        ("worksheet.txt", 320),
        ("images/", 0),
        ("images/diagram.txt", 9),
    ]


@pytest.mark.parametrize(
    ("name", "symlink"),
    [
        ("../../etc/cron.d/x", False),
        ("/etc/passwd", False),
        ("C:/win.ini", False),
        ("a/../../b", False),
        ("link", True),
    ],
)
async def test_unsafe_zip_entries(tmp_path: Path, work: Path, name: str, symlink: bool) -> None:
    path = samples.zip_with(tmp_path / "bad.zip", name, symlink=symlink)
    assert await _refused(path, work) is DocumentRefusal.ZIP_UNSAFE_ENTRY


async def test_zip_bomb_stops_while_streaming(tmp_path: Path, work: Path) -> None:
    path = samples.zip_bomb(tmp_path / "bomb.zip", 200)
    assert path.stat().st_size < 1024 * 1024
    assert await _refused(path, work) is DocumentRefusal.ZIP_BOMB
    # The total alone also counts (a low ratio, too much in all).
    limits = Limits(max_zip_total=50 * 1024 * 1024, max_zip_ratio=10**6)
    assert await _refused(path, work, limits) is DocumentRefusal.ZIP_BOMB


async def test_zip_entry_count(tmp_path: Path, work: Path) -> None:
    path = samples.zip_many(tmp_path / "many.zip", 30)
    limits = Limits(max_zip_entries=20)
    assert await _refused(path, work, limits) is DocumentRefusal.ZIP_TOO_MANY_ENTRIES


async def test_empty_file(tmp_path: Path, work: Path) -> None:
    (tmp_path / "e.pdf").write_bytes(b"")
    assert await _refused(tmp_path / "e.pdf", work) is DocumentRefusal.EMPTY


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00" + b"\0" * 200,
        b"\x7fELF\x02\x01\x01" + b"\0" * 200,
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"#!/bin/sh\nrm -rf /\n",
    ],
)
async def test_not_a_pdf_named_pdf(tmp_path: Path, work: Path, content: bytes) -> None:
    (tmp_path / "lesson.pdf").write_bytes(content)
    assert await _refused(tmp_path / "lesson.pdf", work) is DocumentRefusal.UNSUPPORTED


@pytest.mark.parametrize("keep", [0.5, -10])
async def test_truncated_pdf(tmp_path: Path, work: Path, keep: float) -> None:
    """Cut in half, or only its last line: pdfium would silently repair and open the latter."""
    whole = samples.pdf(tmp_path / "whole.pdf", 3).read_bytes()
    cut = whole[: int(len(whole) * keep)] if keep > 0 else whole[: int(keep)]
    (tmp_path / "cut.pdf").write_bytes(cut)
    assert await _refused(tmp_path / "cut.pdf", work) is DocumentRefusal.DAMAGED


async def test_too_many_pages(tmp_path: Path, work: Path) -> None:
    path = samples.pdf(tmp_path / "long.pdf", 4)
    assert await _refused(path, work, Limits(max_pages=3)) is DocumentRefusal.TOO_MANY_PAGES


async def test_over_the_size_cap(tmp_path: Path, work: Path) -> None:
    path = samples.png(tmp_path / "big.png")
    limits = Limits(max_bytes=path.stat().st_size - 1)
    assert await _refused(path, work, limits) is DocumentRefusal.TOO_LARGE


async def test_png_claiming_huge_dimensions(tmp_path: Path, work: Path) -> None:
    path = samples.png_header_only(tmp_path / "huge.png", 30_000, 30_000)
    assert await _refused(path, work) is DocumentRefusal.IMAGE_TOO_LARGE


async def test_swf_is_refused_as_flash(tmp_path: Path, work: Path) -> None:
    (tmp_path / "game.swf").write_bytes(b"CWS\x0a" + b"\0" * 100)
    with pytest.raises(Refused) as caught:
        await _inspect(tmp_path / "game.swf", work)
    assert caught.value.code is DocumentRefusal.FLASH
    assert "Flash" in caught.value.message and "browsers" in caught.value.message


async def test_office_without_libreoffice(tmp_path: Path, work: Path) -> None:
    # A real pptx structure is enough: the converter's absence is reported before it is run.
    path = tmp_path / "deck.pptx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<p:presentation/>")
    limits = Limits(soffice=str(tmp_path / "no-such-soffice"))
    with pytest.raises(Refused) as caught:
        await _inspect(path, work, limits)
    assert caught.value.code is DocumentRefusal.CONVERTER_MISSING
    assert "libreoffice-impress" in caught.value.message
    # ...and the rest still works with the same limits.
    assert (await _inspect(samples.png(tmp_path / "p.png"), work, limits))["pages"] == 1


async def test_hanging_converter_is_killed_with_its_children(tmp_path: Path, work: Path) -> None:
    pids = tmp_path / "pids"
    fake = tmp_path / "soffice"
    # A converter that forks a child and both hang, like a stuck LibreOffice.
    fake.write_text(f"#!/bin/sh\nsleep 600 &\necho $! >> {pids}\necho $$ >> {pids}\nwait\n")
    fake.chmod(0o755)
    path = samples.good_zip(tmp_path / "x.zip")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    started = time.monotonic()
    code = await _refused(path, work, Limits(soffice=str(fake), timeout_s=2))
    assert code is DocumentRefusal.CONVERSION_TIMEOUT
    assert time.monotonic() - started < 10
    for pid in map(int, pids.read_text().split()):
        await _gone(pid)


async def test_the_converter_has_no_network(tmp_path: Path, work: Path) -> None:
    # A converter that tries to reach a server on this machine's loopback, as a hostile file
    # could make LibreOffice do; in the worker's own network namespace there is nothing to reach.
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    verdict = tmp_path / "verdict"
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=5).close(); v = 'reached'\n"
        "except OSError as e:\n"
        "    v = 'cut off: ' + type(e).__name__\n"
        f"open({str(verdict)!r}, 'w').write(v)\n"
    )
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} {probe}\n")
    fake.chmod(0o755)
    path = samples.good_zip(tmp_path / "x.zip")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    await _refused(path, work, Limits(soffice=str(fake), timeout_s=20))
    assert verdict.read_text().startswith("cut off"), verdict.read_text()
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()


async def _gone(pid: int) -> None:
    """The process has ended (an orphaned zombie is reaped by init in its own time)."""
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/stat") as stat:  # noqa: ASYNC230 - procfs, never blocks
                state = stat.read().split(")")[-1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        await asyncio.sleep(0.05)  # polling another process's end: no event to wait for
    os.kill(pid, 9)
    pytest.fail(f"process {pid} survived the timeout")


@needs_soffice
async def test_pptx_made_by_libreoffice_is_converted(tmp_path: Path, work: Path) -> None:
    deck = samples.office(samples.flat_odp(tmp_path / "deck.fodp", 3), "pptx", tmp_path)
    odp = samples.office(tmp_path / "deck.fodp", "odp", tmp_path)
    out = tmp_path / "out"
    result = await run_worker("convert", deck, LIMITS, work_root=work, out=out)
    assert (result["kind"], result["pages"]) == ("pptx", 3)
    assert (out / "3-1280.webp").is_file()
    assert (await _inspect(odp, work))["kind"] == "odp"
    assert os.listdir(work) == []


@needs_soffice
async def test_legacy_ppt_and_doc(tmp_path: Path, work: Path) -> None:
    fodp = samples.flat_odp(tmp_path / "deck.fodp", 2)
    ppt = samples.office(fodp, "ppt", tmp_path)
    assert (await _inspect(ppt, work))["kind"] == "ppt"
    text = tmp_path / "notes.txt"
    text.write_text("Homework: read chapter 3.\n")
    for ext in ("doc", "docx"):
        made = samples.office(text, ext, tmp_path)
        result = await _inspect(made, work)
        assert (result["kind"], result["pages"]) == (ext, 1)


async def test_event_loop_keeps_running_during_a_conversion(tmp_path: Path, work: Path) -> None:
    """No step of a conversion holds the event loop for 20 ms.

    Measured as the loop thread's CPU time between two wake-ups of a 5 ms probe: on this shared
    2-core machine wall-clock gaps also count other programs' turns (docs/documents.md).
    """
    source = samples.pdf(tmp_path / "long.pdf", 10)
    longest = 0.0
    done = asyncio.Event()

    async def probe() -> None:
        nonlocal longest
        last = time.thread_time()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.thread_time()
            longest = max(longest, now - last)
            last = now

    task = asyncio.create_task(probe())
    await run_worker("convert", source, LIMITS, work_root=work, out=tmp_path / "out")
    done.set()
    await task
    assert longest < 0.020
