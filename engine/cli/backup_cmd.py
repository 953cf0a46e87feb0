"""``cloister backup DEST``: a consistent copy of the workspace while Cloister may be in use
(``privacy.vault.backup``); no passphrase, since the files are copied as they are, encrypted."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privacy.errors import PrivacyError
from privacy.vault.anchor import ANCHOR_DIR_ENV

from engine.cli.common import add_workspace_options, require_workspace
from engine.units import human_size

if TYPE_CHECKING:
    from privacy.vault.workspace import Workspace


def cmd_backup(args: argparse.Namespace) -> int:
    from privacy.vault.backup import back_up

    root = require_workspace(args)

    def waiting() -> None:
        print("cloister: waiting for another Cloister (the app or a command) to finish its change "
              "to the workspace; the copy starts then", file=sys.stderr, flush=True)

    made = back_up(root, args.dest, on_wait=waiting)
    print(f"Backed up the workspace at {root} to {made.folder}: {made.files:,} files, "
          f"{human_size(made.bytes)}, with no file half written: what a power cut at that moment "
          "would have left, which Cloister opens cleanly. The copy is as encrypted as the "
          "workspace: it opens only with the passphrase, so it may go to ordinary storage.")
    print("To restore, put the folder in the workspace's place (or point --workspace at it). If "
          "Cloister changed the workspace after this backup, the first unlock on this computer "
          "says the copy is older than what it last wrote: accept it with `cloister audit "
          "--accept-restore`. Do not import into or train in the copy while this workspace is in "
          "use: the two would part ways, and each would refuse the other.")
    return 0


def register_backup(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backup", help="copy the workspace, consistent, to a new folder (no passphrase needed)",
        description="Copy every file of the workspace to DEST, a new folder outside it. Its "
        "index, audit log and vault file are copied while holding the workspace's lock, so none "
        "is caught half written: the copy is what a power cut at that moment would have left, "
        "which Cloister opens cleanly (a change that needs the lock meanwhile waits, briefly). "
        "The files are copied encrypted, as they are; nothing is decrypted, so no passphrase is "
        "asked for. A failed copy leaves nothing at DEST.")
    p.add_argument("dest", metavar="DEST", type=Path,
                   help="the backup's folder: must not exist yet (or be empty)")
    add_workspace_options(p, passphrase=False)  # it decrypts nothing
    p.set_defaults(func=cmd_backup)


def verify_backup(ws: Workspace) -> int:
    """A backup checked on the computer that made it: on its own, since this computer's record
    of the newest copy is the live workspace's, which has moved on (a backup was reported as
    "altered or damaged", exit 1). How far behind it is, is said as what a backup is."""
    # Against this computer's record, a backup is an older copy, and only that is expected: a
    # record altered or unreadable, or a copy older in some other way, is a problem.
    against_record = ws.integrity_problems()
    behind = ws.older_copy() if against_record else []
    problems = [] if behind else against_record
    saved = os.environ.get(ANCHOR_DIR_ENV)
    files = 0
    with tempfile.TemporaryDirectory(prefix="cloister-backup-check-") as alone:
        os.environ[ANCHOR_DIR_ENV] = alone  # no record: the copy against itself only
        try:
            report, damaged = ws.verify_audit(), ws.verify_entries()
            problems += [*ws.integrity_problems(), *report.problems, *damaged]
            try:
                files = len(ws.list())
            except PrivacyError as exc:  # both index copies unreadable: said with the rest
                problems.append(str(exc))
        finally:
            if saved is None:
                os.environ.pop(ANCHOR_DIR_ENV, None)
            else:
                os.environ[ANCHOR_DIR_ENV] = saved
    for problem in dict.fromkeys(problems):
        print(f"cloister: backup problem: {problem}", file=sys.stderr)
    if problems:
        print(f"The backup at {ws.root} is damaged or altered ({len(set(problems))} problem(s) "
              "above): do not restore from it.")
        return 1
    print(f"The backup at {ws.root} is intact: {files} files decrypt and authenticate, and its "
          f"audit log of {len(report.entries)} entries is unbroken.")
    if behind:
        print("As expected of a backup, it is older than the copy last used on this computer: "
              + "; ".join(behind) + ".")
    return 0
