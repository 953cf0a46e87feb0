"""Results with labels as long as real category paths: the scores per class stay in view."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt

from tests.desktop.test_accessibility import _trained

LONG = "Billing and payments / refunds and chargebacks / disputed card transactions / "


def test_long_labels_leave_the_scores_in_view_and_are_cut_in_the_middle(
        qtbot, window, spam_csv, tiny_model_dir: Path) -> None:
    """A 200-character label sized its column to itself: Precision, Recall, F1 and Support were
    pushed out of the pane, and two labels sharing a long start read the same."""
    _trained(qtbot, window, spam_csv, tiny_model_dir)
    results = window.results_page
    window.resize(1100, 700)
    window.show_page("results")
    qtbot.waitUntil(lambda: results.report is not None, timeout=30_000)
    names = (LONG * 2 + "domestic", LONG * 2 + "abroad")
    rep = results.report
    results.report = dataclasses.replace(
        rep, labels=names,
        per_class=tuple(dataclasses.replace(row, label=name)
                        for row, name in zip(rep.per_class, names)))
    results._render()
    qtbot.wait(50)  # laid out
    table = results.per_class
    support = table.columnViewportPosition(4) + table.columnWidth(4)
    assert support <= table.viewport().width() + 1  # every score column in view
    assert table.columnWidth(0) < table.fontMetrics().horizontalAdvance(names[0])  # cut
    assert table.item(0, 0).toolTip() == names[0]  # and whole in its tip
    # What is painted tells the two apart (wrapped and cut at their ends, both read the same).
    table.resizeRowsToContents()
    qtbot.wait(50)
    cells = [table.viewport().grab(table.visualRect(table.model().index(row, 0))).toImage()
             for row in (0, 1)]
    assert cells[0].size() == cells[1].size() and cells[0] != cells[1]
    assert not table.wordWrap() and table.textElideMode() == Qt.TextElideMode.ElideMiddle


def test_showing_results_again_reads_the_runs_once(qtbot, window, spam_csv, tiny_model_dir: Path,
                                                    monkeypatch) -> None:
    """Every run record is read on the UI thread to list them: showing a run read the list a
    second time only to choose it there (a year's 300 runs, 50 ms a read)."""
    import engine.runs

    _trained(qtbot, window, spam_csv, tiny_model_dir)
    window.show_page("results")
    qtbot.waitUntil(lambda: window.results_page.report is not None, timeout=30_000)
    reads = []
    real = engine.runs.list_runs
    monkeypatch.setattr(engine.runs, "list_runs", lambda *a, **k: reads.append(1) or real(*a, **k))
    window.show_page("datasets")
    window.show_page("results")
    assert len(reads) == 1
    results = window.results_page
    run_id = results.run_id
    reads.clear()
    results.show_run(run_id)  # chosen again from the list it is in
    assert reads == [] and results.run_combo.currentData() == run_id
