"""A consistent copy of a workspace folder, taken while Cloister may be running.

Copying the folder file by file while an import lands can give a copy whose audit log is older
than its audit head (refused as tampering when restored) or whose index names files the copy
lacks (a dataset silently missing). Every change to a workspace takes its lock file
(``privacy.vault.workspace.LOCK_FILE``) for its index and audit writes, so a copy of those made
while holding the lock is one a crash could have left at that moment, which Cloister opens
cleanly. The lock is held briefly: an object file never changes once written (a new version
gets a new name), so the objects are copied first without it, and only the few small files
at the top and the objects written meanwhile are copied under it.

The files are already encrypted: a backup needs no passphrase and decrypts nothing.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from privacy.errors import PrivacyError
from privacy.vault import file_lock
from privacy.vault.atomic import (LEFTOVER_GRACE_S, TEMP_PREFIX, TEMP_SUFFIX, fsync_dir,
                                  replace_retrying, sync_to_disk)
from privacy.vault.keyfile import VAULT_FILE_NAME
from privacy.vault.workspace import LOCK_FILE

# Where a backup is built before it takes its name: a failed copy never looks like a whole one.
PARTIAL_SUFFIX = ".cloister-backup-partial"
# Folders a copy leaves out: a training process's claim files (``engine.run_claims.CLAIMS_DIR``)
# and the dataset-write lock (``engine.data.dataset_writes.LOCKS_DIR``), empty and meaningful
# only while their process runs; on Windows a live one is byte-locked, so reading it fails.
_NOT_COPIED = frozenset({".training", ".locks"})
_CHUNK = 1 << 20


def _remove_abandoned(parent: Path) -> None:
    """Remove the partial backups in ``parent`` in which nothing was written for
    ``LEFTOVER_GRACE_S``: a backup killed outright; one at work writes a file every moment."""
    now = time.time()
    for staging in parent.glob(f".*{PARTIAL_SUFFIX}"):
        try:
            if staging.is_symlink() or not staging.is_dir():
                continue
            newest = max([staging.lstat().st_mtime] + [
                os.lstat(os.path.join(folder, name)).st_mtime
                for folder, dirs, files in os.walk(staging) for name in (*dirs, *files)])
            if now - newest >= LEFTOVER_GRACE_S:
                shutil.rmtree(staging)
        except OSError:  # gone meanwhile, or not ours to remove: left as it is
            continue


class BackupError(PrivacyError):
    """The backup could not be made; nothing was left at its destination."""

    exit_code = 2


@dataclass(frozen=True)
class Backup:
    folder: Path
    files: int
    bytes: int


class _SourceUnreadable(Exception):
    """A workspace file could not be read (not the destination's fault)."""


def back_up(root: Path, dest: Path, *, on_wait: Callable[[], None] | None = None) -> Backup:
    """Copy the workspace at ``root`` to the new folder ``dest``; its index, audit log and
    vault file are copied while holding the workspace's lock, so that none is caught half
    written (a change that needs the lock meanwhile waits, briefly).

    ``dest`` must not exist, or be an empty folder, and must lie outside the workspace. The copy
    is built beside ``dest`` and renamed into place when whole; on any failure it is removed.
    Files get owner-only modes (0600, folders 0700) where the destination keeps modes.
    """
    root, dest = Path(root).resolve(), Path(dest).expanduser().resolve()
    if not (root / VAULT_FILE_NAME).is_file():
        raise BackupError(f"{root} is not a Cloister workspace (it has no {VAULT_FILE_NAME})")
    if _inside(dest, root):
        raise BackupError(f"{dest} is inside the workspace {root}: back it up to a folder outside it")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists and is not an empty folder: give a new folder's "
                          "path (a backup never writes over anything)")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist; create it first")
    # What killed backups left here: encrypted copies of rows that an erasure since cannot
    # reach. Judged by the newest file in each (a backup at work writes deep inside its folder,
    # whose own time stays that of its start).
    _remove_abandoned(dest.parent)
    # A new folder of a name no one can guess, made ours (0700) in one step: under a fixed name,
    # another user of a shared folder could put a link there first, and the copy would be
    # written into a folder of theirs.
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=PARTIAL_SUFFIX,
                                        dir=dest.parent))
    except OSError as exc:
        raise BackupError(f"the backup could not be written to {dest.parent} "
                          f"({exc.strerror or exc}); nothing was left there. Choose a folder you "
                          "can write to") from exc
    try:
        copied: dict[str, int] = {}
        _copy_files(root, staging, copied, top=False)  # the objects: they never change
        with _workspace_lock(root, on_wait):
            _copy_files(root, staging, copied, top=True)  # the rest, and objects written since
        if dest.exists():
            dest.rmdir()  # the empty folder the user made for it
        replace_retrying(staging, dest)
        fsync_dir(dest.parent)
    except _SourceUnreadable as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"the workspace file {exc} could not be read, so nothing was backed up "
                          "(nothing was left at the destination)") from exc
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if dest.is_dir() and any(dest.iterdir()):  # ENOTEMPTY here, EACCES on Windows
            # Another backup (or anything else) filled the folder while this one copied.
            raise BackupError(f"{dest} was filled by something else while this backup was "
                              "copied (another backup to the same folder?): this copy was not "
                              "put there, and nothing of it was left. Back up to a new "
                              "folder") from exc
        raise BackupError(f"the backup could not be written to {dest.parent} "
                          f"({exc.strerror or exc}); nothing was left there. Free some space or "
                          "choose another place, and back up again") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Backup(dest, len(copied), sum(copied.values()))


def _inside(dest: Path, root: Path) -> bool:
    """Whether ``dest`` is ``root`` or below it, also where the file system ignores case."""
    return any(place == root or (place.exists() and place.samefile(root))
               for place in (dest, *dest.parents))


def _workspace_lock(root: Path, on_wait: Callable[[], None] | None
                    ) -> contextlib.AbstractContextManager[None]:
    """The workspace's lock; none on a read-only file system (a snapshot), which nothing can
    change, and where the lock file cannot be opened for the lock."""
    try:
        os.close(os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError as exc:
        if exc.errno == errno.EROFS:
            return contextlib.nullcontext()
        raise _SourceUnreadable(f"{root / LOCK_FILE} ({exc.strerror or exc})") from exc
    return file_lock.held(root / LOCK_FILE, on_wait=on_wait)


def _copy_files(root: Path, target: Path, copied: dict[str, int], *, top: bool) -> None:
    """Copy what is not copied yet: without ``top``, the object files; with it, every file
    (the folder's own files, and objects written since the first pass)."""
    seen: set[tuple[int, int]] = set()
    for folder, subfolders, names in os.walk(root, followlinks=True):  # objects/ may be a link
        here = Path(folder)
        info = here.stat()
        if (info.st_dev, info.st_ino) in seen:  # a link back up the tree: once is enough
            subfolders.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        relative = here.relative_to(root)
        is_top = relative == Path(".")
        subfolders[:] = sorted(f for f in subfolders if not (is_top and f in _NOT_COPIED))
        _make_private_folder(target / relative)
        for name in sorted(names):
            if (is_top and not top) or name == LOCK_FILE or (
                    name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)):
                continue  # the lock is this copy's; a temporary file is a write not yet made
            key = str(relative / name)
            if key in copied and not is_top:
                continue  # an object: the same bytes as when it was copied
            try:
                copied[key] = _copy_one(here / name, target / relative / name)
            except FileNotFoundError:
                if is_top:
                    raise
                # An object deleted meanwhile (a newer version or a deletion): no index that
                # the copy will hold names it, since the index is copied under the lock after.


def _copy_one(source: Path, copy: Path) -> int:
    try:
        reader = open(source, "rb")
    except FileNotFoundError:  # the caller knows whether that may happen
        raise
    except OSError as exc:
        raise _SourceUnreadable(f"{source} ({exc.strerror or exc})") from exc
    # Made owner-only as it is created, and never through a link.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    with reader, open(os.open(copy, flags, 0o600), "wb") as writer:
        shutil.copyfileobj(reader, writer, _CHUNK)
        size = writer.tell()
        writer.flush()
        sync_to_disk(writer.fileno())  # on disk before the copy is called whole
    with contextlib.suppress(OSError):  # a USB stick's FAT keeps no modes: the copy stands
        os.chmod(copy, 0o600)
    return size


def _make_private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
