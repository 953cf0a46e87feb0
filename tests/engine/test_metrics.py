"""The headline-metric registry that the report, the Results and Runs pages and the card read."""
from __future__ import annotations

import pytest

from engine.evaluation import metrics
from engine.evaluation.report import compute_report


def test_the_report_headline_is_what_the_registry_computes() -> None:
    import numpy as np

    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    report = compute_report(np.array([0, 1, 1, 1]), probs, ("no", "yes"))
    headline = report.headline()
    assert list(headline) == [m.name for m in metrics.headline_metrics()]
    assert headline["accuracy"] == pytest.approx(0.75) and headline["roc_auc"] == pytest.approx(1.0)


def test_best_is_read_the_right_way_round_and_names_are_unique() -> None:
    assert metrics.metric_named("accuracy").best([0.5, 0.9]) == 0.9
    assert metrics.metric_named("ece").best([0.05, 0.2]) == 0.05
    with pytest.raises(ValueError, match="already registered"):
        metrics.metric("accuracy", title="Accuracy again")(lambda report: 1.0)


def test_a_class_with_no_test_row_is_shown_as_not_scored_not_as_zeros() -> None:
    # A class of two rows trains on both: its 0.0000s read as a model that failed on it.
    import numpy as np

    from engine.export.model_card import _metrics_lines
    from engine.evaluation.report import UNTESTED_NOTE

    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.7, 0.3, 0.0], [0.1, 0.9, 0.0]])
    report = compute_report([0, 1, 0, 1], probs, ["billing", "bug", "rare"])
    rare = next(m for m in report.per_class if m.label == "rare")
    assert not rare.tested and rare.shown() == ("—", "—", "—")
    billing = next(m for m in report.per_class if m.label == "billing")
    assert billing.tested and billing.shown() == ("1.0000", "1.0000", "1.0000")
    card = "\n".join(_metrics_lines(report))
    assert "| rare | — | — | — | 0 |" in card and UNTESTED_NOTE in card
    tested_only = compute_report([0, 1], probs[:2, :2], ["billing", "bug"])
    assert UNTESTED_NOTE not in "\n".join(_metrics_lines(tested_only))
    # Predicted though never in the rows scored: its precision of 0 is a real score (and its
    # F1 of 0 is in macro-F1), so it shows; only the recall has nothing to measure.
    wrong = compute_report([0, 1, 0], np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.1, 0.1, 0.8]]),
                           ["billing", "bug", "rare"])
    rare = next(m for m in wrong.per_class if m.label == "rare")
    assert not rare.tested and rare.predicted == 1 and rare.shown() == ("0.0000", "—", "0.0000")
    assert wrong.macro_f1 == pytest.approx((2 / 3 + 1 + 0) / 3)
