"""`GET /metrics`: the real server scraped and parsed with prometheus_client's own parser."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import LiveServer, running_server
from tests.integration.peers import peers

from .test_signalling import media_clients, receives

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(server: LiveServer, **headers: str) -> Samples:
    """Every sample of one scrape, by (name, sorted labels)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/metrics", headers=headers) as r,
    ):
        assert r.status == 200, await r.text()
        assert r.headers["Content-Type"].startswith("text/plain; version=")
        text = await r.text()
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def status(server: LiveServer, **headers: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/metrics", headers=headers) as r,
    ):
        if r.status != 200:
            body = await r.json()
            assert body["error"]["code"] == "not_permitted" and body["error"]["message"]
        return r.status


@pytest.mark.timeout(60)
async def test_metrics_follow_a_real_publisher_and_its_viewers(live_server: LiveServer) -> None:
    idle = await scrape(live_server)
    assert value(idle, "sabaq_rooms") == 0
    assert value(idle, "sabaq_participants", state="in_room") == 0
    # Exported before any layer exists (process-wide: earlier tests may have moved it).
    assert value(idle, "sabaq_media_layer_switches_total") >= 0
    async with peers("host", "a", "b") as (host, a, b):
        teacher, pupil_a, pupil_b = await media_clients(live_server, host, a, b)
        try:
            assert (await teacher.publish("mic", "camera"))["ok"]
            tid = teacher.participant_id
            for pupil in (pupil_a, pupil_b):
                await pupil.wait_for(receives(pupil, tid, camera=10, mic=10))
            reading = {"level": "fair", "delay_ms": 250, "rtt_ms": 40, "loss_pct": 4.0}
            assert (await a.call("media_quality", reading))["ok"]
            live = await scrape(live_server)
            assert value(live, "sabaq_rooms") == 1
            assert value(live, "sabaq_participants", state="in_room") == 3
            assert value(live, "sabaq_producers", source="camera") == 1
            assert value(live, "sabaq_producers", source="mic") == 1
            assert value(live, "sabaq_producers", source="screen") == 0
            assert value(live, "sabaq_consumers") == 4  # two tracks to two pupils

            # Media counters are process-wide (closed producers' counts are kept): compare
            # this lesson's increase, not totals that earlier tests in this process moved.
            def grew(name: str) -> float:
                return value(live, name) - value(idle, name)

            forwarded = grew("sabaq_media_packets_forwarded_total")
            assert forwarded > 40  # at least the 20 frames and 20 audio packets decoded
            assert grew("sabaq_media_bytes_forwarded_total") > forwarded * 10
            assert grew("sabaq_media_packets_received_total") * 2 >= forwarded
            # The page's reading is in the histograms: 0.25 s falls in the 0.3 s bucket only.
            assert value(live, "sabaq_reported_delay_seconds_count") == 1
            assert value(live, "sabaq_reported_delay_seconds_bucket", le="0.2") == 0
            assert value(live, "sabaq_reported_delay_seconds_bucket", le="0.3") == 1
            assert value(live, "sabaq_reported_loss_ratio_sum") == pytest.approx(0.04)
            await pupil_a.wait_for(receives(pupil_a, tid, camera=20))
            later = await scrape(live_server)
            assert value(later, "sabaq_media_packets_forwarded_total") > value(
                live, "sabaq_media_packets_forwarded_total"
            )
        finally:
            for c in (teacher, pupil_a, pupil_b):
                await c.close()
        # The teacher leaves: producers and consumers close, the counters do not go back.
        await host.close()
        deadline = time.monotonic() + 10
        while True:
            gone = await scrape(live_server)
            if value(gone, "sabaq_producers", source="camera") == 0:
                break
            assert time.monotonic() < deadline, "the teacher's producers stayed open"
            await asyncio.sleep(0.05)
        assert value(gone, "sabaq_consumers") == 0
        assert value(gone, "sabaq_media_packets_forwarded_total") >= value(
            later, "sabaq_media_packets_forwarded_total"
        )


async def test_event_loop_lag_is_measured_periodically(live_server: LiveServer) -> None:
    first = value(await scrape(live_server), "sabaq_event_loop_lag_seconds_count")
    deadline = time.monotonic() + 5
    while value(await scrape(live_server), "sabaq_event_loop_lag_seconds_count") < first + 2:
        assert time.monotonic() < deadline, "the loop probe did not run"
        await asyncio.sleep(0.1)


async def test_metrics_only_to_loopback_or_the_token(tmp_path: Path, demo_data: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    token = "scrape-token-0123456789"
    async with running_server(data, metrics_token=token) as server:
        assert await status(server) == 200  # loopback
        # Through a reverse proxy on this machine the peer is loopback too: not the operator.
        assert await status(server, **{"X-Forwarded-For": "203.0.113.9"}) == 403
        assert await status(server, Forwarded="for=203.0.113.9") == 403
        proxied = {"X-Forwarded-For": "203.0.113.9"}
        assert await status(server, Authorization=f"Bearer {token}", **proxied) == 200
        assert await status(server, Authorization="Bearer wrong-token-0123456", **proxied) == 403
        assert await status(server, Authorization=token, **proxied) == 403
