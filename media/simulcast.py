"""Pure SDP text for receiving simulcast (RFC 8853 `a=simulcast`, RFC 8851 `a=rid`).

aiortc's SDP knows neither, so its answer to a browser offering simulcast leaves them out and
the browser falls back to one encoding. The publish answer is amended as text, as for
transport-cc (`aiortc_hooks.with_transport_cc`): each offered RID is accepted (`a=rid:X recv`,
`a=simulcast:recv …`), with the RTP header extensions that tell the encodings apart
(`rtp-stream-id`, and `repaired-rtp-stream-id` for their retransmissions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"

_SECTION = re.compile(r"(?=^m=)", re.MULTILINE)
_MID = re.compile(r"^a=mid:(\S+)", re.MULTILINE)
_SIMULCAST = re.compile(r"^a=simulcast:send (\S+)\r?$", re.MULTILINE)
_RID_SEND = re.compile(r"^a=rid:([\w-]+) send\b", re.MULTILINE)
_RID_NAME = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def _extmap(uri: str) -> re.Pattern[str]:
    return re.compile(r"^a=extmap:(\d+)(?:/\w+)? " + re.escape(uri) + r"\r?$", re.MULTILINE)


_RID_EXTMAP = _extmap(RID_URI)
_REPAIRED_EXTMAP = _extmap(REPAIRED_RID_URI)
# Layers beyond this are not accepted (browsers send at most three).
MAX_LAYERS = 3


@dataclass(frozen=True, slots=True)
class SimulcastOffer:
    """One video m-line's offered encodings, lowest first, and their extension IDs."""

    rids: tuple[str, ...]
    rid_id: int
    repaired_rid_id: int  # 0 if not offered


def simulcast_offers(offer: str) -> dict[str, SimulcastOffer]:
    """MID → what its video m-line offers to send as simulcast (2+ RIDs and the RID extension).

    The order is the offer's `a=simulcast` order, which is the order of the page's
    `sendEncodings`: lowest first by our convention (mediasoup's too). Alternatives (`a,b`) are
    reduced to their first RID; paused ones (`~x`) are kept (they may start later).
    """
    found: dict[str, SimulcastOffer] = {}
    for section in _SECTION.split(offer):
        if not section.startswith("m=video"):
            continue
        mid, simulcast, rid_ext = (
            _MID.search(section),
            _SIMULCAST.search(section),
            _RID_EXTMAP.search(section),
        )
        if mid is None or simulcast is None or rid_ext is None:
            continue
        declared = set(_RID_SEND.findall(section))
        rids: list[str] = []
        for group in simulcast.group(1).split(";"):
            rid = group.split(",")[0].lstrip("~")
            if rid in declared and _RID_NAME.match(rid) and rid not in rids:
                rids.append(rid)
        if len(rids) < 2:
            continue
        repaired = _REPAIRED_EXTMAP.search(section)
        found[mid.group(1)] = SimulcastOffer(
            tuple(rids[:MAX_LAYERS]),
            int(rid_ext.group(1)),
            int(repaired.group(1)) if repaired else 0,
        )
    return found


def rid_extension_ids(offer: str) -> dict[str, tuple[int, int]]:
    """MID → (RID, repaired RID) extension IDs (0 = not offered) of each video m-line that
    offers the RID extension, simulcast or not."""
    found: dict[str, tuple[int, int]] = {}
    for section in _SECTION.split(offer):
        mid, rid_ext = _MID.search(section), _RID_EXTMAP.search(section)
        if section.startswith("m=video") and mid is not None and rid_ext is not None:
            repaired = _REPAIRED_EXTMAP.search(section)
            found[mid.group(1)] = (int(rid_ext.group(1)), int(repaired.group(1)) if repaired else 0)
    return found


def with_simulcast(answer: str, offer: str) -> str:
    """Accept the offer's simulcast on each video m-line of the answer (see the module).

    The RID extensions are accepted on every video m-line that offers them, simulcast or not:
    Chromium keeps to the extensions a bundle has agreed, and a camera with layers added after
    a one-encoding screen share was refused by the browser itself ("negotiates simulcast but
    does not negotiate the RID RTP header extension") when the first answer had left them out.
    """
    offers = simulcast_offers(offer)
    extension_ids = rid_extension_ids(offer)
    if not extension_ids:
        return answer
    out = []
    for section in _SECTION.split(answer):
        mid = _MID.search(section)
        ids = extension_ids.get(mid.group(1)) if mid else None
        if not section.startswith("m=video") or mid is None or ids is None:
            out.append(section)
            continue
        wanted = offers.get(mid.group(1))
        newline = "\r\n" if "\r\n" in section else "\n"
        lines = section.split(newline)
        trailing = [""] if not lines[-1] else []
        lines = [line for line in lines if line]
        at = next((i + 1 for i, line in enumerate(lines) if line.startswith("a=mid:")), len(lines))
        extensions = [f"a=extmap:{ids[0]} {RID_URI}"]
        if ids[1]:
            extensions.append(f"a=extmap:{ids[1]} {REPAIRED_RID_URI}")
        lines[at:at] = extensions
        if wanted is not None:
            lines += [f"a=rid:{rid} recv" for rid in wanted.rids]
            lines.append("a=simulcast:recv " + ";".join(wanted.rids))
        out.append(newline.join(lines + trailing))
    return "".join(out)
