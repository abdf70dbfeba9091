"""Pages as WebP images in a few widths, one page at a time (worker side)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageOps

from server.documents.limits import Limits
from server.documents.refusals import DocumentRefusal, Refused

# A page's rendered bitmap is at most this many pixels at the largest width (a tall strip
# of a page must not become a gigapixel bitmap).
_MAX_RENDER_PIXELS = 1920 * 1920 * 3


def page_name(page: int, width: int) -> str:
    """The file of page `page` (1-based) at `width` pixels."""
    return f"{page}-{width}.webp"


def save_widths(image: Image.Image, out: Path, page: int, limits: Limits) -> float:
    """Write one page in every width; its aspect (height / width) for the page's layout."""
    image = image.convert("RGB")
    aspect = image.height / image.width
    for width in sorted(limits.widths, reverse=True):
        height = max(1, round(width * aspect))
        scaled = image if image.size == (width, height) else image.resize((width, height))
        tmp = out / f".{page_name(page, width)}"
        scaled.save(tmp, "WEBP", quality=limits.webp_quality, method=4)
        tmp.rename(out / page_name(page, width))  # a page file appears whole or not at all
    return round(aspect, 5)


def open_image(path: Path, limits: Limits) -> Image.Image:
    """A JPEG or PNG, its dimensions checked from the header before any pixel is decoded."""
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    try:
        image = Image.open(path)
        width, height = image.size
        if width * height > limits.max_image_pixels or max(width, height) > limits.max_image_side:
            raise Refused(DocumentRefusal.IMAGE_TOO_LARGE)
        image.load()
    except Image.DecompressionBombError:
        raise Refused(DocumentRefusal.IMAGE_TOO_LARGE) from None
    except (OSError, SyntaxError, ValueError):
        raise Refused(DocumentRefusal.DAMAGED) from None
    return ImageOps.exif_transpose(image)


def open_pdf(path: Path, limits: Limits) -> object:
    """A pypdfium2 document, refused when truncated, encrypted, empty or too long."""
    import pypdfium2 as pdfium

    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 2048))
        tail = f.read()
    # pdfium silently repairs a cut-off file; a PDF always ends with %%EOF (plus whitespace).
    if b"%%EOF" not in tail:
        raise Refused(DocumentRefusal.DAMAGED)
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Refused(DocumentRefusal.ENCRYPTED) from None
        raise Refused(DocumentRefusal.DAMAGED) from None
    pages = len(document)
    if pages == 0:
        raise Refused(DocumentRefusal.DAMAGED)
    if pages > limits.max_pages:
        raise Refused(DocumentRefusal.TOO_MANY_PAGES)
    return document


def pdf_pages(path: Path, limits: Limits) -> int:
    """How many pages the PDF has (after every check)."""
    document = open_pdf(path, limits)
    return len(document)  # type: ignore[arg-type]


def render_pdf(
    path: Path, out: Path, limits: Limits, progress: Callable[[int, int, float], None]
) -> int:
    """Render every page in order; `progress(page, pages, aspect)` after each is on disk."""
    import pypdfium2 as pdfium

    document = open_pdf(path, limits)
    assert isinstance(document, pdfium.PdfDocument)
    pages = len(document)
    largest = max(limits.widths)
    for index in range(pages):
        page = document[index]
        width_pt, height_pt = page.get_size()
        scale = largest / max(width_pt, 1.0)
        if (largest * height_pt * scale) > _MAX_RENDER_PIXELS:
            scale = (_MAX_RENDER_PIXELS / max(width_pt * height_pt, 1.0)) ** 0.5
        try:
            image = page.render(scale=scale).to_pil()
        except pdfium.PdfiumError:
            raise Refused(DocumentRefusal.DAMAGED) from None
        aspect = save_widths(image, out, index + 1, limits)
        page.close()
        progress(index + 1, pages, aspect)
    document.close()
    return pages
