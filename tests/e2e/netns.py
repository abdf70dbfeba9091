"""A network namespace with only `lo` up, for WebRTC tests that must stay on loopback.

The server and every Chromium run inside it: whatever they gather, nothing can leave the
machine (FIELD-NOTES: aioice and Chromium otherwise gather the Ethernet address). Needs root;
the namespace is deleted on every path.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest

IP = shutil.which("ip") or "/usr/sbin/ip"
ROOT = Path(__file__).resolve().parents[2]


def skip_unless_root() -> None:
    """Skip with the reason when namespaces cannot be made here."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a network namespace (WebRTC must stay on loopback)")
    if not Path(IP).exists():
        pytest.skip("iproute2's `ip` is missing: cannot create a network namespace")


@dataclass(frozen=True)
class NetNs:
    """A namespace made by this test run."""

    name: str

    def command(self, *argv: str) -> list[str]:
        """argv run inside the namespace."""
        return [IP, "netns", "exec", self.name, *argv]

    def wrapper(self, program: str, folder: Path) -> Path:
        """An executable that runs `program` inside the namespace (for Playwright's launch)."""
        script = folder / f"{Path(program).name}-in-{self.name}"
        # exec keeps Playwright's pipes (fds 3 and 4): `ip netns exec` execs, it does not fork.
        script.write_text(f'#!/bin/sh\nexec {IP} netns exec {self.name} {program} "$@"\n')
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        return script


def drop_incoming_udp(ns: NetNs, probability: float) -> None:
    """Lose this share of the UDP datagrams delivered inside the namespace, at random, in both
    directions (RTP, RTCP, STUN, DTLS alike), as a lossy Wi-Fi link would. Dropped on input,
    not output: a sender's sendmsg must not fail with EPERM as it would for an OUTPUT rule.
    netem is not in this machine's kernel; iptables' `statistic` match is."""
    iptables = shutil.which("iptables-legacy") or "/usr/sbin/iptables-legacy"
    if not Path(iptables).exists():
        pytest.fail("iptables-legacy is missing: scripts/install installs Debian's iptables")
    rule = ["-p", "udp", "-m", "statistic", "--mode", "random", "--probability"]
    subprocess.run(
        ns.command(iptables, "-A", "INPUT", *rule, str(probability), "-j", "DROP"), check=True
    )


@contextmanager
def netns() -> Iterator[NetNs]:
    """A fresh namespace with only loopback up; deleted on exit, whatever happened."""
    skip_unless_root()
    ns = NetNs(f"sabaq-e2e-{os.getpid()}-{secrets.token_hex(3)}")
    subprocess.run([IP, "netns", "add", ns.name], check=True)
    try:
        subprocess.run(ns.command(IP, "link", "set", "lo", "up"), check=True)
        yield ns
    finally:
        subprocess.run([IP, "netns", "delete", ns.name], check=False)


async def _healthy(ns: NetNs, url: str) -> bool:
    probe = await asyncio.create_subprocess_exec(
        *ns.command(
            sys.executable,
            "-c",
            f"import urllib.request; urllib.request.urlopen({url!r} + '/healthz', timeout=1)",
        ),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await probe.wait() == 0


def _log_file(path: Path) -> BinaryIO:
    return path.open("wb")  # a local file opened once, before the server starts


@dataclass(frozen=True)
class Served:
    """A server process in a namespace."""

    url: str
    process: asyncio.subprocess.Process
    log: Path


@asynccontextmanager
async def served_in(ns: NetNs, data: Path, *flags: str, port: int = 8080) -> AsyncIterator[Served]:
    """`sabaq serve` inside the namespace on 127.0.0.1 with extra flags, once /healthz answers;
    stopped with SIGTERM at the end."""
    url = f"http://127.0.0.1:{port}"
    log_path = data.parent / f"server-{port}-{time.monotonic_ns()}.log"
    log = _log_file(log_path)
    serve = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1"]
    process = await asyncio.create_subprocess_exec(
        *ns.command(*serve, "--port", str(port), "--data", str(data), *flags),
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    try:
        # Generous: at a load average of 15-20 (CI beside other work) the server's imports alone
        # took over 30 s; the loop leaves as soon as /healthz answers.
        async with asyncio.timeout(90):
            while not await _healthy(ns, url):  # a condition polled until the deadline
                if process.returncode is not None:
                    raise RuntimeError(f"server exited: {log_path.read_text()}")
                await asyncio.sleep(0.1)
        yield Served(url, process, log_path)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(15):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


@asynccontextmanager
async def server_in(ns: NetNs, data: Path, port: int = 8080) -> AsyncIterator[str]:
    """`sabaq serve` inside the namespace on 127.0.0.1; yields its URL once /healthz answers."""
    async with served_in(ns, data, port=port) as served:
        yield served.url
