"""``cloister backup DEST``: a consistent copy of the workspace while Cloister may be in use
(``privacy.vault.backup``); no passphrase, since the files are copied as they are, encrypted."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.cli.common import add_workspace_options, require_workspace
from engine.units import human_size


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
    add_workspace_options(p)
    p.set_defaults(func=cmd_backup)
