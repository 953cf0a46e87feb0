"""A consistent copy of a workspace folder, taken while Cloister may be running.

Copying the folder file by file while an import lands can give a copy whose audit log is older
than its audit head (refused as tampering when restored) or whose index names files the copy
lacks (a dataset silently missing). Every change to a workspace takes its lock file
(``privacy.vault.workspace.LOCK_FILE``), so a copy made while holding that lock sees no change
half done. The files are already encrypted: a backup needs no passphrase and decrypts nothing.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from privacy.errors import PrivacyError
from privacy.vault import file_lock
from privacy.vault.atomic import fsync_dir
from privacy.vault.keyfile import VAULT_FILE_NAME
from privacy.vault.workspace import LOCK_FILE

# Where a backup is built before it takes its name: a failed copy never looks like a whole one.
PARTIAL_SUFFIX = ".cloister-backup-partial"


class BackupError(PrivacyError):
    """The backup could not be made; nothing was left at its destination."""

    exit_code = 2


@dataclass(frozen=True)
class Backup:
    folder: Path
    files: int
    bytes: int


def back_up(root: Path, dest: Path, *, on_wait: Callable[[], None] | None = None) -> Backup:
    """Copy the workspace at ``root`` to the new folder ``dest``, holding the workspace's lock
    so that no change is half done in the copy (a change that starts meanwhile waits for it).

    ``dest`` must not exist, or be an empty folder, and must lie outside the workspace. The copy
    is built beside ``dest`` and renamed into place when whole; on any failure it is removed.
    Files keep owner-only modes (0600, folders 0700) whatever the umask.
    """
    root, dest = Path(root).resolve(), Path(dest).expanduser().resolve()
    if not (root / VAULT_FILE_NAME).is_file():
        raise BackupError(f"{root} is not a Cloister workspace (it has no {VAULT_FILE_NAME})")
    if dest == root or root in dest.parents:
        raise BackupError(f"{dest} is inside the workspace {root}: back it up to a folder outside it")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists and is not an empty folder: give a new folder's "
                          "path (a backup never writes over anything)")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist; create it first")
    staging = dest.parent / f".{dest.name}{PARTIAL_SUFFIX}"
    shutil.rmtree(staging, ignore_errors=True)  # what an interrupted earlier backup left
    try:
        with file_lock.held(root / LOCK_FILE, on_wait=on_wait):
            files, size = _copy_tree(root, staging)
        if dest.exists():
            dest.rmdir()  # the empty folder the user made for it
        os.replace(staging, dest)
        fsync_dir(dest.parent)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"the backup could not be written to {dest.parent} "
                          f"({exc.strerror or exc}); nothing was left there. Free some space or "
                          "choose another place, and back up again") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Backup(dest, files, size)


def _copy_tree(root: Path, target: Path) -> tuple[int, int]:
    files = size = 0
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        here = target / Path(folder).relative_to(root)
        here.mkdir(mode=0o700, exist_ok=True)
        os.chmod(here, 0o700)
        for name in sorted(names):
            if name == LOCK_FILE:  # held by this copy; a workspace makes its own when opened
                continue
            copied = here / name
            shutil.copyfile(Path(folder) / name, copied)
            os.chmod(copied, 0o600)
            with open(copied, "rb") as handle:  # on disk before the copy is called whole
                os.fsync(handle.fileno())
            files += 1
            size += copied.stat().st_size
    return files, size
