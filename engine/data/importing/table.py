"""The in-memory result of an import: one Arrow table plus where it came from."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from engine.data.problems import Problem

# How a skipped ragged row's problem message ends (``delimited._RaggedRows``), after its line.
RAGGED_SKIPPED = "; the row was skipped"


@dataclass(frozen=True)
class ImportedTable:
    """A dataset read into memory; nothing of it was written to disk.

    ``table`` holds every column as strings (nulls where a cell was absent), so column inference,
    validation and training see the same values the user sees in a spreadsheet.
    ``problems`` are read-time findings (an encoding fallback, skipped ragged rows) that
    ``engine.data.validation.validate`` passes on in its report.
    ``first_data_line`` is the file line of data row 1; with no multi-line fields, data row N is on
    line ``first_data_line + N - 1`` (rows spread over several lines shift this, which is why
    problems name rows, not lines).
    """

    table: pa.Table
    source: Path
    format: str
    encoding: str | None = None
    problems: tuple[Problem, ...] = ()
    first_data_line: int = 1
    sheet: str | None = None
    has_header: bool = True
    sheets: tuple[str, ...] = ()  # an Excel workbook's worksheets, in order (the choice offered)
    delimiter: str | None = None  # a CSV's or TSV's, as sniffed (";" from European Excel)
    # Rows of a CSV/TSV with the wrong number of fields, left out of ``table`` (``problems``
    # names the first few): a command that must account for every row says so.
    skipped_rows: int = 0

    def skipped_rows_text(self) -> str:
        """Which rows could not be read, and how to get them read ('' when every row was): for
        a command whose output must account for every row of the file (predict, evaluate)."""
        if not self.skipped_rows:
            return ""
        ragged = [p for p in self.problems if p.code == "ragged-row"]
        lines = [p.message.removesuffix(RAGGED_SKIPPED) for p in ragged
                 if p.message.endswith(RAGGED_SKIPPED)]
        more = self.skipped_rows - len(lines)
        listed = "; ".join(lines) + (f"; and {more:,} more" if more > 0 and lines else "")
        n = self.skipped_rows
        return (f"{n:,} row{'s' * (n != 1)} of {self.source.name} could not be read"
                + (f" ({listed})" if listed else "") + ". "
                + (ragged[0].hint if ragged else "Check the file's delimiter and quoting."))

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    @property
    def column_names(self) -> list[str]:
        return list(self.table.column_names)
