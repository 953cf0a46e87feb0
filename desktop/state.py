"""Qt-free state behind the views (STYLE.md #6): what a page shows, computed without widgets.

Tests build these from engine objects and events, then build the view from them and check
that the view shows what the state says.
"""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.events import Cancelled, Evaluated, Failed, Finished, Progress, Started, Step


# --- Datasets page ---------------------------------------------------------------------------
MISSING_LABEL = "(missing)"  # the bar of rows with no label


@dataclass
class ImportDraft:
    """A file read into memory, its proposed column roles and its validation problems."""

    imported: Any  # engine.data.importing.ImportedTable
    mapping: Any  # engine.data.columns.ColumnMapping
    problems: list[Any] = field(default_factory=list)  # engine.data.problems.Problem
    history: list[dict[str, Any]] = field(default_factory=list)  # fixes applied in memory
    fix_options: list[Any] = field(default_factory=list)  # engine.data.fix_suggest.FixOption
    label_delimiter: str | None = None  # several labels a row ("billing|urgent"), split on this
    label_columns: Any = None  # engine.data.label_columns.LabelColumns: labels read from 0/1 columns
    classes: int = field(default=0, repr=False, compare=False)  # set by ``label_counts``

    @property
    def columns(self) -> list[str]:
        return list(self.imported.table.column_names)

    @property
    def rows(self) -> int:
        return int(self.imported.table.num_rows)

    @property
    def text_column(self) -> str:
        return self.mapping.text_columns[0]

    @property
    def label_column(self) -> str | None:
        return self.mapping.label_column

    def label_counts(self) -> list[tuple[str, int]]:
        """Rows per label as the engine counts them (``engine.data.columns.class_counts``: trimmed,
        so the chart shows the classes training will see), missing labels as "(missing)"."""
        if self.label_column is None:
            return []
        from engine.data.columns import class_counts, label_array

        if self.label_delimiter:  # each label of a row counted once, as training reads them
            from engine.data.labels import label_counts

            counts = label_counts(label_array(self.imported.table, self.mapping),
                                  label_delimiter=self.label_delimiter)
            self.classes = sum(1 for k in counts if k)
            return sorted(((str(k), int(v)) for k, v in counts.items() if k),
                          key=lambda pair: (-pair[1], pair[0]))
        counts = class_counts(self.imported.table, self.mapping)
        self.classes = sum(1 for label, _ in counts if label)
        # A file may have a class written "(missing)": the rows with no label are then named so
        # that the two stay two bars (it was counted as rows with no label, and not as a class).
        missing = MISSING_LABEL if MISSING_LABEL not in {label for label, _ in counts} else \
            "(no label in the row)"
        return [(label or missing, count) for label, count in counts]

    def blocking(self) -> bool:
        from engine.data.problems import has_blocking

        return bool(has_blocking(self.problems))

    def suggested_name(self) -> str:
        source = self.imported.source
        stem = source.stem if source.is_file() else source.name
        if source.is_file() and stem.casefold() in _GENERIC_STEMS and source.parent.name:
            stem = f"{source.parent.name}-{stem}"  # sst2/train.tsv: "sst2-train", not "train"
        return "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-")[:60] or "dataset"


# File names that say which split, not which data: the folder names the data.
_GENERIC_STEMS = frozenset({"train", "training", "test", "dev", "valid", "validation", "data",
                            "dataset", "export", "all", "full", "sample", "input"})


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    if seconds < 0.5:
        return "under 1 s"  # not "0 s": something did take time
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def local_time(when: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An engine time (ISO 8601, UTC) in this computer's time zone: the pages showed UTC
    unmarked, hours off from the clock on the wall."""
    if not when:
        return ""
    try:
        moment = when if isinstance(when, datetime) else datetime.fromisoformat(str(when))
    except ValueError:
        return str(when)[:16].replace("T", " ")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().strftime(fmt)


# --- Train page ------------------------------------------------------------------------------
class Phase(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class TrainingMonitor:
    """Everything the Train page shows about one run, folded from engine events."""

    phase: Phase = Phase.IDLE
    run_id: str = ""
    device: str = ""
    total_steps: int = 0
    step: int = 0
    epoch: float = 0.0
    epochs: int = 0
    samples_per_second: float = 0.0
    eta_seconds: float | None = None
    epsilon: float | None = None
    loss: list[tuple[int, float]] = field(default_factory=list)
    validation: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    message: str = ""
    final_metrics: dict[str, float] = field(default_factory=dict)
    checkpoint_key: str | None = None
    # (done, total) of the work before the first step (tokenizing a large dataset), if said
    preparing: tuple[int, int] | None = None

    def start(self) -> None:
        self.__init__()  # type: ignore[misc]
        self.phase = Phase.RUNNING
        self.message = "Preparing: loading the model and tokenizing…"

    def apply(self, events: Iterable[Any]) -> None:
        for event in events:
            self._apply(event)

    def _apply(self, event: Any) -> None:
        if isinstance(event, Started):
            self.run_id, self.device = event.run_id, event.device
            self.total_steps, self.epochs = event.total_steps, event.epochs
            self.step = event.resumed_from_step
            self.message = (f"Training on {event.train_rows:,} rows, validating on "
                            f"{event.validation_rows:,}; {len(event.labels)} labels.")
        elif isinstance(event, Step):
            self.step, self.total_steps, self.epoch = event.step, event.total_steps, event.epoch
            self.samples_per_second, self.eta_seconds = event.samples_per_second, event.eta_seconds
            self.epsilon = event.epsilon
            self.loss.append((event.step, float(event.loss)))
        elif isinstance(event, Evaluated) and event.split == "validation":
            for name, value in event.metrics.items():
                if name in ("loss", "accuracy", "macro_f1", "f1"):
                    self.validation.setdefault(f"val {name}", []).append((event.step, float(value)))
        elif isinstance(event, Progress):
            self.message = event.message or self.message
            if event.total:
                self.preparing = (event.done, event.total)
        elif isinstance(event, Finished):
            self.phase, self.run_id = Phase.FINISHED, event.run_id
            self.final_metrics = dict(event.metrics)
            # The steps taken, not the plan: early stopping ends before it (and DP's ε counts
            # the steps taken); a record without them is shown as planned, as before.
            self.step = event.steps if event.steps is not None else (self.total_steps or self.step)
            self.eta_seconds = 0.0
            self.message = " ".join((f"Finished in {format_duration(event.duration_seconds)}.",
                                     *(f"⚠ {note}" for note in (event.notes if event.app_notes is None
                                                                 else event.app_notes))))
        elif isinstance(event, Failed):
            self.phase = Phase.FAILED
            self.message = event.message
        elif isinstance(event, Cancelled):
            self.phase = Phase.CANCELLED
            # Step events come every few steps: the progress line shows where it really stopped.
            self.step = max(self.step, event.step)
            self.checkpoint_key = event.checkpoint_key
            # The checkpoint is saved at the cancel: Resume goes on with the next step, and
            # nothing is lost (it once read as if Resume went back to an older checkpoint).
            resumable = (f" Resume goes on from there (step {event.step + 1}): nothing is lost."
                         if event.checkpoint_key else "")
            self.message = f"Cancelled after step {event.step}.{resumable}"
            self.run_id = self.run_id or event.run_id or ""
            if event.checkpoint_key is None and not self.run_id:
                self.message = "Cancelled before training started: nothing was saved."

    @property
    def fraction(self) -> float:
        if self.phase is Phase.FINISHED:
            return 1.0  # done, however early
        if not self.total_steps and self.preparing and self.phase is Phase.RUNNING:
            return self.preparing[0] / self.preparing[1]  # the bar moves while texts are tokenized
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    def progress_text(self) -> str:
        if self.phase is Phase.IDLE or (self.phase is Phase.FAILED and not self.total_steps):
            return ""  # refused before its first step: the message says why, no "starting"
        parts = [f"step {self.step:,} / {self.total_steps:,}" if self.total_steps else "starting"]
        if not self.total_steps and self.preparing and self.phase is Phase.RUNNING:
            parts[0] = f"tokenizing {self.preparing[0]:,} / {self.preparing[1]:,} texts"
        if self.phase is Phase.FINISHED and self.total_steps and self.step < self.total_steps:
            parts[0] = f"stopped early at step {self.step:,} of {self.total_steps:,} planned"
        if self.epochs:
            parts.append(f"epoch {min(self.epoch, float(self.epochs)):.1f} / {self.epochs}")
        if self.loss:  # the curve's latest value in words, for those who cannot see the plot
            parts.append(f"loss {self.loss[-1][1]:.3g}")
        if self.samples_per_second:
            parts.append(f"{self.samples_per_second:,.1f} rows/s")
        if self.phase is Phase.RUNNING and self.eta_seconds is not None:
            parts.append(f"ETA {format_duration(self.eta_seconds)}")
        if self.epsilon is not None:
            parts.append(f"ε {self.epsilon:.2f}")
        return " · ".join(parts)


# --- Results / Runs pages --------------------------------------------------------------------
def history_curves(history: Iterable[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """Curves from a run record's history: training loss, and each validation metric.

    Training points carry ``loss``/``lr``; validation points carry ``split == "validation"``
    and their metrics, shown as ``"val <metric>"`` so the two losses never share a curve.
    """
    curves: dict[str, tuple[list[float], list[float]]] = {}
    for point in history:
        step = point.get("step")
        split = point.get("split")
        if step is None or split not in (None, "validation"):
            continue
        for name, value in point.items():
            if name in ("step", "epoch", "lr", "learning_rate", "split") or not isinstance(value, (int, float)):
                continue
            key = f"val {name}" if split == "validation" else name
            xs, ys = curves.setdefault(key, ([], []))
            xs.append(float(step))
            ys.append(float(value))
    return curves


def headline() -> tuple[tuple[str, str], ...]:
    """(key, title) of the engine's headline metrics (``engine.evaluation.metrics``), in order."""
    from engine.evaluation.metrics import headline_metrics

    return tuple((m.name, m.title) for m in headline_metrics())


def format_metric(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{float(value):.3f}"
