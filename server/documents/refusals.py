"""Why a document was refused: a protocol code and an English sentence (locales: kk, ru)."""

from __future__ import annotations

from enum import StrEnum


class DocumentRefusal(StrEnum):
    """Every 'no' the ingestion can say; each has an `error.<code>` sentence in the locales."""

    EMPTY = "document_empty"
    TOO_LARGE = "document_too_large"
    UNSUPPORTED = "document_unsupported"
    FLASH = "document_flash"
    DAMAGED = "document_damaged"
    ENCRYPTED = "document_encrypted"
    TOO_MANY_PAGES = "document_too_many_pages"
    IMAGE_TOO_LARGE = "document_image_too_large"
    ZIP_TOO_MANY_ENTRIES = "document_zip_too_many_entries"
    ZIP_BOMB = "document_zip_bomb"
    ZIP_UNSAFE_ENTRY = "document_zip_unsafe_entry"
    CONVERTER_MISSING = "document_converter_missing"
    CONVERSION_TIMEOUT = "document_conversion_timeout"
    CONVERSION_FAILED = "document_conversion_failed"


MESSAGES: dict[DocumentRefusal, str] = {
    DocumentRefusal.EMPTY: "The file is empty.",
    DocumentRefusal.TOO_LARGE: "The file is larger than the server accepts.",
    DocumentRefusal.UNSUPPORTED: (
        "Sabaq shows PDF, PowerPoint (ppt, pptx), odp, Word (doc, docx), JPEG, PNG, MP3, ZIP "
        "and FLV files; this file's content is none of them, whatever its name says."
    ),
    DocumentRefusal.FLASH: (
        "This is a Flash (swf) file: browsers no longer play Flash, so it cannot be shown. "
        "Export it as a video or PDF and share that."
    ),
    DocumentRefusal.DAMAGED: "The file is damaged or incomplete and cannot be read.",
    DocumentRefusal.ENCRYPTED: "The file is protected by a password; share an unprotected copy.",
    DocumentRefusal.TOO_MANY_PAGES: "The document has more pages than the server accepts.",
    DocumentRefusal.IMAGE_TOO_LARGE: "The picture is too large (too many pixels) to be shown.",
    DocumentRefusal.ZIP_TOO_MANY_ENTRIES: "The archive holds more files than the server accepts.",
    DocumentRefusal.ZIP_BOMB: (
        "The archive unpacks to far more than its size (a zip bomb?) and is refused."
    ),
    DocumentRefusal.ZIP_UNSAFE_ENTRY: (
        "The archive holds an entry with an unsafe name (absolute, '..' or a link) "
        "or an encrypted entry, and is refused."
    ),
    DocumentRefusal.CONVERTER_MISSING: (
        "Office files need LibreOffice, which is not installed on the server "
        "(Debian package libreoffice-impress). PDF and pictures still work."
    ),
    DocumentRefusal.CONVERSION_TIMEOUT: "Converting the file took too long and was stopped.",
    DocumentRefusal.CONVERSION_FAILED: "The file could not be converted.",
}


class Refused(Exception):
    """Raised inside the worker; crosses to the server as a code and a sentence."""

    def __init__(self, code: DocumentRefusal, detail: str = "") -> None:
        super().__init__(detail or MESSAGES[code])
        self.code = code
        self.message = detail or MESSAGES[code]
