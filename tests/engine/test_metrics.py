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
