"""CSV cells that a spreadsheet shows as text and never runs as a formula (CSV injection)."""

from __future__ import annotations

# Excel, LibreOffice and Google Sheets read a cell starting with one of = + - @ as a formula,
# and skip a leading tab or carriage return before looking (OWASP's list): a name typed as
# "\t=HYPERLINK(...)" must stay a name.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The value as a cell, prefixed with an apostrophe if a spreadsheet would run it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
