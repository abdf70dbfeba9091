"""The first start shows the demo school's logins as a block on the console, not in the logs."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

RULE = "=" * 72


def test_demo_logins_are_a_block_on_stdout_and_not_logged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SABAQ_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--data", str(data)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout = server.stdout
        assert stdout is not None
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:  # a thread, so that a server that never prints fails the test
            for line in stdout:
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        block: list[str] = []
        while block.count(RULE) < 2:  # the server prints the block once the school exists
            block.append(lines.get(timeout=60).rstrip("\n"))
    finally:
        server.send_signal(signal.SIGTERM)
        _, logs = server.communicate(timeout=60)
    accounts = {
        fields[0]: fields[1:]
        for fields in (
            line.split() for line in (data / "demo-accounts.txt").read_text().splitlines()
        )
        if fields and fields[0] in ("teacher", "admin")
    }
    text = "\n".join(block)
    assert block[block.index(RULE) + 1].strip().startswith("Sabaq demo school created.")
    for who, (login, password) in (
        ("Teacher", accounts["teacher"]),
        ("Administrator", accounts["admin"]),
    ):
        line = next(line for line in block if line.strip().startswith(who))
        assert login in line and password in line, text
        # Logs are kept and shipped elsewhere: the passwords are never in them.
        assert password not in logs
    assert str(data / "demo-accounts.txt") in text
    assert "demo school created" in logs
