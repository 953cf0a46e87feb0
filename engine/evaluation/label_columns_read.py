"""A multi-label run scored on a file that gives its labels as one 0/1 column per label (the
Jigsaw layout ``cloister import --label-columns`` reads): the columns named like the run's
labels are read as them, with no flag, where the file has no label column the run would read;
``--label-columns`` names them outright, parsed and checked as import checks it.

What is refused, and why (evaluate refuses a row with no label rather than guess it):

- a run's label with no column: its absence is no 0, so the label cannot be scored;
- an empty cell: not read as 0 (as import), named by row and column;
- a cell that is no 0/1 value: named by row and column (``read_label_columns``).

Other 0/1 columns, not labels of the run, are left out and said.
"""
from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from engine.data.importing.table import ImportedTable
from engine.data.label_columns import (AUTO, indicator_columns, read_label_columns, refuse_beside,
                                       row_one_line, shown, wanted_columns)
from engine.errors import InputError

# Why a run's 0/1 columns are read so, and what to do about a cell that is no 0/1 value.
_READ_HOW = ("The run's labels are read from their columns, one label per column, set where "
             "the cell is 1: correct the cell in the file, or give the labels in one column "
             "with --label-column.")


@dataclass(frozen=True)
class FromColumns:
    """The file with the run's 0/1 columns read into one label column (the run's labels,
    joined by its delimiter; the delimiter alone where none applies), and which were read."""

    imported: ImportedTable
    label_column: str
    columns: tuple[str, ...]  # read, in the run's label order
    ignored: tuple[str, ...]  # other 0/1 columns of the file, not labels of the run


def _key(name: str) -> str:
    """A column's name as the label import makes of it (stripped; accents as NFC)."""
    return unicodedata.normalize("NFC", name.strip())


def read_run_label_columns(imported: ImportedTable, labels: Sequence[str], delimiter: str, *,
                           given: Sequence[str] | None = None, label_column: str | None = None,
                           trained_label: str | None = None, text_columns: Sequence[str] = (),
                           run: str = "the run") -> FromColumns | None:
    """The file read with the run's ``labels`` taken from one 0/1 column each: the columns
    ``given`` (``--label-columns``; ``auto``: those named like the run's labels), else, with no
    label column named and none named ``trained_label`` in the file, the columns named like the
    run's labels where the file has any. None: the file is read as before (one label column)."""
    available = list(imported.column_names)
    by_key = {_key(label): label for label in labels}
    if given:
        if label_column:
            raise refuse_beside("--label-column")
        if [g.strip() for g in given] == [AUTO] and AUTO not in available:
            names = _named_like(imported, labels, run, flag=False)
        else:
            names = wanted_columns(given, imported, text_columns)
            strangers = [n for n in names if _key(n) not in by_key]
            if strangers:
                raise InputError(
                    f"--label-columns: column{'s' * (len(strangers) > 1)} {shown(strangers)} "
                    f"{'are' if len(strangers) > 1 else 'is'} not among the labels {run} was "
                    f"trained on ({shown(labels)}), so cannot be scored: leave "
                    f"{'them' if len(strangers) > 1 else 'it'} out")
            _all_there(imported, labels, names, run, flag=True)
    else:
        from engine.data.columns import same_column

        if label_column is not None or (trained_label and same_column(trained_label, available)
                                        in available):
            return None
        found = [c for c in available if _key(c) in by_key and c not in text_columns]
        # A column that happens to bear a label's name ('billing' of amounts) is no 0/1 label:
        # the file is then read as before. One that holds 0/1 values asks for all of them.
        if not found or (len({_key(c) for c in found}) < len(labels)
                         and not indicator_columns(imported.table, found)):
            return None
        names = _named_like(imported, labels, run, flag=False)
    read, how = read_label_columns(imported, names, how=_READ_HOW)
    if how.blank_in:
        row, column = min(how.blank_in.items())
        more = len(how.blank_in) - 1
        raise InputError(
            f"{imported.source}: row {row + 1:,}{row_one_line(imported)}, column {column!r}: the "
            "cell is empty, neither 1 nor 0 (an empty cell is not read as 0)"
            f"{f'; {more:,} more rows have an empty label cell' if more else ''}: fill in 1 or "
            "0, or remove the row, to score it")
    # The run's labels, joined as the run joins them (the file's names may differ in accents'
    # encoding or spaces around them, and the delimiter import chose may not be the run's).
    def as_run(cell: str) -> str:
        parts = [by_key[_key(p)] for p in cell.split(how.delimiter) if p]
        return delimiter.join(parts) or delimiter

    table = read.table
    place = table.column_names.index(how.label_column)
    joined = pa.array([as_run(str(v)) for v in table.column(how.label_column).to_pylist()],
                      type=pa.string())
    table = table.set_column(place, how.label_column, joined)
    others = [c for c in available if c not in names and c not in text_columns]
    return FromColumns(imported=dataclasses.replace(read, table=table),
                       label_column=how.label_column, columns=tuple(names),
                       ignored=tuple(indicator_columns(imported.table, others)))


def _named_like(imported: ImportedTable, labels: Sequence[str], run: str, *, flag: bool) -> list[str]:
    """The file's column of each of the run's labels, in the run's order; a label with none
    refused, named."""
    columns: dict[str, str] = {}
    for column in imported.column_names:
        columns.setdefault(_key(column), column)
    names = [columns[_key(label)] for label in labels if _key(label) in columns]
    _all_there(imported, labels, names, run, flag=flag)
    return names


def _all_there(imported: ImportedTable, labels: Sequence[str], names: Sequence[str], run: str, *,
               flag: bool) -> None:
    """Refuse where one of the run's labels has no column among ``names``: its absence is no
    0, so it cannot be scored (and leaving it out would score the model on fewer labels)."""
    have = {_key(n) for n in names}
    missing = [label for label in labels if _key(label) not in have]
    if not missing:
        return
    case = [c for label in missing for c in imported.column_names
            if c.strip().casefold() == label.casefold() and _key(c) not in have]
    hint = f" (the file has {shown(case)}: names are case-sensitive)" if case else ""
    among = "among the columns --label-columns names" if flag else f"in {imported.source.name}"
    these = "these labels" if len(missing) > 1 else "this label"
    raise InputError(
        f"{imported.source.name}: {run} was trained on {len(labels)} labels, and "
        f"{shown(missing)} {'have' if len(missing) > 1 else 'has'} no 0/1 column {among} "
        f"(read: {shown(names) or 'none'}){hint}. A label with no column cannot be scored: "
        f"its absence is not a 0. Add a column for {these} to the file, or give the labels in "
        "one column with --label-column.")
