"""What one viewer got during a measurement window, from its browser's readings (pure).

Inputs are what the pages report: `getStats()` samples of the viewer's incoming video
(`inbound-rtp`, read about once a second, the first at the window's start and the last at its
end), the times its frames were shown (`requestVideoFrameCallback`'s `expectedDisplayTime`, in
the same page clock as the samples' `at`) and the glass-to-glass delay of those whose stamp was
readable. Also the publisher's `outbound-rtp` per encoding and the server's `/metrics` counters.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from typing import Any


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50 and p95 (inclusive method; as bench.glass), None below two values."""
    if len(values) < 2:
        return {"p50": None, "p95": None}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(q[49], 1), "p95": round(q[94], 1)}


def longest_gap_ms(shown: Sequence[float], start: float, end: float) -> float:
    """The longest time without a new frame on the screen between `start` and `end`, the
    window's edges counted: a picture frozen from the middle of the window to its end is a gap
    as long as that, and a window without any frame is one gap as long as the window."""
    inside = sorted(t for t in shown if start <= t <= end)
    edges = [start, *inside, end]
    return round(max(b - a for a, b in itertools.pairwise(edges)), 1)


def _grew(first: Mapping[str, Any], last: Mapping[str, Any], key: str) -> float:
    return float(last.get(key) or 0) - float(first.get(key) or 0)


def viewer_summary(
    samples: Sequence[Mapping[str, Any]], shown: Sequence[float], truths: Sequence[float]
) -> dict[str, Any]:
    """One viewer's window: picture height received, frames decoded and shown per second,
    freezes, longest gap between shown frames, kbit/s received, glass-to-glass p50/p95.

    Each sample: {"at": ms, "video": inbound-rtp fields or None (nothing received yet)}.
    """
    if len(samples) < 2:
        raise ValueError("a window needs a sample at its start and one at its end")
    start, end = samples[0]["at"], samples[-1]["at"]
    span_s = (end - start) / 1000
    if span_s <= 0:
        raise ValueError("the samples do not advance in time")
    first = samples[0]["video"] or {}
    last = samples[-1]["video"] or {}
    heights = [s["video"]["frameHeight"] for s in samples if (s["video"] or {}).get("frameHeight")]
    in_window = [t for t in shown if start <= t <= end]
    return {
        "frame_height": {
            "median": statistics.median(heights) if heights else None,
            "last": heights[-1] if heights else None,
            "min": min(heights) if heights else None,
        },
        "decoded_fps": round(_grew(first, last, "framesDecoded") / span_s, 1),
        "shown_fps": round(len(in_window) / span_s, 1),
        "freezes": int(_grew(first, last, "freezeCount")),
        "freezes_s": round(_grew(first, last, "totalFreezesDuration"), 2),
        "longest_gap_ms": longest_gap_ms(shown, start, end),
        "kbps": round(_grew(first, last, "bytesReceived") * 8 / span_s / 1000),
        "packets_lost": int(_grew(first, last, "packetsLost")),
        "nacks_sent": int(_grew(first, last, "nackCount")),
        "keyframe_requests_sent": int(
            _grew(first, last, "pliCount") + _grew(first, last, "firCount")
        ),
        "glass_to_glass_ms": percentiles(truths),
        "frames_with_stamp": len(truths),
    }


def publisher_summary(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What the publisher sent in the window, in all and per encoding (a simulcast layer each,
    by RID; one unnamed encoding without simulcast).

    Each reading: {"at": ms, "encodings": [{"rid", "bytesSent", "frameHeight",
    "keyFramesEncoded", "framesEncoded", "targetBitrate", "qualityLimitationReason"}]}.
    """
    span_s = (after["at"] - before["at"]) / 1000
    if span_s <= 0:
        raise ValueError("the readings do not advance in time")
    was = {e.get("rid") or "": e for e in before["encodings"]}
    layers = []
    for now in after["encodings"]:
        rid = now.get("rid") or ""
        then = was.get(rid, {})
        layers.append(
            {
                "rid": rid or None,
                "frame_height": now.get("frameHeight"),
                "kbps": round(_grew(then, now, "bytesSent") * 8 / span_s / 1000),
                "target_kbps": round((now.get("targetBitrate") or 0) / 1000),
                "keyframes": int(_grew(then, now, "keyFramesEncoded")),
                "fps": round(_grew(then, now, "framesEncoded") / span_s, 1),
                # What held the encoder back at the end: "cpu", "bandwidth", "none", …
                "limited_by": now.get("qualityLimitationReason"),
            }
        )
    layers.sort(key=lambda layer: layer["frame_height"] or 0)
    return {
        "kbps": sum(layer["kbps"] for layer in layers),
        "keyframes": sum(layer["keyframes"] for layer in layers),
        "layers": layers,
    }


def parse_counters(text: str) -> dict[str, float]:
    """Unlabelled samples of a Prometheus text exposition (`/metrics`): name → value."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "{" in line:
            continue
        name, _, value = line.partition(" ")
        try:
            out[name] = float(value.split()[0])
        except (IndexError, ValueError):
            continue
    return out


def counters_grew(
    before: Mapping[str, float], after: Mapping[str, float], prefix: str
) -> dict[str, int]:
    """How much each `prefix…_total` counter grew, keyed without the prefix and `_total`."""
    return {
        name.removeprefix(prefix).removesuffix("_total"): int(value - before.get(name, 0))
        for name, value in after.items()
        if name.startswith(prefix) and name.endswith("_total")
    }
