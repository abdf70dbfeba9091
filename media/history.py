"""Pure per-producer packet history for answering NACKs."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class PacketHistory(Generic[T]):
    """Ring buffer of the last `size` packets, indexed by 16-bit sequence number."""

    __slots__ = ("_items", "_seqs", "_size")

    def __init__(self, size: int = 1024) -> None:
        if size <= 0 or (1 << 16) % size:
            raise ValueError("size must divide 65536")
        self._size = size
        self._seqs: list[int] = [-1] * size
        self._items: list[T | None] = [None] * size

    def add(self, seq: int, item: T) -> None:
        """Store an item under its sequence number, evicting the one 'size' packets older."""
        slot = seq % self._size
        self._seqs[slot] = seq
        self._items[slot] = item

    def get(self, seq: int) -> T | None:
        """Return the item for seq if still held (not overwritten by a newer one)."""
        slot = seq % self._size
        if self._seqs[slot] != seq:
            return None
        return self._items[slot]

    def clear(self) -> None:
        """Forget everything."""
        self._seqs = [-1] * self._size
        self._items = [None] * self._size
