"""Which runs a live process is training: an OS file lock per run, held while it trains.

A run record says "running" from its start until its end is saved. When the process is
killed (SIGKILL, the out-of-memory killer, a power cut) the end is never saved, and the record
alone cannot tell that run from one a `cloister train` in another terminal is training now. The
trainer therefore holds an exclusive lock on a file in ``<workspace>/.training/`` for as long as it
trains (``claim_path``: named by a keyed hash of the run id, which would say when the run
started); the OS drops the lock when the process ends, however it ends. A reader that can take
the lock knows nobody trains the run; one that cannot knows somebody does.

Runs this process trains are also kept in a set: a reader here never touches their lock file
(where the OS implements these locks per process, as NFS does, closing a second handle would
drop the trainer's lock). A reader takes another process's free lock only for an instant, so a
trainer starting at that instant tries again for a moment before it says the run is taken.

The lock files are empty and named by a keyed hash (no user data, nor when a run started). They
are removed with the run (``release_claim_file``), never while a trainer may hold one.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InputError
from privacy.vault import file_lock
from privacy.vault.file_lock import LocksUnsupported, try_lock, unlock

if TYPE_CHECKING:
    from engine.vault import Vault

CLAIMS_DIR = ".training"
_RETRY_S = 0.5  # how long a trainer waits out a reader's instant on the lock

_held: set[tuple[str, str]] = set()  # (workspace, run id) this process trains
_held_lock = threading.Lock()


class RunClaimed(InputError):
    """Another process (another window, or a `cloister` command) is training the run now."""


def _key(ws: Vault, run_id: str) -> tuple[str, str]:
    return str(Path(ws.root).resolve()), run_id


def claim_path(ws: Vault, run_id: str) -> Path:
    """The run's lock file: named by a keyed hash of its id, since a run id says when it started."""
    return Path(ws.root) / CLAIMS_DIR / ws.private_name(f"run-claim\x00{run_id}")


def _taken(run_id: str) -> RunClaimed:
    return RunClaimed(f"run {run_id} is being trained right now by another Cloister window or "
                      "`cloister` command: wait for it, or cancel it there first")


@contextlib.contextmanager
def claim_run(ws: Vault, run_id: str) -> Iterator[None]:
    """Hold ``run_id`` for this process while the block trains it; refuse if another holds it."""
    key = _key(ws, run_id)
    with _held_lock:
        if key in _held:
            raise _taken(run_id)
        _held.add(key)
    try:
        path = claim_path(ws, run_id)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        _sweep_named_by_run_id(path.parent)
        if _held_elsewhere(path.parent / run_id) is True:  # by a trainer of an earlier version
            raise _taken(run_id)
        with contextlib.ExitStack() as stack:
            try:  # entered apart from the body: a Busy raised there is not the body's
                stack.enter_context(file_lock.held(path, give_up_after=_RETRY_S))
            except file_lock.Busy:
                raise _taken(run_id) from None
            yield
    finally:
        with _held_lock:
            _held.discard(key)


_RUN_ID_NAME = re.compile(r"\d{8}-\d{6}-[0-9a-f]+")


def _sweep_named_by_run_id(folder: Path) -> None:
    """Remove lock files that earlier versions named by run id (which says when a run started),
    unless a trainer of such a version holds one now."""
    if sys.platform == "win32":  # pragma: no cover - an open file cannot be removed there
        return
    for old in folder.iterdir():
        if not _RUN_ID_NAME.fullmatch(old.name):
            continue
        try:
            fd = os.open(old, os.O_RDWR)
        except OSError:
            continue
        try:
            if try_lock(fd, old):
                old.unlink(missing_ok=True)  # while locked: no trainer can take it meanwhile
                unlock(fd)
        finally:
            os.close(fd)


def is_being_trained(ws: Vault, run_id: str) -> bool | None:
    """True: a live process holds the run; False: none does (or it never held it); None: this
    process cannot tell (the workspace's folder is not readable as files)."""
    with _held_lock:
        if _key(ws, run_id) in _held:
            return True
    # The lock file by its keyed name, and by the run id as versions before 2026-12-06 named
    # it (a window of such a version may still be training).
    seen: list[bool | None] = [_held_elsewhere(claim_path(ws, run_id)),
                               _held_elsewhere(Path(ws.root) / CLAIMS_DIR / run_id)]
    if True in seen:
        return True
    return None if None in seen else False


def _held_elsewhere(path: Path) -> bool | None:
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False  # started before runs were claimed, or never started training
    except OSError:
        return None
    try:
        if not try_lock(fd, path):
            return True
        unlock(fd)
        return False
    except LocksUnsupported:
        return None  # no locks there: whether a process trains it cannot be told
    finally:
        os.close(fd)


def release_claim_file(ws: Vault, run_id: str) -> None:
    """Remove a deleted run's lock file, unless a trainer holds it (then it stays, empty)."""
    with _held_lock:
        if _key(ws, run_id) in _held:
            return
    path = claim_path(ws, run_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return
    try:
        if not try_lock(fd, path):
            return
        if sys.platform != "win32":
            path.unlink(missing_ok=True)  # while locked: no trainer can hold it meanwhile
        unlock(fd)
    finally:
        os.close(fd)
    if sys.platform == "win32":  # pragma: no cover - Windows removes no open file
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
