"""SFU benchmark: `python -m bench.sfu --subscribers N --seconds S [--baseline] [--no-pin]
[--workers W]`.

Starts the server, one publisher (VP8 640x480 30 fps + Opus) and N subscribers, each group in
its own process, all on 127.0.0.1; prints one JSON object as the last stdout line.

With two or more CPUs the server runs on CPU 0 and every client process on the others (`--pin`,
the default): the clients stand in for other people's machines, and sharing the server's core
with eleven of them put a third more on the server's own CPU time (cache and wake-up costs
that a server with a core to itself does not pay; docs/media.md). `--no-pin` shares all CPUs.

`--workers W` measures what `sabaq serve --workers` gives a machine: W rooms at once, each in a
server process of its own (as the rooms spread over the workers, each with its own router), the
servers pinned to CPUs 0..W-1. It prints forwarded packets per second per core of server CPU with
all W busy, beside the same figure of one worker measured first, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from ._host import host_speed
from ._sfu_common import CPUS_ENV, TWCC_ENV

WARMUP_S = 3.0
SUBSCRIBERS_PER_PROCESS = 8


@dataclass
class Child:
    """One child process speaking the line protocol of bench._sfu_common."""

    name: str
    proc: asyncio.subprocess.Process

    async def expect(self, tag: str, within: float) -> Any:
        """Read stdout lines until one starts with tag; return its JSON payload."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(within):
            while True:
                line = (await self.proc.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"{self.name} exited before {tag}")
                if line.startswith(tag + " "):
                    return json.loads(line[len(tag) + 1 :])

    def send(self, line: str) -> None:
        """Write one line to the child's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")

    async def stop(self) -> None:
        """Terminate this child (only processes we started) and reap it."""
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


# CPU lists for the server and for the clients (empty: not pinned); set by main().
PINNING: dict[str, str] = {}


async def spawn(name: str, module: str, *args: str, cpus: str | None = None) -> Child:
    cpus = cpus or PINNING.get("server" if name == "server" else "clients")
    env = {**os.environ, CPUS_ENV: cpus} if cpus else None
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=256 * 1024 * 1024,  # RESULT lines carry every latency sample
        env=env,
    )
    return Child(name, proc)


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50 / p95 / p99, rounded; None when nothing was measured."""
    if len(values) < 2:
        return {"p50": None, "p95": None, "p99": None}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(q[49], 2), "p95": round(q[94], 2), "p99": round(q[98], 2)}


async def run_mode(
    mode: str,
    subscribers: int,
    seconds: float,
    decoders: int,
    record: str | None = None,
    server_cpus: str | None = None,
) -> dict[str, Any]:
    """One full run (server + clients) in forward or relay mode; raw figures."""
    children: list[Child] = []
    try:
        extra = ["--record", record] if record else []
        server = await spawn(
            "server", "bench._sfu_server", "--mode", mode, *extra, cpus=server_cpus
        )
        children.append(server)
        url = f"http://127.0.0.1:{await server.expect('PORT', 30)}"
        publisher = await spawn(
            "publisher", "bench._sfu_clients", "--url", url, "--role", "publisher"
        )
        children.append(publisher)
        await publisher.expect("READY", 30)
        ids = [f"viewer{i}" for i in range(subscribers)]
        decoding = ids[:decoders]
        # Decoding viewers get a process of their own: their decoder threads and frame reads
        # would otherwise hold up the counting viewers' event loop and show up as latency.
        counting = ids[decoders:]
        groups = [decoding] if decoding else []
        groups += [
            counting[i : i + SUBSCRIBERS_PER_PROCESS]
            for i in range(0, len(counting), SUBSCRIBERS_PER_PROCESS)
        ]
        subs = []
        for n, group in enumerate(groups):
            child = await spawn(
                f"subscribers{n}",
                "bench._sfu_clients",
                "--url",
                url,
                "--role",
                "subscribers",
                "--ids",
                ",".join(group),
                "--decoders",
                ",".join(decoding),
            )
            subs.append(child)
            children.append(child)
        late = await spawn("late", "bench._sfu_clients", "--url", url, "--role", "late")
        children.append(late)
        for child in [*subs, late]:
            await child.expect("READY", 60)
        start = time.time() + WARMUP_S
        end = start + seconds
        for child in children:
            child.send(f"WINDOW {start} {end}")
        budget = WARMUP_S + seconds + 30
        srv = await server.expect("RESULT", budget)
        pub = await publisher.expect("RESULT", budget)
        sub_results = [await c.expect("RESULT", budget) for c in subs]
        late_result = await late.expect("RESULT", budget)
    finally:
        await asyncio.gather(*(c.stop() for c in children))

    sent = {int(i): float(t) for i, t in pub["sent"]}
    # Frames sent in the last 0.3 s of the window may legitimately arrive after it.
    counted = {i for i, t in sent.items() if t <= end - 0.3}
    ratios, frame_latencies = [], []
    for result in sub_results:
        for decoded in result["decoded"].values():
            got = {int(i): float(t) for i, t in decoded}
            ratios.append(len(counted & got.keys()) / max(1, len(counted)))
            frame_latencies += [(got[i] - sent[i]) * 1000 for i in got.keys() & sent.keys()]
    latencies = [x for r in sub_results for x in r["latencies"]]
    packets_per_s = srv["packets"] / seconds
    cpu_pct = srv["cpu_s"] / seconds * 100
    streams = srv["streams"]
    return {
        "subscribers": subscribers,
        "seconds": seconds,
        "video_kbps": round(pub["video_bytes"] * 8 / seconds / 1000, 1),
        "forwarded_streams": streams,
        "forwarded_packets_per_s": round(packets_per_s, 1),
        "server_cpu_pct": round(cpu_pct, 2),
        "server_cpu_pct_per_stream": round(cpu_pct / max(1, streams), 3),
        "server_cpu_us_per_packet": round(srv["cpu_s"] * 1e6 / max(1, srv["packets"]), 1),
        "added_latency_ms": percentiles(latencies),
        "late_join_keyframe_ms": round(late_result["connected_to_frame_ms"], 1),
        "frames_decoded_ratio": round(min(ratios), 4) if ratios else None,
        "rss_mb": round(srv["rss_mb"], 1),
        "_frame_latency_ms": percentiles(frame_latencies),
        "_late_join_to_frame_ms": round(late_result["join_to_frame_ms"], 1),
        "_server_user_us_per_packet": round(srv["user_s"] * 1e6 / max(1, srv["packets"]), 1),
        "_server_system_us_per_packet": round(srv["system_s"] * 1e6 / max(1, srv["packets"]), 1),
        "_tapped_share": srv["tapped"],
        "_record": srv.get("record"),
        "_server_cpu_s": srv["cpu_s"],
    }


def per_core(figures: dict[str, Any]) -> float:
    """Forwarded packets per second of server CPU (a core fully busy for one second)."""
    return float(figures["forwarded_packets_per_s"]) / max(
        1e-9, float(figures["server_cpu_pct"]) / 100
    )


async def run_workers(
    workers: int, subscribers: int, seconds: float, decoders: int, cpus: list[int], host: Any
) -> dict[str, Any]:
    """One worker alone, then `workers` at once (one room each): packets per core, compared."""
    one = await run_mode("forward", subscribers, seconds, decoders)
    pins = [str(cpus[w % len(cpus)]) if PINNING else None for w in range(workers)]
    if PINNING:  # the servers take a CPU each; the clients share every CPU
        PINNING["clients"] = ",".join(str(c) for c in cpus)
    runs = await asyncio.gather(
        *(run_mode("forward", subscribers, seconds, decoders, server_cpus=pin) for pin in pins)
    )
    packets = sum(r["forwarded_packets_per_s"] for r in runs)
    cpu_pct = sum(r["server_cpu_pct"] for r in runs)
    together = packets / max(1e-9, cpu_pct / 100)
    return {
        "workers": workers,
        "subscribers_per_worker": subscribers,
        "seconds": seconds,
        "forwarded_packets_per_s": round(packets, 1),
        "server_cpu_pct": round(cpu_pct, 1),
        "packets_per_core_s": round(together, 1),
        "one_worker": {
            "forwarded_packets_per_s": one["forwarded_packets_per_s"],
            "server_cpu_pct": one["server_cpu_pct"],
            "packets_per_core_s": round(per_core(one), 1),
        },
        "per_core_ratio": round(together / per_core(one), 3),
        "frames_decoded_ratio": min(
            (r["frames_decoded_ratio"] for r in runs if r["frames_decoded_ratio"] is not None),
            default=None,
        ),
        "host": host,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--baseline", action="store_true", help="also measure MediaRelay")
    parser.add_argument(
        "--record",
        action="store_true",
        help="run again with the recorder on; adds record.cpu_overhead_pct, bytes, files",
    )
    parser.add_argument("--decoders", type=int, default=2, help="subscribers that decode video")
    parser.add_argument(
        "--workers", type=int, default=1, help="rooms at once, each in a server of its own"
    )
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="server on CPU 0, clients on the other CPUs (default when there are two or more)",
    )
    parser.add_argument(
        "--transport-cc",
        action="store_true",
        help="subscribers accept transport-cc: the server numbers every video packet it forwards",
    )
    args = parser.parse_args()
    if args.transport_cc:
        os.environ[TWCC_ENV] = "1"  # read by the subscriber processes
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if args.pin and len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[0]})  # gauge the host on the CPU the server will have
    host = host_speed()
    if args.pin and len(cpus) >= 2:
        PINNING["server"] = str(cpus[0])
        PINNING["clients"] = ",".join(str(c) for c in cpus[1:])
        os.sched_setaffinity(0, set(cpus[1:]))  # this coordinator is a client too
    print(f"CPUs: {PINNING or 'shared'}", file=sys.stderr)
    decoders = min(args.decoders, args.subscribers)
    if args.workers > 1:
        print(json.dumps(await run_workers(args.workers, args.subscribers, args.seconds, decoders,
                                           cpus, host)))  # fmt: skip
        return

    result = await run_mode("forward", args.subscribers, args.seconds, decoders)
    baseline = None
    if args.baseline:
        baseline = await run_mode("relay", args.subscribers, args.seconds, decoders)
        # The relay's senders stamp abs-send-time when they re-encode, so a packet's one-way
        # delay hides the decode/encode stage. Its added latency is therefore measured on
        # decoded, stamped frames, against the same measure through the forwarder.
        direct = result["_frame_latency_ms"]["p50"]
        frame = baseline["_frame_latency_ms"]
        if direct is not None and frame["p50"] is not None:
            baseline["added_latency_ms"] = {k: round(v - direct, 2) for k, v in frame.items()}
        else:  # no frame decoded through the relay (it starved): nothing to compare
            baseline["added_latency_ms"] = percentiles([])
    record = None
    if args.record:
        with tempfile.TemporaryDirectory(prefix="sabaq-bench-record-") as folder:
            recorded = await run_mode("forward", args.subscribers, args.seconds, decoders, folder)
        # Per forwarded packet, so a run that forwarded a few more packets is not counted as
        # recording overhead.
        plain_us = result["server_cpu_us_per_packet"]
        record = {
            "cpu_overhead_pct": round(
                (recorded["server_cpu_us_per_packet"] - plain_us) / plain_us * 100, 1
            ),
            "server_cpu_pct": recorded["server_cpu_pct"],
            **(recorded["_record"] or {}),
        }
    for extra in (result, baseline):
        if extra is not None:
            print(
                json.dumps({k: v for k, v in extra.items() if k.startswith("_")}),
                file=sys.stderr,
            )
    out = {k: v for k, v in result.items() if not k.startswith("_")}
    out["baseline"] = (
        {k: v for k, v in baseline.items() if not k.startswith("_")} if baseline else None
    )
    if baseline is not None:
        # Per packet, because a saturated relay forwards fewer packets (its per-stream share of
        # a core is then capped at 100 % / streams and flatters neither side).
        relay_us = baseline["server_cpu_us_per_packet"]
        out["baseline_cpu_ratio_per_packet"] = round(
            relay_us / result["server_cpu_us_per_packet"], 1
        )
    if record is not None:
        out["record"] = record
    out["host"] = host
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
