"""Workspace commands: init, datasets, show, rename, rm, passwd, audit (import: ``import_cmd``).

Everything a command decrypts stays in memory; the only plaintext that leaves is what the user
asked to see on the terminal (``show``). Messages name datasets and files, never row contents.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from privacy.vault.container import ScryptParams
from privacy.vault.kdf import MIN_LOG2_N, UNSAFE_TEST_KDF_ENV
from privacy.vault.workspace import Workspace

from engine.cli.backup_cmd import register_backup, verify_backup
from engine.cli.delete_cmds import cmd_rm, cmd_rm_run
from engine.cli.fix_options import register_fix
from engine.cli.import_cmd import register_import
from engine.cli.common import (
    add_workspace_options,
    ask,
    open_workspace,
    open_workspace_with,
    read_new_passphrase,
    read_passphrase,
    require_strong_enough,
    workspace_dir,
)
from engine.cli.show_lines import blocking_lines, one_line, review_line, whole
from engine.errors import InputError
from engine.units import count_of, human_size, label_cell, pad, shown_width

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BLOCKING = 2
DEFAULT_KDF_LOG2_N = ScryptParams().log2_n


# ----- init / passwd ------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    root = workspace_dir(args)
    if Workspace.exists(root):
        raise InputError(f"a workspace already exists at {root}; use it, or choose another "
                         "folder with --workspace")
    kdf = _checked_kdf(args.kdf_cost)
    assert kdf is not None
    passphrase = read_passphrase(args, confirm=True, prompt="New workspace passphrase: ")
    require_strong_enough(passphrase)
    ws = Workspace.create(root, passphrase, kdf=kdf)
    ws.lock()
    print(f"Created an encrypted workspace at {root}.")
    print("Keep the passphrase safe: without it nothing in the workspace can be recovered.")
    return EXIT_OK


def cmd_passwd(args: argparse.Namespace) -> int:
    if not Workspace.exists(workspace_dir(args)):
        open_workspace(args)  # raises the usual "no workspace, run cloister init" error
    ws, old = open_workspace_with(args, passphrase=read_passphrase(args, prompt="Current passphrase: "))
    try:
        new = read_new_passphrase(args)
        if new == old:
            raise InputError("the new passphrase is the same as the current one; nothing was changed")
        require_strong_enough(new)
        kdf = _checked_kdf(args.kdf_cost)
        ws.change_passphrase(old, new, kdf=kdf)
    finally:
        ws.lock()
    print("Passphrase changed (the data was not re-encrypted: only the key wrapping changed). "
          "Copies of the workspace taken before now still open with the old passphrase: if it "
          "may have leaked, destroy them too (see the README).")
    return EXIT_OK


# ----- datasets / show / rename / rm --------------------------------------------------------
def cmd_datasets(args: argparse.Namespace) -> int:
    from engine.data.store import list_datasets

    ws = open_workspace(args)
    damaged: list[tuple[str, str]] = []
    try:
        infos = list_datasets(ws, damaged=damaged)
    finally:
        ws.lock()
    # A damaged dataset is named, and fails the command, so that a monitoring script notices.
    for name, reason in damaged:
        print(f"cloister: {reason}", file=sys.stderr)
    code = EXIT_FAILED if damaged else EXIT_OK
    if args.json:  # one shape for every entry: a damaged one has its reason, and nulls
        fields = ("rows", "labels", "size_bytes", "label_delimiter", "created", "source_name",
                  "text_columns", "label_column")
        print(json.dumps([{
            "name": i.name, "rows": i.rows, "labels": i.labels, "size_bytes": i.size_bytes,
            "label_delimiter": i.label_delimiter,
            "created": i.created.isoformat(), "source_name": i.source_name,
            "text_columns": list(i.mapping.text_columns), "label_column": i.mapping.label_column,
            "damaged": None,
        } for i in infos] + [{"name": name, **dict.fromkeys(fields), "damaged": reason}
                             for name, reason in damaged], ensure_ascii=False, indent=2))
        return code
    if not infos:
        print(f"{len(damaged)} damaged dataset(s), none readable." if damaged else
              "No datasets yet; add one with 'cloister import FILE --name NAME'.")
        return code
    width = max(4, *(shown_width(i.name) for i in infos))
    print(f"{'NAME':<{width}}  {'ROWS':>9}  {'CLASSES':>7}  {'SIZE':>9}  {'CREATED':<16}  SOURCE")
    for i in infos:
        print(f"{pad(i.name, width)}  {i.rows:>9,}  {i.num_classes:>7}  {human_size(i.size_bytes):>9}  "
              f"{i.created.strftime('%Y-%m-%d %H:%M'):<16}  {i.source_name}")
    return code


def cmd_show(args: argparse.Namespace) -> int:
    from engine.data.store import load_dataset

    if args.rows < 0:
        raise InputError("--rows must be 0 or more")
    from engine.data.anonymize import privacy_review

    ws = open_workspace(args)
    try:
        ds = load_dataset(ws, args.name, head=max(0, args.rows))
        if any(str(p).startswith("error:") for p in ds.info.problems):  # the lines need them all
            ds = load_dataset(ws, args.name)
        review = privacy_review(ws, ds.info.name)
    finally:
        ws.lock()
    info = ds.info
    print(f"Dataset {info.name!r}: {info.rows:,} rows from {info.source_name}, imported "
          f"{info.created.strftime('%Y-%m-%d %H:%M')} UTC")
    print(f"Text column(s): {', '.join(info.mapping.text_columns)}; label column: "
          f"{info.mapping.label_column or '(none)'}")
    if info.labels:
        # Most frequent first, at most 30, as inspect lists them (5,000 labels made one line of
        # 168,547 characters).
        counts = sorted(info.labels.items(), key=lambda kv: -kv[1])
        more = f", … and {len(counts) - 30:,} more" if len(counts) > 30 else ""
        print(f"Labels ({len(counts):,}): " + ", ".join(f"{label_cell(k, 60)} ({v:,})" for k, v in counts[:30]) + more
              + (f" — multi-label: a row's labels are separated by {info.label_delimiter!r}, and "
                 "`cloister train` trains them so" if info.label_delimiter else ""))
    for step in info.history:  # fixes applied at import or by `cloister fix` (engine.data.fixes)
        print(f"Fixed: {step.get('description', step.get('kind', ''))}")
    if any(str(p).startswith("error:") for p in info.problems):  # stored with --force
        how = "left so by `cloister forget`" if info.history and \
            info.history[-1].get("kind") == "forget" else "imported with --force"
        print(f"Blocks training ({how}): fix it here with `cloister fix {shlex.quote(info.name)}` and the "
              "fixes below")
        for line in blocking_lines(ds):
            print("  " + line)
    print(f"Personal data: {review_line(review, info.name)}")
    shown = min(args.rows, info.rows if args.full else len(ds.texts))
    if shown:
        print(f"First {shown} rows:")
        rows = ds.table.slice(0, shown).to_pylist() if args.full else []
        for index in range(shown):
            if args.full:  # every column, whole: the text alone, cut, could hide what was left
                print(f"  {index + 1:>4}\n" + "\n".join(f"        {column}: {whole(value)}"
                                                        for column, value in rows[index].items()))
                continue
            label = ds.labels[index] if ds.labels else ""
            prefix = f"  {index + 1:>4}  " + (f"[{label}] " if label else "")
            print(prefix + one_line(ds.texts[index]))
    return EXIT_OK


def cmd_rename(args: argparse.Namespace) -> int:
    from engine.data.store import rename_dataset
    ws = open_workspace(args)
    try:
        info = rename_dataset(ws, args.old, args.new)
    finally:
        ws.lock()
    print(f"Dataset {info.name!r} already has that name: nothing changed." if args.old == args.new
          else f"Renamed dataset {args.old!r} to {info.name!r}.")
    return EXIT_OK


# ----- audit --------------------------------------------------------------------------------
def cmd_audit(args: argparse.Namespace) -> int:
    if args.all_files and not args.verify:
        raise InputError("--all-files goes with --verify")
    if args.backup and (not args.verify or args.accept_restore or args.json or not args.workspace):
        raise InputError("--backup checks a backup copy: use it as 'audit --verify --backup "
                         "--workspace BACKUP' (it accepts nothing, and prints no JSON)")
    if args.accept_restore:
        return _accept_restore(args)
    # A workspace that fails its integrity check is opened anyway here, read-only in effect:
    # reporting on it is this command's job (unlock does no clean-up when problems are found).
    ws = open_workspace(args, check_integrity=False)
    try:
        if args.backup:
            return verify_backup(ws)
        # The index's freshness is checked too: a rolled-back index is not an audit-log
        # problem, but it is why unlock refused, so this is where the user reads about it. Read
        # under the writers' lock, as the app's audit log is: beside an append, the log read
        # could fall short of the anchor, which read as tampering.
        report, stale = ws.checked_audit()
        damaged = [p for p in ws.verify_entries() if p not in stale] if args.all_files else []
        entries = len(ws.list()) if args.all_files and not stale else 0
    finally:
        ws.lock()
    shown = [e for e in report.entries if e.action.startswith(args.action or "")
             and (args.since is None or e.time[:10] >= args.since)]
    if args.json:  # for an admin's own records: every entry (or those chosen), and the verdict
        print(json.dumps({"ok": report.ok and not stale and not damaged,
                          "entries": [dataclasses.asdict(e) for e in shown],
                          "audit_problems": list(report.problems), "integrity_problems": stale,
                          "damaged_files": damaged, "cut_off_at": report.cut_off_at},
                         ensure_ascii=False, indent=2))
        return EXIT_OK if report.ok and not stale and not damaged else EXIT_FAILED
    for problem in stale:
        print(f"cloister: integrity problem: {problem}", file=sys.stderr)
    for problem in damaged:
        print(f"cloister: damaged: {problem}", file=sys.stderr)
    if args.all_files and not damaged and not stale:
        print(f"All {entries} workspace files decrypt and authenticate.")
    if not args.verify:
        for entry in shown:
            print(f"{entry.seq:>5}  {entry.time}  {entry.user:<12}  {entry.action:<26}  "
                  f"{entry.details_line()}".rstrip())
    if report.ok:
        if report.cut_off_at is not None:
            print(f"cloister: note: the audit log ends in an entry cut off while it was written "
                  f"(at byte {report.cut_off_at}: a full disk or a killed process). It was never "
                  "recorded as written, so no entry is missing, and the next change removes it; "
                  "the change it was recording may have been made.", file=sys.stderr)
        if args.verify:
            # The log's own verdict; stdout alone (a monitoring script's) must not read as all well.
            problems = count_of(len(damaged) + len(stale), "problem")
            broken = f" The workspace is not intact: {problems}, listed above." \
                if damaged or stale else ""
            print(f"Audit log verified: {len(report.entries)} entries, chain intact.{broken}")
        return EXIT_FAILED if damaged or stale else EXIT_OK
    for problem in report.problems:
        print(f"cloister: audit problem: {problem}", file=sys.stderr)
    # The count is of what was listed above: the log's problems and the workspace's besides.
    more = len(stale) + len(damaged)
    print(f"cloister: error: the audit log has {len(report.problems)} problem(s)"
          + (f", and the workspace {more} more" if more else "")
          + "; it was altered or damaged", file=sys.stderr)
    return EXIT_FAILED


def _accept_restore(args: argparse.Namespace) -> int:
    """The deliberate way out after restoring an older copy: record it and re-anchor."""
    ws = open_workspace(args, check_integrity=False)
    try:
        problems = ws.integrity_problems()
        if problems and not args.yes and sys.stdin.isatty():  # rollback protection given up: asked
            for problem in problems:
                print(f"  {problem}")
            answer = ask("Accept the workspace as it is now? What any newer copy had is left "
                         "out, and the audit log records the acceptance. [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("Nothing accepted; the workspace stays refused.")
                return EXIT_OK
        accepted = ws.accept_restore()
    finally:
        ws.lock()
    if not accepted:
        print("The workspace passes its integrity check; nothing to accept.")
        return EXIT_OK
    for problem in accepted:
        print(f"cloister: accepted: {problem}", file=sys.stderr)
    if any(p.startswith("another copy of this workspace, in ") for p in accepted):
        # An admin who accepted a test restore found the workspace in use refused in turn.
        print("cloister: note: this computer now holds this copy as the newest. The other copy "
              "named above is refused as an older one if it is behind it; if it is ahead, it "
              "takes that place back when next opened, and this copy is refused again. To check "
              "a backup without accepting it, run 'cloister audit --verify --backup --workspace "
              "BACKUP'.", file=sys.stderr)
    print(f"Accepted the workspace as it is now ({len(accepted)} problem(s) recorded in the audit "
          "log as 'audit.restore_accepted'). Anything newer than this copy is gone, erasures "
          "(`cloister forget`) done since it was made included: run them again.")
    return EXIT_OK


# ----- registration -------------------------------------------------------------------------
def _day(text: str) -> str:
    import datetime

    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day as YYYY-MM-DD") from None


def _kdf_cost(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 22:  # below the floor is refused by _checked_kdf, with the reason
        raise argparse.ArgumentTypeError(f"the scrypt cost is log2 N, between {MIN_LOG2_N} and 22")
    return value


def _checked_kdf(cost: int | None) -> ScryptParams | None:
    """The KDF for a new or rewrapped vault, refused below the floor before any passphrase is
    asked for; the test-only escape (privacy/vault/kdf.py) is never silent here."""
    if cost is None:
        return None
    kdf = ScryptParams(log2_n=cost)
    kdf.check_for_writing(label=f"--kdf-cost {cost}")  # WeakKdfRefused: one line, exit 2
    if cost < MIN_LOG2_N:
        print(f"cloister: warning: {UNSAFE_TEST_KDF_ENV}=1 is set: writing scrypt 2^{cost}, below "
              f"the 2^{MIN_LOG2_N} floor. This is for tests only; a real workspace written like "
              "this is cheap to attack", file=sys.stderr)
    elif cost < DEFAULT_KDF_LOG2_N:
        print(f"cloister: warning: scrypt cost 2^{cost} is below the default "
              f"2^{DEFAULT_KDF_LOG2_N}; a stolen workspace is cheaper to attack", file=sys.stderr)
    return kdf


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="create an encrypted workspace",
                              description="Create the vault of a new encrypted workspace.")
    add_workspace_options(p)
    p.add_argument("--kdf-cost", type=_kdf_cost, default=DEFAULT_KDF_LOG2_N, metavar="LOG2N",
                   help=f"scrypt cost as log2 N (default {DEFAULT_KDF_LOG2_N}; at least "
                   f"{MIN_LOG2_N}: lower costs are refused)")
    p.set_defaults(func=cmd_init)

    register_import(subparsers)
    register_fix(subparsers)

    p = subparsers.add_parser("datasets", help="list the datasets in the workspace")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_workspace_options(p)
    p.set_defaults(func=cmd_datasets)

    p = subparsers.add_parser("show", help="describe a dataset and print its first rows")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--rows", type=int, default=5, metavar="N", help="rows to print (default 5)")
    p.add_argument("--full", action="store_true",
                   help="print every column of those rows, whole (to check an anonymized copy)")
    add_workspace_options(p)
    p.set_defaults(func=cmd_show)

    p = subparsers.add_parser("rename", help="rename a dataset")
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    add_workspace_options(p)
    p.set_defaults(func=cmd_rename)

    p = subparsers.add_parser("rm", help="delete a dataset")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--with-runs", action="store_true",
                   help="also delete the runs trained on it (models, and reports that quote test rows)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_workspace_options(p)
    p.set_defaults(func=cmd_rm)

    p = subparsers.add_parser("rm-run", help="delete runs: their models, reports and checkpoints")
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--force", action="store_true", help="also a run recorded as running (left "
                   "so by a crash), or one whose record cannot be read (damaged)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_workspace_options(p)
    p.set_defaults(func=cmd_rm_run)

    p = subparsers.add_parser("passwd", help="change the workspace passphrase",
                              description="Rewrap the master key under a new passphrase; no "
                              "data is re-encrypted.")
    p.add_argument("--new-passphrase-file", type=Path, metavar="FILE",
                   help="read the new passphrase from FILE (else $CLOISTER_NEW_PASSPHRASE, else "
                   "a prompt asked twice)")
    p.add_argument("--kdf-cost", type=_kdf_cost, default=None, metavar="LOG2N",
                   help="new scrypt cost as log2 N (default: keep the current one)")
    add_workspace_options(p)
    p.set_defaults(func=cmd_passwd)

    p = subparsers.add_parser("audit", help="show or verify the audit log")
    p.add_argument("--verify", action="store_true",
                   help="only check the hash chain and report problems")
    p.add_argument("--all-files", action="store_true",
                   help="with --verify, also decrypt and authenticate every workspace file")
    p.add_argument("--accept-restore", action="store_true",
                   help="you restored an older copy of the workspace on purpose: record that in "
                   "the audit log and accept the workspace as it is now (asked first on a "
                   "terminal)")
    p.add_argument("--backup", action="store_true",
                   help="with --verify and --workspace BACKUP: check a backup copy on its own, every "
                   "file included (that the workspace in use is newer is expected, not a problem)")
    p.add_argument("--yes", action="store_true", help="with --accept-restore, do not ask")
    p.add_argument("--json", action="store_true",
                   help="print the entries and the verdict as JSON (exit 1 if anything is wrong)")
    p.add_argument("--action", metavar="PREFIX",
                   help="list only entries whose action starts so (dataset., run., audit.)")
    p.add_argument("--since", metavar="YYYY-MM-DD", type=_day,
                   help="list only entries from that day (UTC) on")
    add_workspace_options(p)
    p.set_defaults(func=cmd_audit)
    register_backup(subparsers)
