"""Which runs a live process is training: an OS file lock per run, held while it trains.

A run record says "running" from its start until its end is saved. When the process is
killed (SIGKILL, the out-of-memory killer, a power cut) the end is never saved, and the record
alone cannot tell that run from one a `cloister train` in another terminal is training now. The
trainer therefore holds an exclusive lock on ``<workspace>/.training/<run_id>`` for as long as it
trains; the OS drops the lock when the process ends, however it ends. A reader that can take the
lock knows nobody trains the run; one that cannot knows somebody does.

The lock files are empty and named by run id (random, no user data). They are never removed
while a run exists: removing one while another process holds it open would let two trainers
lock two different files of the same name. ``release_claim_file`` removes it with the run.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InputError

if TYPE_CHECKING:
    from engine.vault import Vault

CLAIMS_DIR = ".training"

if sys.platform == "win32":  # pragma: no cover - a byte-range lock, also dropped at process end
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
else:  # flock: per open file, so a second open in the same process is refused too (the
    import fcntl  # desktop's Runs page checks a run its own worker thread trains)

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


class RunClaimed(InputError):
    """Another process (another window, or a `cloister` command) is training the run now."""


def _path(ws: Vault, run_id: str) -> Path:
    return Path(ws.root) / CLAIMS_DIR / run_id


@contextlib.contextmanager
def claim_run(ws: Vault, run_id: str) -> Iterator[None]:
    """Hold ``run_id`` for this process while the block trains it; refuse if another holds it."""
    folder = Path(ws.root) / CLAIMS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(folder / run_id, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(fd):
            raise RunClaimed(f"run {run_id} is being trained right now by another Cloister window "
                             "or `cloister` command: wait for it, or cancel it there first")
        yield
    finally:
        os.close(fd)  # closing drops the lock


def is_being_trained(ws: Vault, run_id: str) -> bool | None:
    """True: a live process holds the run; False: none does (or it never held it); None: this
    process cannot tell (the workspace's folder is not readable as files)."""
    path = _path(ws, run_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False  # started before runs were claimed, or never started training
    except OSError:
        return None
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)


def release_claim_file(ws: Vault, run_id: str) -> None:
    """Remove a deleted run's lock file, taking the lock first so that no trainer holds it."""
    path = _path(ws, run_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return
    try:
        if _try_lock(fd):
            path.unlink(missing_ok=True)
    finally:
        os.close(fd)
