"""Multi-label data given as one 0/1 column per label (the Jigsaw toxic-comments layout:
``comment_text,toxic,severe_toxic,obscene,...``): found, and read as the labels.

``indicator_columns`` finds the columns that hold only indicator values (0/1, true/false,
yes/no, y/n, 1.0/0.0). ``read_label_columns`` replaces the chosen ones by one label column in
the form the rest of Cloister reads multi-label data in: each row's labels (the names of the
columns whose cell is 1) joined by a delimiter, the delimiter alone where none is 1 ("none of
the labels applies"), and an empty cell (a missing label) where a cell of the row is empty:
an empty cell is never read as 0. Fixes, splits, training, evaluation and prediction then work
as for a file whose label cells were written 'toxic|insult'.
"""
from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.importing.header_names import LABEL_NAMES, name_score
from engine.data.importing.table import ImportedTable
from engine.data.problems import Problem, Severity
from engine.errors import InputError

AUTO = "auto"  # --label-columns auto: every indicator column
_TRUE = r"^(?:1(?:\.0*)?|true|yes|y)$"
_FALSE = r"^(?:0(?:\.0*)?|false|no|n)$"
_DELIMITERS = ("|", ";", "/", "+", "#")
_NEVER = {"file", "path", "filename", "id", "uuid", "index"}  # as ``columns._NEVER``
_MIN_FILLED = 0.5  # a column mostly empty is no set of labels, whatever its few values
_SHOWN = 8  # columns named in a message


@dataclass(frozen=True)
class Cells:
    """One column's cells read as indicators: 1, 0, empty, or something else."""

    true: np.ndarray
    false: np.ndarray
    blank: np.ndarray

    @property
    def other(self) -> np.ndarray:
        return ~(self.true | self.false | self.blank)


def cells(column: pa.ChunkedArray) -> Cells:
    values = column if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) \
        else column.cast(pa.string())
    trimmed = pc.utf8_lower(pc.fill_null(pc.utf8_trim_whitespace(values), ""))

    def mask(array: pa.ChunkedArray) -> np.ndarray:
        return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)

    return Cells(true=mask(pc.match_substring_regex(trimmed, _TRUE)),
                 false=mask(pc.match_substring_regex(trimmed, _FALSE)),
                 blank=mask(pc.equal(trimmed, "")))


def indicator_columns(table: pa.Table, names: Sequence[str] | None = None) -> list[str]:
    """The columns (of ``names``, default all) whose filled cells are all indicator values,
    filled in at least half the rows, in the table's order. Empty cells are allowed here (and
    reported where they are read)."""
    found = []
    rows = max(table.num_rows, 1)
    for name in names if names is not None else table.column_names:
        if name.strip().lower() in _NEVER:
            continue
        read = cells(table.column(name))
        if not read.other.any() and (~read.blank).sum() >= _MIN_FILLED * rows:
            found.append(name)
    return found


def shown(names: Sequence[str]) -> str:
    listed = ", ".join(repr(n) for n in names[:_SHOWN])
    return listed + (f" and {len(names) - _SHOWN:,} more" if len(names) > _SHOWN else "")


def flag_value(names: Sequence[str]) -> str:
    """``--label-columns``'s value naming ``names``, quoted for a shell where needed."""
    return shlex.quote(",".join(names))


def hint_problem(imported: ImportedTable, text_columns: Sequence[str]) -> Problem | None:
    """Where no label column is chosen and two columns or more hold only indicator values: say
    that they look like one label each, several a row, and the import that reads them so."""
    table = imported.table
    found = _indicators_besides(imported, text_columns)
    if len(found) < 2:
        return None
    blank = np.zeros(table.num_rows, dtype=int)
    first: tuple[int, str] | None = None
    for name in found:
        empty = cells(table.column(name)).blank
        blank += empty
        if empty.any() and (first is None or int(np.argmax(empty)) < first[0]):
            first = (int(np.argmax(empty)), name)
    empties = ""
    if first is not None:
        empties = (f"; {int(blank.sum()):,} of their cells are empty (the first in row "
                   f"{first[0] + 1:,}, column {first[1]!r}), and an empty cell is not read as 0")
    return Problem(
        severity=Severity.ERROR, code="indicator-columns",
        message=f"no label column: {len(found)} columns hold only 0/1 values ({shown(found)}), "
        f"which look like one label each, several a row (multi-label){empties}",
        hint="Read them as the labels with --label-columns: a row carries each label whose cell "
        "is 1, and a row with none carries none of the labels. Then train with --multi-label."
        + (" Fill in the empty cells, or leave their rows out with --skip-incomplete."
           if first is not None else "")
        + " If one of them is the only label and the others are 0/1 features, name it with "
        "--label-column NAME instead.",
        file=str(imported.source), fix=f"--label-columns {flag_value(found)}")


def _indicators_besides(imported: ImportedTable, text_columns: Sequence[str]) -> list[str]:
    """The indicator columns besides the text (two or more), else those found on a sample:
    judged on a sample (a wide million-row file is read fast), then checked whole."""
    from engine.data.columns import sample_rows

    table = imported.table
    found = indicator_columns(sample_rows(table), [n for n in table.column_names if n not in text_columns])
    return indicator_columns(table, found) if len(found) >= 2 else found


def pick_problem(imported: ImportedTable, text_columns: Sequence[str], label_column: str | None
                 ) -> Problem | None:
    """Where the label column picked is one of exactly two columns of 0/1 values ('is_spam'
    beside 'has_link'): a warning naming both readings, one yes/no label (kept) or two labels,
    several a row. Three or more get no label picked (``hint_problem`` says how to read them)."""
    found = _indicators_besides(imported, text_columns) if label_column else []
    if len(found) != 2 or label_column not in found or name_score(label_column, LABEL_NAMES)[0] >= 2:
        return None
    other = next(n for n in found if n != label_column)
    return Problem(
        severity=Severity.WARNING, code="indicator-columns",
        message=f"the label is {label_column!r}, one yes/no label; {other!r} holds only 0/1 "
        "values too, so the two may instead be two labels, several a row (multi-label)",
        hint=f"For one yes/no label keep --label-column {shlex.quote(label_column)} (the "
        f"default, what happens now; {other!r} is not read). For two labels a row, read both "
        f"with --label-columns {flag_value(found)}, then train with --multi-label.",
        file=str(imported.source))


def with_pick_problem(problems: list[Problem], imported: ImportedTable,
                      text_columns: Sequence[str], label_column: str | None) -> list[Problem]:
    """``problems`` with ``pick_problem``'s warning, if any, after the other warnings."""
    found = pick_problem(imported, text_columns, label_column)
    if found is None:
        return problems
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted([*problems, found], key=lambda p: rank[p.severity])  # stable


@dataclass(frozen=True)
class LabelColumns:
    """How the indicator columns were read: which, into which column, joined by what."""

    columns: tuple[str, ...]
    label_column: str
    delimiter: str
    blank_in: dict[int, str]  # row index -> the first of its label columns with an empty cell


def refuse_beside(flag: str) -> InputError:
    """The refusal of ``--label-columns`` given with ``flag`` (--label-column, --label-delimiter)."""
    return InputError(f"--label-columns and {flag} exclude each other: the labels are read from "
                      "the columns named (joined with a delimiter Cloister chooses); leave "
                      f"{flag} out")


def wanted_columns(values: Sequence[str], imported: ImportedTable,
                   text_columns: Sequence[str] = ()) -> list[str]:
    """The columns ``--label-columns`` names: each value a column, or names separated by commas
    (a value that is a column's name whole is that column, commas and all); ``auto`` alone:
    every indicator column besides the text columns. Names are checked; two at least."""
    from engine.data.columns import same_column

    available = list(imported.table.column_names)
    if [v.strip() for v in values] == [AUTO] and AUTO not in available:
        others = [n for n in available if n not in text_columns]
        names = indicator_columns(imported.table, others)
        _no_column_nearly(imported, [n for n in others if n not in names])
        if len(names) < 2:
            raise InputError(
                f"--label-columns auto: {imported.source.name} has "
                f"{'no column' if not names else 'one column only'} that holds only 0/1 values "
                f"{f'({shown(names)}) ' if names else ''}besides the text; multi-label data read "
                "from columns needs two or more, one per label. Name the columns, or give one "
                "label column with --label-column.")
        return names
    names = []
    for value in values:
        parts = [value] if same_column(value, available) in available else value.split(",")
        names += [same_column(p.strip(), available) for p in parts if p.strip()]
    for name in names:
        if name not in available:
            same = [c for c in available if c.casefold() == name.casefold()]
            meant = f"did you mean {same[0]!r}? (names are case-sensitive)" if same else \
                f"the columns are: {', '.join(repr(c) for c in available)}"
            raise InputError(f"--label-columns: column {name!r} is not in "
                             f"{imported.source.name}; {meant}.")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"--label-columns names {shown(twice)} twice; name each label column once.")
    if len(names) < 2:
        raise InputError(f"--label-columns needs two columns or more, one per label (it named "
                         f"{shown(names) or 'none'}): one 0/1 column is a single yes/no label, "
                         "given with --label-column.")
    text = [n for n in names if n in text_columns]
    if text:
        raise InputError(f"column {text[0]!r} cannot be both a text column and a label column.")
    return names


def _no_column_nearly(imported: ImportedTable, names: Sequence[str]) -> None:
    """``auto`` leaves out a column of 0/1 values with a stray other value in it ('2', 'maybe'),
    and the label with it, silently: refused instead, with the cell."""
    for name in names:
        read = cells(imported.table.column(name))
        filled = int((~read.blank).sum())
        odd = np.flatnonzero(read.other)
        if name.strip().lower() not in _NEVER and filled >= _MIN_FILLED * max(imported.num_rows, 1) \
                and 0 < odd.size <= 0.01 * filled:
            value = str(imported.table.column(name)[int(odd[0])].as_py()).strip()
            raise InputError(
                f"--label-columns auto: column {name!r} of {imported.source} holds 0/1 values but "
                f"for {odd.size:,} cell{'s' * (odd.size != 1)} (row {int(odd[0]) + 1:,}: "
                f"{value[:40]!r}), so auto would leave its label out: correct the cell, or name "
                "the label columns you want.")


def row_one_line(imported: ImportedTable) -> str:
    """' (row 1 is line N of the file)' after a row number of a CSV or TSV, whose rows are not
    its lines (a header, lines skipped before it); else ''."""
    return (f" (row 1 is line {imported.first_data_line:,} of the file)"
            if imported.format in ("csv", "tsv") and imported.first_data_line else "")


READ_HOW = ("--label-columns reads one label per column, set where the cell is 1: name only "
            "such columns, or correct the cell in the file.")


def read_label_columns(imported: ImportedTable, names: Sequence[str], *, how: str = READ_HOW
                       ) -> tuple[ImportedTable, LabelColumns]:
    """``imported`` with the columns ``names`` (checked, two or more) replaced by one label
    column of each row's labels joined by a delimiter, where the first of them was. A cell
    that is no indicator value refuses the file, naming its row and column (and ``how``: why
    the column is read so, and what to do)."""
    table = imported.table
    read = {name: cells(table.column(name)) for name in names}
    for name, column in read.items():
        odd = np.flatnonzero(column.other)
        if odd.size:
            value = str(table.column(name)[int(odd[0])].as_py()).strip()
            more = f" ({odd.size - 1:,} more cells of it are neither)" if odd.size > 1 else ""
            row = int(odd[0]) + 1
            raise InputError(
                f"{imported.source}: row {row:,}{row_one_line(imported)}, column {name!r}: "
                f"{value[:40]!r} is not an indicator value (1 or 0, true or false, yes or no, "
                f"y or n){more}. {how}")
    labels = [name.strip() for name in names]
    if not all(labels):
        raise InputError("--label-columns: a column with no name cannot be a label; give it "
                         "a name in the file.")
    delimiter = next((d for d in _DELIMITERS if not any(d in label for label in labels)), None)
    if delimiter is None:
        raise InputError(f"--label-columns: the names {shown(labels)} between them hold every "
                         f"separator Cloister can join labels with ({' '.join(_DELIMITERS)}); "
                         "rename a column in the file.")
    true = np.column_stack([read[n].true for n in names])
    blank = np.column_stack([read[n].blank for n in names])
    missing = np.asarray(blank.any(axis=1), dtype=bool)
    rows: list[list[bool]] = true.tolist()
    gaps: list[bool] = missing.tolist()
    cells_out = ["" if gap else (delimiter.join(label for label, on in zip(labels, row) if on)
                                 or delimiter) for row, gap in zip(rows, gaps)]
    blank_in = {int(i): names[int(np.argmax(blank[i]))] for i in np.flatnonzero(missing)}
    kept = [n for n in table.column_names if n not in names]
    label_column = next(c for c in ("labels", *(f"labels_{i}" for i in range(2, 1000)))
                        if c not in kept)
    where = min(table.column_names.index(n) for n in names)
    place = sum(1 for n in table.column_names[:where] if n not in names)
    out = table.select(kept).add_column(place, label_column, pa.array(cells_out, type=pa.string()))
    return (dataclasses.replace(imported, table=out),
            LabelColumns(columns=tuple(names), label_column=label_column, delimiter=delimiter,
                         blank_in=blank_in))


def as_read(problems: list[Problem], read: LabelColumns, imported: ImportedTable) -> list[Problem]:
    """``problems`` said of the label columns the user knows, not of the joined column: an
    empty label cell is an empty 0/1 cell, named by its column; the rows set in no column are
    said once (each was a note of its own: 'the label cell holds only "|"')."""
    out = []
    for problem in problems:
        if problem.code == "no-label-applies":
            continue
        if problem.code == "missing-label":
            column = read.blank_in.get((problem.row or 0) - 1, read.columns[0])
            skipped = problem.severity is Severity.WARNING
            problem = dataclasses.replace(
                problem, column=column if problem.row is not None else None,
                message=problem.message.replace("the label is missing", "the cell is empty, "
                                                "neither 1 nor 0 (an empty cell is not read as 0)"),
                hint="Fill in 1 or 0 in the file" + (": these rows will be left out of "
                                                     "training." if skipped else
                                                     ", or leave these rows out."))
        elif problem.column == read.label_column:
            problem = _of_columns(problem, read, imported)
        out.append(problem)
    values = imported.table.column(read.label_column)
    none = int(pc.sum(pc.equal(values, read.delimiter).cast(pa.int64())).as_py() or 0)
    if none:
        out.append(Problem(
            severity=Severity.INFO, code="no-label-applies",
            message=f"{none:,} row{'s' * (none != 1)} have 0 in every label column: each is "
            "trained as carrying none of the labels",
            hint=f"Right where none of {shown(read.columns)} applies; otherwise set its labels "
            "in the file.", file=str(imported.source)))
    return out


# The hints of class problems that would merge or drop rows by class, refused for several
# labels a row (a row's other labels would go too): said of a label's column instead.
_OWN_HINTS = {
    "class-too-small": "Add rows that carry this label (1 in its column), or leave its column out "
                       "(name the other label columns in --label-columns).",
    "class-small": "Add rows that carry this label (1 in its column) if you can.",
    "single-class": "A classifier needs at least two labels: add rows that carry the others, or "
                    "name their columns in --label-columns.",
    "conflicting-labels": "Decide which labels are right: correct the 0/1 cells of the other rows, "
                          "or remove them.",
}


def _of_columns(problem: Problem, read: LabelColumns, imported: ImportedTable) -> Problem:
    """A problem validation said of the joined column ('labels'), said of the label and its own
    column ('obscene': "label 'obscene' has 1 example"), a conflict by the columns whose cells
    differ; a problem of no one label column names none."""
    column_of = {name.strip(): name for name in read.columns}  # a label is its column's name
    message, column = problem.message, None
    for label, name in column_of.items():
        # The front ends name the column ("column 'obscene': label 'obscene' has 1 example").
        if f"class {label!r} has " in message:
            message, column = message.replace(f"class {label!r} has ", f"label {label!r} has "), name
        elif f"the same label {label!r}" in message:  # single-class
            column = name
    if problem.code in ("class-too-small", "class-small") and " classes in all have " in message:
        message = message.replace(" classes in all have ", " labels in all have ")
    if problem.code == "conflicting-labels" and problem.row is not None:
        message, column = _conflict(problem, read, imported, column_of)
    hint = problem.hint
    if problem.code in _OWN_HINTS and not hint.startswith("It "):  # "It is another spelling" kept
        hint = _OWN_HINTS[problem.code]
    return dataclasses.replace(problem, message=message, column=column, hint=hint)


def _conflict(problem: Problem, read: LabelColumns, imported: ImportedTable,
              column_of: dict[str, str]) -> tuple[str, str | None]:
    """The same text under other labels, said by the columns whose cells differ."""
    import re

    found = re.search(r"as row ([\d,]+) ", problem.message)
    if found is None or problem.row is None:
        return problem.message, None
    other = int(found.group(1).replace(",", ""))
    values = imported.table.column(read.label_column)
    here, there = ({p for p in str(values[row - 1].as_py() or "").split(read.delimiter) if p}
                   for row in (problem.row, other))
    differ = [name for label, name in column_of.items() if (label in here) != (label in there)]
    said = "; ".join(f"{name!r} is {int(name.strip() in here)} here, {int(name.strip() in there)} "
                     "there" for name in differ[:_SHOWN])
    return (f"the same text as row {other:,} has different labels: {said}",
            differ[0] if differ else None)
