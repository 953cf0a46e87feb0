"""``cloister forget VALUE...``: a person's erasure request, carried out across the workspace
(``engine.erasure``): every dataset searched, the matching rows counted and, once confirmed,
removed; the runs trained on them named or (``--with-runs``) deleted."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.cli.common import add_workspace_options, open_workspace
from engine.errors import InputError
from engine.units import count_of


def _plan_lines(plan: Any) -> list[str]:
    lines = [f"Searched {count_of(len(plan.datasets), 'dataset')} for "
             f"{', '.join(map(repr, plan.values))}:"]
    for part in plan.datasets:
        if not part.removed and not part.pseudonyms:
            note = ""
            if part.anonymized_from:  # pseudonymized beyond reach of the values as written
                note = (f" (an anonymized copy of {part.anonymized_from!r}: names it replaced "
                        "cannot be searched for; if the person can still be recognised in it, "
                        f"delete it and anonymize {part.anonymized_from!r} again afterwards)")
            lines.append(f"  {part.name}: nothing found{note}")
            continue
        found = ", ".join(f"{value!r} {count_of(n, 'row')}" for value, n in part.per_value.items()
                          if n)
        through = (f"; {count_of(part.pseudonyms, 'pseudonym')} in its reversible mapping"
                   if part.pseudonyms else "")
        lines.append(f"  {part.name}: {part.removed:,} of {part.rows:,} rows"
                     f"{' (' + found + ')' if found else ''}{through}")
        for value in part.broad:
            lines.append(f"    warning: {value!r} matches {part.per_value[value]:,} rows: is it "
                         "about one person? Give a fuller value, or name its column with --column")
        if part.removed == part.rows:
            lines.append(f"    every row is about them: delete the dataset with `cloister rm "
                         f"{part.name} --with-runs` instead")
        for record in part.runs:
            lines.append(f"    run {record.run_id} ({record.status.value}) was trained on them")
    return lines


def cmd_forget(args: argparse.Namespace) -> int:
    from engine.erasure import carry_out, plan_erasure

    ws = open_workspace(args)
    try:
        plan = plan_erasure(ws, args.values, datasets=args.dataset, columns=args.column)
        for line in _plan_lines(plan):
            print(line)
        if not plan.affected:
            print("Nothing to remove: no stored row names them.")
            return 0
        runs = plan.runs
        also = (f", and delete {count_of(len(runs), 'run')} trained on them"
                if args.with_runs and runs else "")
        if args.dry_run:
            print("Nothing changed (--dry-run).")
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise InputError("not removing rows without confirmation; pass --yes "
                                 "(or --dry-run to only count them)")
            answer = input(f"Remove {count_of(plan.rows, 'row')} from "
                           f"{count_of(len(plan.affected), 'dataset')}{also}? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("Nothing changed.")
                return 0
        done = carry_out(ws, plan, delete_runs=args.with_runs,
                         said=lambda line: print(line[0].upper() + line[1:] + "."))
    finally:
        ws.lock()
    print(f"Done: {count_of(sum(done.rows.values()), 'row')} removed; the tables that held them "
          "were unlinked (see the README's privacy notes on what deletion guarantees on SSDs). "
          "The audit log records counts, never the values.")
    kept = [r for r in runs if r.run_id not in done.runs_deleted]
    if kept:
        ids = " ".join(r.run_id for r in kept)
        verb = "is" if len(kept) == 1 else "are"
        print(f"{count_of(len(kept), 'run')} trained on these rows {verb} kept: a model can "
              "remember what it was trained on, and a test report quotes test rows."
              f" Delete {'it' if len(kept) == 1 else 'them'} with `cloister rm-run {ids}` "
              "and train again; models exported earlier are outside the workspace: delete those "
              "copies too.")
    return 0


def register_forget(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "forget", help="remove every stored row about a person (an erasure request)",
        description="Search every dataset (or --dataset NAME) for the values that identify one "
        "person (a name, an e-mail address, a phone or customer number), show how many rows "
        "name them, and on confirmation store each dataset again without those rows. A value "
        "matches case-insensitively as whole words in any column (a number also with other "
        "spacing or dashes); with --column, only the whole value of a cell of that column. A "
        "dataset anonymized with reversible pseudonyms is searched for the person's pseudonyms "
        "too, and their pairs leave its mapping. Runs trained on the rows are named, or deleted "
        "with --with-runs. The history and the audit log record counts, never the values.")
    p.add_argument("values", metavar="VALUE", nargs="+",
                   help="what identifies the person; give several to find rows naming any")
    p.add_argument("--dataset", action="append", default=[], metavar="NAME",
                   help="search only this dataset (repeat for several; default: every one)")
    p.add_argument("--column", action="append", default=[], metavar="COLUMN",
                   help="match the whole value of this column's cells only (such as a "
                   "customer id); repeat for several")
    p.add_argument("--with-runs", action="store_true",
                   help="also delete the runs trained on the rows (their models and reports)")
    p.add_argument("--dry-run", action="store_true", help="only count the rows; change nothing")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add_workspace_options(p)
    p.set_defaults(func=cmd_forget)
