"""The server process: listen, wait for a signal, drain within the deadline, exit.

aiohttp's `run_app` stops listening at the first signal and then waits up to 60 s for running
handlers; socket.io's websockets are handlers that only end when their sockets close, which
happened in the application's cleanup, after that wait. Here the first SIGTERM or SIGINT starts
a drain (server/drain.py) that closes the sockets itself while still listening, so `/readyz`
answers 503 during it; a second signal exits at once, and a watchdog thread ends the process
if anything still hangs at the deadline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading

from aiohttp import web

from server.drain import Budget, drain
from server.settings import Settings

log = logging.getLogger(__name__)
# Exit status when the drain deadline passed with work still hanging.
EXIT_OVERDUE = 1
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _exit_now(status: int, why: str) -> None:
    """Leave without running anything else: no cleanup, no waiting for threads."""
    log.warning("%s; exiting at once with status %d", why, status)
    os._exit(status)


def _start_watchdog(seconds: float) -> None:
    """A thread, so that a blocked event loop cannot hold the process past the deadline."""
    timer = threading.Timer(
        seconds, _exit_now, (EXIT_OVERDUE, f"the drain deadline ({seconds:g} s) passed")
    )
    timer.daemon = True  # a process that finished in time does not wait for it
    timer.start()


async def serve(app: web.Application, settings: Settings) -> None:
    """Run until a signal, then drain; returns once the application is cleaned up.

    Raises OSError if the address cannot be listened on.
    """
    budget = Budget.of(settings.drain_seconds)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=budget.handlers_s)
    await runner.setup()
    try:
        # With --workers every worker listens on the public port (the kernel spreads new
        # connections over them) and on a port of its own, where joins for its rooms are sent.
        reuse = settings.reuse_port or None
        await web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse).start()
        if settings.node_port is not None:
            await web.TCPSite(runner, settings.host, settings.node_port).start()
    except OSError:
        await runner.cleanup()
        raise
    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        if signalled.is_set():
            _exit_now(128 + signum, f"second signal ({signum.name}) during the drain")
        log.warning("%s received: draining (a second signal exits at once)", signum.name)
        signalled.set()

    for signum in SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    await signalled.wait()
    deadline = loop.time() + budget.total_s
    _start_watchdog(budget.total_s)
    await drain(app, deadline, budget)
    # Stops the listener, waits at most `handlers_s` for HTTP requests, runs the cleanup_ctx.
    await runner.cleanup()
    log.info("stopped after draining")
