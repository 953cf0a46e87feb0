"""The Train page under real training (tiny BERT): cancel, resume, a failing job, closing the
window mid-run — and the Runs page comparing the runs that result."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.state import Phase
from desktop.worker import Job
from engine.events import Cancelled, Failed, Finished, Started, Step


def _store(window, csv_path: Path, name: str = "messages") -> None:  # noqa: ANN001
    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset

    imported = read_table(csv_path)
    save_dataset(window.context.workspace, name, imported, infer_mapping(imported))
    window.context.datasets_changed.emit()


def _started(qtbot, page, terminal: list[object]) -> Job:  # noqa: ANN001
    """Press Start and wait for the first step; the run's end event goes into ``terminal``."""
    steps: list[object] = []
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    job = page.job
    job.events.connect(steps.extend)
    job.ended.connect(terminal.append)
    qtbot.waitUntil(lambda: any(isinstance(e, Step) for e in steps), timeout=120_000)
    return job


def _prepare(window, tiny_model_dir: Path, *, epochs: int, batch_size: int = 4):  # noqa: ANN001
    window.show_page("train")
    page = window.train_page
    assert page.set_model_folder(tiny_model_dir)
    page.epochs.setValue(epochs)
    page.batch_size.setValue(batch_size)
    page.max_length.setValue(32)
    page.patience.setValue(0)  # no early stop: the run must last until we cancel
    return page


def test_cancel_mid_training_then_resume_from_the_checkpoint(qtbot, window, spam_csv, tiny_model_dir):
    _store(window, spam_csv)
    page = _prepare(window, tiny_model_dir, epochs=40)
    seen: list[object] = []
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    page.job.events.connect(seen.extend)
    qtbot.waitUntil(lambda: any(isinstance(e, Step) for e in seen), timeout=120_000)
    assert page.monitor.phase is Phase.RUNNING and page.cancel_button.isEnabled()
    window.show_page("results")  # no finished run yet, but one training: said so
    assert window.results_page.empty.text().startswith("A run is training: its results appear")
    window.show_page("train")
    with qtbot.waitSignal(page.training_ended, timeout=120_000) as ended:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert isinstance(ended.args[0], Cancelled)
    assert page.monitor.phase is Phase.CANCELLED
    assert page.message.text().startswith("Cancelled after step")
    assert page.start_button.isEnabled() and not page.cancel_button.isEnabled()
    stopped_at = page.monitor.step
    assert stopped_at < page.monitor.total_steps  # it really stopped early
    assert page.resume_button.isEnabled()  # the engine kept a checkpoint

    # Resume continues from the checkpoint's step (then we stop it again: 40 epochs is long),
    # with the run's own settings, which the page says instead of the form's (changed since).
    page.epochs.setValue(3)
    page.max_length.setValue(64)
    run_id = page.monitor.run_id
    resumed: list[object] = []
    qtbot.mouseClick(page.resume_button, Qt.MouseButton.LeftButton)
    page.job.events.connect(resumed.extend)
    said = page.resumed_label.text()
    assert page.resumed_label.isVisibleTo(page) and not page.settings_scroll.isVisibleTo(page)
    assert not page.estimate_label.isVisibleTo(page)  # the form's estimate is not this run's
    assert (f"Resuming run {run_id} on 'messages' with the settings it started with: "
            "40 epochs") in said and "max length 32, batch size 4" in said
    qtbot.waitUntil(lambda: any(isinstance(e, Step) for e in resumed), timeout=120_000)
    started = next(e for e in resumed if isinstance(e, Started))
    first_step = next(e for e in resumed if isinstance(e, Step))
    assert started.resumed_from_step == stopped_at
    assert first_step.step == stopped_at + 1
    assert page.monitor.loss[0][0] == stopped_at + 1  # the live curve starts where it left off
    with qtbot.waitSignal(page.training_ended, timeout=120_000) as ended:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert isinstance(ended.args[0], Cancelled) and ended.args[0].step > stopped_at
    assert not page.resumed_label.isVisibleTo(page) and page.settings_scroll.isVisibleTo(page)
    assert page.epochs.value() == 3  # the form, for new runs, as the user left it

    # The Runs page lists the one run, cancelled (resumable).
    window.show_page("runs")
    runs = window.runs_page
    assert [runs.table.item(r, 2).text() for r in range(runs.table.rowCount())] == ["cancelled"]
    runs.table.selectRow(0)
    assert runs.resume_button.isEnabled() and not runs.open_button.isEnabled()


def test_a_job_that_raises_reaches_the_failed_state_and_the_app_stays_usable(qtbot, window, spam_csv):
    _store(window, spam_csv)
    window.show_page("train")
    page = window.train_page

    def exploding(cancel):
        yield Started(run_id="boom", device="cpu (2 threads)", epochs=1, total_steps=10,
                      train_rows=32, validation_rows=4, labels=("ham", "spam"))
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    with qtbot.waitSignal(page.training_ended, timeout=10_000) as ended:
        page.run_job(Job(exploding, name="train"))
    assert isinstance(ended.args[0], Failed)
    assert page.monitor.phase is Phase.FAILED
    assert "an illegal memory access" in page.message.text()
    assert page.message.property("error") is True
    assert page.start_button.isEnabled() and not page.cancel_button.isEnabled()
    assert not window.context.jobs.busy("train")
    window.show_page("datasets")  # the rest of the app still works
    assert window.current_page_key() == "datasets"


def test_bad_settings_are_refused_before_anything_starts(qtbot, window, spam_csv):
    _store(window, spam_csv)
    window.show_page("train")
    page = window.train_page
    page.learning_rate.setCurrentText("fast please")
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.monitor.phase is Phase.FAILED and page.job is None
    assert "learning rate" in page.message.text()
    # Said where the user is (on Start) too, for a screen reader; gone once corrected.
    assert page.start_button.accessibleDescription() == page.message.text()
    page.learning_rate.setCurrentText("5e-5")
    assert page.start_button.accessibleDescription() == ""
    window.context.status_message.emit("Settings saved.")
    assert window.statusBar().currentMessage() == "Settings saved."
    assert window.statusBar().accessibleDescription() == "Settings saved."


def test_a_folder_that_is_not_a_model_is_refused_with_the_reason(window, tmp_path, tiny_model_dir):
    (tmp_path / "notes").mkdir()
    page = window.train_page
    assert not page.set_model_folder(tmp_path / "notes")
    assert page.model_path is None
    assert page.model_label.text().startswith("✖") and "config.json" in page.model_label.text()
    assert "Still using MiniLM-L6" in page.model_label.text()
    # After a good choice, a bad one keeps it, and the page says which model Start will train.
    assert page.set_model_folder(tiny_model_dir)
    assert not page.set_model_folder(tmp_path / "notes")
    assert page.model_path == Path(tiny_model_dir)
    assert f"Still using {Path(tiny_model_dir).name}." in page.model_label.text()


def test_closing_the_window_during_training_cancels_and_waits(qtbot, window, spam_csv, tiny_model_dir):
    messages: list[str] = []
    previous = qInstallMessageHandler(lambda _kind, _context, text: messages.append(text))
    try:
        _store(window, spam_csv)
        page = _prepare(window, tiny_model_dir, epochs=40)
        terminal: list[object] = []
        job = _started(qtbot, page, terminal)
        assert job.is_running()
        # Closing would stop the run: asked first, and Cancel keeps both the window and the run.
        from tests.desktop.helpers import answer_next_message_box

        seen: list[str] = []
        answer_next_message_box(lambda box: QMessageBox.StandardButton.Cancel, seen=seen)
        window.close()
        assert "A training run is in progress. Close stops it" in seen[0]
        assert window.isVisible() and job.is_running()
        answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
        window.close()
        assert not window.isVisible()
        assert not job.is_running()  # close waited for the thread
        assert len(terminal) == 1 and isinstance(terminal[0], Cancelled)
        del job
        qtbot.wait(50)
    finally:
        qInstallMessageHandler(previous)
    assert not [m for m in messages if "QThread" in m or "Destroyed" in m], messages


def test_runs_page_compares_two_finished_runs(qtbot, window, spam_csv, tiny_model_dir):
    _store(window, spam_csv)
    page = _prepare(window, tiny_model_dir, epochs=1, batch_size=8)
    run_ids = []
    for learning_rate in ("1e-4", "3e-4"):
        page.learning_rate.setCurrentText(learning_rate)
        with qtbot.waitSignal(page.training_ended, timeout=120_000) as ended:
            qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
        assert isinstance(ended.args[0], Finished), ended.args[0]
        run_ids.append(ended.args[0].run_id)
    # Each run trained in the window is in the audit log from start to end (the worker stops
    # reading at the run's last event, so the end is logged before it is passed on).
    entries = [(e.action, e.details.get("run"), e.details.get("status"))
               for e in window.context.workspace.verify_audit().entries if e.action.startswith("run.")]
    assert entries == [(a, r, s) for r in run_ids for a, s in (("run.started", None), ("run.ended", "finished"))]
    window.show_page("runs")
    runs = window.runs_page
    assert runs.table.rowCount() == 2
    runs.select_runs(run_ids)
    assert runs.compare_button.isEnabled() and not runs.resume_button.isEnabled()
    assert "Compare selected shows" in runs.hint.text()  # no longer asks to select two
    qtbot.mouseClick(runs.compare_button, Qt.MouseButton.LeftButton)
    table = runs.compare_table
    # Columns are named by start time (one dataset; a run id does not fit); the id is the tooltip.
    headers = [table.horizontalHeaderItem(c).toolTip().removeprefix("Run ") for c in range(table.columnCount())]
    assert sorted(headers) == sorted(run_ids)
    labels = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert not any(runs.compared[0].dataset in label for label in labels)  # shared: left out
    assert len(set(labels)) == 2  # two runs started in the same second add their ids' ends
    # Never squeezed past a run's name (at the window's smallest it read "l2-07 12:50:3").
    table.setFixedWidth(160)
    QApplication.processEvents()
    header = table.horizontalHeader()
    assert all(header.sectionSize(c) >= header.fontMetrics().horizontalAdvance(labels[c])
               for c in range(table.columnCount()))
    table.setMinimumWidth(0)
    table.setMaximumWidth(16_777_215)
    for column, run_id in enumerate(headers):
        record = next(r for r in runs.compared if r.run_id == run_id)
        assert record.created[5:19].replace("T", " ") in labels[column]
    rows = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
    rates = [table.item(rows.index("Learning rate"), c).text() for c in range(2)]
    assert sorted(float(r) for r in rates) == [1e-4, 3e-4]
    accuracy_row = rows.index("Accuracy")
    # The best value is bold, and said as such (bold is not heard).
    best = [c for c in range(2) if table.item(accuracy_row, c).font().bold()]
    described = [c for c in range(2) if table.item(accuracy_row, c).data(
        Qt.ItemDataRole.AccessibleDescriptionRole) == "the best of the runs compared"]
    assert best and described == best
    from engine.runs import load_run

    from engine.evaluation.metrics import accuracy_interval
    from engine.evaluation.report import load_report

    for column, run_id in enumerate(headers):
        record = load_run(window.context.workspace, run_id)
        assert table.item(accuracy_row, column).text() == f"{record.metrics['accuracy']:.3f}"
        rep = load_report(window.context.workspace, run_id)
        low, high = accuracy_interval(rep.accuracy, rep.n)
        assert table.item(accuracy_row, column).toolTip() == (
            f"95% interval {low:.4f}-{high:.4f} on {rep.n:,} test rows")
        # The run list shows the same interval: the run record keeps its test size.
        assert record.test_rows == rep.n
        listed = next(r for r in range(runs.table.rowCount()) if runs.table.item(r, 0).text() == run_id)
        assert runs.table.item(listed, 5).toolTip() == table.item(accuracy_row, column).toolTip()
    # Runs recorded before the test size was kept: the comparison reads it from the stored reports.
    from engine.runs import save_run

    shown = [table.item(accuracy_row, c).toolTip() for c in range(2)]
    for run_id in run_ids:
        save_run(window.context.workspace, load_run(window.context.workspace, run_id).updated(test_rows=None))
    runs.refresh()
    runs.select_runs(run_ids)
    runs.compare_selected()
    assert [runs.compare_table.item(accuracy_row, c).toolTip() for c in range(2)] == shown
    assert all(not runs.table.item(r, 5).toolTip() for r in range(runs.table.rowCount()))
    # Four test rows each: no comparison of these two can say which is better, and the page says so.
    assert "cannot tell which run is better" in runs.compare_note.text()
    assert runs.curve_choice.currentText() == "loss"
    assert set(runs.curves.series()) == set(labels)  # one overlaid loss curve per run
    assert all(len(xs) >= 1 for xs, _ in runs.curves.series().values())
    # Delete one run: asked first (Cancel keeps it), then gone from the vault, list and comparison.
    from tests.desktop.helpers import answer_next_message_box

    ws = window.context.workspace
    results, tryit = window.results_page, window.tryit_page  # both showing the run to delete
    results.show_run(run_ids[0])
    tryit.select_run(run_ids[0])
    qtbot.waitUntil(lambda: tryit.predictor is not None, timeout=60_000)
    window.show_page("runs")
    runs.select_runs(run_ids[:1])
    assert runs.delete_button.isEnabled()
    seen: list[str] = []
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Cancel, seen=seen)
    qtbot.mouseClick(runs.delete_button, Qt.MouseButton.LeftButton)
    assert run_ids[0] in seen[0] and "quote test rows" in seen[0] and runs.table.rowCount() == 2
    runs.select_runs(run_ids[:1])
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(runs.delete_button, Qt.MouseButton.LeftButton)
    assert [runs.table.item(r, 0).text() for r in range(runs.table.rowCount())] == [run_ids[1]]
    assert ws.list(f"runs/{run_ids[0]}/") == [] and ws.list(f"runs/{run_ids[1]}/")
    assert [runs.compare_table.horizontalHeaderItem(c).toolTip()
            for c in range(runs.compare_table.columnCount())] == [f"Run {run_ids[1]}"]
    # Results no longer shows its report (which quotes test rows), Try it no longer uses its model.
    assert results.run_id is None and results.report is None
    assert f"Run {run_ids[0]} was deleted" in results.empty.text() and not results.export_button.isEnabled()
    assert tryit.predictor is None and f"Run {run_ids[0]} was deleted" in tryit.answer.text()
    # The Train page still shows the last run it trained; deleting that one takes its
    # "See results" (which would lead nowhere) and its curves with it.
    train = window.train_page
    assert train.monitor.run_id == run_ids[1] and not train.results_button.isHidden()
    runs.select_runs(run_ids[1:])
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(runs.delete_button, Qt.MouseButton.LeftButton)
    assert train.results_button.isHidden() and train.monitor.run_id == ""
    assert train.loss_plot.series() == {} and not train.resume_button.isEnabled()


@pytest.fixture(autouse=True)
def _two_threads():
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


def test_a_long_dataset_name_does_not_push_the_buttons_out_of_the_settings_column(qtbot, window, spam_csv):
    """A combo box sizes itself to its longest item: a long dataset name once widened the
    settings column past its fixed width, cutting "Resume" and "Dismiss" off at the right."""
    _store(window, spam_csv, name="customer-support-messages-exported-from-the-helpdesk-2024-q3-final")
    window.resize(1024, 700)
    window.show()
    window.show_page("train")
    page = window.train_page
    scroll = page.settings_scroll
    column = scroll.parentWidget()
    qtbot.waitUntil(lambda: scroll.viewport().width() > 0, timeout=5_000)
    assert scroll.widget().width() <= scroll.viewport().width()
    right = page.privacy_dismiss.mapTo(scroll.viewport(), page.privacy_dismiss.rect().topRight()).x()
    assert right <= scroll.viewport().width()
    # Start, Cancel and Resume sit below the scrolling settings: in view, whatever their length
    # (DP's automatic settings are long), and inside the column.
    page.privacy.enabled.setChecked(True)
    qtbot.wait(50)
    for button in (page.start_button, page.cancel_button, page.resume_button):
        corner = button.mapTo(window, button.rect().bottomRight())
        assert button.isVisible() and corner.y() <= window.height() and corner.x() <= window.width()
        assert button.mapTo(column, button.rect().topRight()).x() <= column.width(), button.text()
    page.privacy.enabled.setChecked(False)
    # On a wide screen the column grows, within bounds, instead of staying at its narrowest.
    narrow = column.width()
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: column.width() > narrow, timeout=5_000)
    assert column.width() <= column.maximumWidth()


def test_locking_during_training_asks_then_offers_the_run_again_after_unlocking(qtbot, window, spam_csv,
                                                                                tiny_model_dir):
    from tests.desktop.conftest import PASSPHRASE
    from tests.desktop.helpers import answer_next_message_box, unlock_from_the_lock_screen

    _store(window, spam_csv)
    page = _prepare(window, tiny_model_dir, epochs=40)
    job = _started(qtbot, page, [])
    seen: list[str] = []
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Cancel, seen=seen)
    window.lock_action.trigger()  # Ctrl+L
    assert "Lock stops it at its next step" in seen[0]
    assert window.context.unlocked and job.is_running()
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
    window.lock_action.trigger()
    assert not window.context.unlocked and not job.is_running()
    assert page.monitor.run_id == "" and not page.resume_button.isEnabled()  # nothing shown while locked

    unlock_from_the_lock_screen(qtbot, window, PASSPHRASE)
    assert window.context.unlocked
    window.show_page("train")
    from engine.runs import list_runs

    (record,) = list_runs(window.context.workspace)
    assert record.status.value == "cancelled"
    assert page.message.text() == (f"Run {record.run_id} stopped when Cloister locked. Resume "
                                   "continues it from its last checkpoint.")
    assert page.resume_button.isEnabled() and record.run_id in page.resume_button.toolTip()
    # Deleted on the Runs page: the offer goes with it.
    from desktop.jobs import delete_runs

    delete_runs(window.context.workspace, [record.run_id])
    window.context.runs_changed.emit()
    assert not page.resume_button.isEnabled() and "stopped when Cloister locked" not in page.message.text()
