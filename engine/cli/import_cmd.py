"""``cloister import FILE --name NAME``: validate a file as ``inspect`` does and store it
encrypted in the workspace (out of ``vault_cmds``, 500 lines).

Messages name datasets, files, rows and columns, never row contents.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from engine.cli.common import (add_label_columns_argument, add_workspace_options, label_delimiter,
                               open_workspace, read_label_columns_option, require_workspace,
                               workspace_dir)
from engine.cli.fix_options import add_fix_arguments
from engine.cli.show_lines import replaced_line, what_is_replaced

EXIT_OK = 0
EXIT_BLOCKING = 2


def cmd_import(args: argparse.Namespace) -> int:
    # Heavy engine imports stay inside the command so `cloister --help` stays fast.
    from engine.cli.fix_options import apply_fix_arguments
    from engine.cli.inspect_cmd import problem_lines
    from engine.data.columns import ColumnMapping
    from engine.data.fix_hints import flag_of_kind
    from engine.data.importing import read_table
    from engine.data.store import check_name, save_dataset
    from engine.data.problems import has_blocking
    from engine.data.validation import validate

    name = check_name(args.name)
    require_workspace(args)  # no workspace: said before a page of the file's warnings
    # Validate as `cloister inspect` does, before asking for the passphrase; token lengths
    # excepted: they depend on the model, chosen at training, whose plan counts the texts cut.
    imported = read_table(Path(args.file), sheet=args.sheet, header=args.header, encoding=args.encoding)
    file_columns = list(imported.column_names)  # as the user knows them, for --anonymize's policy
    imported, read = read_label_columns_option(args, imported, args.text_column)
    if read is not None:  # from here on, read as a file with one multi-label column is
        args = argparse.Namespace(**{**vars(args), "label_column": read.label_column,
                                     "label_delimiter": read.delimiter})
    mapping = ColumnMapping.choose(imported, text_columns=args.text_column,
                                   label_column=args.label_column)
    # Fixes (engine.cli.fix_options) apply in memory; a refused one stops here, nothing stored.
    imported, history, fixed = apply_fix_arguments(args, imported, mapping)
    problems = validate(imported, mapping, skip_incomplete=args.skip_incomplete,
                        label_delimiter=args.label_delimiter)
    from engine.data.label_columns import as_read, flag_value, with_pick_problem

    if read is not None:
        problems = as_read(problems, read, imported)
    elif args.label_column is None and not args.label_delimiter:  # picked among two 0/1 columns
        problems = with_pick_problem(problems, imported, mapping.text_columns, mapping.label_column)
    label = mapping.label_column if mapping.label_column is not None else "(none)"
    if read is not None:
        label = f"one per column, several a row ({', '.join(read.columns)})"
    inspected = shlex.quote(str(imported.source))  # the hints name the file, ready to paste
    if read is not None:  # inspect reads the labels as import did, or finds no label column
        inspected += f" --label-columns {flag_value(read.columns)}"
    print(f"{imported.source.name}: {imported.num_rows:,} rows; text: "
          f"{' + '.join(mapping.text_columns)}; label: {label}")
    for line in fixed:
        print("  " + line)
    if history and any(p.row is not None for p in problems):
        # Dropped rows shift the numbers: say so, rather than name the wrong line of the file.
        print(f"  (the rows below are counted after these fixes; `cloister inspect {inspected}` "
              "numbers them as in the file)", file=sys.stderr)
    cap = next((s for s in history if s.get("kind") == "cap-long"), None)
    if cap is not None and any(p.code in ("duplicate-row", "conflicting-labels") for p in problems):
        # Repeats are judged on the texts as read; these appear only once the texts are cut.
        print(f"  (the repeats or conflicts below appear once texts are cut at "
              f"{cap.get('details', {}).get('max_tokens', '?')} tokens: cut them less, or leave "
              "--cap-long out)", file=sys.stderr)
    # The flag of each fix that already ran ("--drop-duplicates"): not offered again.
    applied = frozenset(flag_of_kind(str(s.get("kind"))) for s in history)
    # The rows not printed are listed by inspect's --json (import has no such flag).
    for line in problem_lines(problems, source=str(imported.source), applied=applied,
                              listed_by=f"listed by 'cloister inspect {inspected} --json'"):
        print("  " + line, file=sys.stderr)  # warnings and errors: stderr, as the README says
    if has_blocking(problems) and not args.force:
        from engine.data.problems import count_kinds

        flags = " ".join(sorted({p.fix for p in problems if p.blocking and p.fix}))
        add = f"add {flags}" if flags else "fix them"
        print(f"cloister: error: not imported: {count_kinds(problems, blocking=True)} of blocking problem in "
              f"{imported.source.name}; {add} (the source file is not changed), choose other "
              "columns, or pass --force to store it as it is and fix it later with `cloister fix`",
              file=sys.stderr)
        return EXIT_BLOCKING
    if args.anonymize is not None:
        from engine.cli.privacy_cmds import import_anonymized

        return import_anonymized(args, imported, mapping, problems, history,
                                 file_columns=file_columns if read is not None else None,
                                 label_columns=read.columns if read is not None else ())
    ws = open_workspace(args)
    try:
        before = what_is_replaced(ws, name) if args.replace else None
        info = save_dataset(ws, name, imported, mapping, problems=problems,
                            overwrite=args.replace, skip_incomplete=args.skip_incomplete,
                            history=history, label_delimiter=args.label_delimiter)
        replaced = replaced_line(ws, name, *before) if before else ""
    finally:
        ws.lock()
    print(f"Imported {info.rows:,} rows as dataset {info.name!r} "
          f"({info.num_classes} {'class' if info.num_classes == 1 else 'classes'}), encrypted in "
          f"{workspace_dir(args)}.")
    if replaced:
        print(replaced)
    return EXIT_OK


def register_import(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("import", help="validate a file and store it encrypted",
                              description="Read FILE, validate it as 'inspect' does, and store "
                              "it encrypted in the workspace under NAME.")
    p.add_argument("file", metavar="FILE", help="CSV, TSV, JSON, JSONL, Parquet, Excel or folder")
    p.add_argument("--name", required=True, help="the dataset's name in the workspace")
    p.add_argument("--text-column", action="append", metavar="C",
                   help="text column (repeat to join several); default: inferred")
    p.add_argument("--label-column", metavar="L", help="label column; default: inferred")
    p.add_argument("--sheet", metavar="S", help="Excel sheet name (default: the first)")
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="whether the first row names the columns (default: detected)")
    p.add_argument("--encoding", metavar="E",
                   help="a CSV/TSV file's text encoding, such as cp1250 (default: detected)")
    p.add_argument("--skip-incomplete", action="store_true",
                   help="leave out rows with empty text or no label, and rows of a CSV/TSV "
                   "with the wrong number of fields (warnings, not errors)")
    add_label_columns_argument(p)
    p.add_argument("--label-delimiter", metavar="D", type=label_delimiter,
                   help="each label cell holds several classes separated by D (multi-label, as "
                   "'billing|tech'): classes are checked one by one; train with --multi-label")
    p.add_argument("--force", action="store_true", help="import despite blocking problems")
    p.add_argument("--replace", action="store_true", help="replace a dataset of the same name")
    p.add_argument("--anonymize", type=Path, metavar="POLICY.toml",
                   help="anonymize in memory under this policy and store only the result")
    add_fix_arguments(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_import)
