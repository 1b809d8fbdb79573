"""CSV that is safe to open in a spreadsheet: the one rule for every CSV the portal writes.

Customers' queries end up in these files. A cell that starts with "=", "+", "-" or "@" is
run as a formula by Excel, LibreOffice and Google Sheets (`=HYPERLINK(...)` can leak the
sheet or lure the reader), so such text is written with a leading apostrophe: the reader
sees the text, and no spreadsheet runs it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from collections.abc import Sequence
from typing import TextIO

#: A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """`value`, with text that a spreadsheet would run as a formula made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A header row, then `rows`, every cell made inert."""
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([inert(cell) for cell in row] for row in rows)
