"""The headline metrics, in one registry that the report, the Results page, the Runs comparison
and the model card all read: a new metric is one decorated function here.

Each entry says how to read it (title, and whether higher is better, so "best" can be marked
the right way round: calibration error is best when lowest) and how to compute it from an
``EvaluationReport``; a metric that does not apply to a report (ROC AUC for a multi-class run)
returns ``None`` and is left out.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.evaluation.report import EvaluationReport

Compute = Callable[["EvaluationReport"], "float | None"]


@dataclass(frozen=True)
class Metric:
    name: str  # the key in run records and reports ("macro_f1")
    title: str  # what a person reads ("Macro F1")
    higher_is_better: bool
    compute: Compute

    def best(self, values: list[float]) -> float:
        return max(values) if self.higher_is_better else min(values)


_METRICS: dict[str, Metric] = {}


def metric(name: str, *, title: str, higher_is_better: bool = True) -> Callable[[Compute], Compute]:
    """Register ``compute(report) -> float | None`` as the headline metric ``name``."""

    def register(compute: Compute) -> Compute:
        if name in _METRICS:
            raise ValueError(f"a metric named {name!r} is already registered")
        _METRICS[name] = Metric(name=name, title=title, higher_is_better=higher_is_better, compute=compute)
        return compute

    return register


def headline_metrics() -> tuple[Metric, ...]:
    """Every registered metric, in the order they are shown."""
    return tuple(_METRICS.values())


def metric_named(name: str) -> Metric | None:
    return _METRICS.get(name)


@metric("accuracy", title="Accuracy")
def _accuracy(report: EvaluationReport) -> float:
    return report.accuracy


@metric("macro_f1", title="Macro F1")
def _macro_f1(report: EvaluationReport) -> float:
    return report.macro_f1


@metric("weighted_f1", title="Weighted F1")
def _weighted_f1(report: EvaluationReport) -> float:
    return report.weighted_f1


@metric("roc_auc", title="ROC AUC")
def _roc_auc(report: EvaluationReport) -> float | None:
    return report.roc_auc  # binary single-label runs only


@metric("ece", title="Calibration error", higher_is_better=False)
def _ece(report: EvaluationReport) -> float:
    return report.ece


def accuracy_interval(accuracy: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for z = 1.96) around an accuracy measured on ``n`` rows.

    A test split of 1,000 rows measures an accuracy near 0.9 to about ±1.7 points (near 0.5, to
    ±3); two runs whose intervals overlap cannot be told apart by such a split. Wilson rather than the normal
    approximation: it stays inside [0, 1] and is honest at 0% and 100%.
    """
    if n <= 0:
        return 0.0, 1.0
    z2 = z * z
    centre = (accuracy + z2 / (2 * n)) / (1 + z2 / n)
    half = z * ((accuracy * (1 - accuracy) + z2 / (4 * n)) / n) ** 0.5 / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_interval_text(accuracy: float, n: int) -> str:
    """"95% interval 0.8993-0.9335": what the CLI, card and Results page show beside accuracy."""
    low, high = accuracy_interval(accuracy, n)
    return f"95% interval {low:.4f}-{high:.4f}"


def intervals_overlap(accuracy_a: float, n_a: int, accuracy_b: float, n_b: int) -> bool:
    """Whether two accuracies' 95% intervals overlap: if they do, the test splits cannot say
    which is better (a conservative reading, and one a user can check by eye)."""
    low_a, high_a = accuracy_interval(accuracy_a, n_a)
    low_b, high_b = accuracy_interval(accuracy_b, n_b)
    return low_a <= high_b and low_b <= high_a
