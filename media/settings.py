"""Typed media settings, validated at construction."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class IceServer:
    """One STUN or TURN server given to clients and to the SFU's own ICE agent."""

    urls: str
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """Where the SFU gathers and announces ICE candidates, and forwarding limits."""

    # The only local address aioice may gather host candidates on.
    gather_address: str = "127.0.0.1"
    # The address written into our candidates (a server behind NAT announces its public one).
    announced_address: str | None = None
    # Empty means host candidates only; aiortc would otherwise try an unreachable public STUN.
    ice_servers: tuple[IceServer, ...] = field(default_factory=tuple)
    keyframe_interval_s: float = 0.5
    history_packets: int = 1024
    max_transports_per_router: int = 500
    # A viewer that does not answer our offer within this time has its subscribe connection
    # closed (`media_closed`, reason `offer_timeout`; the client starts over with
    # `media_start`). Without a bound, one silent viewer would hold every later change of its
    # own view forever (aiortc has no rollback, so the offer cannot be withdrawn). 10 s covers
    # a slow browser's setRemoteDescription + createAnswer on a loaded machine many times over.
    offer_timeout_s: float = 10.0
    # The playout delay (min, max) in ms asked of viewers' browsers for forwarded video with
    # the playout-delay header extension; None sends none (the browser's own defaults).
    # See docs/media.md, "The extra frame in the room page".
    video_playout_delay_ms: tuple[int, int] | None = None
    # Offer viewers transport-wide congestion control and choose their layers from the
    # measured link with probes (docs/media.md "What a viewer's link carries"); False keeps
    # the loss rule on receiver reports.
    viewer_transport_cc: bool = True

    def __post_init__(self) -> None:
        ipaddress.ip_address(self.gather_address)
        if self.announced_address is not None:
            ipaddress.ip_address(self.announced_address)
        if self.keyframe_interval_s <= 0:
            raise ValueError("keyframe_interval_s must be positive")
        if self.offer_timeout_s <= 0:
            raise ValueError("offer_timeout_s must be positive")
        if self.video_playout_delay_ms is not None:
            low, high = self.video_playout_delay_ms
            if not 0 <= low <= high <= 40950:
                raise ValueError("video_playout_delay_ms must satisfy 0 <= min <= max <= 40950")
        if self.history_packets <= 0 or 65536 % self.history_packets:
            raise ValueError("history_packets must divide 65536")
