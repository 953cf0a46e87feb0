"""A quote that opens a field and is never closed.

With quoting on, a field that starts with ``"`` runs to the next ``"``: a stray quote (a message
that begins with one, a cell cut by hand) with no other quote after it makes every line up to the
end of the file part of that one field. pyarrow then keeps that record as one row whose last
cell holds the rest of the file, or skips it as a row with too few fields: either way thousands
of rows vanish while the import reports one problem row. The sample the dialect is sniffed on is
only the file's first records, so it cannot see a quote further down.

Only the file's last record can be the one left open, so the check looks at that record alone
(the last row's last cell, or the last row skipped for its fields) and at the end of the file.
"""
from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.problems import MAX_ROWS_LISTED, Problem, Severity
from engine.errors import InputError

# How much of a skipped record's end is kept to recognise it as the file's last record.
_TAIL_CHARS = 256
_FIELD_LIMIT_LOCK = threading.Lock()


@contextmanager
def csv_fields_up_to(chars: int) -> Iterator[None]:
    """Python's csv module refuses fields over 128 KiB by default, and a long document, or a
    record a stray quote ran to the end of the file, is one field. The limit is process-wide, so
    it is raised (never lowered) under a lock and put back."""
    with _FIELD_LIMIT_LOCK:
        previous = csv.field_size_limit()
        csv.field_size_limit(max(previous, chars + 1))
        try:
            yield
        finally:
            csv.field_size_limit(previous)


class LastSkippedRecord:
    """Remembers the skipped row that ends the file, if one does (pyarrow hands each skipped row
    to a callback; the text of a record left open is the rest of the file, so only that one is
    kept, not every skipped row)."""

    def __init__(self, file_tail: str) -> None:
        self._tail = file_tail.rstrip("\r\n")[-_TAIL_CHARS:]
        self.text: str | None = None

    def offer(self, text: str) -> None:
        record = text.rstrip("\r\n")
        shared = min(len(record), len(self._tail))
        if "\n" in record and shared and record[-shared:] == self._tail[-shared:]:
            self.text = text


def check_closed(path: Path, table: pa.Table, skipped: LastSkippedRecord, delimiter: str, *,
                 tail: Callable[[int], bytes], whole_text: Callable[[], str]) -> None:
    """Refuse a file whose last record opens a quote that is never closed.

    ``tail(n)``: the file's last n bytes as UTF-8; ``whole_text()``: the file as text, read only
    when such a quote is found (to say on which line it opens).
    """
    open_from: str | None = None  # the record's raw text from its opening quote to the end
    if skipped.text is not None and _opens_quote_to_the_end(skipped.text, delimiter):
        open_from = _from_the_open_quote(skipped.text.rstrip("\r\n"), delimiter)
    elif table.num_rows and table.num_columns:
        last = table.column(table.num_columns - 1)[table.num_rows - 1].as_py()
        if last and "\n" in last:
            # The cell as it would be written, up to where its closing quote should be: a cell
            # that was closed ends the file with that quote, one left open with its own text.
            raw = ('"' + last.replace('"', '""')).rstrip("\r\n")
            end = tail(len(raw.encode("utf-8")) + 16).decode("utf-8", "ignore").rstrip("\r\n")
            if end.endswith(raw):
                open_from = raw
    if open_from is None:
        return
    text = whole_text().rstrip("\r\n")
    start = len(text) - len(open_from)
    line = text.count("\n", 0, start) + 1
    lines_after = open_from.count("\n")
    raise InputError(
        f"{path}, line {line:,}: a quote (\") opens a field there and is never closed, so the "
        f"{lines_after:,} line{'s' * (lines_after != 1)} after it would be read into that one field "
        "and lost. Remove that quote, or close it where the field ends, and read the file again; "
        "nothing was read from it."
    )


def _opens_quote_to_the_end(record: str, delimiter: str) -> bool:
    """Whether a raw record ends inside a quoted field (Python's csv says so exactly)."""
    try:
        with csv_fields_up_to(len(record)):
            for _ in csv.reader(io.StringIO(record), delimiter=delimiter, strict=True):
                pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


# Unrolled ([^"]* runs, then "" and more): 100 times faster than (?:[^"]|"")* on a long record.
_ESCAPED_TO_THE_END = re.compile(r'[^"]*(?:""[^"]*)*')


def _from_the_open_quote(record: str, delimiter: str) -> str:
    """The part of a record that a quote left open at its end starts with: from the first
    quote opening a field after which every quote is doubled (a closed multi-line cell before
    it in the record is not where the quote was left open)."""
    starts = re.finditer(f'(?:^|[{re.escape(delimiter)}\n])"', record)
    for match in starts:
        at = match.end() - 1
        if _ESCAPED_TO_THE_END.fullmatch(record, at + 1):
            return record[at:]
    return record


def rows_inside_cells(path: Path, table: pa.Table, delimiter: str) -> list[Problem]:
    """Cells that hold whole lines of the file as rows of their own: a quote opened in the middle
    of the file runs to the next quote, and when that one happens to end a field the row keeps
    its number of fields, is not skipped, and the rows between sit inside one of its cells.

    A cell over several lines is common (a quoted paragraph); one whose lines after the first
    split into the table's number of fields, ending in a value of its last column ('ham'), is
    not prose. Checked only on cells that hold a line break (a vectorised test finds them)."""
    columns = table.num_columns
    if columns < 2 or not table.num_rows or not _any_line_break(table):
        return []
    last_values: pa.Array | None = None
    problems: list[Problem] = []
    for name, column in zip(table.column_names, table.columns):
        broken = pc.match_substring(column, "\n")
        for row in np.flatnonzero(broken.to_numpy(zero_copy_only=False))[:_MAX_CELLS_CHECKED]:
            inner = column[int(row)].as_py().split("\n")[1:-1]  # the last is cut at the quote
            fields = [line.rstrip("\r").split(delimiter) for line in inner]
            if len(fields) < 2 or any(len(f) != columns for f in fields):
                continue
            if last_values is None:  # a hash set in Arrow, not a Python string per value
                last_values = pc.unique(table.column(columns - 1))
            found = pc.is_in(pa.array([f[-1] for f in fields], pa.string()), value_set=last_values)
            if pc.sum(found).as_py() * 2 < len(fields):
                continue
            problems.append(Problem(
                severity=Severity.WARNING, code="rows-in-a-cell", file=str(path),
                row=int(row) + 1, column=name,
                message=f"this cell holds {len(inner) + 1:,} lines that read as rows of the file "
                "(as many fields, ending in a value of its last column): if a stray quote opens "
                "the cell, the next quote in the file closed it and those rows were read into it",
                hint="Check the quote at the start of that cell: remove it, or close it where the "
                "cell ends, and import the file again. A table pasted into a quoted cell on "
                "purpose is read as it should be."))
            if len(problems) >= MAX_ROWS_LISTED:
                return problems
    return problems


def _any_line_break(table: pa.Table) -> bool:
    """Whether any cell holds a line break, read off the columns' character buffers (4 ms for
    50 MB, where a per-cell test took 80 ms: nearly every file has no such cell)."""
    for column in table.columns:
        for chunk in column.chunks:
            data = chunk.buffers()[-1] if chunk.type in (pa.string(), pa.large_string()) else None
            if data is not None and bool((np.frombuffer(data, dtype=np.uint8) == 0x0A).any()):
                return True
    return False


# Cells over several lines looked at, a column: a file of quoted paragraphs has many.
_MAX_CELLS_CHECKED = 200
