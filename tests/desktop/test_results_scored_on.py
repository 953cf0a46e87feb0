"""Results: a run's model scored on another dataset of the vault (`cloister evaluate RUN --data
NAME` in the desktop), with the rows it trained on said, and its own report back after."""
from __future__ import annotations

from pathlib import Path

from engine.data.store import load_dataset
from tests.desktop.test_accessibility import _trained
from tests.desktop.test_training_ui import _store


def _choose(results, data) -> None:  # noqa: ANN001
    combo = results.scored_on
    combo.setCurrentIndex(combo.findData(data))
    combo.activated.emit(combo.currentIndex())


def test_a_run_scored_on_another_dataset_and_back(qtbot, window, spam_csv, tiny_model_dir: Path,
                                                 tmp_path: Path) -> None:
    _trained(qtbot, window, spam_csv, tiny_model_dir)
    _store(window, spam_csv, name="this-month")  # the same rows: all of them seen in training
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("text,label\n" + "".join(f"note {i},{'ham' if i % 2 else 'urgent'}\n"
                                                for i in range(20)))
    _store(window, unknown, name="other-labels")
    results = window.results_page
    window.show_page("results")
    qtbot.waitUntil(lambda: results.report is not None, timeout=30_000)
    own = results.report
    assert results.scored_on.itemData(0) is None and results.scored_on.findData("this-month") > 0
    # The pickers show their whole text: the run's accuracy was cut off at a fixed width.
    window.resize(1024, 640)
    qtbot.wait(50)  # the resize is laid out
    for combo in (results.run_combo, results.scored_on):
        text = combo.currentText()
        assert "accuracy" in text or combo is results.scored_on
        assert combo.width() >= combo.fontMetrics().horizontalAdvance(text) + 20, text

    _choose(results, "this-month")
    qtbot.waitUntil(lambda: results.scored == "this-month", timeout=60_000)
    rows = len(load_dataset(window.context.workspace, "this-month").texts)
    assert results.report.n == rows and results.report is not own
    assert f"scored on dataset this-month</b>: {rows:,} rows" in results.summary.text()
    assert "trained or validated on" in results.summary.text()  # the rows it learnt from

    _choose(results, "other-labels")  # a label the run never saw: refused, said, nothing lost
    qtbot.waitUntil(lambda: "✖ Could not score" in results.summary.text(), timeout=60_000)
    assert "urgent" in results.summary.text()
    assert results.scored == "this-month" and results.scored_on.currentData() == "this-month"

    _choose(results, None)  # its own test split again
    assert results.scored is None and results.report.n == own.n
    assert "held-out rows" in results.summary.text()
    # Test rows with a training row's text (a dataset with repeats) are said to flatter it.
    assert ("repeat a training text" in results.summary.text()) == bool(own.repeated_in_training)
    from dataclasses import replace

    results.report = replace(own, repeated_in_training=2)
    results._render()
    assert (f"tested on {own.n} held-out rows (<b>2 of them repeat a training text</b>: these "
            "scores overstate") in results.summary.text()
    results.report = own

    _choose(results, "this-month")
    qtbot.waitUntil(lambda: results.scored == "this-month", timeout=60_000)
    from engine.data.store import rename_dataset

    rename_dataset(window.context.workspace, "this-month", "december")  # on the Datasets page
    window.show_page("datasets")
    window.show_page("results")
    # The list follows the vault; the report of a name no longer there goes.
    assert results.scored_on.findData("december") > 0 and results.scored_on.findData("this-month") < 0
    assert results.scored is None and "held-out rows" in results.summary.text()


def test_the_report_shown_is_read_again_after_an_erasure_or_a_change_elsewhere(
        qtbot, window, spam_csv, tiny_model_dir: Path) -> None:
    # A `cloister forget` took the person's quoted rows out of the stored report; the page,
    # open on it, kept showing them, even after switching pages.
    from dataclasses import replace

    from engine.data.store import save_dataset
    from engine.evaluation.report import Misclassified, load_report, save_report

    _trained(qtbot, window, spam_csv, tiny_model_dir)
    ws = window.context.workspace
    results = window.results_page
    window.show_page("results")
    qtbot.waitUntil(lambda: results.report is not None, timeout=30_000)
    run_id = results.run_id
    stored = load_report(ws, run_id)
    quote = Misclassified(row=0, text="Jane Doe asked for her refund", true_label=stored.labels[0],
                          predicted_label=stored.labels[1], confidence=0.9)

    def shown() -> list[str]:
        return [results.misclassified.item(r, 0).text() for r in range(results.misclassified.rowCount())]

    save_report(ws, run_id, replace(stored, misclassified=[quote]))  # as it quoted her
    window.show_page("datasets")
    window.show_page("results")
    assert shown() == ["Jane Doe asked for her refund"]
    save_report(ws, run_id, replace(stored, misclassified=[]))  # what the erasure stores
    window.show_page("datasets")
    window.show_page("results")
    assert shown() == []
    # In this window, the Forget dialog's datasets_changed is enough: no page switch needed.
    save_report(ws, run_id, replace(stored, misclassified=[quote]))
    window.context.datasets_changed.emit()
    assert shown() == ["Jane Doe asked for her refund"]

    # Scored on a dataset stored again since (a fix, an erasure): the run's own report again.
    _store(window, spam_csv, name="this-month")
    _choose(results, "this-month")
    qtbot.waitUntil(lambda: results.scored == "this-month", timeout=60_000)
    info = load_dataset(ws, "this-month")
    save_dataset(ws, "this-month", replace(info.as_imported(), table=info.table.slice(1)),
                 info.info.mapping, overwrite=True)
    window.show_page("datasets")
    window.show_page("results")
    assert results.scored is None and "held-out rows" in results.summary.text()


def test_a_run_with_no_test_rows_says_so_and_where_to_score_it(window) -> None:
    # "tested on ? held-out rows" and "has no evaluation report (status: RunStatus.FINISHED)".
    from engine.runs import RunRecord, RunStatus, new_run_id, save_run

    record = RunRecord(run_id=new_run_id(), dataset="pairs", config={}, labels=("a", "b"),
                       status=RunStatus.FINISHED, created="2026-12-07T10:00:00+00:00")
    save_run(window.context.workspace, record)
    results = window.results_page
    window.show_page("results")
    results.show_run(record.run_id)
    assert results.summary.text().endswith(" · no test rows") and "held-out" not in results.summary.text()
    assert results.empty.text() == (
        f"Run {record.run_id} has no test rows (a class gives one to testing only from 3 rows "
        "up): choose another labelled dataset under “Scored on” to score it.")


def test_a_run_whose_report_cannot_be_read_is_not_said_to_have_no_test_rows(window) -> None:
    from engine.runs import RunRecord, RunStatus, new_run_id, save_run

    record = RunRecord(run_id=new_run_id(), dataset="pairs", config={}, labels=("a", "b"),
                       status=RunStatus.FINISHED, created="2026-12-07T10:00:00+00:00",
                       metrics={"accuracy": 0.9}, test_rows=120)
    save_run(window.context.workspace, record)  # its report.json is missing
    results = window.results_page
    window.show_page("results")
    results.show_run(record.run_id)
    assert results.summary.text().endswith(" · its test report cannot be read")
    assert results.empty.text() == f"Run {record.run_id} has no evaluation report (finished)."
