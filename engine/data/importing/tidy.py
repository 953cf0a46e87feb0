"""Leftovers of spreadsheet exports that are not data: left out on read, each with a note.

Excel and hand-joined exports leave rows and columns that hold nothing the user wrote as data:
rows of bare delimiters (``,,,``) below the data where cells were once formatted, unnamed columns
that are empty in every row, and the header line again wherever several exports were joined
into one file.
Read as data they become errors ("the text is empty" for every trailing row) or a class named
after the label column's header. ``tidy`` removes exactly those, says how many in an INFO
problem, and leaves every other row as it was.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.folding import fold
from engine.data.problems import Problem, Severity

# A number as spreadsheets write one: 1,234.5 / 1.234,5 / -3 / 12% / 1e3 / €30.
_NUMBER = re.compile(r"^[-+]?[$€£]?\s?(\d[\d.,\s']*|[.,]\d+)([eE][-+]?\d+)?\s?%?[$€£]?$")


def _blank(column: pa.ChunkedArray) -> np.ndarray:
    trimmed = pc.utf8_trim_whitespace(column)
    empty = pc.or_kleene(pc.is_null(trimmed), pc.equal(trimmed, ""))
    return np.asarray(pc.fill_null(empty, True).to_numpy(zero_copy_only=False), dtype=bool)


def _equal(column: pa.ChunkedArray, value: str) -> np.ndarray:
    same = pc.equal(pc.utf8_trim_whitespace(column), value)
    return np.asarray(pc.fill_null(same, False).to_numpy(zero_copy_only=False), dtype=bool)


def _rows(positions: np.ndarray) -> str:
    """Data rows as every problem counts them: 1-based, the header not counted."""
    rows = [f"{int(i) + 1:,}" for i in positions[:5]]
    return f"row{'s' * (len(positions) != 1)} {', '.join(rows)}{' …' if len(positions) > 5 else ''}"


def _trailing_empty(table: pa.Table, block: int = 1024) -> int:
    """How many rows at the end of ``table`` have no value in any column (read from the end, a
    block at a time: a million-row file costs one block)."""
    end = table.num_rows
    while end > 0:
        start = max(0, end - block)
        part = table.slice(start, end - start)
        empty = np.logical_and.reduce([_blank(part.column(n)) for n in part.column_names])
        filled = np.flatnonzero(~empty)
        if len(filled):
            return table.num_rows - (start + int(filled[-1]) + 1)
        end = start
    return table.num_rows


def header_key(row: Sequence[str | None]) -> list[str]:
    """A header as joined exports repeat it: each part may start with a BOM, in its own case,
    with spaces around a name."""
    return [(f or "").strip().lstrip("\ufeff").strip().casefold() for f in row]


def _header_repeats(table: pa.Table, header_fields: Sequence[str]) -> np.ndarray:
    """Rows equal to the header as ``header_key`` compares them. One hash lookup of the first
    named column against the ways an export writes that name (as the header does, lower, upper
    or title case, after a BOM) finds the candidates; only they are compared field by field.
    ``header_fields`` pair with the table's columns by position: call this before any column
    is dropped."""
    found = np.zeros(table.num_rows, dtype=bool)
    key = header_key(header_fields)
    named = [(n, f.strip().lstrip("\ufeff")) for n, f, k in zip(table.column_names, header_fields, key) if k]
    if not named:
        return found
    first_name, first_value = named[0]
    spellings = {first_value, first_value.lower(), first_value.upper(), first_value.title(),
                 first_value.capitalize()}
    written = sorted(spellings | {f"\ufeff{v}" for v in spellings})
    hits = pc.is_in(table.column(first_name), value_set=pa.array(written, pa.string()))
    candidates = np.flatnonzero(np.asarray(pc.fill_null(hits, False).to_numpy(zero_copy_only=False),
                                           dtype=bool))
    if not len(candidates):
        return found
    rows = table.take(pa.array(candidates))
    same = np.ones(len(candidates), dtype=bool)
    for name, want in zip(table.column_names, key):  # column by column, in Arrow
        column = pc.utf8_trim_whitespace(pc.utf8_ltrim(pc.utf8_trim_whitespace(rows.column(name)), "\ufeff"))
        same &= np.asarray(pc.fill_null(pc.equal(pc.utf8_lower(column), want.lower()), want == "")
                           .to_numpy(zero_copy_only=False), dtype=bool)
    found[candidates[same]] = True
    return found


def _sep_lines(table: pa.Table) -> np.ndarray:
    """Excel's "sep=;" line of a later export joined into the file, read as a row: "sep=" in the
    first column (the delimiter split it off) and nothing else."""
    first = table.column(0)
    hits = np.asarray(pc.fill_null(pc.is_in(first, value_set=pa.array(["sep=", "\ufeffsep="])), False)
                      .to_numpy(zero_copy_only=False), dtype=bool)
    if not hits.any():
        return hits
    for name in table.column_names[1:]:
        hits &= _blank(table.column(name))
    return hits


# The first word of a spreadsheet's totals row, in the languages its users write.
_TOTALS = {"total", "totals", "grand total", "sum", "summe", "gesamt", "gesamtsumme", "insgesamt",
           "totaal", "somme", "totale", "suma", "total general", "somme totale", "totale generale"}


_COMMA_DECIMAL = re.compile(r"\d,\d{1,2}\s?[$€£%]?$")


def _number(text: str, *, comma_decimal: bool = False) -> float | None:
    """A spreadsheet number ('1,234.50', '€30', '12%'), or None. ``comma_decimal``: the
    column writes decimals with a comma (405,83), so a dot groups thousands (96.543)."""
    if not _NUMBER.match(text):
        return None
    digits = re.sub(r"[^0-9.,\-]", "", text)
    if comma_decimal:
        digits = digits.replace(".", "")
    elif digits.count(",") and digits.count("."):  # 1,234.5 or 1.234,5: the last is the decimal
        digits = digits.replace("," if digits.rfind(".") > digits.rfind(",") else ".", "")
    try:
        return float(digits.replace(",", "."))
    except ValueError:
        return None


def _footer(table: pa.Table, end: int) -> np.ndarray:
    """The last row of data (before ``end``), when it is a totals row: a first filled cell that
    says "Total" (or "Summe", "Gesamt", ...), nothing else but numbers or blanks, and a number
    at least as large as every other in its column, as a total is. A one-column file, or a
    "Total" row without such a number (a review that says "Total", a 0/1 label), is data."""
    found = np.zeros(table.num_rows, dtype=bool)
    if end < 3 or table.num_columns < 2:
        return found
    row = {name: (value or "").strip() for name, value in table.slice(end - 1, 1).to_pylist()[0].items()}
    filled = [(name, value) for name, value in row.items() if value]
    if len(filled) < 2 or fold(filled[0][1]).rstrip(":") not in _TOTALS:
        return found
    if any(_number(value) is None for _, value in filled[1:]):
        return found
    for name, value in filled[1:]:
        cells = [(v or "").strip() for v in table.column(name).slice(0, end - 1).to_pylist()]
        comma = sum(bool(_COMMA_DECIMAL.search(c)) for c in cells) > len([c for c in cells if c]) / 2
        total = _number(value, comma_decimal=comma)
        parts = [v for v in (_number(c, comma_decimal=comma) for c in cells) if v is not None]
        if len(parts) >= 2 and total is not None and total >= max(parts) and total > 1:
            found[end - 1] = True
            break
    return found


def _left_out(path: Path, severity: Severity, code: str, rows: np.ndarray, noun: tuple[str, str],
              hint: str, *, where: str | None = None) -> Problem:
    """"N rows that ... (rows 3, 5) were left out": counts and row numbers, never values."""
    at = np.flatnonzero(rows)
    n = len(at)
    return Problem(severity=severity, code=code,
                   message=f"{n:,} {noun[n != 1]} {where or f'({_rows(at)})'} "
                   f"{'were' if n != 1 else 'was'} left out", hint=hint, file=str(path))


def tidy(table: pa.Table, path: Path, *, header_fields: Sequence[str] | None,
         unnamed: Sequence[str]) -> tuple[pa.Table, list[Problem]]:
    """``table`` without the empty rows below its data, its unnamed empty columns and (with
    ``header_fields``, the header as read) the rows that repeat the header; one note for each
    kind removed.

    ``unnamed``: the columns whose name was made up (``column_3``) because the header had none.
    Costs a comparison of one column, plus the unnamed columns: cheap next to the parse.
    """
    problems: list[Problem] = []
    if table.num_rows == 0 or table.num_columns == 0:
        return table, problems
    # Before any column goes: the header's fields pair with the columns by position.
    header_row = _header_repeats(table, header_fields) if header_fields else \
        np.zeros(table.num_rows, dtype=bool)
    empty_columns = [n for n in unnamed if n in table.column_names and _blank(table.column(n)).all()]
    if empty_columns and len(empty_columns) < table.num_columns:
        table = table.drop_columns(empty_columns)
        problems.append(Problem(
            severity=Severity.INFO, code="empty-columns",
            message=f"{len(empty_columns)} column{'s' * (len(empty_columns) != 1)} with no name and "
            f"no value in any row ({', '.join(empty_columns)}) {'were' if len(empty_columns) != 1 else 'was'}"
            " left out", hint="Nothing was in them.", file=str(path)))
    # Only the empty rows below the last row of data: one inside the data keeps its place (and
    # the row numbers after it), as in Excel imports, and is fixed with --drop-empty.
    trailing = _trailing_empty(table)
    empty_row = np.zeros(table.num_rows, dtype=bool)
    if trailing:
        empty_row[table.num_rows - trailing:] = True
    sep_row = _sep_lines(table) if table.num_columns > 1 else np.zeros_like(empty_row)
    footer_row = _footer(table, table.num_rows - trailing)
    drop = empty_row | header_row | sep_row | footer_row
    if not drop.any() or drop.all():
        return table, problems
    if sep_row.any():
        problems.append(_left_out(path, Severity.INFO, "sep-repeated", sep_row,
                                  ("more 'sep=' line", "more 'sep=' lines"), "Such lines hold no data.",
                                  where="(Excel's delimiter line, from exports joined into this file)"))
    if empty_row.any():
        problems.append(_left_out(path, Severity.INFO, "empty-rows", empty_row,
                                  ("row with no value in any column", "rows with no value in any column"),
                                  "Spreadsheets often leave such rows below the data."))
    if footer_row.any():
        problems.append(Problem(
            severity=Severity.WARNING, code="footer-row",
            message=f"the last row of data ({_rows(np.flatnonzero(footer_row))}) starts with a word for "
            "'total' and holds only numbers besides, as large as a column's sum: it looks like a "
            "spreadsheet's totals row and was left out",
            hint="If it is a real example, change its first cell in the source and import again.",
            file=str(path)))
    if header_row.any():
        problems.append(_left_out(path, Severity.WARNING, "header-repeated", header_row,
                                  ("row that repeats the header", "rows that repeat the header"),
                                  "The file looks like several exports joined together; row numbers "
                                  "in the problems below count without these rows."))
    return table.filter(pa.array(~drop)), problems
