"""The limits a conversion runs under, as plain data the worker process receives as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.settings import Settings


@dataclass(frozen=True, slots=True)
class Limits:
    """Finite by default; built from Settings (server.settings) by `from_settings`."""

    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 300
    max_zip_entries: int = 10_000
    max_zip_total: int = 1024 * 1024 * 1024
    max_zip_ratio: float = 100.0
    max_image_pixels: int = 50_000_000
    max_image_side: int = 20_000
    timeout_s: float = 180.0
    memory_mb: int = 3072
    soffice: str = "soffice"
    widths: tuple[int, ...] = (640, 1280, 1920)
    webp_quality: int = 80

    def to_json(self) -> dict[str, Any]:
        """For the worker's command line."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Limits:
        """Back from the worker's command line."""
        return cls(**{**data, "widths": tuple(data["widths"])})


def from_settings(settings: Settings) -> Limits:
    """The operator's limits (server.settings) as the worker's."""
    return Limits(
        max_bytes=int(settings.doc_max_mb * 1024 * 1024),
        max_pages=settings.doc_max_pages,
        max_zip_entries=settings.doc_max_zip_entries,
        timeout_s=settings.doc_timeout_s,
        memory_mb=settings.doc_memory_mb,
        soffice=settings.doc_soffice,
    )
