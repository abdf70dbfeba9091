"""The conversion worker gets no network: a network namespace of its own (only a `lo` that is down).

A converted file is the least trusted input the server takes; LibreOffice can be talked into
fetching linked content, and a parser bug is an attacker's code. Without a network the worst a
file can do is spend its time and memory limits. `unshare` (util-linux, essential on Debian) does
it without root when the kernel allows user namespaces (`--map-root-user`); where it does not,
the worker runs as before.

Whether the kernel allows it is probed once per process: by the server at start-up, in a thread
(`sandbox_context`; it used to be the first upload, on the event loop), which says so in one log
line and in `/readyz`; by `sabaq doc inspect` when it first converts.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sandbox:
    """The command prefix that starts the worker without network, or () and why not."""

    prefix: tuple[str, ...]
    reason: str = ""

    @property
    def on(self) -> bool:
        return bool(self.prefix)

    def describe(self) -> str:
        """The one line the server logs about it."""
        if self.on:
            return "document conversion: network sandbox on"
        return (
            f"document conversion: network sandbox off: {self.reason}, "
            "conversions run without a network namespace"
        )


SANDBOX = web.AppKey("document_sandbox", Sandbox)


@functools.cache
def sandbox() -> Sandbox:
    """Probe (once per process) whether `unshare --net --map-root-user` works here.

    `unshare` execs the command in the same process (no fork without `--fork`/`--pid`), so the
    worker keeps its pid and process group: the pipeline's group kill still reaches everything.
    """
    binary = shutil.which("unshare")
    if binary is None:
        return Sandbox((), "unshare (util-linux) is not installed")
    prefix = (binary, "--net", "--map-root-user")
    try:
        probe = subprocess.run(  # noqa: S603 - fixed arguments, once per process
            [*prefix, "true"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Sandbox((), f"unshare could not be run ({exc})")
    if probe.returncode == 0:
        return Sandbox(prefix)
    reason = probe.stderr.decode(errors="replace").strip() or f"unshare exited {probe.returncode}"
    return Sandbox((), reason)


def network_isolation() -> tuple[str, ...]:
    """The worker's command prefix (the server probed at start-up; the CLI probes here once)."""
    known = sandbox.cache_info().currsize > 0
    state = sandbox()
    if not known:
        _say(state)
    return state.prefix


def _say(state: Sandbox) -> None:
    (log.info if state.on else log.warning)(state.describe())


async def sandbox_context(app: web.Application) -> AsyncIterator[None]:
    """At start-up, off the event loop: probe, say it in the log, keep it for `/readyz`."""
    state = await asyncio.to_thread(sandbox)
    _say(state)
    app[SANDBOX] = state
    yield
