"""The conversion worker gets no network: a network namespace of its own (only a `lo` that is down).

A converted file is the least trusted input the server takes; LibreOffice can be talked into
fetching linked content, and a parser bug is an attacker's code. Without a network the worst a
file can do is spend its time and memory limits. `unshare` (util-linux, essential on Debian) does
it without root when the kernel allows user namespaces (`--map-root-user`); where it does not,
the worker runs as before and the server says so once in its log.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess

log = logging.getLogger(__name__)


@functools.cache
def network_isolation() -> tuple[str, ...]:
    """The command prefix that starts the worker without network, or () where that is refused.

    `unshare` execs the command in the same process (no fork without `--fork`/`--pid`), so the
    worker keeps its pid and process group: the pipeline's group kill still reaches everything.
    """
    binary = shutil.which("unshare")
    prefix = (binary, "--net", "--map-root-user") if binary else ()
    if prefix:
        probe = subprocess.run(  # noqa: S603 - fixed arguments, once per process
            [*prefix, "true"], capture_output=True, timeout=10, check=False
        )
        if probe.returncode == 0:
            return prefix
        reason = probe.stderr.decode(errors="replace").strip()
    else:
        reason = "unshare (util-linux) is not installed"
    log.warning("document conversion runs WITH network access: %s", reason)
    return ()
