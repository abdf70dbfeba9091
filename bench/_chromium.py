"""Debian's Chromium as the benchmarks and the end-to-end tests start it (one list for both)."""

from __future__ import annotations

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
# Loopback-only WebRTC (FIELD-NOTES): without these Chromium gathers no candidate at all.
LOOPBACK_ARGS = [
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    # Media pages play incoming audio without a click.
    "--autoplay-policy=no-user-gesture-required",
]
