"""Hold Ctrl-C and SIGTERM for the moment between a change committing and its audit entry.

A command stopped there left the change made but never logged (and said "interrupted", so the
user could not tell). Inside ``interrupts_held()`` a SIGINT or SIGTERM is noted instead of
raised; when the outermost block ends it is delivered to the handler that was there before
(Python's ``KeyboardInterrupt``, the CLI's ``Terminated``), so the command still stops, right
after the change and its entry are both written. Blocks are kept to small writes: a stop is
never held for longer than it takes to write an index, a description and a log entry.

Only the main thread receives signals: elsewhere (the desktop's workers, which stop
cooperatively) the block does nothing.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

_HELD = (signal.SIGINT, signal.SIGTERM)
_depth = 0  # blocks open in the main thread, the only one that receives signals


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _depth
    if _depth:  # an outer block holds them already and delivers them
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    arrived: list[int] = []

    def note(signum: int, _frame: Any) -> None:
        arrived.append(signum)

    previous: dict[int, Any] = {signum: signal.signal(signum, note) for signum in _HELD}
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        _restore(previous)
        if arrived:  # one stop is enough: a second signal says the same
            _deliver(arrived[0], previous[arrived[0]])


def _restore(previous: dict[int, Any]) -> None:
    """Put the handlers back with both signals blocked: one arriving between the two restores
    would otherwise run the first restored handler in the middle, raise there, and leave
    ``note`` installed for the other signal for good. Blocked, it waits for the end, then goes
    to its own handler."""
    mask = getattr(signal, "pthread_sigmask", None)  # absent on Windows
    before = mask(signal.SIG_BLOCK, _HELD) if mask is not None else None
    try:
        for signum, handler in previous.items():  # None: set outside Python; the default
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
    finally:
        if mask is not None and before is not None:
            mask(signal.SIG_SETMASK, before)  # as the caller had it


def _deliver(signum: int, handler: Any) -> None:
    if callable(handler):
        handler(signum, None)  # raises KeyboardInterrupt, or the CLI's Terminated
    elif handler != signal.SIG_IGN:  # the default action (or one set outside Python)
        signal.raise_signal(signum)
