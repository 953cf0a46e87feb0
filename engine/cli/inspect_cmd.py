"""``cloister inspect FILE``: what Cloister sees in a dataset, and whether it can train on it.

Prints the detected format and encoding, the columns, the row count, the label distribution,
the proposed column mapping and the validation report. Exit status 0 when the data is
trainable, 2 when the report has blocking errors (or the file cannot be read at all).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from engine.data.columns import (
    ColumnMapping, complete_rows, label_array, other_label_columns, person_column_candidates,
    text_array,
)
from engine.cli.common import (add_label_columns_argument, label_delimiter, pipe_closed,
                               read_label_columns_option)
from engine.errors import InputError
from engine.units import label_cell, pad, shown_width
from engine.data.importing import ImportedTable, read_table
from engine.data.labels import label_counts as count_labels
from engine.data.problems import MAX_ROWS_LISTED, Problem, Severity, count_kinds, has_blocking
from engine.data.validation import validate

EXIT_TRAINABLE = 0
EXIT_BLOCKING = 2
_LABELS_SHOWN = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="show how a dataset file is read and whether it can be trained on",
        description="Read a dataset (CSV, TSV, JSON, JSONL, Parquet, .xlsx, or a folder with one "
        "sub-folder of .txt files per label) and report its columns, labels and problems. "
        "Nothing is written to disk.",
    )
    parser.add_argument("file", type=Path, help="dataset file or folder")
    parser.add_argument("--text-column", action="append", metavar="C", dest="text_columns",
                        help="column holding the text (repeat to join several columns)")
    parser.add_argument("--label-column", metavar="L", help="column holding the label")
    add_label_columns_argument(parser)
    parser.add_argument("--sheet", metavar="S", help="Excel sheet to read (default: the first)")
    parser.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                        help="whether the first row names the columns (default: detected)")
    parser.add_argument("--encoding", metavar="E",
                        help="a CSV/TSV file's text encoding, such as cp1250 or cp932 (default: "
                        "detected: UTF-8, or the legacy code page its text reads best in)")
    parser.add_argument("--max-tokens", type=int, metavar="N",
                        help="warn about texts far beyond an N-token limit (default: the "
                        "default model's limit, 512 for MiniLM, the most automatic training reads)")
    parser.add_argument("--skip-incomplete", action="store_true",
                        help="treat rows with empty text or no label, and rows of a CSV/TSV with "
                        "the wrong number of fields, as skipped (warnings), not errors")
    parser.add_argument("--label-delimiter", metavar="D", type=label_delimiter,
                        help="multi-label data: labels in a cell are separated by D (e.g. '|'); "
                        "classes are counted label by label")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def label_counts(imported: ImportedTable, mapping: ColumnMapping, *,
                 label_delimiter: str | None = None) -> dict[str, int]:
    """Rows per label over the rows training can use (a text and a label: the rows the class
    size checks count too), most frequent first."""
    if mapping.label_column is None:
        return {}
    labels = label_array(imported.table, mapping)
    usable = complete_rows(text_array(imported.table, mapping), labels)
    counts = count_labels(labels.filter(usable), label_delimiter=label_delimiter)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


_BLANK_ROWS_LISTED = 100


def _blank_rows(imported: ImportedTable, column: str) -> dict[str, Any]:
    """How many rows have no value in ``column``, and the first of them (1-based)."""
    import numpy as np

    from engine.data.columns import person_values

    values = person_values(imported.table, column)
    blank = np.flatnonzero(pc.equal(values, "").to_numpy(zero_copy_only=False))
    return {"blank_count": int(blank.size), "blank_rows": [int(i) + 1 for i in blank[:_BLANK_ROWS_LISTED]]}


def report(imported: ImportedTable, mapping: ColumnMapping, problems: list[Problem], *,
           label_delimiter: str | None = None) -> dict[str, Any]:
    return {
        "file": str(imported.source),
        "format": imported.format,
        "encoding": imported.encoding,
        "sheet": imported.sheet,
        "header": imported.has_header,
        "rows": imported.num_rows,
        "columns": imported.column_names,
        "mapping": {"text_columns": list(mapping.text_columns), "label_column": mapping.label_column,
                    "separator": mapping.separator,
                    # Several labels a row: a script re-reading the mapping needs it too.
                    "label_delimiter": label_delimiter},
        "label_counts": label_counts(imported, mapping, label_delimiter=label_delimiter),
        "other_label_columns": other_label_columns(imported, mapping),
        "person_columns": [{"column": c, "people": n, **_blank_rows(imported, c)}
                           for c, n in person_column_candidates(imported.table, mapping)],
        "problems": [p.as_dict() for p in problems],
        "trainable": not has_blocking(problems),
        "first_data_line": imported.first_data_line,
    }


def import_command(data: dict[str, Any], args: argparse.Namespace, flags: list[str]) -> str:
    """The `cloister import` that reads the file as inspect did (its sheet, header and columns,
    where the user chose them) with ``flags``: runnable as printed."""
    path = Path(data["file"])
    # A path that starts with "-" would be read as an option.
    shown = f"./{path}" if str(path).startswith("-") else str(path)
    parts = ["cloister", "import", shlex.quote(shown), "--name", shlex.quote(_dataset_name(path))]
    if args.sheet:
        parts += ["--sheet", shlex.quote(args.sheet)]
    if args.header is not None:
        parts.append("--header" if args.header else "--no-header")
    if args.encoding:
        parts += ["--encoding", shlex.quote(args.encoding)]
    for column in args.text_columns or ():
        parts += ["--text-column", shlex.quote(column)]
    if args.label_column:
        parts += ["--label-column", shlex.quote(args.label_column)]
    if args.label_delimiter:
        parts += ["--label-delimiter", shlex.quote(args.label_delimiter)]
    for columns in args.label_columns or ():
        parts += ["--label-columns", shlex.quote(columns)]
    if args.skip_incomplete:
        parts.append("--skip-incomplete")
    # "--label-column L" names a placeholder: the column named like a label, where there is one.
    others = data.get("other_label_columns") or []
    flags = [f"--label-column {shlex.quote(others[0])}" if f == "--label-column L" and others else f
             for f in flags]
    return " ".join(parts + flags)


def _dataset_name(path: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.")
    return name or "dataset"


_LINE_FORMATS = ("csv", "tsv", "jsonl")  # text files whose rows a user finds by line in an editor


def _print_text(data: dict[str, Any], problems: list[Problem], args: argparse.Namespace) -> None:
    out = sys.stdout
    details = ", ".join(x for x in (data["format"], data["encoding"],
                                    data["sheet"] and f"sheet {data['sheet']!r}") if x)
    print(f"File:     {data['file']} ({details})", file=out)
    if data["format"] in ("csv", "tsv", "xlsx") and not data["header"]:
        if args.header is False:  # forced: saying "detected" misled, and row 1 may be names
            print("Header:   none (--no-header: row 1 is data; leave --no-header out if it names "
                  "the columns)", file=out)
        else:
            print("Header:   none detected (use --header if the first row names the columns)",
                  file=out)
    print(f"Rows:     {data['rows']:,}", file=out)
    print(f"Columns:  {', '.join(data['columns'])}", file=out)
    mapping = data["mapping"]
    texts = " + ".join(repr(c) for c in mapping["text_columns"])
    label = repr(mapping["label_column"]) if mapping["label_column"] else "(none found)"
    if mapping.get("label_columns"):  # --label-columns: the columns the user knows
        label = f"one label per column, several a row: {', '.join(map(repr, mapping['label_columns']))}"
    elif any(p.code == "indicator-columns" and p.blocking for p in problems):
        label = "(none found: the columns of 0/1 values below look like one label each)"
    print(f"Mapping:  text = {texts}; label = {label}", file=out)
    others = data["other_label_columns"]
    if others:
        print(f"          also named like a label: {', '.join(repr(c) for c in others)} "
              f"(to train on it instead: --label-column {shlex.quote(others[0])})", file=out)
    counts: dict[str, int] = data["label_counts"]
    if counts:
        total = sum(counts.values())
        width = max(shown_width(label_cell(k, 60)) for k in counts)
        print(f"Labels:   {len(counts):,} {'class' if len(counts) == 1 else 'classes'} "
              f"(rows with a text and a label)", file=out)
        for name, count in list(counts.items())[:_LABELS_SHOWN]:
            print(f"  {pad(label_cell(name, 60), width)}  {count:>9,}  {100 * count / total:5.1f}%", file=out)
        if len(counts) > _LABELS_SHOWN:
            print(f"  ... and {len(counts) - _LABELS_SHOWN:,} more classes", file=out)
    for person in data["person_columns"][:1]:
        print(f"People:   '{person['column']}' may say who each row is about ({person['people']:,} "
              f"values, some on several rows): with `cloister train --dp`, add "
              f"`--dp-person-column {person['column']}` so that the guarantee covers each person, "
              "all of their rows, instead of each row", file=out)
        blank = person["blank_rows"]
        if blank:
            print(f"          {person['blank_count']:,} row(s) have no value in it (row {', '.join(map(str, blank[:5]))}"
                  f"{' …' if len(blank) > 5 else ''}): training per person refuses them; import with "
                  f"`--drop-blank {person['column']}` to leave them out", file=out)
    warnings = sum(p.severity is Severity.WARNING for p in problems)
    print(f"Problems: {count_kinds(problems, severity=Severity.ERROR)} of error, "
          f"{count_kinds(problems, severity=Severity.WARNING)} of warning", file=out)
    if data["format"] in _LINE_FORMATS and any(p.row is not None for p in problems):
        # A row is the Nth data row, not the Nth line: say where row 1 is, for an editor.
        print(f"          (rows are data rows: row 1 is line {data['first_data_line']:,} of the file)",
              file=out)
    elif data["format"] == "xlsx" and any(p.row is not None for p in problems):
        # As in a spreadsheet: title or blank rows above the header make the two differ.
        print(f"          (rows are data rows: row 1 is row {data['first_data_line']:,} of sheet "
              f"{data['sheet']!r})", file=out)
    for line in problem_lines(problems, source=data["file"]):
        print(f"  {line}", file=out)
    if data["trainable"]:
        print("Result:   trainable" + (" (see the warnings above)" if warnings else ""), file=out)
    else:
        flags = sorted({p.fix for p in problems if p.blocking and p.fix})
        multi = next((p.fix for p in problems if p.code == "looks-multi-label" and p.fix), None)
        if multi:
            # Labels that look like several a row: their combinations' small "classes" are
            # read one by one, not merged into 'other' (which replaced every label of a row).
            flags = [f for f in flags if not f.startswith(_BY_CLASS_FLAGS)] + [multi]
        print("Result:   not trainable yet: fix the errors above"
              + (f" (for example `{import_command(data, args, flags)}`)" if flags else ""),
              file=out)


_BY_CLASS_FLAGS = ("--min-class-size", "--merge-small-into", "--drop-small", "--drop-class",
                   "--resolve-conflicts")


def problem_lines(problems: list[Problem], *, source: str, per_check: int = 5,
                  applied: frozenset[str] = frozenset(),
                  listed_by: str = "listed with --json") -> list[str]:
    """One line per problem, the dataset's own path left out, at most ``per_check`` rows per
    check (the summary line still gives the total; ``--json`` lists them all). A fix whose flag
    is in ``applied`` (``import`` ran it already) is not offered again. ``listed_by``: where
    the rows not printed are listed (empty: the command lists them nowhere)."""
    lines: list[str] = []
    shown: dict[str, int] = {}
    hidden: dict[str, int] = {}
    fixed: set[str] = set()
    offered: dict[str, str] = {}  # the first fix offered for each first flag
    told: set[str] = set()  # checks whose advice was given
    # A check that lists rows and also has a row-less entry hit more rows than it lists (its
    # summary of the total, ``validation._Checker.listed``).
    summarized = {p.code for p in problems if p.row is None} & {p.code for p in problems if p.row is not None}
    for problem in problems:
        if problem.row is not None:
            shown[problem.code] = shown.get(problem.code, 0) + 1
            if shown[problem.code] > per_check:
                hidden[problem.code] = hidden.get(problem.code, 0) + 1
                continue
        # The advice once for each check: the sample data's 38 rows of markup repeated it 6 times.
        hint = problem.hint if problem.code not in told else ""
        told.add(problem.code)
        local = dataclasses.replace(problem, hint=hint,
                                    file=None if problem.file == source else problem.file)
        lines.append(str(local))
        # The one-step fix, under every error and under the first warning of each kind.
        if problem.fix and problem.fix.split()[0] not in applied and \
                (problem.blocking or problem.code not in fixed):
            # Small classes have one fix at a time: the error's (--min-class-size 2
            # --drop-small) or the warning's (--min-class-size 10 --merge-small-into other).
            first = problem.fix.split()[0]
            other = offered.setdefault(first, problem.fix) != problem.fix
            lines.append(f"  {'or instead' if other else 'fix'}: {problem.fix}")
        fixed.add(problem.code)
    for code, count in hidden.items():
        # A check that hit more rows than it lists: only its first MAX_ROWS_LISTED are anywhere.
        of = f" of the first {MAX_ROWS_LISTED}" if code in summarized else ""
        lines.append(f"({count} more {code!r} rows{of}" + (f" are {listed_by})" if listed_by else ")"))
    return lines


FALLBACK_MODEL_LIMIT = 512  # BERT-family models, MiniLM included


def default_max_tokens() -> int:
    """The most tokens automatic training reads: the default model's limit (512 for MiniLM),
    so inspect warns about what training will cut (128, the fixed --no-auto length, would warn
    about texts that training reads whole)."""
    from engine.models.folders import check_model_folder, default_model_path  # reads JSON only

    try:
        return int(check_model_folder(default_model_path()).max_length) or FALLBACK_MODEL_LIMIT
    except InputError:  # no bundled model here: the usual limit
        return FALLBACK_MODEL_LIMIT


def run(args: argparse.Namespace) -> int:
    max_tokens = args.max_tokens if args.max_tokens is not None else default_max_tokens()
    if max_tokens < 1:
        raise InputError(f"--max-tokens must be a positive number of tokens, not {max_tokens}.")
    try:
        imported = read_table(args.file, sheet=args.sheet, header=args.header, encoding=args.encoding)
        columns = imported.column_names  # as the file has them, not as read into labels
        imported, read = read_label_columns_option(args, imported, args.text_columns)
        mapping = ColumnMapping.choose(imported, text_columns=args.text_columns,
                                       label_column=read.label_column if read else args.label_column)
    except InputError as exc:
        if not args.json:
            raise
        # A script that asked for JSON gets JSON, whatever stopped the reading.
        # "error" and "exit_code" as in every command's JSON error, with what inspect adds.
        json.dump({"file": str(args.file), "error": str(exc), "exit_code": EXIT_BLOCKING,
                   "trainable": False}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_BLOCKING
    delimiter = read.delimiter if read else args.label_delimiter
    problems = validate(imported, mapping, max_tokens=max_tokens,
                        skip_incomplete=args.skip_incomplete, label_delimiter=delimiter)
    from engine.data.label_columns import as_read, with_pick_problem

    if read:
        problems = as_read(problems, read, imported)
    elif args.label_column is None and not delimiter:  # picked among two 0/1 columns: said
        problems = with_pick_problem(problems, imported, mapping.text_columns, mapping.label_column)
    data = report(imported, mapping, problems, label_delimiter=delimiter)
    if read:
        data["mapping"]["label_columns"] = list(read.columns)
        data["columns"] = columns
    try:
        if args.json:
            json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            _print_text(data, problems, args)
        sys.stdout.flush()
    except OSError as exc:
        if not pipe_closed(exc):
            raise
        # `cloister inspect big.csv | head` closed the pipe: not an error worth a traceback.
        # Point stdout at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_TRAINABLE if data["trainable"] else EXIT_BLOCKING
