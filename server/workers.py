"""`sabaq serve --workers N`: N worker processes on one public port, sharing Redis.

Each worker is an ordinary `sabaq serve` process. All of them listen on the public port with
SO_REUSEPORT, so the kernel spreads new connections over them, and each also listens on a port
of its own (public port + 1 + its number): its node URL, where joins for the rooms it serves
are sent (server/ownership.py). The client speaks WebSocket only, so a first connection needs no
sticky session; the join is then sent on to the worker that serves the room and stays there for
the lesson. Rooms spread over the workers by the same rendezvous hashing as over machines.

The supervisor starts the first worker alone (it applies the database migrations and makes the
demo school), then the others; it passes SIGTERM and SIGINT on (each worker drains its own
rooms) and starts a worker again if one dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
from dataclasses import dataclass, field

import aiohttp

from server.settings import Settings

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGTERM, signal.SIGINT)
# A worker that dies is started again after this, doubling while it keeps dying at once.
RESTART_DELAY_S = 1.0
RESTART_DELAY_MAX_S = 30.0
# A worker that lived this long had not been failing at start-up: its back-off starts over.
STEADY_S = 60.0
START_TIMEOUT_S = 120.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def worker_port(settings: Settings, number: int) -> int:
    """The port only worker `number` listens on."""
    return settings.port + 1 + number


def worker_url(settings: Settings, number: int) -> str:
    """Worker `number`'s node URL: `--node-url` with `{worker}` and `{port}` filled in, else
    its own port on the public host name."""
    port = worker_port(settings, number)
    if settings.node_url:
        return settings.node_url.replace("{worker}", str(number)).replace("{port}", str(port))
    return Settings(**{**settings.model_dump(), "node_port": port}).own_url


def _die_with_parent() -> None:
    """In the child before exec: a supervisor killed outright (-9) takes its workers along,
    instead of leaving them holding the port (Linux's PR_SET_PDEATHSIG; elsewhere nothing)."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _probe_host(settings: Settings) -> str:
    """Where the supervisor asks a worker if it is up: loopback when it listens everywhere."""
    unspecified = ("0.0.0.0", "::", "localhost")  # noqa: S104 - compared, not bound to
    return "127.0.0.1" if settings.host in unspecified else settings.host


@dataclass
class Supervisor:
    """Starts, watches and stops the workers."""

    settings: Settings
    argv: list[str]  # the `serve` flags as given, passed on to every worker
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    processes: dict[int, asyncio.subprocess.Process] = field(default_factory=dict)

    def command(self, number: int) -> list[str]:
        """The command line of worker `number` (flags given later win in argparse)."""
        return [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            *self.argv,
            "--workers",
            "1",
            "--node-port",
            str(worker_port(self.settings, number)),
            "--node-url",
            worker_url(self.settings, number),
        ]

    async def start(self, number: int) -> asyncio.subprocess.Process:
        """Start worker `number`; returns once it answers on its own port."""
        env = {**os.environ, "SABAQ_REUSE_PORT": "true"}
        process = await asyncio.create_subprocess_exec(
            *self.command(number), env=env, preexec_fn=_die_with_parent
        )
        self.processes[number] = process
        url = f"http://{_probe_host(self.settings)}:{worker_port(self.settings, number)}/healthz"
        async with aiohttp.ClientSession() as http, asyncio.timeout(START_TIMEOUT_S):
            while process.returncode is None:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(url) as response:
                        if response.status == 200:
                            log.info("worker %d (pid %d) is up", number, process.pid)
                            return process
                # A child's start-up has no event to wait on: look every 100 ms.
                await asyncio.sleep(0.1)
        return process

    async def watch(self, number: int, process: asyncio.subprocess.Process) -> None:
        """Start worker `number` again whenever it dies, until the supervisor stops."""
        delay = RESTART_DELAY_S
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            status = await process.wait()
            if self.stopping.is_set():
                return
            if loop.time() - started > STEADY_S:
                delay = RESTART_DELAY_S
            log.error("worker %d exited with status %d; starting it again in %.0f s",
                      number, status, delay)  # fmt: skip
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self.stopping.wait()
                    return
            delay = min(delay * 2, RESTART_DELAY_MAX_S)
            process = await self.start(number)

    def pass_on(self, signum: signal.Signals) -> None:
        """A signal for the server is a signal for every worker (each drains its own rooms)."""
        log.warning("%s received: passing it on to the workers", signum.name)
        self.stopping.set()
        for process in self.processes.values():
            if process.returncode is None:
                process.send_signal(signum)

    async def run(self) -> int:
        """Run the workers until a signal; the exit status is the worst of theirs."""
        loop = asyncio.get_running_loop()
        for signum in SIGNALS:
            loop.add_signal_handler(signum, self.pass_on, signum)
        count = self.settings.worker_count
        log.info("starting %d workers on port %d", count, self.settings.port)
        first = await self.start(0)
        if first.returncode is not None:
            return first.returncode or 1  # it could not start: neither will the others
        rest = await asyncio.gather(*(self.start(n) for n in range(1, count)))
        watchers = [self.watch(0, first), *(self.watch(n, p) for n, p in enumerate(rest, 1))]
        await asyncio.gather(*watchers)
        statuses = [await p.wait() for p in self.processes.values()]
        return max(statuses, default=0)


def supervise(settings: Settings, argv: list[str]) -> int:
    """Run `--workers` worker processes until a signal; returns the exit status."""
    return asyncio.run(Supervisor(settings, argv).run())
