"""What the engine says while it works: frozen dataclasses, never Qt.

Long operations (training, batch prediction, import) are generators yielding these events, or
take a callback receiving them. Exactly one module in ``desktop/`` turns them into Qt signals.
A long operation never raises into its caller's thread: it ends with ``Finished``, ``Failed``
or ``Cancelled``.
"""
from __future__ import annotations

import enum
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union


class FailureKind(str, enum.Enum):
    OUT_OF_MEMORY = "out_of_memory"
    BAD_DATA = "bad_data"
    BAD_MODEL = "bad_model"
    BAD_SETTING = "bad_setting"
    DISK = "disk"
    INTERNAL = "internal"


class CancelToken:
    """Cooperative cancellation: the worker checks ``cancelled`` at least once per step.

    Thread-safe: ``cancel()`` is called from the UI thread, ``cancelled`` read in the worker.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


_worker = threading.local()


def set_thread_cancel(token: CancelToken | None) -> None:
    """The cancel token of the job this thread runs (the desktop's worker sets it): a wait deep
    in the engine (another window's dataset write, engine.data.dataset_writes) can then stop
    when the window is locked or closed, without every call in between passing it on."""
    _worker.token = token


def thread_cancel() -> CancelToken | None:
    return getattr(_worker, "token", None)


@dataclass(frozen=True)
class Started:
    """The plan, known before the first step."""

    run_id: str
    device: str  # e.g. "cuda:0 (NVIDIA H100, bf16)", "cpu (2 threads)"
    epochs: int
    total_steps: int
    train_rows: int
    validation_rows: int
    labels: tuple[str, ...]
    resumed_from_step: int = 0


@dataclass(frozen=True)
class Step:
    """One optimizer step (the engine may report only every few steps)."""

    step: int
    total_steps: int
    epoch: float  # fractional: 1.5 = halfway through the second epoch
    loss: float
    learning_rate: float
    samples_per_second: float
    eta_seconds: float
    epsilon: float | None = None  # privacy budget spent so far, when training with DP


@dataclass(frozen=True)
class Evaluated:
    """Metrics on the validation split (or test split when ``split == "test"``)."""

    step: int
    epoch: float
    split: str
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    epoch: float
    key: str  # workspace key of the encrypted checkpoint


@dataclass(frozen=True)
class Progress:
    """Generic progress for non-training work: import, batch prediction, export."""

    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class Finished:
    run_id: str
    duration_seconds: float
    metrics: Mapping[str, float] = field(default_factory=dict)
    best_step: int | None = None
    steps: int | None = None  # the steps taken: fewer than planned when early stopping ended it
    # What the user must be told about a result that is complete but not what they may assume
    # (rows of an input file that could not be read, so are not in the output).
    notes: tuple[str, ...] = ()
    # What the user is told about how the result was written that is no warning (a model of
    # many labels gets each row's most probable few, not a column per label).
    info: tuple[str, ...] = ()
    # ``notes`` in the app's words where they name command-line flags (None: the same).
    app_notes: tuple[str, ...] | None = None
    # What the test metrics rest on: "1,000 test rows; accuracy's 95% interval 0.88-0.93" (a
    # 2-row test split printed "accuracy 0.5000" as if it were a measure).
    test_basis: str = ""


@dataclass(frozen=True)
class Failed:
    kind: FailureKind
    message: str  # actionable: says what went wrong and what to try
    detail: str = ""  # technical detail (exception type and text) for the log, never rows


@dataclass(frozen=True)
class Cancelled:
    step: int
    checkpoint_key: str | None = None  # the last checkpoint kept, resumable
    run_id: str | None = None  # the run stopped; None when it was stopped before it had one


Event = Union[Started, Step, Evaluated, CheckpointSaved, Progress, Finished, Failed, Cancelled]
TERMINAL_EVENTS = (Finished, Failed, Cancelled)
