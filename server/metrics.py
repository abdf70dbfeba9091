"""`GET /metrics`: the process's state and media counters in Prometheus's text format.

Nothing here runs per packet. The media counters are plain ints the producers and consumers
keep anyway (media/counters.py); a custom collector reads them, and the rooms and participants,
only when Prometheus scrapes. Histograms are fed by rare events: a page's connection reading
(every 2 s per participant) and the event-loop probe (twice a second).

Access (docs/operations.md): from loopback without a proxy header, or with the bearer token of
`SABAQ_METRICS_TOKEN` from anywhere. Room counts and delays say how a school is using the
server; they are not for the public, but an operator's Prometheus usually scrapes from another
machine, and a token is what its `authorization` setting sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from media import SOURCES
from media.counters import totals
from rooms.refusals import Reason
from server.errors import error
from server.keys import SETTINGS, SIGNALLING

if TYPE_CHECKING:
    from server.media_signalling import MediaQuality
    from server.signalling import Signalling

# Seconds. The page's levels change at 0.2 and 0.45 s (web/src/quality.js), the notice
# at 2 s; the old webinar tool's red was above 4 s.
DELAY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.45, 0.7, 1.0, 2.0, 4.0, 8.0)
LOSS_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
LAG_PROBE_S = 0.5  # how often the event loop is asked to wake up

MEDIA_COUNTERS: tuple[tuple[str, str], ...] = (
    ("packets_received", "RTP packets received from publishers"),
    ("packets_forwarded", "RTP packets forwarded to viewers (retransmissions not included)"),
    ("bytes_forwarded", "payload bytes of the packets forwarded to viewers"),
    ("nacks_sent", "NACK packets sent to publishers for lost packets"),
    ("nacks_received", "NACK packets received from viewers"),
    ("plis_sent", "keyframe requests (PLI) sent to publishers, after coalescing"),
    ("keyframe_requests_received", "keyframe requests (PLI/FIR) received from viewers"),
    ("retransmissions", "packets resent to viewers (RTX or plain) after their NACK"),
    ("layer_switches", "times a viewer was moved to another layer of a producer"),
)


class SabaqCollector(Collector):
    """Reads the live rooms and the media counters when scraped."""

    def __init__(self, signalling: Signalling) -> None:
        self._sig = signalling

    def collect(self) -> Iterator[Metric]:
        """One snapshot: every metric family, read now."""
        rooms = self._sig.rooms.values()
        yield GaugeMetricFamily("sabaq_rooms", "live rooms in this process", value=len(rooms))
        people = GaugeMetricFamily("sabaq_participants", "people in live rooms", labels=["state"])
        people.add_metric(["in_room"], sum(len(r.room.participants) for r in rooms))
        people.add_metric(["lobby"], sum(len(r.room.lobby) for r in rooms))
        yield people
        routers = [r for r in self._sig.media.routers() if not r.closed]
        producers = [p for r in routers for p in r.producers()]
        by_source = GaugeMetricFamily(
            "sabaq_producers", "incoming tracks being forwarded", labels=["source"]
        )
        for source in SOURCES:
            by_source.add_metric([source], sum(1 for p in producers if p.source == source))
        yield by_source
        yield GaugeMetricFamily(
            "sabaq_consumers",
            "forwarded copies of a track to one viewer",
            value=sum(len(p.consumers) for p in producers),
        )
        yield GaugeMetricFamily(
            "sabaq_transports",
            "open peer connections",
            value=sum(len(r.transports) for r in routers),
        )
        counts = totals(producers)
        for name, help_text in MEDIA_COUNTERS:
            yield CounterMetricFamily(f"sabaq_media_{name}", help_text, value=getattr(counts, name))


class Metrics:
    """The process's registry: the collector and the histograms fed by events."""

    def __init__(self, signalling: Signalling) -> None:
        # A registry per application, not prometheus_client's global one: tests run several
        # servers in one process, and the default process/GC collectors are not ours to expose.
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(SabaqCollector(signalling))
        self.delay = Histogram(
            "sabaq_reported_delay_seconds",
            "estimated media delay in the pages' connection readings",
            buckets=DELAY_BUCKETS,
            registry=self.registry,
        )
        self.round_trip = Histogram(
            "sabaq_reported_round_trip_seconds",
            "round trip to the server in the pages' connection readings",
            buckets=DELAY_BUCKETS,
            registry=self.registry,
        )
        self.loss = Histogram(
            "sabaq_reported_loss_ratio",
            "packet loss in the pages' connection readings (0-1)",
            buckets=LOSS_BUCKETS,
            registry=self.registry,
        )
        self.loop_lag = Histogram(
            "sabaq_event_loop_lag_seconds",
            f"how late the event loop woke a {LAG_PROBE_S} s timer",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        signalling.media.quality_listeners.append(self.observe_quality)

    def observe_quality(self, _room_id: str, _pid: str, q: MediaQuality) -> None:
        """One accepted page reading."""
        self.delay.observe(q.delay_ms / 1000)
        self.round_trip.observe(q.rtt_ms / 1000)
        self.loss.observe(q.loss_pct / 100)

    async def probe_loop(self) -> None:
        """Measure, forever, how late a timer fires: the time every socket callback waited."""
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(LAG_PROBE_S)
            self.loop_lag.observe(max(0.0, loop.time() - asked - LAG_PROBE_S))

    def exposition(self) -> bytes:
        """The text format, read now."""
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)


async def metrics_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the registry and the loop probe, after signalling is set up."""
    metrics = app[METRICS] = Metrics(app[SIGNALLING])
    probe = asyncio.create_task(metrics.probe_loop(), name="loop-lag-probe")
    yield
    probe.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await probe


PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def allowed(request: web.Request, token: str | None) -> bool:
    """The bearer token when one is set; otherwise (also) a direct loopback connection."""
    given = request.headers.get("Authorization", "")
    if token is not None and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    # A reverse proxy on the same machine connects from loopback on behalf of anyone: a request
    # that carries a proxy's header is not the operator's own.
    if any(h in request.headers for h in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False  # a unix socket or unknown peer


routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format (loopback, or `Authorization: Bearer SABAQ_METRICS_TOKEN`)."""
    secret = request.app[SETTINGS].metrics_token
    if not allowed(request, None if secret is None else secret.get_secret_value()):
        return error(
            Reason.NOT_PERMITTED,
            "Metrics are served to loopback, or with the bearer token of SABAQ_METRICS_TOKEN.",
        )
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
