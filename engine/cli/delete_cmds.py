"""Deleting datasets and runs (``cloister rm``, ``cloister rm-run``): each asks first, says what
is kept, and deletes the runs before the dataset so that a failure leaves something to retry."""
from __future__ import annotations

import argparse
import sys

from engine.cli.common import ask, open_workspace
from engine.errors import InputError
from engine.units import count_of

EXIT_OK = 0


def cmd_rm(args: argparse.Namespace) -> int:
    from engine.data.store import DatasetDamaged, dataset_info, delete_dataset
    from engine.run_claims import is_being_trained
    from engine.runs import RunStatus, check_deletable, delete_run, runs_on

    ws = open_workspace(args)
    try:
        try:
            info = dataset_info(ws, args.name)
            name, size, damage = info.name, f" ({info.rows:,} rows)", ""
        except DatasetDamaged as exc:  # a file lost from a backup: rm was the one way out, and refused
            name, size, damage = args.name, "", f"{exc}. "
        runs = runs_on(ws, name)
        # Deleting the rows does not stop a run that already read them: said, so it is not news.
        live = [r.run_id for r in runs
                if r.status is RunStatus.RUNNING and is_being_trained(ws, r.run_id)]
        training = (f" Run {', '.join(live)} is training on it right now: it goes on with the rows "
                    "it read (cancel it to stop it), and cannot be scored again on its test split "
                    "once the dataset is gone." if live else "")
        if args.with_runs:  # every run checked before any is deleted
            check_deletable(ws, runs, how=f"`cloister rm-run {' '.join(r.run_id for r in runs)} --force`")
        also = f" and its {count_of(len(runs), 'run')}" if args.with_runs and runs else ""
        # Said before the answer, not after the deletion: the runs keep what they learnt.
        kept = (f" ({count_of(len(runs), 'run')} trained on it will be kept; --with-runs deletes "
                "them too)" if runs and not args.with_runs else "")
        if not args.yes:
            if not sys.stdin.isatty():
                raise InputError(f"not deleting {args.name!r} without confirmation; pass --yes")
            answer = ask(f"{damage}{training.strip()}{' ' if training else ''}Delete dataset "
                         f"{name!r}{size}{also}{kept}? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("Nothing deleted.")
                return EXIT_OK
        if args.with_runs:  # the runs first: a failure then leaves the dataset to retry with
            for record in runs:
                delete_run(ws, record.run_id)
        delete_dataset(ws, name)
    finally:
        ws.lock()
    print(f"Deleted dataset {name!r}{also}. Its encrypted files were unlinked; see "
          "the README's privacy notes for what deletion does and does not guarantee on SSDs."
          + training)
    if runs and not args.with_runs:
        print(f"{count_of(len(runs), 'run')} trained on it {'is' if len(runs) == 1 else 'are'} "
              "kept, with their models and test reports "
              "(which quote test rows): delete them with `cloister rm-run RUN`, or next time "
              "with `cloister rm NAME --with-runs`.")
    return EXIT_OK


def cmd_rm_run(args: argparse.Namespace) -> int:
    from engine.runs import UNREADABLE_RECORD, check_deletable, delete_run, load_run, resolve_run_id

    ws = open_workspace(args)
    try:
        records, damaged = [], []
        for run_id in args.runs:  # every id checked first
            try:
                records.append(load_run(ws, run_id))
            except UNREADABLE_RECORD as exc:
                if not args.force:
                    raise InputError(f"the record of run {run_id} cannot be read ({exc}); delete "
                                     f"the run with `cloister rm-run {run_id} --force`") from None
                damaged.append(resolve_run_id(ws, run_id))
        check_deletable(ws, records, force=args.force)  # and every status, before any is deleted
        if not args.yes:
            if not sys.stdin.isatty():
                raise InputError("not deleting runs without confirmation; pass --yes")
            listed = ", ".join([f"{r.run_id} ({r.dataset}, {r.status.value})" for r in records]
                               + [f"{run_id} (record unreadable)" for run_id in damaged])
            answer = ask(f"Delete run(s) {listed}, with their models and reports? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("Nothing deleted.")
                return EXIT_OK
        for run_id in [r.run_id for r in records] + damaged:
            delete_run(ws, run_id, force=args.force)
            print(f"Deleted run {run_id} (its model, report and checkpoint).")
    finally:
        ws.lock()
    return EXIT_OK
