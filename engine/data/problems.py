"""Problems found in a dataset or a setting: the leaf every checker and reader imports.

Kept apart from ``validation`` so that the readers in ``engine.data.importing`` (which report
read-time problems) and the checks in ``validation`` (which read through ``columns``) depend on
this module and never on each other: the import circle columns -> importing -> validation is
gone for good (an import-linter contract in pyproject.toml keeps it so).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

# A check that hits many rows lists this many, then one summary with the total.
MAX_ROWS_LISTED = 20


class Severity(Enum):
    ERROR = "error"  # training cannot start until it is fixed
    WARNING = "warning"  # training can start, but the result may suffer
    INFO = "info"


@dataclass(frozen=True)
class Problem:
    severity: Severity
    code: str
    message: str
    hint: str = ""
    file: str | None = None
    row: int | None = None  # 1-based data row (the header is not a row)
    column: str | None = None
    # The one step that fixes it: a `cloister import` flag (engine.data.fix_hints.FIX_FOR_CODE).
    fix: str = ""
    # Excel: the row number the sheet shows for it (title rows and the header counted), where
    # the data rows map one to one onto sheet rows.
    sheet_row: int | None = None

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"row {self.row:,}" + (f" (sheet row {self.sheet_row:,})"
                                                 if self.sheet_row is not None else ""))
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, str | int | None]:
        """JSON-ready form (``cloister inspect --json``, the desktop's report table)."""
        return {"severity": self.severity.value, "code": self.code, "message": self.message,
                "hint": self.hint, "file": self.file, "row": self.row, "column": self.column,
                "fix": self.fix, "sheet_row": self.sheet_row}

    def __str__(self) -> str:
        where = self.location()
        text = f"{self.severity.value}: {where + ': ' if where else ''}{self.message}"
        return f"{text}. {self.hint}" if self.hint else text


def has_blocking(problems: Iterable[Problem]) -> bool:
    return any(p.blocking for p in problems)


def count_kinds(problems: Iterable[Problem], *, blocking: bool | None = None,
                severity: Severity | None = None) -> str:
    """``2 kinds``: how many checks failed, not how many entries they listed (one check can list
    the first 20 of 275 rows and a summary, and "24 errors" beside "275 rows" confuses)."""
    from engine.units import count_of

    codes = {p.code for p in problems if (blocking is None or p.blocking == blocking)
             and (severity is None or p.severity is severity)}
    return count_of(len(codes), "kind")
