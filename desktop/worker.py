"""The one adapter between the engine and Qt: runs engine work on a QThread, emits Qt signals.

Engine operations are plain generators of ``engine.events`` dataclasses (training, batch
prediction, export) or plain functions (import, unlock). ``Job`` runs either on its own
``QThread`` and turns what it produces into signals on the UI thread:

* ``events(list)`` — the non-terminal events produced since the last delivery, at most about
  ten times a second. Steps are *batched*, not dropped, so a loss curve still gets every point
  while labels and the plot redraw once per batch (Anki pulls progress on a 100 ms timer too).
* ``ended(object)`` — exactly once, after every ``events`` delivery: the terminal event
  (``Finished``, ``Failed``, ``Cancelled``) or ``Done(value)`` for a plain function.

Exceptions are caught *here*, at the thread boundary, whatever their type — a ``RuntimeError``
(which is what ``torch.cuda.OutOfMemoryError`` is) included — and become ``Failed`` events
through the engine's one classifier (``engine.failures.to_failed``), so the UI can never stay
"running" forever and an error is the same kind here as in the CLI. A generator that stops without a terminal event is a
bug in the engine and is reported as an internal failure, not ignored.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from engine.events import (TERMINAL_EVENTS, Cancelled, CancelToken, Failed, FailureKind,
                           set_thread_cancel)
from engine.failures import to_failed

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_MS = 100  # ~10 UI updates a second, whatever rate the engine reports at


@dataclass(frozen=True)
class Done:
    """The terminal event of a plain-function job: its return value."""

    value: Any = None


def _ended_body(_cancel: CancelToken) -> Iterable[Any]:
    """What an ended job runs if started again: nothing (it had released its own body)."""
    return iter(())


class _Runner(QThread):
    """Runs the job body; hands results to the UI thread through a lock-protected buffer."""

    def __init__(self, body: Callable[[], None]) -> None:
        super().__init__()
        self._body = body

    def run(self) -> None:  # runs on the worker thread
        self._body()


class Job(QObject):
    """One engine operation on its own thread. Create with ``Job(generator, name=...)`` for an
    event stream, or ``Job.call`` for a plain function.

    Signals are emitted on the thread that owns the ``Job`` (the UI thread): slots may touch
    widgets directly.
    """

    events = Signal(list)
    ended = Signal(object)

    def __init__(
        self,
        produce: Callable[[CancelToken], Iterable[Any]],
        *,
        name: str,
        interval_ms: int = DELIVERY_INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.cancel_token = CancelToken()
        self._produce = produce
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._terminal: Any = None
        self._ended = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._deliver)
        self._thread = _Runner(self._run)
        self._thread.setObjectName(f"cloister-{name}")
        self._thread.finished.connect(self._on_thread_finished)

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def call(
        cls, function: Callable[[CancelToken], Any], *, name: str,
        parent: QObject | None = None,
    ) -> Job:
        """A job whose body is a plain function; it ends with ``Done(return value)``."""

        def produce(cancel: CancelToken) -> Iterable[Any]:
            yield Done(function(cancel))

        return cls(produce, name=name, parent=parent)

    # --- control (UI thread) ----------------------------------------------------------------
    def start(self) -> None:
        self._timer.start()
        self._thread.start()

    def cancel(self) -> None:
        """Ask the engine to stop at its next check; ``ended`` follows with ``Cancelled``."""
        self.cancel_token.cancel()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the thread has finished (used on close/lock after ``cancel``)."""
        if timeout_ms < 0:
            return self._thread.wait()
        return self._thread.wait(timeout_ms)

    def has_ended(self) -> bool:
        """Whether ``ended`` has been emitted (the registry lets go of the job then)."""
        return self._ended

    def finish_now(self) -> None:
        """After ``wait``: deliver whatever is left synchronously (no event loop needed)."""
        self._on_thread_finished()

    # --- worker thread ----------------------------------------------------------------------
    def _run(self) -> None:
        terminal: Any = None
        set_thread_cancel(self.cancel_token)  # for waits deep in the engine (dataset_writes)
        try:
            for item in self._produce(self.cancel_token):
                if isinstance(item, (*TERMINAL_EVENTS, Done)):
                    terminal = item
                    break
                with self._lock:
                    self._pending.append(item)
            if terminal is None:
                if self.cancel_token.cancelled:
                    terminal = Cancelled(step=0)
                else:
                    terminal = Failed(
                        kind=FailureKind.INTERNAL,
                        message=f"The {self.name} job stopped without saying why (engine bug).",
                    )
        except BaseException as exc:  # noqa: BLE001 - the thread boundary catches everything
            # An internal error is logged by ``to_failed`` itself, where it failed and not its
            # text (which can quote a row); the user's input or the machine is no engine bug.
            terminal = to_failed(exc, activity=f"the {self.name} job")
        with self._lock:
            self._terminal = terminal

    # --- UI thread --------------------------------------------------------------------------
    def _take_pending(self) -> list[Any]:
        with self._lock:
            batch, self._pending = self._pending, []
        return batch

    def _deliver(self) -> None:
        batch = self._take_pending()
        if batch:
            self.events.emit(batch)

    def _on_thread_finished(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._timer.stop()
        # ``finished`` is emitted while the thread still counts as running: wait for its last
        # instructions (at once, its body has returned), so that the job, freed as soon as
        # nothing holds it, never destroys a running QThread.
        self._thread.wait()
        self._deliver()
        with self._lock:
            terminal, self._terminal = self._terminal, None
        # What the body closed over (a loaded model, the workspace, a typed text) goes with the
        # job's end, not with the job: a page keeps its last job, and locking forgets the model.
        self._produce = _ended_body
        if isinstance(terminal, Failed):
            # Kind only: an exception's text may quote a row, and logs must never echo rows.
            log.warning("job %s failed (%s)", self.name, terminal.kind.value)
        self.ended.emit(terminal)


class JobRegistry(QObject):
    """Keeps running jobs alive and lets the window cancel and wait for all of them on close."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: set[Job] = set()
        self._closed = False

    def start(self, job: Job) -> Job:
        """Start ``job`` and keep it alive until it ends.

        The job is detached from any widget parent: a page being destroyed must never take a
        running thread with it ("QThread: Destroyed while thread is still running"). After
        ``close`` nothing new starts — a late timer cannot launch work behind a closed window.
        """
        if self._closed:
            log.info("not starting %s: the application is closing", job.name)
            return job
        job.setParent(None)
        self._jobs.add(job)
        # Not a lambda holding the job: the job's own signal would hold it, a cycle through
        # Qt that Python's collector cannot see, and every job (with its result: a loaded
        # model, a report) stayed in memory for the rest of the session.
        job.ended.connect(self._forget_ended)
        job.start()
        return job

    def _forget_ended(self, _terminal: object) -> None:
        self._jobs = {job for job in self._jobs if not job.has_ended()}

    def running(self) -> list[Job]:
        return [job for job in self._jobs if job.is_running()]

    def busy(self, name: str | None = None) -> bool:
        return any(name is None or job.name == name for job in self.running())

    def close(self, *, timeout_ms: int = 120_000) -> bool:
        """Refuse new jobs, then cancel and wait for the running ones."""
        self._closed = True
        return self.cancel_all_and_wait(timeout_ms=timeout_ms)

    def cancel_all_and_wait(self, *, timeout_ms: int = 120_000) -> bool:
        """Cancel every job, wait for each thread, and deliver their terminal events.

        Returns False if a job did not stop in time (the caller then keeps the window open
        rather than destroy a running thread).
        """
        deadline = time.monotonic() + timeout_ms / 1000
        for job in list(self._jobs):
            job.cancel()
        for job in list(self._jobs):
            remaining = max(1, int((deadline - time.monotonic()) * 1000))
            if not job.wait(remaining):
                return False
            job.finish_now()
        return True
