"""A run's events on a terminal or as JSON (``cloister train``, ``resume`` and ``demo``): a
progress line on stderr, results on stdout, one JSON object per event with ``--json``; and
Ctrl-C or SIGTERM turned into a cooperative cancel, with the exit code each stop calls for.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from engine.cli.common import pipe_closed
from engine.events import (
    Cancelled,
    CancelToken,
    CheckpointSaved,
    Evaluated,
    Event,
    Failed,
    FailureKind,
    Finished,
    Progress,
    Started,
    Step,
)
from engine.units import count_of

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130
_BAD_INPUT = {FailureKind.BAD_DATA, FailureKind.BAD_MODEL, FailureKind.BAD_SETTING}


# ---- event printing ---------------------------------------------------------------------
def _event_json(event: Event) -> str:
    data = dataclasses.asdict(event)
    data = {k: (v.value if isinstance(v, FailureKind) else v) for k, v in data.items()}
    if isinstance(event, Failed):
        # The keys of every other --json error ({"error", "exit_code"}), beside the event's own:
        # a script read one shape before the run began and another once it had.
        data |= {"error": event.message, "exit_code": _failed_exit_code(event)}
    return json.dumps({"event": type(event).__name__.lower(), **data}, default=list)


def _failed_exit_code(event: Failed) -> int:
    return EXIT_BAD_INPUT if event.kind in _BAD_INPUT else EXIT_FAILED


def _fmt_time(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class _Progress:
    """A one-line bar on a terminal; elsewhere (a log file, a CI job) a plain progress line
    every ``LOG_EVERY_SECONDS``, besides the lines of every epoch and evaluation: an epoch of
    big data can take longer than anyone should wonder whether the run is alive."""

    LOG_EVERY_SECONDS = 60.0

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last = 0.0
        self._logged = time.monotonic()
        self._prepared = False  # whether a line about the work before the first step was written

    def step(self, e: Step) -> None:
        if not self.tty:
            if time.monotonic() - self._logged >= self.LOG_EVERY_SECONDS:
                self._logged = time.monotonic()
                self.line(f"step {e.step}/{e.total_steps} epoch {e.epoch:.2f} loss {e.loss:.4f} "
                          + (f"ε {e.epsilon:.2f} " if e.epsilon is not None else "")
                          + f"{e.samples_per_second:.1f} rows/s ETA {_fmt_time(e.eta_seconds)}")
            return
        if time.monotonic() - self._last < 0.2 and e.step != e.total_steps:
            return
        self._last = time.monotonic()
        width = 30
        done = int(width * e.step / max(1, e.total_steps))
        bar = "#" * done + "-" * (width - done)
        self.stream.write(f"\r[{bar}] step {e.step}/{e.total_steps} epoch {e.epoch:.2f} "
                          f"loss {e.loss:.4f} "
                          + (f"ε {e.epsilon:.2f} " if e.epsilon is not None else "")
                          + f"{e.samples_per_second:.1f} rows/s "
                          f"ETA {_fmt_time(e.eta_seconds)}  ")
        self.stream.flush()

    def preparing(self, e: Progress) -> None:
        """Work before the first step (tokenizing a large dataset takes a while): a bar on a
        terminal; elsewhere its first line, then one every ``LOG_EVERY_SECONDS``."""
        if not self.tty:
            if not self._prepared or time.monotonic() - self._logged >= self.LOG_EVERY_SECONDS:
                self._prepared, self._logged = True, time.monotonic()
                self.line(e.message)
            return
        if time.monotonic() - self._last < 0.2 and e.done < e.total:
            return
        self._last = time.monotonic()
        width = 30
        done = int(width * e.done / max(1, e.total))
        self.stream.write(f"\r[{'#' * done}{'-' * (width - done)}] {e.message}  ")
        self.stream.flush()

    def line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 100 + "\r")
        self.stream.write(text + "\n")
        self.stream.flush()


def _metrics_text(metrics: Any) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, (int, float)))


def consume(events: Iterable[Event], *, json_mode: bool, out: TextIO | None = None,
            err: TextIO | None = None) -> int:
    """Print ``events`` as they come and return the exit code of the final one."""
    err = err or sys.stderr
    sink = _Sink(out or sys.stdout, err)
    progress = _Progress(err)
    code = EXIT_FAILED
    run_id = ""
    for event in events:
        if json_mode:
            sink.write(_event_json(event) + "\n")
        if isinstance(event, Started):
            run_id = event.run_id
            resumed = f", resumed at step {event.resumed_from_step}" if event.resumed_from_step else ""
            progress.line(f"run {event.run_id}: {event.train_rows:,} training / "
                          f"{event.validation_rows:,} validation rows, "
                          f"{count_of(len(event.labels), 'label')}, {count_of(event.epochs, 'epoch')}, "
                          f"{count_of(event.total_steps, 'step')} on {event.device}{resumed}")
        elif isinstance(event, Step):
            progress.step(event)
        elif isinstance(event, Progress):
            progress.preparing(event)
        elif isinstance(event, Evaluated):
            progress.line(f"{event.split} at step {event.step} (epoch {event.epoch:.2f}): "
                          f"{_metrics_text(event.metrics)}")
        elif isinstance(event, CheckpointSaved):
            pass  # the evaluation line already marks the epoch; checkpoints are routine
        elif isinstance(event, Finished):
            code = EXIT_OK
            if not json_mode:
                sink.write(f"Finished run {event.run_id} in {_fmt_time(event.duration_seconds)}"
                          + (f" (best step {event.best_step})" if event.best_step is not None
                             else "")
                          + ((f".\nTest metrics ({event.test_basis}):\n" if event.test_basis
                              else ".\nTest metrics:\n") if event.metrics else
                             ".\nTest metrics: none (no test rows; see the warning below)\n"))
                for name, value in event.metrics.items():
                    sink.write(f"  {name:<12} {value:.4f}\n")
                for line in event.info:  # a DP demo's guarantee, ε spent included
                    sink.write(f"{line}\n")
            for note in event.notes:  # on stderr with --json too: a script's log keeps it
                progress.line(f"cloister: warning: {note}")
        elif isinstance(event, Failed):
            progress.line(f"cloister: error: {event.message}")
            code = _failed_exit_code(event)
        elif isinstance(event, Cancelled):
            if event.checkpoint_key is None and not run_id:
                progress.line("cancelled before training started: nothing was saved")
            else:
                run_id = run_id or event.run_id or ""
                progress.line(f"cancelled at step {event.step}; continue with `cloister resume "
                              f"{run_id or 'RUN'}` (the last checkpoint is kept)")
            code = EXIT_CANCELLED
    return code


class _Sink:
    """stdout, which a reader that stops (`cloister train ... --json | head -1`) closes: the run
    goes on to its end (and its checkpoints) with nothing more printed there, instead of dying
    mid-step without a checkpoint."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err, self.closed = out, err, False

    def write(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except OSError as exc:
            if not pipe_closed(exc):
                raise
            self.closed = True
            with contextlib.suppress(OSError, ValueError, AttributeError):
                import os  # the interpreter's last flush must not raise again

                os.dup2(os.open(os.devnull, os.O_WRONLY), self.out.fileno())
            self.err.write("cloister: the output was closed; the run goes on to its end, "
                           "no longer printed there\n")


@contextlib.contextmanager
def _ctrl_c_cancels(token: CancelToken) -> Iterator[list[int]]:
    """Ctrl-C and SIGTERM (``kill``, ``timeout``, a session ending) set the cancel token: the run
    checkpoints, is marked cancelled and stops, instead of vanishing mid-step. Yields the
    signals received, for ``_exit_code``."""
    received: list[int] = []

    def cancel(signum: int, _frame: object) -> None:
        received.append(signum)
        token.cancel()

    try:
        previous = {signum: signal.signal(signum, cancel)
                    for signum in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread (e.g. called from tests in a worker): no handler
        yield received
        return
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _exit_code(code: int, received: list[int]) -> int:
    """A run stopped by SIGTERM exits 143, as every other command does (128 + 15): a
    supervisor tells a stop it asked for from a user's Ctrl-C (130)."""
    return 143 if code == EXIT_CANCELLED and signal.SIGTERM in received else code
