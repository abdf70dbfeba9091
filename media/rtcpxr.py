"""Pure RTCP XR (RFC 3611) round trips for receivers: a viewer's Receiver Reference Time
report (RRTR) answered with a DLRR block.

A browser that only receives has no other way to measure its round trip, and Chromium needs
one to place the sender's clock (it subtracts half of it from each sender report's arrival):
without it `requestVideoFrameCallback` gives no `captureTime`, and the page cannot measure the
delay of what it shows. A direct call answers RRTR; aiortc does not.
"""

from __future__ import annotations

from typing import NamedTuple

_RR, _XR = 201, 207
_RRTR, _DLRR = 4, 5


class Rrtr(NamedTuple):
    """One receiver reference time report."""

    sender_ssrc: int  # the receiving browser's RTCP SSRC
    lrr: int  # the middle 32 bits of its NTP timestamp
    media_ssrcs: tuple[int, ...]  # streams it reports on in the same compound packet (RR)


def find_rrtr(compound: bytes) -> list[Rrtr]:
    """The RRTR blocks of a compound RTCP packet (usually none)."""
    media: list[int] = []
    found: list[tuple[int, int]] = []
    pos, size = 0, len(compound)
    while pos + 8 <= size:
        first, kind = compound[pos], compound[pos + 1]
        end = pos + ((compound[pos + 2] << 8 | compound[pos + 3]) + 1) * 4
        if first >> 6 != 2 or end > size:
            break
        if kind == _RR:
            for block in range(first & 0x1F):
                at = pos + 8 + 24 * block
                if at + 4 <= end:
                    media.append(int.from_bytes(compound[at : at + 4], "big"))
        elif kind == _XR:
            sender = int.from_bytes(compound[pos + 4 : pos + 8], "big")
            at = pos + 8
            while at + 4 <= end:
                block_type = compound[at]
                block_end = at + ((compound[at + 2] << 8 | compound[at + 3]) + 1) * 4
                if block_end > end:
                    break
                if block_type == _RRTR and block_end - at == 12:
                    found.append((sender, int.from_bytes(compound[at + 6 : at + 10], "big")))
                at = block_end
        pos = end
    return [Rrtr(sender, lrr, tuple(media)) for sender, lrr in found]


def dlrr_packet(sender_ssrc: int, rrtr: Rrtr, delay_s: float) -> bytes:
    """An XR packet with one DLRR sub-block answering `rrtr`, `delay_s` after it arrived."""
    delay = max(0, min(0xFFFFFFFF, round(delay_s * 65536)))
    return (
        bytes([0x80, _XR, 0, 5])  # 6 words in all
        + sender_ssrc.to_bytes(4, "big")
        + bytes([_DLRR, 0, 0, 3])
        + rrtr.sender_ssrc.to_bytes(4, "big")
        + rrtr.lrr.to_bytes(4, "big")
        + delay.to_bytes(4, "big")
    )
