"""An exclusive lock on a file that every process respects, on POSIX and on Windows.

The desktop app and ``cloister`` commands may change one workspace at the same moment, on any
platform the installers ship for, so the index lock cannot be POSIX-only. One code path serves
both: only the two calls that take and drop the lock differ (``flock`` on POSIX, a byte-range
lock on Windows; both are dropped by the system when the process ends, so a crash never leaves
a workspace locked).
"""
from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from privacy.errors import PrivacyError

_POLL_S = 0.01  # between tries while another process holds the lock (index changes are short)
WAIT_NOTE_S = 1.0  # waited this long, a caller with ``on_wait`` is told
# Threads of this process wait on a plain lock first: where the OS keeps file locks per process
# (NFS, and fcntl locks anywhere), a second handle would neither wait nor keep the first's lock.
_in_process: dict[str, threading.Lock] = {}
_in_process_guard = threading.Lock()


class LocksUnsupported(PrivacyError):
    """The file system refuses file locks (some network shares and FUSE mounts): without them
    two windows or commands could change one workspace at once, so nothing is changed."""


def _unsupported(exc: OSError, path: Path | None) -> LocksUnsupported:
    # Any refusal but "held by another" (ENOLCK, EOPNOTSUPP, ENOSYS...) would otherwise read as
    # a lock someone holds forever: the caller waited, and the app hung, with no word of why.
    return LocksUnsupported(
        f"the file system of {'this folder' if path is None else Path(path).parent} refuses file "
        f"locks ({exc.strerror or exc}): Cloister needs them to keep two windows or commands "
        "from changing the workspace at once. Move the workspace to a local disk, or to a "
        "network share that supports locks (copy its folder while no Cloister is open)")


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _HELD_ELSEWHERE = (errno.EACCES, errno.EDEADLOCK)  # what LK_NBLCK raises for a held byte

    def try_lock(fd: int, path: Path | None = None) -> bool:
        """Take the lock on ``fd`` (the file ``path``) if no other handle holds it; never waits."""
        os.lseek(fd, 0, os.SEEK_SET)  # the byte locked is the first one, wherever fd points
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in _HELD_ELSEWHERE:
                return False
            raise _unsupported(exc, path) from exc
        return True

    def unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def try_lock(fd: int, path: Path | None = None) -> bool:
        """Take the lock on ``fd`` (the file ``path``) if no other handle holds it; never waits."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # EWOULDBLOCK: another handle holds it
            return False
        except OSError as exc:
            raise _unsupported(exc, path) from exc
        return True

    def unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _slice(deadline: float | None) -> float:
    """How long one wait on the in-process lock lasts before the caller looks at the clock."""
    left = WAIT_NOTE_S if deadline is None else deadline - time.monotonic()
    return max(0.0, min(left, WAIT_NOTE_S))


class Busy(Exception):
    """Another process kept the lock for longer than the caller would wait."""


@contextlib.contextmanager
def held(path: Path, *, give_up_after: float | None = None,
         on_wait: Callable[[], None] | None = None,
         stop: Callable[[], bool] | None = None) -> Iterator[None]:
    """Wait until the lock on ``path`` (created if missing) is this block's, then hold it;
    with ``give_up_after`` (seconds), raise ``Busy`` instead of waiting longer. ``on_wait`` is
    called once if the lock is not this block's after ``WAIT_NOTE_S``: a command that waits
    on another says so, instead of seeming to hang. ``stop``: asked while waiting; once it says
    True, ``Busy`` (a window being locked or closed does not wait out another's long write).

    Not re-entrant: a block that already holds ``path`` must not ask for it again.
    """
    start = time.monotonic()
    deadline = None if give_up_after is None else start + give_up_after
    noted = False

    def note() -> None:
        nonlocal noted
        if on_wait is not None and not noted and time.monotonic() - start >= WAIT_NOTE_S:
            noted = True
            on_wait()

    with _in_process_guard:
        local = _in_process.setdefault(os.path.abspath(path), threading.Lock())
    # With ``stop``, looked at ten times a second rather than once (a window waits on it).
    wait_s = (lambda: _slice(deadline)) if stop is None else (lambda: min(_slice(deadline), 0.1))
    while not local.acquire(timeout=wait_s()):
        if (deadline is not None and time.monotonic() >= deadline) or (stop is not None and stop()):
            raise Busy(str(path))  # another thread of this process holds it
        note()
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while not try_lock(fd, path):
                if (deadline is not None and time.monotonic() >= deadline) or \
                        (stop is not None and stop()):
                    raise Busy(str(path))
                note()
                time.sleep(_POLL_S)
            try:
                yield
            finally:
                unlock(fd)
        finally:
            os.close(fd)
    finally:
        local.release()
