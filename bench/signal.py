"""Signalling benchmark: `python -m bench.signal --clients N --seconds S [--rate R]`.

Starts the Sabaq server in its own process (fresh data folder, 127.0.0.1), connects N socket.io
guests to one room from worker processes, and sends chat into the room at a steady R messages/s:
R senders each send once a second, spread evenly over the second (`--aligned` makes them all
send at the same instant instead, a burst of R every second). Prints one JSON object as its last
stdout line: fan-out latency (send → every receiver), deliveries/s, errors (refused sends +
deliveries that never arrived) and the server's CPU while the chat flows. `--trace FILE` writes
every delivery (receiver, send time, latency) as CSV.

`--nodes 2` starts two server processes on one Redis (a redis-server of its own on a free
loopback port) and one data folder, and spreads the client workers over them: the clients that
entered through the node not serving the room are sent on to the one that does
(docs/scaling.md), so the figures include that hop; the CPU is both processes'.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.sfu import percentiles

CLIENTS_PER_WORKER = 150
SENDERS_RATE = 1.0  # each sender stays well under the 3/s chat limit per person


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_ready(url: str, server: asyncio.subprocess.Process, log: Path) -> None:
    """Until the server answers /readyz; its log if it stopped or took over a minute."""
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if server.returncode is not None:
                break
            try:
                if (await http.get(f"{url}/readyz")).status == 200:
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    text = await asyncio.to_thread(log.read_text, errors="replace")
    tail = "\n".join(text.splitlines()[-20:])
    raise RuntimeError(f"the server did not get ready (exit code {server.returncode}):\n{tail}")


async def make_room(url: str, data: Path) -> str:
    """Sign in as the demo teacher and create an always-admit room."""
    line = next(
        ln
        for ln in (data / "demo-accounts.txt").read_text().splitlines()
        if ln.startswith("teacher")
    )
    _, login, password = line.split()
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        signed = await (
            await http.post(f"{url}/api/session", json={"login": login, "password": password})
        ).json()
        if signed.get("user", {}).get("must_change_password"):
            # The demo's one-time password may only choose a new one (docs/entry.md).
            new = {"current": password, "new": password + "-bench-own"}
            await http.post(f"{url}/api/password", json=new)
        response = await http.post(
            f"{url}/api/rooms", json={"title": "Bench", "guest_policy": "always_admit"}
        )
        body = await response.json()
        if "room" not in body:
            raise RuntimeError(f"the room was not made: {body}")
        room: dict[str, Any] = body["room"]
        return str(room["id"])


async def start_server(
    port: int, tmp: str, env: dict[str, str], log_path: Path, *flags: str
) -> asyncio.subprocess.Process:
    """One `sabaq serve` on this port and data folder, ready to take connections."""
    with log_path.open("w") as log:  # the child keeps its own copy of the descriptor
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--data", tmp,
            *flags, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    await wait_ready(f"http://127.0.0.1:{port}", server, log_path)
    return server


async def start_redis(tmp: str) -> tuple[asyncio.subprocess.Process, str]:
    """A redis-server of the benchmark's own (nothing kept on disk); its URL."""
    port = free_port()
    redis = await asyncio.create_subprocess_exec(
        "redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
        "--appendonly", "no", "--dir", tmp, stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(200):  # until it takes connections (its start-up has no event to wait on)
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    return redis, f"redis://127.0.0.1:{port}/0"


async def run(
    clients: int,
    seconds: float,
    rate: float,
    aligned: bool = False,
    trace: Path | None = None,
    nodes: int = 1,
) -> dict[str, Any]:
    ports = [free_port() for _ in range(nodes)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SABAQ_MAX_ROOM_SIZE": str(max(500, clients + 10))}
        servers: list[asyncio.subprocess.Process] = []
        workers: list[asyncio.subprocess.Process] = []
        try:
            flags: tuple[str, ...] = ()
            if nodes > 1:
                redis, redis_url = await start_redis(tmp)
                servers.append(redis)
                flags = ("--redis", redis_url, "--workers", "1")
            for n, port in enumerate(ports):  # one after the other: the first migrates
                log = Path(tmp) / f"server{n}.log"
                servers.append(await start_server(port, tmp, env, log, *flags))
            nodes_only = servers[1:] if nodes > 1 else servers
            room = await make_room(urls[0], Path(tmp))
            senders = max(1, round(rate / SENDERS_RATE))
            for first in range(0, clients, CLIENTS_PER_WORKER):
                count = min(CLIENTS_PER_WORKER, clients - first)
                worker_senders = min(count, max(0, senders - first))
                workers.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "bench._signal_clients",
                        "--url",
                        urls[len(workers) % nodes],  # the workers spread over the nodes
                        f"--room={room}",  # ids may start with "-", which argparse would misread
                        "--first",
                        str(first),
                        "--count",
                        str(count),
                        "--senders",
                        str(worker_senders),
                        "--all-senders",
                        str(senders),
                        "--rate",
                        str(SENDERS_RATE),
                        "--seconds",
                        str(seconds),
                        *(["--aligned"] if aligned else []),
                        *(["--trace"] if trace else []),
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        limit=256 * 1024 * 1024,
                    )
                )
            for worker in workers:
                assert worker.stdout is not None
                line = await asyncio.wait_for(worker.stdout.readline(), 300)
                if not line.startswith(b"ready"):
                    raise RuntimeError(f"worker failed to get ready: {line!r}")
            start = time.time() + 0.5  # every worker has read its "go" line by then
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.write(f"go {start}\n".encode())
                await worker.stdin.drain()
            # The server's CPU while the chat flows, from the first send to the last.
            await asyncio.sleep(start - time.time())
            cpu0, t0 = sum(cpu_seconds(s.pid) for s in nodes_only), time.monotonic()
            await asyncio.sleep(seconds)
            cpu1, t1 = sum(cpu_seconds(s.pid) for s in nodes_only), time.monotonic()
            results: list[dict[str, Any]] = []
            for worker in workers:
                assert worker.stdout is not None
                line = await asyncio.wait_for(worker.stdout.readline(), 120)
                results.append(json.loads(line.decode().split(" ", 1)[1]))
        finally:
            for proc in [*workers, *reversed(servers)]:
                if proc.returncode is None:
                    proc.terminate()
                    await proc.wait()
    if trace is not None:
        with trace.open("w") as out:
            out.write("receiver,sent_at,latency_ms\n")
            for r in results:
                out.writelines(f"{i},{sent_at},{ms}\n" for i, sent_at, ms in r["trace"])
    sent = sum(r["sent"] for r in results)
    latencies = [x for r in results for x in r["latencies_ms"]]
    expected = sent * clients
    errors = sum(r["errors"] for r in results) + max(0, expected - len(latencies))
    figures: dict[str, Any] = {
        "clients": clients,
        "nodes": nodes,
        "seconds": seconds,
        "messages_per_s": round(sent / seconds, 2),
        "deliveries_per_s": round(len(latencies) / seconds, 1),
        "fanout_ms": percentiles(latencies),
        "errors": errors,
        "server_cpu_pct": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
    }
    if nodes > 1:  # how many entered through the other node and were sent on
        figures["redirected"] = sum(r["redirected"] for r in results)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=300, help="socket.io clients in the room")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send chat")
    parser.add_argument("--rate", type=float, default=10.0, help="chat messages/s into the room")
    parser.add_argument(
        "--aligned",
        action="store_true",
        help="every sender sends at the same instant each second (bursts) instead of spread out",
    )
    parser.add_argument("--trace", type=Path, help="CSV file for every delivery's latency")
    parser.add_argument(
        "--nodes", type=int, default=1, help="server processes on one Redis (clients spread)"
    )
    args = parser.parse_args()
    figures = asyncio.run(
        run(args.clients, args.seconds, args.rate, args.aligned, args.trace, args.nodes)
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
