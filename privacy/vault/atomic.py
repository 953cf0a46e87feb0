"""Atomic file replacement: a crash at any moment leaves the old file or the new one, never a mix.

The recipe is the classic one: write a temporary file in the *same directory* (so the final
``os.replace`` is a rename within one filesystem, which POSIX and NTFS make atomic), flush and
fsync it so its bytes are on disk before the name points at them, rename over the target, then
fsync the directory so the rename itself survives a power cut.

Temporary names are random (``.tmp-<random>.part``) and never derived from what is written, so
they leak nothing. A writer that fails removes its temporary file.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".part"
# Windows refuses to rename over a file that another process has open, and virus scanners and
# the search indexer open freshly written files for a moment: wait such a moment out there.
# Elsewhere a refused rename is a real error (permissions) and is raised at once.
_RENAME_REFUSALS_PASS = sys.platform == "win32"
_RENAME_RETRY_S = 2.0


def sync_to_disk(fd: int) -> None:
    """Make the file's bytes durable. On macOS ``fsync`` only hands them to the drive, which may
    keep them in its cache and write them in any order, so after a power cut the audit log's
    head could be on disk without the entry it names (and the next unlock call that a
    rollback); ``F_FULLFSYNC`` asks the drive itself to write. A file system that does not
    know it (some network shares) gets the plain ``fsync``."""
    if sys.platform == "darwin":
        import fcntl

        try:
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)  # type: ignore[attr-defined]
            return
        except (AttributeError, OSError):
            pass
    os.fsync(fd)


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (a no-op where directories can't be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; NTFS journals the rename itself.
        return
    try:
        sync_to_disk(fd)
    except OSError:
        pass  # Some filesystems (and Windows) refuse fsync on a directory; nothing more to do.
    finally:
        os.close(fd)


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and any missing parents as 0700 (only the user may list them).

    ``Path.mkdir(parents=True, mode=...)`` applies the mode to the last folder only; Cloister's
    folders hold ciphertext whose names, sizes and times are still nobody else's business.
    """
    missing = []
    current = Path(directory)
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:  # another writer made it first: fine
            pass


@contextlib.contextmanager
def atomic_writer(path: Path, *, replace: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file; on a clean exit it atomically replaces ``path``.

    If the body raises (or the process dies), ``path`` is untouched and the temporary file is
    removed (or, after a kill, left as an unreferenced ``.tmp-*.part`` that holds only what the
    caller wrote — in Cloister always ciphertext).

    ``replace=False``: ``path`` is created only if nothing has that name when the file is done
    (``FileExistsError`` otherwise, the temporary file removed), so that of two writers that
    both found the name free, one fails instead of silently replacing the other's file.
    """
    path = Path(path)
    make_private_dirs(path.parent)
    # mkstemp creates the file 0600, so the replaced file is readable by its owner only.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            sync_to_disk(handle.fileno())
        if replace:
            replace_retrying(tmp, path)
        else:
            rename_new(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def replace_retrying(tmp: Path, path: Path) -> None:
    """``os.replace``, a file or a folder; on Windows a refusal is retried for a moment (an
    antivirus or the indexer holds what was just written)."""
    deadline = time.monotonic() + _RENAME_RETRY_S
    while True:
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if not _RENAME_REFUSALS_PASS or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def rename_new(tmp: Path, path: Path) -> None:
    """Give the finished file ``tmp`` the name ``path`` only if no file has it: raises
    ``FileExistsError`` (``tmp`` left to the caller) when one does, however recently it came.

    A check for the name before writing is not enough: another writer can take it between the
    check and the rename, which then replaces that writer's file without a word. A hard link
    fails atomically on an existing name. Where the file system has no hard links (FAT, exFAT,
    some network shares), the name is first taken with an exclusive create, which fails as
    atomically, and the file is renamed over that empty placeholder; a crash in between leaves
    the empty file under the name, never someone else's file replaced. As with
    ``replace_retrying``, making the new name durable (``fsync_dir``) is the caller's.
    """
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (or a real refusal, which the create below meets too)
        _rename_over_placeholder(tmp, path)
        return
    try:
        tmp.unlink()
    except OSError:  # the file is in place under its name: a part left over is removed later
        log.warning("could not remove the temporary file %s", tmp.name)


def _rename_over_placeholder(tmp: Path, path: Path) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)  # FileExistsError: the name is taken
    try:
        placeholder = os.fstat(fd)
    finally:
        os.close(fd)
    try:
        replace_retrying(tmp, path)
    except BaseException:
        # Our empty placeholder goes, but only if it is still ours (not replaced since).
        with contextlib.suppress(OSError):
            now = os.lstat(path)
            if (now.st_dev, now.st_ino) == (placeholder.st_dev, placeholder.st_ino):
                os.unlink(path)
        raise


def atomic_write_bytes(path: Path, data: bytes, *, replace: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (``replace=False``: create it, and raise
    ``FileExistsError`` if something has the name by then; see ``atomic_writer``)."""
    with atomic_writer(path, replace=replace) as handle:
        handle.write(data)


def remove_durably(path: Path) -> bool:
    """Unlink ``path`` and fsync its directory; return whether it existed.

    Unlinking frees the name and the blocks, but on SSDs and copy-on-write filesystems the old
    blocks may survive until the device reuses them (see FORMAT.md). That is why everything in a
    workspace is ciphertext in the first place.
    """
    deadline = time.monotonic() + _RENAME_RETRY_S
    while True:
        try:
            Path(path).unlink()
            break
        except FileNotFoundError:
            return False
        except PermissionError:
            # Windows refuses to unlink a file another handle has open (a backup or a verify
            # reading it). Callers remove an old version after the index no longer names it:
            # raising then would report a change that was made as failed. The file is left
            # for collect_garbage, which removes what no index names at a later unlock.
            if not _RENAME_REFUSALS_PASS:
                raise
            if time.monotonic() >= deadline:
                log.warning("could not remove %s yet (in use); it is removed at a later unlock",
                            Path(path).name)
                return True
            time.sleep(0.05)
    fsync_dir(Path(path).parent)
    return True


# What a writer killed outright (SIGKILL, power loss) leaves beside an output it was replacing:
# a part file holding what was being written. A later write into that folder removes such parts
# once they are this old (a younger one may be another writer's, still at work).
LEFTOVER_GRACE_S = 600


def is_part_name(name: str) -> bool:
    """Whether ``name`` is one of this module's temporary files (``.tmp-<random>.part``)."""
    return _PART_NAME.fullmatch(name) is not None


def remove_leftovers(folder: Path, *, also: re.Pattern[str] | None = None) -> list[str]:
    """Remove this module's part files in ``folder``, and the entries whose name matches
    ``also`` (a caller's own staging folders), once older than ``LEFTOVER_GRACE_S``: a younger
    one may be another writer's, at work now. Returns the names removed; a leftover that cannot
    be removed is left, silently."""
    removed: list[str] = []
    now = time.time()
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for path in entries:
        name = path.name
        ours = is_part_name(name)
        mine = also is not None and also.fullmatch(name) is not None
        if not (ours or mine):
            continue
        try:
            if now - path.lstat().st_mtime < LEFTOVER_GRACE_S:
                continue
            if mine and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.is_file() and not path.is_symlink():  # this module writes files only
                path.unlink()
            else:
                continue
        except OSError:
            continue
        removed.append(name)
    return removed


_PART_NAME = re.compile(re.escape(TEMP_PREFIX) + r"[A-Za-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
