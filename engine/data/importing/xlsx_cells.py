"""What openpyxl's streaming mode does not give of an .xlsx sheet, read from its XML.

Cells merged down a column (a label written once for a block of rows, as people lay out sheets
by hand): the value is the block's first cell's only, so every other row of the block read as a
missing label, and the offered fix (drop the rows with no label) threw most of such a file away.
Each row of the block gets the value its merged cell shows instead. Merges within one row (a
title across the columns) are left alone.

Formula cells with no saved result (a file a script wrote, never opened in a spreadsheet): they
read as empty, and were reported as "the text is empty" with nothing said of the formula.
"""
from __future__ import annotations

import re
from typing import Any

# <mergeCell ref="B2:B5"/>, with or without a namespace prefix; read from the sheet's XML, which
# the streaming reader does not parse for merges.
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')


def _column(letters: bytes) -> int:
    """1 for A, 27 for AA."""
    n = 0
    for ch in letters.decode("ascii"):
        n = n * 26 + ord(ch) - 64
    return n


def sheet_xml(worksheet: Any) -> bytes:
    """The sheet's XML part; b"" when it cannot be read again (the rows read stand)."""
    try:
        with worksheet._get_source() as source:  # openpyxl's read-only sheet
            return bytes(source.read())
    except Exception:  # noqa: BLE001 - private API, or an archive already closed
        return b""


# <c r="A5"><f>B5*2</f></c>: a formula and no <v> (or an empty one) after it.
_FORMULA_ONLY = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}\d+)"[^>]*>\s*<(?:\w+:)?f\b'
                           rb'(?:[^>]*/>|[^>]*>[^<]*</(?:\w+:)?f>)\s*(?:<(?:\w+:)?v\s*/>\s*)?'
                           rb'</(?:\w+:)?c>')


def formulas_without_values(data: bytes) -> list[str]:
    """The cells ("A5") that hold a formula whose result was never saved."""
    if b"<f" not in data and b":f" not in data:
        return []
    return [m[1].decode("ascii") for m in _FORMULA_ONLY.finditer(data)]


def merged_down(data: bytes) -> list[tuple[int, int, int, int]]:
    """(first column, first row, last column, last row) of each merge spanning rows, 1-based."""
    if b"mergeCell" not in data:
        return []
    out = []
    for match in _MERGE.finditer(data):
        c1, r1, c2, r2 = _column(match[1]), int(match[2]), _column(match[3]), int(match[4])
        if r2 > r1:
            out.append((c1, r1, c2, r2))
    return out


def fill_merged(rows: list[list[Any]], first_row: int, merges: list[tuple[int, int, int, int]],
                *, skip: int = 0) -> list[tuple[int, int, int, int]]:
    """Give every cell of each merge its first cell's value, in ``rows`` (sheet row
    ``first_row`` is ``rows[0]``), for merges that start at ``rows[skip]`` or below (``skip`` 1
    leaves the header alone); -> the merges filled."""
    filled = []
    for c1, r1, c2, r2 in merges:
        top = r1 - first_row
        if not skip <= top < len(rows):
            continue  # above the data (a title block, the header) or below it
        values = {c: rows[top][c - 1] for c in range(c1, c2 + 1)
                  if c - 1 < len(rows[top]) and rows[top][c - 1] is not None}
        if not values:
            continue
        for i in range(top + 1, min(r2 - first_row + 1, len(rows))):
            row = rows[i]
            for c, value in values.items():
                if len(row) < c:
                    row.extend([None] * (c - len(row)))
                if row[c - 1] is None:
                    row[c - 1] = value
        filled.append((c1, r1, c2, r2))
    return filled
