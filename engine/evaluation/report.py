"""Evaluation metrics for a trained classifier, computed from probabilities with numpy only.

``compute_report`` turns true label ids and predicted probabilities into an
``EvaluationReport``: accuracy, macro/weighted F1, per-class precision/recall/F1/support, the
confusion matrix, ROC-AUC (binary), the expected calibration error and the misclassified rows.

The misclassified rows carry the texts: they are user data, so a report is only ever stored in
the vault (``save_report``), never written to plaintext disk or logged.

No scikit-learn: it is not a dependency, and the few formulas here are short enough to check
by hand (the tests compare them against brute-force definitions).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.evaluation.metrics import accuracy_interval_text, grouped_effective_rows, headline_metrics
from engine.errors import InputError

if TYPE_CHECKING:
    from engine.vault import Vault

ECE_BINS = 15
# 2 (2026-12-07): each class's "predicted" count. A version is raised with every field an
# older Cloister cannot take, so that it says "newer" instead of failing; 1 is read too.
REPORT_VERSION = 2
DEFAULT_MAX_MISCLASSIFIED = 1000


# Said under a per-class table that shows a class with no row scored as "—".
UNTESTED_NOTE = ("—: no row of this class was among the rows scored (in a run's own test "
                 "split: a class of one or two rows trains on all of them), so there is nothing "
                 "to recall; a precision is still shown where the model predicted it")


@dataclass(frozen=True)
class ClassMetrics:
    label: str
    precision: float
    recall: float
    f1: float
    support: int
    predicted: int = 0  # rows predicted as this class (reports before 2026-12-07: 0)

    @property
    def tested(self) -> bool:
        """Whether the rows scored held one of this class: if not, its zero recall is not a
        score (it read as a model that failed on the class)."""
        return self.support > 0

    def shown(self, digits: int = 4) -> tuple[str, str, str]:
        """Precision, recall and F1 as a table shows them: "—" where there is nothing to score
        (a class never in the rows scored; its precision, and the F1 that macro-F1 averages,
        stay where the model predicted it: those wrong predictions are real)."""
        values = [f"{v:.{digits}f}" for v in (self.precision, self.recall, self.f1)]
        if not self.tested:
            values = [values[0], "—", values[2]] if self.predicted else ["—", "—", "—"]
        return values[0], values[1], values[2]


@dataclass(frozen=True)
class Misclassified:
    """One wrongly predicted row. ``row`` is the 0-based position in the evaluated data."""

    row: int
    text: str | None
    true_label: str
    predicted_label: str
    confidence: float


@dataclass(frozen=True)
class EvaluationReport:
    accuracy: float
    macro_f1: float
    weighted_f1: float
    per_class: tuple[ClassMetrics, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows = true label, columns = predicted label
    labels: tuple[str, ...]
    # Two classes: the positive class's; more, or multi-label: the mean of each class's own
    # (one-vs-rest, macro) over the classes the test rows both have and lack; None without any.
    roc_auc: float | None
    ece: float
    misclassified: tuple[Misclassified, ...]
    n: int
    multi_label: bool = False
    threshold: float = 0.5
    # A test split grouped by person: how many people, and how many independent rows it is
    # worth for the accuracy interval (``grouped_effective_rows``). None: rows are independent.
    people: int | None = None
    effective_rows: float | None = None
    # With --data: how many of its rows the run trained or validated on (None: not known).
    trained_rows: int | None = None
    # On a run's own test split: how many test rows repeat, case and spacing aside, the text of
    # a row it trained or validated on (a dataset with repeated rows); None: not counted.
    repeated_in_training: int | None = None
    # With --data: rows of the file that could not be read (wrong number of fields), so were not
    # scored, and which they were with what to do (``ImportedTable.skipped_rows_text``).
    rows_not_read: int = 0
    rows_not_read_text: str = ""
    # With --data or another dataset: the rows (from 1, among those read) that have no text,
    # so were not scored (``rows_without_text_text``).
    rows_without_text: tuple[int, ...] = ()
    # Labels of that data read as the model's label of the same spelling ('1.0' as '1').
    labels_read_as: tuple[tuple[str, str], ...] = ()
    # Labels read as the run's dataset's fixes made them ('Student loan' as 'other'; '' for a
    # label they dropped), and how many rows of dropped labels were therefore not scored.
    labels_fixed_as: tuple[tuple[str, str], ...] = ()
    rows_of_dropped_labels: int = 0
    # A multi-label run on a file of one 0/1 column per label: the columns read as its labels,
    # and the file's other 0/1 columns, left out (``evaluate.label_columns_read``).
    label_columns: tuple[str, ...] = ()
    columns_ignored: tuple[str, ...] = ()

    def labels_fixed_text(self) -> str:
        """"labels read as the run's dataset's fixes made them: 'Student loan' as 'other'; 12
        rows of labels they left out ('spam') not scored", or ""."""
        merged = [f"{given!r} as {became!r}" for given, became in self.labels_fixed_as if became]
        dropped = [repr(given) for given, became in self.labels_fixed_as if not became]
        parts = [", ".join(merged)] if merged else []
        if dropped:
            rows = self.rows_of_dropped_labels
            parts.append(f"{rows:,} row{'s' * (rows != 1)} of labels they left out "
                         f"({', '.join(dropped)}) not scored")
        return ("labels read as the run's dataset's fixes made them: " + "; ".join(parts)) if parts else ""

    def rows_without_text_text(self) -> str:
        """"3 rows have no text (rows 2, 5, 9): they were not scored", or ""."""
        blank = self.rows_without_text
        if not blank:
            return ""
        shown = ", ".join(map(str, blank[:5])) + (f" and {len(blank) - 5:,} more" if len(blank) > 5 else "")
        return (f"{len(blank):,} row{'s have' if len(blank) > 1 else ' has'} no text (row"
                f"{'s' if len(blank) > 1 else ''} {shown}): not scored")

    @property
    def interval_rows(self) -> float:
        """The row count the accuracy interval rests on: effective when rows are grouped."""
        return self.n if self.effective_rows is None else self.effective_rows

    def interval_text(self) -> str:
        """"95% interval 0.88-0.93", saying when the rows come grouped by person."""
        text = accuracy_interval_text(self.accuracy, self.interval_rows)
        if self.people is None:
            return text
        return (f"{text}, for {self.n:,} rows from {self.people:,} people, worth about "
                f"{self.interval_rows:,.0f} independent rows")

    def headline(self) -> dict[str, float]:
        """The few numbers a run list or a model card shows (``engine.evaluation.metrics``)."""
        numbers = {m.name: m.compute(self) for m in headline_metrics()}
        return {name: float(value) for name, value in numbers.items() if value is not None}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["version"] = REPORT_VERSION
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationReport:
        version = data.get("version", REPORT_VERSION)
        if version > REPORT_VERSION:
            raise InputError(
                f"this evaluation report was written by a newer Cloister (format {version}); "
                "update Cloister to read it"
            )
        return cls(
            accuracy=float(data["accuracy"]),
            macro_f1=float(data["macro_f1"]),
            weighted_f1=float(data["weighted_f1"]),
            per_class=tuple(ClassMetrics(**item) for item in data["per_class"]),
            confusion=tuple(tuple(int(v) for v in row) for row in data["confusion"]),
            labels=tuple(data["labels"]),
            roc_auc=None if data["roc_auc"] is None else float(data["roc_auc"]),
            ece=float(data["ece"]),
            misclassified=tuple(Misclassified(**item) for item in data["misclassified"]),
            n=int(data["n"]),
            multi_label=bool(data.get("multi_label", False)),
            threshold=float(data.get("threshold", 0.5)),
            people=None if data.get("people") is None else int(data["people"]),
            effective_rows=None if data.get("effective_rows") is None else float(data["effective_rows"]),
            repeated_in_training=(None if data.get("repeated_in_training") is None
                                  else int(data["repeated_in_training"])),
        )

    def repeats_text(self, dataset: str | None = None, *, app: bool = False) -> str:
        """What the test rows that repeat a training text do to these scores ('' if none do),
        and how to drop them from ``dataset`` (the run's): on the command line and in the app,
        or (``app``) in the app alone."""
        if not self.repeated_in_training:
            return ""
        import shlex

        k = self.repeated_in_training
        said = (f"{k:,} of the {self.n:,} test rows repeat the text of a row the model trained or "
                "validated on (case and spacing aside), so these scores overstate how it does on "
                "new texts.")
        if app:
            return (f"{said} Drop the repeats and train again: the dataset's Fix… on the Datasets "
                    "page drops exact copies, and copies with another label; copies that differ "
                    "only in case or spacing must be made one in the source file.")
        name = shlex.quote(dataset) if dataset else "DATASET"
        return (f"{said} Drop the repeats and train again: `cloister fix {name} "
                "--drop-duplicates` drops exact copies and `--resolve-conflicts` copies with "
                "another label (in the app: the dataset's Fix… on the Datasets page); copies that "
                "differ only in case or spacing must be made one in the source file.")


def compute_report(
    true_ids: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    labels: Sequence[str],
    texts: Sequence[str] | None = None,
    *,
    multi_label: bool = False,
    threshold: float = 0.5,
    max_misclassified: int | None = DEFAULT_MAX_MISCLASSIFIED,
    groups: Sequence[Any] | np.ndarray | None = None,
    label_delimiter: str = "|",
) -> EvaluationReport:
    """Metrics of predicted ``probs`` (n rows x k labels) against the true labels.

    Single-label: ``true_ids`` holds one label id per row; the prediction is the arg-max.
    Multi-label: ``true_ids`` is an (n, k) 0/1 matrix; a label is predicted when its
    probability reaches ``threshold``; accuracy is exact-match, per-class metrics are per
    label, the confusion matrix is empty (it has no single-label meaning) and the ECE is over
    every (row, label) decision.

    Macro F1 averages over the labels that occur in the truth or the predictions (as
    scikit-learn does for single-label data without an explicit label list), so evaluating on
    data lacking a class is not dragged down by a class that was never there. Multi-label
    data is scored the same way; scikit-learn would there count such a label as an F1 of 0.

    ``misclassified`` is sorted by confidence, most confident mistakes first (the ones a user
    most wants to look at), and capped at ``max_misclassified`` rows.

    ``groups`` (one id per row, such as the person a row is about) marks rows that are not
    independent: the report then counts the groups and the effective rows of its interval.
    """
    labels = tuple(str(label) for label in labels)
    probs = np.asarray(probs, dtype=np.float64)
    k = len(labels)
    if probs.ndim != 2 or probs.shape[1] != k:
        raise ValueError(f"probs must have shape (n, {k}) for {k} labels, got {probs.shape}")
    n = probs.shape[0]
    if n == 0:
        raise InputError("there are no rows to evaluate: the evaluation data is empty")
    if texts is not None and len(texts) != n:
        raise ValueError(f"{len(texts)} texts for {n} rows of probabilities")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    if groups is not None and len(groups) != n:
        raise ValueError(f"{len(groups)} group ids for {n} rows of probabilities")
    if multi_label:
        truth = np.asarray(true_ids)
        if truth.shape != (n, k):
            raise ValueError(f"multi-label truth must have shape ({n}, {k}), got {truth.shape}")
        report = _multi_label_report(truth.astype(bool), probs, labels, texts,
                                     threshold=threshold, max_misclassified=max_misclassified,
                                     delimiter=label_delimiter or "|")
        correct = ((probs >= threshold) == truth.astype(bool)).all(axis=1)
    else:
        truth = np.asarray(true_ids, dtype=np.int64).reshape(-1)
        if truth.shape[0] != n:
            raise ValueError(f"{truth.shape[0]} true labels for {n} rows of probabilities")
        if truth.size and (truth.min() < 0 or truth.max() >= k):
            raise ValueError(f"true label ids must lie in [0, {k}), got {truth.min()}..{truth.max()}")
        report = _single_label_report(truth, probs, labels, texts, max_misclassified=max_misclassified)
        correct = probs.argmax(axis=1) == truth
    if groups is None:
        return report
    ids = np.asarray([str(g) for g in groups], dtype=object)
    return replace(report, people=len(set(ids.tolist())),
                   effective_rows=grouped_effective_rows(correct, ids))


def _single_label_report(
    truth: np.ndarray,
    probs: np.ndarray,
    labels: tuple[str, ...],
    texts: Sequence[str] | None,
    *,
    max_misclassified: int | None,
) -> EvaluationReport:
    k = len(labels)
    n = truth.shape[0]
    predicted = probs.argmax(axis=1)
    confidence = probs[np.arange(n), predicted]
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    true_positive = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    predicted_count = confusion.sum(axis=0)
    per_class, f1 = _per_class(labels, true_positive, predicted_count, support)
    present = (support + predicted_count) > 0
    if k == 2:
        roc_auc = binary_roc_auc(truth == 1, probs[:, 1]) if 0 < support[1] < n else None
    else:
        roc_auc = one_vs_rest_roc_auc(np.eye(k, dtype=bool)[truth], probs)
    wrong = np.flatnonzero(predicted != truth)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:max_misclassified]
    misclassified = tuple(
        Misclassified(
            row=int(i),
            text=None if texts is None else str(texts[int(i)]),
            true_label=labels[int(truth[i])],
            predicted_label=labels[int(predicted[i])],
            confidence=float(confidence[i]),
        )
        for i in wrong
    )
    return EvaluationReport(
        accuracy=float(true_positive.sum() / n),
        macro_f1=float(f1[present].mean()),
        weighted_f1=float((f1 * support).sum() / support.sum()),
        per_class=per_class,
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        labels=labels,
        roc_auc=roc_auc,
        ece=expected_calibration_error(confidence, predicted == truth),
        misclassified=misclassified,
        n=n,
    )


def _multi_label_report(
    truth: np.ndarray,
    probs: np.ndarray,
    labels: tuple[str, ...],
    texts: Sequence[str] | None,
    *,
    threshold: float,
    max_misclassified: int | None,
    delimiter: str = "|",
) -> EvaluationReport:
    n = truth.shape[0]
    predicted = probs >= threshold
    true_positive = (predicted & truth).sum(axis=0).astype(np.float64)
    support = truth.sum(axis=0)
    predicted_count = predicted.sum(axis=0)
    per_class, f1 = _per_class(labels, true_positive, predicted_count, support)
    present = (support + predicted_count) > 0
    exact = (predicted == truth).all(axis=1)
    # A decision's confidence is the probability of what was decided (p for yes, 1-p for no).
    decision_confidence = np.where(predicted, probs, 1.0 - probs)
    row_confidence = decision_confidence.min(axis=1)
    wrong = np.flatnonzero(~exact)
    wrong = wrong[np.argsort(-row_confidence[wrong], kind="stable")][:max_misclassified]
    misclassified = tuple(
        Misclassified(
            row=int(i),
            text=None if texts is None else str(texts[int(i)]),
            true_label=_join(labels, truth[i], delimiter),
            predicted_label=_join(labels, predicted[i], delimiter),
            confidence=float(row_confidence[i]),
        )
        for i in wrong
    )
    total_support = support.sum()
    return EvaluationReport(
        accuracy=float(exact.mean()),
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        weighted_f1=float((f1 * support).sum() / total_support) if total_support else 0.0,
        per_class=per_class,
        confusion=(),
        labels=labels,
        roc_auc=one_vs_rest_roc_auc(truth, probs),
        ece=expected_calibration_error(decision_confidence.ravel(), (predicted == truth).ravel()),
        misclassified=misclassified,
        n=n,
        multi_label=True,
        threshold=threshold,
    )


def _join(labels: tuple[str, ...], mask: np.ndarray, delimiter: str) -> str:
    """A row's labels, written as its data writes them (``billing;tech``)."""
    return delimiter.join(label for label, on in zip(labels, mask) if on)


def _per_class(
    labels: tuple[str, ...],
    true_positive: np.ndarray,
    predicted_count: np.ndarray,
    support: np.ndarray,
) -> tuple[tuple[ClassMetrics, ...], np.ndarray]:
    # Zero division gives 0, as scikit-learn's default does (with its warning left out).
    precision = _safe_divide(true_positive, predicted_count)
    recall = _safe_divide(true_positive, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    per_class = tuple(
        ClassMetrics(label=label, precision=float(p), recall=float(r), f1=float(f), support=int(s),
                     predicted=int(k))
        for label, p, r, f, s, k in zip(labels, precision, recall, f1, support, predicted_count)
    )
    return per_class, f1


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros_like(denominator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def binary_roc_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum (Mann-Whitney U) identity, ties counted half."""
    positive = np.asarray(positive, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC-AUC needs both positive and negative rows")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size, dtype=np.float64)
    # Average 1-based ranks over runs of equal scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [scores.size]))
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    rank_sum = ranks[positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def one_vs_rest_roc_auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
    """The unweighted mean of each class's ROC AUC against the rest (``truth``: rows x classes,
    boolean), over the classes that some test rows have and some lack: a class absent from the
    test rows has no AUC, and leaving it out is what scikit-learn's macro average cannot do."""
    aucs = [binary_roc_auc(truth[:, j], scores[:, j]) for j in range(truth.shape[1])
            if 0 < int(truth[:, j].sum()) < truth.shape[0]]
    return float(np.mean(aucs)) if aucs else None


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, *, bins: int = ECE_BINS
) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width confidence bins.

    Bins are (0, 1/B], (1/B, 2/B], ... — a confidence of exactly 1.0 falls in the last bin.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if confidence.size == 0:
        return 0.0
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    count = np.bincount(index, minlength=bins).astype(np.float64)
    confidence_sum = np.bincount(index, weights=confidence, minlength=bins)
    correct_sum = np.bincount(index, weights=correct, minlength=bins)
    gap = np.abs(correct_sum - confidence_sum)  # = count * |acc_b - conf_b|
    value = float(gap.sum() / confidence.size)
    return 0.0 if math.isclose(value, 0.0, abs_tol=1e-15) else value


def report_key(run_id: str) -> str:
    return f"runs/{run_id}/report.json"


def save_report(ws: Vault, run_id: str, report: EvaluationReport) -> None:
    """Store the report (with its misclassified texts) encrypted in the workspace."""
    ws.write_json(report_key(run_id), report.to_dict())


def load_report(ws: Vault, run_id: str) -> EvaluationReport:
    key = report_key(run_id)
    if not ws.has(key):
        raise InputError(
            f"run {run_id!r} has no evaluation report yet; "
            f"run `cloister evaluate {run_id}` to compute one"
        )
    return EvaluationReport.from_dict(ws.read_json(key))


# -- evaluating a stored run --------------------------------------------------------------
