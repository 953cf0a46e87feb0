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

import numpy as np

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
    return report.roc_auc  # more than two classes, or multi-label: one-vs-rest, macro


@metric("ece", title="Calibration error", higher_is_better=False)
def _ece(report: EvaluationReport) -> float:
    return report.ece


def accuracy_interval(accuracy: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for z = 1.96) around an accuracy measured on ``n`` rows
    (``n`` may be an effective count: ``grouped_effective_rows``).

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


def accuracy_interval_text(accuracy: float, n: float) -> str:
    """"95% interval 0.8993-0.9335": what the CLI, card and Results page show beside accuracy."""
    low, high = accuracy_interval(accuracy, n)
    return f"95% interval {low:.4f}-{high:.4f}"


def intervals_overlap(accuracy_a: float, n_a: float, accuracy_b: float, n_b: float) -> bool:
    """Whether two accuracies' 95% intervals overlap: if they do, the test splits cannot say
    which is better (a conservative reading, and one a user can check by eye)."""
    low_a, high_a = accuracy_interval(accuracy_a, n_a)
    low_b, high_b = accuracy_interval(accuracy_b, n_b)
    return low_a <= high_b and low_b <= high_a


def grouped_effective_rows(correct: np.ndarray, groups: np.ndarray) -> float:
    """How many independent rows a test split whose rows come in groups (one person's rows,
    kept together by a per-person split) is worth when measuring accuracy.

    One person's rows tend to be all right or all wrong together, so 1,000 rows from 100 people
    measure less than 1,000 independent rows. The cluster-robust (sandwich) variance of the
    accuracy, G/(G-1) * sum over groups of (correct_g - p * rows_g)^2 / n^2, gives the effective
    count p(1-p)/variance, which the Wilson interval then uses in place of n. It is capped at n
    (never claim more than independent rows would) and is 1 for a single group. When every row
    is right (or every row wrong) the variance says nothing about how people differ, and the
    count is the number of people: the cautious reading, as if each person were one row.
    """
    correct = np.asarray(correct, dtype=np.float64).reshape(-1)
    codes = np.unique(np.asarray(groups).reshape(-1), return_inverse=True)[1].reshape(-1)
    n, g = correct.size, int(codes.max()) + 1 if correct.size else 0
    if n == 0 or g < 2:
        return float(min(n, 1))
    p = correct.mean()
    residual = np.bincount(codes, weights=correct - p, minlength=g)  # correct_g - p * rows_g
    variance = g / (g - 1) * float((residual ** 2).sum()) / (n * n)
    if variance <= 0.0 or p in (0.0, 1.0):
        return float(g)
    return float(min(n, max(1.0, p * (1.0 - p) / variance)))
