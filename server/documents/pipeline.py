"""Run the worker for one file, off the event loop, with a wall-clock timeout on its group."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.documents.isolation import network_isolation
from server.documents.limits import Limits
from server.documents.refusals import DocumentRefusal, Refused

log = logging.getLogger(__name__)
Progress = Callable[[dict[str, Any]], None]


def _kill_group(pid: int) -> None:
    """End the worker and everything it started (soffice forks its own children)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _prepare(
    source: Path, limits: Limits, work_root: Path | None, out: Path | None
) -> tuple[Path, Path]:
    """Size checks, then the throwaway folder (and `out`); cheap calls, done before the wait."""
    size = source.stat().st_size
    if size == 0:
        raise Refused(DocumentRefusal.EMPTY)
    if size > limits.max_bytes:
        raise Refused(DocumentRefusal.TOO_LARGE)
    if work_root is not None:
        work_root.mkdir(parents=True, exist_ok=True)
    if out is not None:
        out.mkdir(parents=True)
    return source.resolve(), Path(tempfile.mkdtemp(prefix="sabaq-doc-", dir=work_root))


def _stderr_tail(work: Path) -> str:
    return (work / "worker-stderr.log").read_bytes()[-2000:].decode(errors="replace")


async def run_worker(
    mode: str,
    source: Path,
    limits: Limits,
    *,
    work_root: Path | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """What the file is (and, with `out`, its pages/media written there); Refused if not.

    The same path serves `sabaq doc inspect` and uploads. The throwaway folder (LibreOffice's
    profile and HOME, its PDF) is removed whatever happens; so is `out` when the file is refused.
    """
    source, work = _prepare(source, limits, work_root, out)
    try:
        return await _supervise(mode, source, limits, work, out or work, progress)
    except BaseException:
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _supervise(
    mode: str, source: Path, limits: Limits, work: Path, out: Path, progress: Progress | None
) -> dict[str, Any]:
    errors = open(os.path.join(work, "worker-stderr.log"), "wb")  # noqa: ASYNC230, SIM115
    process = await asyncio.create_subprocess_exec(
        *network_isolation(),
        sys.executable,
        "-m",
        "server.documents.worker",
        mode,
        str(source),
        str(work),
        str(out),
        json.dumps(limits.to_json()),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=errors,
        start_new_session=True,  # its own process group: one kill ends soffice's children too
        cwd=work,
    )
    final: dict[str, Any] = {}

    async def read() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            message = json.loads(line)
            if "progress" in message and progress is not None:
                progress(message["progress"])
            else:
                final.update(message)
        await process.wait()

    try:
        await asyncio.wait_for(read(), limits.timeout_s)
    except TimeoutError:
        raise Refused(DocumentRefusal.CONVERSION_TIMEOUT) from None
    finally:
        _kill_group(process.pid)  # stragglers too, after a normal exit
        if process.returncode is None:
            await process.wait()
        errors.close()
    if "result" in final:
        result: dict[str, Any] = final["result"]
        return result
    if "refused" in final:
        raise Refused(DocumentRefusal(final["refused"]["code"]), final["refused"]["message"])
    log.warning(
        "document worker exited %s without an answer: %s", process.returncode, _stderr_tail(work)
    )
    raise Refused(DocumentRefusal.CONVERSION_FAILED)
