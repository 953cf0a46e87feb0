"""The ``cloister import`` flags that fix a file's problems in memory (``engine.data.fixes``),
and ``cloister fix``, which applies the same flags to a dataset already stored.

Kept apart from ``vault_cmds`` so the import command only gains two calls: one to register the
flags, one to apply what they ask for.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pyarrow stays out of `cloister --help`
    from engine.data.columns import ColumnMapping
    from engine.data.importing.table import ImportedTable


def add_fix_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "fixes", "Fix the file's problems in memory before storing; the source file is never "
        "changed, and each fix is kept in the dataset's history and the audit log.")
    group.add_argument("--drop-empty", action="store_true",
                       help="drop rows with an empty text or no label")
    group.add_argument("--drop-blank", metavar="COLUMN",
                       help="drop rows with no value in COLUMN (such as a customer id to train "
                       "with --dp-person-column, where every row must say whose it is)")
    group.add_argument("--drop-duplicates", action="store_true",
                       help="drop rows that repeat an earlier row's text and label")
    group.add_argument("--merge-label-variants", action="store_true",
                       help="labels that differ only in how they are written ('Positive' and "
                       "'positive ', or '1' and '1.0') become one class, spelled as the most "
                       "frequent of them")
    group.add_argument("--drop-class", action="append", default=[], metavar="LABEL",
                       help="drop every row labelled LABEL (exactly, case included), such as "
                       "'N/A' or '#N/A' marking rows nobody labelled; repeat for several")
    group.add_argument("--resolve-conflicts", choices=("drop", "majority"),
                       help="the same text under different labels: drop all its rows, or keep "
                       "the rows with its most frequent label (ties are dropped)")
    group.add_argument("--min-class-size", type=int, metavar="N",
                       help="classes with fewer than N rows are small (default 2 with "
                       "--drop-small or --merge-small-into)")
    group.add_argument("--merge-small-into", metavar="LABEL",
                       help="relabel the rows of small classes LABEL: 'other' (a new class) or "
                       "an existing class")
    group.add_argument("--drop-small", action="store_true", help="drop the rows of small classes")
    group.add_argument("--cap-long", type=int, metavar="TOKENS",
                       help="cut texts longer than about TOKENS tokens to that length "
                       "(long texts are kept whole otherwise; training reads the first "
                       "--max-length tokens, or all of them with --long-texts windows)")
    group.add_argument("--strip-markup", action="store_true",
                       help="remove web markup from the texts: decode HTML entities (&amp;, "
                       "&#39;, also without their '&' as in '#39;s') and drop tags (<br>, "
                       "&lt;a href=...&gt;); prediction then cleans its texts the same way")
    group.add_argument("--repair-encoding", action="store_true",
                       help="repair texts and labels encoded twice ('RÃ©clamation' back to "
                       "'Réclamation': UTF-8 once read as Windows-1252 and saved again)")


def apply_fix_arguments(args: argparse.Namespace, imported: ImportedTable,
                        mapping: ColumnMapping) -> tuple[ImportedTable, list[dict[str, Any]], list[str]]:
    """``imported`` with the asked-for fixes applied, its history, and one line per fix.

    Raises ``FixRefused`` (an InputError: exit 2 with the message) before anything is stored.
    """
    from engine.data.fixes import WHOLE_ROW_KINDS, apply_fixes, fixes_from_options

    # --skip-incomplete leaves rows with an empty text or no label out when the dataset is
    # stored; with other fixes, they go first, or class sizes would count rows left out later.
    skip_first = bool(getattr(args, "skip_incomplete", False))
    fixes = fixes_from_options(
        drop_empty=args.drop_empty or skip_first, drop_duplicates=args.drop_duplicates,
        resolve_conflicts=args.resolve_conflicts, min_class_size=args.min_class_size,
        merge_small_into=args.merge_small_into, drop_small=args.drop_small,
        cap_long=args.cap_long, drop_blank=args.drop_blank,
        merge_label_variants=args.merge_label_variants, drop_classes=args.drop_class,
        strip_markup=args.strip_markup, repair_encoding=getattr(args, "repair_encoding", False),
        label_delimiter=getattr(args, "label_delimiter", None))
    delimiter = getattr(args, "label_delimiter", None)
    if delimiter and any(fix.kind in WHOLE_ROW_KINDS for fix in fixes):  # whole rows by class
        from engine.data.fixes import FixRefused

        raise FixRefused(f"with several labels a row (--label-delimiter {delimiter!r}, or "
                         "--label-columns) a row carries several classes, so "
                         "dropping or relabelling whole rows by class would also drop or relabel "
                         "their other classes: leave out --drop-small, --merge-small-into, "
                         "--drop-class and --resolve-conflicts (--merge-label-variants works "
                         "label by label)")
    if skip_first and not args.drop_empty and len(fixes) == 1:  # only the skip: stored as before
        fixes = []
    if not fixes:
        return imported, [], []
    table, report = apply_fixes(imported.table, mapping, fixes)
    if skip_first and not args.drop_empty:  # not asked for: said only where it left rows out
        report = dataclasses.replace(report, steps=tuple(
            step for step in report.steps if step.kind != "drop-empty" or step.rows_removed))
    lines = [f"fixed: {line}" for line in report.lines()]
    before, after = report.classes_before, report.classes_after
    if delimiter:  # classes one by one, not each combination of them
        before, after = (_labels_in(t, mapping, delimiter) for t in (imported.table, table))
    lines.append(f"fixed: {report.rows_before:,} -> {report.rows_after:,} rows, "
                 f"{before} -> {after} classes (the source file is unchanged)")
    # Read-time problems point at rows of the source; they no longer match the fixed table.
    return dataclasses.replace(imported, table=table, problems=()), report.history(), lines


def _labels_in(table: Any, mapping: ColumnMapping, delimiter: str) -> int:
    """How many distinct labels a multi-label table's label column holds, one by one."""
    from engine.data.labels import label_counts

    if mapping.label_column is None:
        return 0
    return len(label_counts(table.column(mapping.label_column), label_delimiter=delimiter))


def cmd_fix(args: argparse.Namespace) -> int:
    """``cloister fix DATASET --drop-empty ...``: the import fixes, on a dataset already stored
    (one imported with --force, say), without the source file. The fixed rows replace the
    stored ones all at once (or go to --name NEW); runs trained on the old rows keep their
    records. A fix that is refused, or blocking problems that remain, change nothing."""
    from engine.cli.common import open_workspace, workspace_dir
    from engine.cli.inspect_cmd import problem_lines
    from engine.data.fix_hints import flag_of_kind
    from engine.data.fix_stored import checked, store_fixed
    from engine.data.problems import count_kinds, has_blocking
    from engine.data.store import DatasetExists, check_name, dataset_exists, dataset_info, load_dataset
    from engine.errors import InputError

    source, target = check_name(args.dataset), check_name(args.name or args.dataset)
    ws = open_workspace(args)
    try:
        # Said before the rows are read and fixed (a million took 12 s of silence).
        found = dataset_info(ws, source)
        print(f"dataset {found.name!r}: {found.rows:,} rows", flush=True)
        stored = load_dataset(ws, source, head=0)  # fixes read the table alone
        info = stored.info
        if target != info.name and dataset_exists(ws, target) and not args.replace:
            raise DatasetExists(f"a dataset named {target!r} already exists; choose another "
                                "--name, or pass --replace")
        imported = stored.as_imported()
        options = argparse.Namespace(**{**vars(args), "label_delimiter": info.label_delimiter,
                                        "skip_incomplete": False})
        fixed, history, lines = apply_fix_arguments(options, imported, info.mapping)
        if not history:
            raise InputError(f"nothing to fix in {source!r} with these options: name a fix "
                             "(`cloister show` lists its problems; `cloister fix --help` the fixes)")
        problems = checked(info, fixed)
        # What stays: with --name NEW the stored dataset is untouched, not replaced.
        kept = (f"({info.name!r} is kept as it is; the fixed rows become {target!r})"
                if target != info.name else
                "(the stored rows, before these fixes, are replaced only when this is stored)")
        for line in lines:
            print("  " + line.replace("(the source file is unchanged)", kept))
        applied = frozenset(flag_of_kind(str(s.get("kind"))) for s in (*info.history, *history))
        for line in problem_lines(problems, source=info.source_name, applied=applied, listed_by=""):
            print("  " + line, file=sys.stderr)  # warnings and errors: stderr, as in import
        if has_blocking(problems) and not args.force:
            print(f"cloister: error: not stored: blocking problems remain in {source!r} "
                  f"({count_kinds(problems, blocking=True)}); add the fixes named above, or pass "
                  "--force", file=sys.stderr)
            return 2
        saved = store_fixed(ws, info, fixed, history, problems, target=target, replace=args.replace)
    finally:
        ws.lock()
    where = "in place of the rows it had" if saved.name == info.name else f"from {info.name!r}"
    print(f"Stored dataset {saved.name!r} ({saved.rows:,} rows, {saved.num_classes} classes) "
          f"{where}, encrypted in {workspace_dir(args)}.")
    return 0


def register_fix(subparsers: Any) -> None:
    from engine.cli.common import add_workspace_options

    p = subparsers.add_parser(
        "fix", help="fix a stored dataset's problems (without its source file)",
        description="Apply the import fixes to a dataset already in the workspace (one imported "
        "with --force, or whose problems you now want gone): the fixed rows replace the stored "
        "ones, or are stored as --name NEW. Each fix is kept in the dataset's history and the "
        "audit log; a refused fix, or blocking problems that remain, change nothing.")
    p.add_argument("dataset", metavar="DATASET")
    p.add_argument("--name", metavar="NEW", help="store the fixed rows as a new dataset instead")
    p.add_argument("--replace", action="store_true", help="with --name: replace a dataset of that name")
    p.add_argument("--force", action="store_true", help="store despite blocking problems that remain")
    add_fix_arguments(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_fix)
