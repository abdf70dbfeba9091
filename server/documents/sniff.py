"""The file's kind from its content (magic bytes and structure), never from its name."""

from __future__ import annotations

import zipfile
from enum import StrEnum
from pathlib import Path

from server.documents.refusals import DocumentRefusal, Refused


class Kind(StrEnum):
    """The allow-list: every kind Sabaq shows."""

    PDF = "pdf"
    PPT = "ppt"
    PPTX = "pptx"
    ODP = "odp"
    DOC = "doc"
    DOCX = "docx"
    JPEG = "jpeg"
    PNG = "png"
    MP3 = "mp3"
    ZIP = "zip"
    FLV = "flv"


OFFICE = frozenset({Kind.PPT, Kind.PPTX, Kind.ODP, Kind.DOC, Kind.DOCX})

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream names inside an OLE2 compound file tell PowerPoint from Word (UTF-16LE).
_PPT_STREAM = "PowerPoint Document".encode("utf-16-le")
_DOC_STREAM = "WordDocument".encode("utf-16-le")
_ODP = b"application/vnd.oasis.opendocument.presentation"
# MPEG audio frame sync: 11 set bits, then a version and layer III (not "reserved").
_MP3_SYNC = frozenset({0xFB, 0xFA, 0xF3, 0xF2, 0xE3, 0xE2})


def sniff(path: Path) -> Kind:
    """The kind of the file at `path`, or Refused (empty, Flash, or not on the allow-list)."""
    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        raise Refused(DocumentRefusal.EMPTY)
    if head[:3] in (b"FWS", b"CWS", b"ZWS"):
        raise Refused(DocumentRefusal.FLASH)
    # The PDF header must open the file: a later '%PDF-' is how polyglots slip past viewers.
    if head.startswith(b"%PDF-"):
        return Kind.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if head.startswith(b"FLV\x01"):
        return Kind.FLV
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] in _MP3_SYNC):
        return Kind.MP3
    if head.startswith(_OLE2):
        return _ole2_kind(path)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path, head)
    raise Refused(DocumentRefusal.UNSUPPORTED)


def _ole2_kind(path: Path) -> Kind:
    """ppt or doc by the streams named in the compound file's directory."""
    data = path.read_bytes()  # size already capped by the caller
    if _PPT_STREAM in data:
        return Kind.PPT
    if _DOC_STREAM in data:
        return Kind.DOC
    raise Refused(DocumentRefusal.UNSUPPORTED)  # Excel, Visio, MSI and others


def _zip_kind(path: Path, head: bytes) -> Kind:
    """An Office Open XML or OpenDocument file by its parts, else a plain archive."""
    # ODF's first entry is an uncompressed 'mimetype' whose content is at a fixed offset.
    if head[30:38] == b"mimetype" and head[38:].startswith(_ODP):
        return Kind.ODP
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Refused(DocumentRefusal.DAMAGED) from None
    if "[Content_Types].xml" in names:
        if "ppt/presentation.xml" in names:
            return Kind.PPTX
        if "word/document.xml" in names:
            return Kind.DOCX
    return Kind.ZIP
