"""The in-memory result of an import: one Arrow table plus where it came from."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from engine.data.problems import Problem


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

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    @property
    def column_names(self) -> list[str]:
        return list(self.table.column_names)
