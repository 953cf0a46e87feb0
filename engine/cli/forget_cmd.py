"""``cloister forget VALUE...``: a person's erasure request, carried out across the workspace
(``engine.erasure``): every dataset searched, the matching rows counted and, once confirmed,
removed; the runs trained on them named or (``--with-runs``) deleted."""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from engine.cli.common import add_workspace_options, ask, open_workspace
from engine.data.person_match import check_values
from engine.erasure_traces import clean_copy_advice
from engine.errors import InputError
from engine.units import count_of


def _plan_lines(plan: Any, *, show: bool = False) -> list[str]:
    unread = f" ({len(plan.damaged)} could not be read)" if plan.damaged else ""
    lines = [f"Searched {count_of(len(plan.datasets), 'dataset')}{unread} for "
             f"{', '.join(map(repr, plan.values))}:"]
    for part in plan.datasets:
        notes = []
        if part.anonymized_from and part.mapping_left is None:  # a one-way copy
            notes.append(f"an anonymized copy of {part.anonymized_from!r}, searched for the "
                         "pseudonyms the workspace's key gives these values; the person written "
                         "otherwise (a first name alone, initials) was replaced beyond search: "
                         "if they can still be recognised in it, delete it and anonymize "
                         f"{part.anonymized_from!r} again afterwards")
        if part.name_named:
            notes.append(f"the dataset's own name names them: rename it (`cloister rename "
                         f"{part.name} NEW`)")
        if part.unsearched:
            notes.append(f"{count_of(part.unsearched, 'row')} there may be about them: "
                         "they hold these values only through a pseudonym that also stands for "
                         "someone else, so none is removed; if one is about them, "
                         + clean_copy_advice(part))
        if not part.changes:
            lines += [f"  {part.name}: nothing found", *(f"    {n}" for n in notes)]
            continue
        found = [f"{value!r} {count_of(n, 'row')}" for value, n in part.per_value.items() if n]
        if part.through_pseudonyms:
            found.append(f"{part.through_pseudonyms:,} of them by their pseudonyms")
        rows = f"{part.removed:,} of {part.rows:,} rows" if part.removed else "no row to remove"
        lines.append(f"  {part.name}: {rows}{' (' + ', '.join(found) + ')' if found else ''}")
        lines += [f"    {n}" for n in notes]
        if part.pseudonyms:
            lines.append(f"    {count_of(part.pseudonyms, 'pair')} of its reversible mapping "
                         "(naming them, or only in their rows) will leave it")
        if part.shared:
            stand = "stands" if part.shared == 1 else "stand"
            lines.append(f"    {count_of(part.shared, 'pseudonym')} there also {stand} for "
                         "someone else: they leave the mapping whole (no longer reversible for "
                         "either), and the rows holding them are not removed")
        if part.source_named and part.removed:
            lines.append("    the name of the file it came from names them: it will be withheld")
        for what, n in part.broad:
            lines.append(f"    {what} match{'es' if what.startswith(chr(39)) else ''} {n:,} "
                         "rows: too many to be about one person (give a fuller value, or name "
                         "its column with --column; --force removes them anyway)")
        if part.removed == part.rows:
            lines.append(f"    every row is about them: delete the dataset with `cloister rm "
                         f"{shlex.quote(part.name)} --with-runs` instead")
        if part.removed:
            lines += [f"    run {r.run_id} ({r.status.value}) was trained on them"
                      for r in part.runs]
        if show:
            lines += [f"    row {number:>5}  {text}" for number, text in part.matched()]
    return lines + [f"  {note}" for note in plan.notes()]


def _values(args: argparse.Namespace) -> list[str]:
    """The values given as arguments and in --file (one a line; '-' reads standard input,
    which keeps them out of the shell's history and the process list)."""
    values = list(args.values)
    if args.file is not None:
        try:
            text = sys.stdin.read() if str(args.file) == "-" else \
                args.file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the values from {args.file}: {exc}") from None
        values += [line for line in text.splitlines() if line.strip()]
    if not values:
        raise InputError("give what identifies the person: as arguments, or one a line with "
                         "--file FILE ('-' for standard input)")
    return values


class ErasureIncomplete(InputError):
    """Stopped (Ctrl-C, a SIGTERM) after the erasure changed something and before it ended."""


def _carry_out_said(ws: Any, plan: Any, args: argparse.Namespace) -> Any:
    """``carry_out``, each step printed as it is done. A stop after a step says the erasure is
    incomplete, and how to finish it: the generic "nothing is left half-done" would tell a data
    protection officer that rows were removed everywhere, or nowhere."""
    from engine.cli import Terminated
    from engine.erasure_apply import carry_out

    steps: list[str] = []
    began: list[bool] = []  # its checks passed: a change from here on is this erasure's

    def said(line: str) -> None:
        steps.append(line)
        print(line[0].upper() + line[1:] + ".")

    try:
        return carry_out(ws, plan, delete_runs=args.with_runs, force=args.force,
                         reference=args.reference, said=said, started=lambda: began.append(True))
    except KeyboardInterrupt as stop:
        if not began:  # stopped while waiting for another writer, or checking: nothing changed
            raise
        # A save holds a stop until it is logged, so the last dataset done may not be printed.
        changed = [p.name for p in plan.affected if _stored_sha(ws, p.name) != p.sha256]
        if not steps and not changed:
            raise
        where = (f"rows were removed from {', '.join(map(repr, changed))} only" if changed
                 else "no rows were removed yet")
        error = ErasureIncomplete(
            f"{'stopped' if isinstance(stop, Terminated) else 'interrupted'} in the middle of the "
            f"erasure, which is incomplete: {where} (each change is in the audit log). Run the "
            "same `cloister forget` again to finish it: it finds what is left")
        error.exit_code = 143 if isinstance(stop, Terminated) else 130
        raise error from None


def _say_search(ws: Any, names: list[str]) -> None:
    """Before a long search (a million rows: 9 s of silence), what it reads, on stderr."""
    from engine.data.store import list_datasets

    infos = [i for i in list_datasets(ws, damaged=[]) if not names or i.name in names]  # said later
    rows = sum(i.rows for i in infos)
    if rows >= 100_000:
        print(f"searching {count_of(len(infos), 'dataset')} ({rows:,} rows)…", file=sys.stderr,
              flush=True)


def _stored_sha(ws: Any, name: str) -> str | None:
    from engine.data.store import dataset_info

    try:
        return dataset_info(ws, name).sha256
    except Exception:  # noqa: BLE001 - gone or unreadable: not as searched
        return None


def cmd_forget(args: argparse.Namespace) -> int:
    from engine.erasure import ERASED_FROM_BACKUPS, plan_erasure
    from engine.erasure_traces import export_rows

    from engine.erasure import check_reference

    values = _values(args)
    check_reference(args.reference, check_values(values, whole_cells=bool(args.column)))
    if args.export is not None and args.export.exists():
        raise InputError(f"{args.export} exists: choose another file for the rows found (it "
                         "is not overwritten)")
    ws = open_workspace(args)
    try:
        _say_search(ws, args.dataset)
        plan = plan_erasure(ws, values, datasets=args.dataset, columns=args.column,
                            match_all=args.match_all)
        for line in _plan_lines(plan, show=args.show):
            print(line)
        if args.export is not None:
            exported = export_rows(plan.affected, args.export, overwrite=False)
            # Personal data left the vault, for this request (its case, when given).
            ws.audit("person.exported", rows=exported,
                     **({"reference": args.reference} if args.reference else {}))
            print(f"Wrote {count_of(exported, 'row')} found, every column, to {args.export} "
                  "(plaintext: yours to protect, and to delete once sent).")
        if not plan.affected and not plan.reports:
            unsure = any(part.unsearched for part in plan.datasets)
            print("Nothing removed: no row is surely about them (see above)." if unsure or plan.damaged
                  else "Nothing to remove: no stored row names them.")
            return _incomplete(plan)
        runs = plan.runs
        also = (f", and delete {count_of(len(runs), 'run')} trained on them"
                if args.with_runs and runs else "")
        if args.dry_run:
            print("Nothing changed (--dry-run).")
            return _incomplete(plan)
        refused = plan.refusal(force=args.force)
        if refused:  # said before a question it would make pointless
            raise InputError(refused)
        if not args.yes:
            if not sys.stdin.isatty() or (args.file is not None and str(args.file) == "-"):
                raise InputError("not removing rows without confirmation; pass --yes "
                                 "(or --dry-run to only count them)")
            answer = ask(f"Remove {count_of(plan.rows, 'row')} from "
                         f"{count_of(len(plan.affected), 'dataset')}{also}? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("Nothing changed.")
                return 0
        done = _carry_out_said(ws, plan, args)
    finally:
        ws.lock()
    removed = sum(done.rows.values())
    print(f"Done: {count_of(removed, 'row')} removed"
          + ("; the tables that held them were unlinked (see the README's privacy notes on "
             "what deletion guarantees on SSDs)" if removed else "")
          + ". The audit log records counts, never the values.")
    for name, problems in done.blocking.items():
        print(f"{name!r} cannot be trained on as it is now ({'; '.join(problems)}): `cloister "
              f"fix {shlex.quote(name)}` offers the fixes (`cloister show {shlex.quote(name)}` lists them)")
    kept = [r for r in runs if r.run_id not in done.runs_deleted]
    if kept:
        ids = " ".join(r.run_id for r in kept)
        verb = "is" if len(kept) == 1 else "are"
        print(f"{count_of(len(kept), 'run')} trained on these rows {verb} kept: a model can "
              "remember what it was trained on."
              f" Delete {'it' if len(kept) == 1 else 'them'} with `cloister rm-run {ids}` "
              "and train again.")
    if runs:  # deleted or kept: their exports are beyond the workspace either way
        print("Models exported from those runs, and predictions written from them, are outside "
              "the workspace: delete those copies too (`cloister audit --action export` lists "
              "the exports).")
    if removed:
        print(ERASED_FROM_BACKUPS)
    return _incomplete(plan)


def _incomplete(plan: Any) -> int:
    """1, said, when a dataset could not be searched: a script must not take the request as
    done (the audit entry lists those datasets); else 0."""
    if not plan.damaged:
        return 0
    names = ", ".join(repr(name) for name, _why in plan.damaged)
    print(f"cloister: the erasure is incomplete: {names} could not be searched (see above)",
          file=sys.stderr)
    return 1


def register_forget(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "forget", help="remove every stored row about a person (an erasure request)",
        description="Search every dataset (or --dataset NAME) for the values that identify one "
        "person (a name, an e-mail address, a phone or customer number), show how many rows "
        "name them, and on confirmation store each dataset again without those rows. A value "
        "matches case-insensitively as a whole in any column (a number also with other "
        "spacing or dashes); with --column, only the whole value of a cell of that column. A "
        "dataset anonymized with reversible pseudonyms is searched for the person's pseudonyms "
        "too, and their pairs leave its mapping; rows quoted in runs' test reports leave them. "
        "Runs trained on the rows are named, or deleted with --with-runs. The history and the "
        "audit log record counts, never the values.")
    p.add_argument("values", metavar="VALUE", nargs="*",
                   help="what identifies the person; give several to find rows naming any")
    p.add_argument("--file", type=Path, metavar="FILE",
                   help="read the values from FILE, one a line ('-': standard input, which keeps "
                   "them out of the shell's history and the process list)")
    p.add_argument("--dataset", action="append", default=[], metavar="NAME",
                   help="search only this dataset (repeat for several; default: every one)")
    p.add_argument("--column", action="append", default=[], metavar="COLUMN",
                   help="match the whole value of this column's cells only (such as a "
                   "customer id); repeat for several")
    p.add_argument("--with-runs", action="store_true",
                   help="also delete the runs trained on the rows (their models and reports)")
    p.add_argument("--match-all", action="store_true",
                   help="a row must name every value, not any one: `forget Jane Doe --column "
                   "first_name --column last_name --match-all`")
    p.add_argument("--export", type=Path, metavar="FILE.csv",
                   help="write every row found, all its columns, to FILE.csv: the answer to a "
                   "request for access to one's data (plaintext, outside the vault)")
    p.add_argument("--reference", metavar="CASE",
                   help="the request's case number, kept in the audit entry (never a name)")
    p.add_argument("--dry-run", action="store_true", help="only count the rows; change nothing")
    p.add_argument("--show", action="store_true",
                   help="print each row found (its number and text), to check the matches by eye "
                   "before anything is removed; with --dry-run, what a request for access to "
                   "one's data needs")
    p.add_argument("--force", action="store_true",
                   help="remove the rows even where a value matches more than 5%% of a dataset "
                   "(refused otherwise: such a value is rarely about one person)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add_workspace_options(p)
    p.set_defaults(func=cmd_forget)
