"""Qt-free state (monitor, curves, formatting), the settings file, and views built from state:
the Train page's widgets show what its TrainingMonitor says; the About dialog; shortcuts;
nothing cut off at 1280x800."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence

from desktop.settings import SETTINGS_FILE, Settings, load_settings, save_settings, settings_dir
from desktop.state import Phase, TrainingMonitor, format_duration, history_curves
from engine.events import Cancelled, Evaluated, Failed, FailureKind, Finished, Progress, Started, Step


def _events() -> list[object]:
    return [
        Started(run_id="r1", device="cpu (2 threads)", epochs=2, total_steps=10, train_rows=80,
                validation_rows=10, labels=("ham", "spam")),
        Step(step=1, total_steps=10, epoch=0.1, loss=0.9, learning_rate=1e-4, samples_per_second=12.5, eta_seconds=75),
        Step(step=5, total_steps=10, epoch=1.0, loss=0.5, learning_rate=1e-4, samples_per_second=14.0, eta_seconds=30),
        Evaluated(step=5, epoch=1.0, split="validation", metrics={"loss": 0.45, "accuracy": 0.8, "macro_f1": 0.7}),
        Evaluated(step=10, epoch=2.0, split="test", metrics={"loss": 0.3, "accuracy": 0.9}),
    ]


def test_monitor_folds_events_into_what_the_page_shows():
    monitor = TrainingMonitor()
    monitor.start()
    monitor.apply(_events())
    assert monitor.phase is Phase.RUNNING and monitor.device == "cpu (2 threads)"
    assert monitor.loss == [(1, 0.9), (5, 0.5)]
    assert monitor.validation == {"val loss": [(5, 0.45)], "val accuracy": [(5, 0.8)], "val macro_f1": [(5, 0.7)]}
    assert monitor.fraction == 0.5
    assert monitor.progress_text() == "step 5 / 10 · epoch 1.0 / 2 · loss 0.5 · 14.0 rows/s · ETA 30 s"
    monitor.apply([Finished(run_id="r1", duration_seconds=125, metrics={"accuracy": 0.9})])
    assert monitor.phase is Phase.FINISHED and monitor.fraction == 1.0
    assert monitor.message == "Finished in 2 min 05 s."


def test_monitor_failure_and_cancel_messages():
    failed = TrainingMonitor()
    failed.start()
    failed.apply([Failed(kind=FailureKind.OUT_OF_MEMORY, message="Out of memory: use batch size 8.")])
    assert failed.phase is Phase.FAILED and failed.message == "Out of memory: use batch size 8."
    cancelled = TrainingMonitor()
    cancelled.start()
    cancelled.apply([Step(step=5, total_steps=40, epoch=0.1, loss=0.7, learning_rate=1e-4,
                          samples_per_second=50.0, eta_seconds=30.0),
                     Cancelled(step=7, checkpoint_key="runs/r/ckpt")])
    assert cancelled.phase is Phase.CANCELLED
    assert cancelled.message == "Cancelled after step 7. Resume goes on from there (step 8): nothing is lost."
    # The last Step event said 5: the progress line agrees with the message, not with it.
    assert cancelled.progress_text().startswith("step 7 / 40")
    early = TrainingMonitor()  # stopped while the texts were tokenized: no run was made
    early.start()
    early.apply([Progress(2_048, 600_000, "Tokenizing the texts: 2,048 of 600,000")])
    assert early.message == "Tokenizing the texts: 2,048 of 600,000"
    assert early.progress_text() == "tokenizing 2,048 / 600,000 texts"
    assert early.fraction == pytest.approx(2_048 / 600_000)
    early.apply([Started("r2", "cpu", 1, 50, 400, 50, ("a", "b"))])  # the steps' bar from 0
    assert early.fraction == 0.0 and early.progress_text().startswith("step 0 / 50")
    early = TrainingMonitor()
    early.start()
    early.apply([Progress(2_048, 600_000, "Tokenizing the texts: 2,048 of 600,000")])
    early.apply([Cancelled(step=0)])
    assert early.message == "Cancelled before training started: nothing was saved."


def test_history_curves_keep_training_and_validation_loss_apart():
    history = [
        {"step": 2, "epoch": 0.5, "loss": 0.8, "lr": 1e-4},
        {"step": 4, "epoch": 1.0, "split": "validation", "loss": 0.6, "accuracy": 0.75},
        {"step": 4, "epoch": 1.0, "loss": 0.7, "lr": 9e-5},
        {"step": 4, "epoch": 1.0, "split": "test", "loss": 0.1, "accuracy": 0.99},
    ]
    assert history_curves(history) == {
        "loss": ([2.0, 4.0], [0.8, 0.7]),
        "val loss": ([4.0], [0.6]),
        "val accuracy": ([4.0], [0.75]),
    }


def test_a_run_stopped_early_says_the_steps_it_took():
    """It read "step 120 / 120" after early stopping at step 12: the steps are part of what a
    DP guarantee counts, and the record said 12."""
    monitor = TrainingMonitor()
    monitor.start()
    monitor.apply(_events())  # 5 of 10 steps
    monitor.apply([Finished(run_id="r1", duration_seconds=3, metrics={}, steps=7)])
    assert monitor.fraction == 1.0  # done
    assert monitor.progress_text().startswith("stopped early at step 7 of 10 planned")



def test_a_finished_run_shows_what_its_notes_warn_of():
    # A test split with copies of training texts: the CLI warned, the Train page said "Finished".
    monitor = TrainingMonitor()
    monitor.start()
    monitor.apply([Finished(run_id="r1", duration_seconds=3, metrics={},
                            notes=("2 of the 4 test rows repeat the text of a row ...",))])
    assert monitor.message == "Finished in 3 s. ⚠ 2 of the 4 test rows repeat the text of a row ..."
    monitor.apply([Finished(run_id="r2", duration_seconds=3, metrics={})])
    assert monitor.message == "Finished in 3 s."
    monitor.apply([Finished(run_id="r3", duration_seconds=3, metrics={}, notes=("`cloister fix x`",),
                            app_notes=("the dataset's Fix…",))])  # the app's words where given
    assert monitor.message == "Finished in 3 s. ⚠ the dataset's Fix…"

def test_durations_read_naturally():
    assert [format_duration(s) for s in (None, 0.2, 4.4, 65, 3 * 3600 + 120)] == \
        ["—", "under 1 s", "4 s", "1 min 05 s", "3 h 02 min"]


def test_settings_round_trip_and_bad_values_fall_back(isolated_dirs):
    assert settings_dir() == isolated_dirs["CLOISTER_SETTINGS_DIR"]
    assert load_settings() == Settings()  # no file yet: defaults
    path = save_settings(Settings(workspace="/data/cloister", device="cuda:1", idle_lock_minutes=5))
    assert json.loads(path.read_text()) == {"workspace": "/data/cloister", "device": "cuda:1",
                                            "idle_lock_minutes": 5, "model_folder": ""}
    assert load_settings() == Settings(workspace="/data/cloister", device="cuda:1", idle_lock_minutes=5)
    path.write_text(json.dumps({"device": "quantum", "idle_lock_minutes": "soon", "rows": ["secret"]}))
    assert load_settings() == Settings()  # unknown keys ignored, bad values replaced
    path.write_text("{not json")
    assert load_settings() == Settings()
    assert [p.name for p in Path(path).parent.iterdir()] == [SETTINGS_FILE]  # no temp files left


def test_train_page_view_follows_its_monitor(window):
    page = window.train_page
    page.monitor.start()
    page._on_events(_events())
    assert page.device_label.text() == "Device: cpu (2 threads)"
    assert page.progress.value() == 500
    assert page.progress_text.text() == "step 5 / 10 · epoch 1.0 / 2 · loss 0.5 · 14.0 rows/s · ETA 30 s"
    assert page.loss_plot.series() == {"loss": ([1, 5], [0.9, 0.5])}
    # The plots in words, for a screen reader: each curve's latest point.
    assert page.loss_plot.accessibleName() == "Training loss: loss 0.5 at step 5"
    assert page.validation_plot.accessibleName().startswith("Validation: val loss 0.45 at step 5")
    assert set(page.validation_plot.series()) == {"val loss", "val accuracy", "val macro_f1"}
    assert page.cancel_button.isEnabled() and not page.start_button.isEnabled()
    page.monitor.apply([Failed(kind=FailureKind.BAD_DATA, message="dataset 'x' has no labels")])
    page._render()
    assert page.message.text() == "✖ dataset 'x' has no labels"
    assert not page.cancel_button.isEnabled()


def test_about_says_plainly_that_no_network_connection_is_made(qtbot):
    from desktop.dialogs.about import AboutDialog

    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert "makes no network connection" in dialog.offline.text()
    assert "PySide6" in dialog.versions.text() and "torch" in dialog.versions.text()


def test_shortcuts_switch_pages(qtbot, window):
    actions = {a.shortcut().toString(): a for a in window.actions() if not a.shortcut().isEmpty()}
    assert {"Ctrl+O", "Ctrl+L", "Ctrl+Q", "Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4", "Ctrl+5"} <= set(actions)
    for number, key in enumerate(window.PAGE_KEYS, start=1):
        actions[QKeySequence(f"Ctrl+{number}").toString()].trigger()
        assert window.current_page_key() == key


def test_no_label_or_button_text_is_cut_off_at_1280_by_800(qtbot, window):
    from tests.desktop.helpers import cut_off_texts

    window.resize(1280, 800)
    for key in window.PAGE_KEYS:
        window.show_page(key)
        qtbot.wait(20)
        assert cut_off_texts(window) == [], key


# What the import readers accept, written out here so the test does not echo the code under test.
READABLE = (".csv", ".tsv", ".tab", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson", ".parquet", ".pq",
            ".txt")  # .txt: read by what it holds


def test_file_dialogs_offer_every_format_the_engine_reads():
    from desktop.jobs import data_file_filter

    offered = data_file_filter().split(";;")[0].split("(")[1].rstrip(")").split()
    assert sorted(offered) == sorted(f"*{suffix}" for suffix in READABLE)


def test_the_datasets_page_names_the_formats_it_reads(window):
    from PySide6.QtWidgets import QLabel

    (hint,) = [label.text() for label in window.datasets_page.findChildren(QLabel)
               if label.objectName() == "pageSubtitle"]
    for suffix in (".csv", ".tsv", ".xlsx", ".json", ".jsonl", ".parquet"):
        assert suffix in hint
    assert "folder with one sub-folder per label" in hint


def test_cloister_without_arguments_opens_the_window(isolated_dirs):
    """The console script's no-argument path (make run) shows the main window (then quits
    at once: the variable bench_gui uses), without importing torch to get there."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, CLOISTER_QUIT_AFTER_SHOW="1", QT_QPA_PLATFORM="offscreen")
    code = ("import sys; from desktop.launcher import main; rc = main([]); "
            "print('HEAVY', [m for m in ('torch', 'transformers') if m in sys.modules]); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SHOWN " in result.stdout and "HEAVY []" in result.stdout


def test_charts_paint_with_the_palette_they_are_given(qtbot):
    """Light or dark theme: the painted charts take their colours from the palette."""
    from PySide6.QtGui import QColor, QPalette

    from desktop.widgets.charts import BarChart, HeatMap

    for accent in ("#d81b60", "#1e88e5"):
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Highlight, QColor(accent))
        palette.setColor(QPalette.ColorRole.Window, QColor("#202020"))
        chart = BarChart()
        qtbot.addWidget(chart)
        chart.setPalette(palette)
        chart.resize(400, 60)
        chart.set_values([("spam", 10)])
        image = chart.grab().toImage()
        bar_y = 4 + BarChart.ROW // 2
        colours = {image.pixelColor(x, bar_y).name() for x in range(image.width() // 2, image.width() - 80)}
        assert accent in colours

        heat = HeatMap()
        qtbot.addWidget(heat)
        heat.setPalette(palette)
        heat.resize(300, 300)
        heat.set_matrix(["ham", "spam"], [[5, 0], [0, 5]])
        image = heat.grab().toImage()
        margin, top, cell = heat._geometry()
        corner = image.pixelColor(int(margin + 3), int(top + 3))  # a full-share diagonal cell
        assert corner.name() == accent


def test_a_confusion_cell_too_small_for_its_count_says_it_on_hover(qtbot):
    # 13 labels at 1024 px: no counts in the cells, column heads cut to a letter, no tooltip.
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    from desktop.widgets.charts import HeatMap

    labels = [f"Rechnungsreklamation {i}" for i in range(13)]
    matrix = [[(7 if i == j else i + j) for j in range(13)] for i in range(13)]
    heat = HeatMap()
    qtbot.addWidget(heat)
    heat.resize(420, 300)
    heat.set_matrix(labels, matrix)
    heat.show()
    margin, top, cell = heat._geometry()
    point = QPoint(int(margin + 3 * cell + cell / 2), int(top + 5 * cell + cell / 2))
    assert heat.cell_at(point.x(), point.y()) == (5, 3)
    QApplication.sendEvent(heat, QHelpEvent(QHelpEvent.Type.ToolTip, point, heat.mapToGlobal(point)))
    assert QToolTip.text() == ("true Rechnungsreklamation 5, predicted Rechnungsreklamation 3: 8 of "
                               f"{sum(matrix[5]):,} rows (click to list them)")
    assert heat.cell_at(1, 1) is None  # the labels' margin is no cell
    QToolTip.hideText()


def test_the_label_chart_counts_classes_as_training_sees_them():
    import pyarrow as pa

    from desktop.state import ImportDraft
    from engine.data.columns import ColumnMapping
    from engine.data.importing.table import ImportedTable

    table = pa.table({"text": ["a", "b", "c", "d", "e"], "label": ["spam", " spam", "ham ", None, "spam\t"]})
    draft = ImportDraft(imported=ImportedTable(table=table, source=Path("x.csv"), format="csv"),
                        mapping=ColumnMapping(text_columns=("text",), label_column="label"))
    assert draft.label_counts() == [("spam", 3), ("(missing)", 1), ("ham", 1)]
    assert draft.classes == 2
    # A class written "(missing)": two bars still, and three classes (it was one bar of 3 rows,
    # and the title said 2 classes).
    table = pa.table({"text": list("abcdefg"), "label": ["(missing)", None, "ok", "ok", "(missing)", "bad", ""]})
    draft = ImportDraft(imported=ImportedTable(table=table, source=Path("x.csv"), format="csv"),
                        mapping=ColumnMapping(text_columns=("text",), label_column="label"))
    assert sorted(draft.label_counts()) == [("(missing)", 2), ("(no label in the row)", 2),
                                            ("bad", 1), ("ok", 2)]
    assert draft.classes == 3


def test_the_cli_and_the_desktop_find_the_same_workspace(tmp_path, monkeypatch):
    import argparse

    from desktop.settings import workspace_root
    from engine.cli.common import workspace_dir

    monkeypatch.setenv("CLOISTER_WORKSPACE", str(tmp_path / "from-env"))
    assert workspace_root(Settings()) == workspace_dir(argparse.Namespace(workspace=None)) == tmp_path / "from-env"
    chosen = tmp_path / "chosen"
    assert workspace_root(Settings(workspace=str(chosen))) == workspace_dir(argparse.Namespace(workspace=chosen)) == chosen
    monkeypatch.delenv("CLOISTER_WORKSPACE")
    assert workspace_root(Settings()) == workspace_dir(argparse.Namespace(workspace=None))
    assert workspace_root(Settings()).parts[-2:] == ("Cloister", "workspace")


def test_compared_runs_are_named_by_dataset_and_start_not_a_cut_run_id():
    from types import SimpleNamespace

    from desktop.pages.runs import compare_labels

    def run(run_id, dataset, created):
        return SimpleNamespace(run_id=run_id, dataset=dataset, created=created)

    a = run("20261205-203627-dffebaf1", "sms-spam", "2026-12-05T20:36:27+00:00")
    b = run("20261205-203554-206ababd", "sms-spam", "2026-12-05T20:35:54+00:00")
    assert compare_labels([a, b]) == ["12-05 20:36:27", "12-05 20:35:54"]  # one dataset: times
    other = run("20261205-203700-00000001", "tickets", "2026-12-05T20:37:00+00:00")
    assert compare_labels([a, other]) == ["sms-spam · 12-05 20:36:27", "tickets · 12-05 20:37:00"]
    # Two that would read the same keep the end of their ids apart; an undated record keeps its id.
    twin = run("20261205-203627-0badcafe", "sms-spam", a.created)
    assert compare_labels([a, twin, run("old-run", "x", "")]) == [
        "sms-spam · 12-05 20:36:27 · dffebaf1", "sms-spam · 12-05 20:36:27 · 0badcafe", "old-run"]


def test_settings_that_cannot_be_saved_are_used_and_the_user_is_told(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from desktop.dialogs.settings import SettingsDialog
    from tests.desktop.helpers import answer_next_message_box, when_modal_opens

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("CLOISTER_SETTINGS_DIR", str(blocker / "settings"))  # no folder can be made

    def change_and_save(dialog: SettingsDialog) -> None:
        dialog.idle.setValue(7)
        dialog.accept()

    seen: list[str] = []
    when_modal_opens(SettingsDialog, change_and_save)
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Ok, seen=seen)
    window.open_settings()
    assert seen and seen[0].startswith(f"Could not write {blocker / 'settings' / SETTINGS_FILE}: ")
    assert "apply until Cloister closes" in seen[0]
    assert window.context.settings.idle_lock_minutes == 7  # in use for this session
    assert window.idle_timer.interval() == 7 * 60_000
    assert blocker.read_text() == "x"


def test_a_theme_switch_while_running_restyles_the_whole_window(qtbot, window):
    """The style sheet's palette() colours are resolved when it is set: switching the system
    to dark while Cloister ran left the page list light beside dark pages."""
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from desktop.app import make_application

    app = make_application([])  # the test's application, with Cloister's sheet and restyler
    nav = window.nav

    def lightness() -> int:  # the page list's background, below its last item
        return nav.grab().toImage().pixelColor(nav.width() // 2, nav.height() - 5).lightness()

    before, light = QApplication.palette(), lightness()
    dark = QPalette(before)
    for role, colour in ((QPalette.ColorRole.Window, "#202020"), (QPalette.ColorRole.Base, "#151515"),
                         (QPalette.ColorRole.AlternateBase, "#2a2a2a")):
        dark.setColor(role, QColor(colour))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: lightness() < 80, timeout=5_000)
        assert light > 160  # it was light before
    finally:
        app.setPalette(before)
    qtbot.waitUntil(lambda: lightness() > 160, timeout=5_000)  # and back


def test_curve_legend_sits_under_the_plot_not_over_its_lines(qtbot):
    from desktop.widgets.curves import CurvePlot

    plot = CurvePlot(title="Training curves", y_label="value")
    qtbot.addWidget(plot)
    plot.resize(800, 400)
    plot.show()
    for name in ("loss", "val accuracy", "val loss", "val macro_f1"):
        plot.set_series(name, [1.0, 2.0, 3.0], [0.9, 0.95, 1.0])
    qtbot.waitUntil(lambda: plot._plot is not None)
    qtbot.wait(50)
    item = plot._plot.getPlotItem()
    legend, view = item.legend, item.getViewBox()
    assert [label.text for _, label in legend.items] == ["loss", "val accuracy", "val loss", "val macro F1"]
    legend_box = legend.mapRectToScene(legend.boundingRect())
    view_box = view.mapRectToScene(view.boundingRect())
    assert legend_box.top() >= view_box.bottom()  # below the lines, never over them
    assert legend_box.height() < view_box.height() / 2  # one row of four, not a column


def test_long_labels_stay_told_apart_and_read_whole_on_hover(qtbot):
    """CFPB's "Credit reporting, credit repair services, ..." and "Credit reporting or other
    ..." were cut to the same start in a narrow column; the bar's tooltip gives the whole."""
    from PySide6.QtCore import QEvent, QPoint, Qt
    from PySide6.QtGui import QFont, QFontMetrics, QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    from desktop.widgets.charts import BarChart, shown_names

    long_names = ["Credit reporting, credit repair services", "Credit reporting or other reports",
                  "Mortgage"]
    metrics = QFontMetrics(QFont())
    width = metrics.horizontalAdvance("Credit reporting…")
    right = [metrics.elidedText(n, Qt.TextElideMode.ElideRight, width) for n in long_names]
    assert right[0] == right[1]  # cut at the end alone, two classes would read the same
    shown = shown_names(long_names, metrics, width)
    assert len(set(shown)) == 3 and shown[2] == "Mortgage"

    chart = BarChart()
    qtbot.addWidget(chart)
    chart.resize(300, 100)
    chart.set_values([(name, 10 + i) for i, name in enumerate(long_names)])
    chart.show()
    row = 1
    point = QPoint(20, 4 + row * BarChart.ROW + BarChart.ROW // 2)
    QApplication.sendEvent(chart, QHelpEvent(QEvent.Type.ToolTip, point, chart.mapToGlobal(point)))
    qtbot.waitUntil(lambda: QToolTip.text() == "Credit reporting or other reports: 11", timeout=5_000)


def test_the_automatic_settings_colour_stays_readable_on_a_dark_theme(qapp):
    """The style sheet marks automatic settings with the palette's link colour; a dark theme
    that leaves Qt's default dark blue showed them dark blue on dark grey."""
    from PySide6.QtGui import QColor, QPalette

    from desktop.app import readable_links

    before = qapp.palette()
    try:
        dark = QPalette(before)
        dark.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
        dark.setColor(QPalette.ColorRole.Link, QColor("#0000ff"))
        qapp.setPalette(dark)
        readable_links(qapp)
        link, window = (qapp.palette().color(r) for r in (QPalette.ColorRole.Link, QPalette.ColorRole.Window))
        assert link.lightnessF() - window.lightnessF() >= 0.35
    finally:
        qapp.setPalette(before)


def test_times_are_shown_in_this_computers_time_zone(monkeypatch):
    """Runs' and datasets' times are kept in UTC; the pages showed them so, unmarked: five
    hours in the future in New York."""
    import time

    from desktop.state import local_time

    monkeypatch.setenv("TZ", "EST+5")  # a POSIX zone: no time-zone database needed
    time.tzset()
    try:
        assert local_time("2026-12-06T10:31:38+00:00") == "2026-12-06 05:31"
        assert local_time("2026-12-06T10:31:38", "%m-%d %H:%M:%S") == "12-06 05:31:38"  # naive: UTC
        assert local_time("") == "" and local_time(None) == ""
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_base_model_chosen_is_chosen_again_next_session(qtbot, window, tiny_model_dir, tmp_path):
    """It went back to the built-in MiniLM every time the app started."""
    from desktop.context import AppContext
    from desktop.main_window import MainWindow
    from desktop.settings import load_settings
    from tests.desktop.conftest import FAST_KDF

    assert window.train_page.set_model_folder(tiny_model_dir)
    assert load_settings().model_folder == str(tiny_model_dir)
    later = AppContext(load_settings(), kdf=FAST_KDF)  # the next session, same settings folder
    later.set_workspace(window.context.workspace)
    again = MainWindow(later)
    qtbot.addWidget(again)
    assert again.train_page.model_path == tiny_model_dir
    assert again.train_page.model_label.text().startswith(tiny_model_dir.name)
    again.train_page.set_model_folder(None)  # Default: forgotten too
    assert load_settings().model_folder == ""


def test_the_empty_workspace_field_says_where_the_workspace_then_is(qtbot, tmp_path, monkeypatch) -> None:
    from desktop.dialogs.settings import SettingsDialog
    from desktop.settings import Settings

    monkeypatch.setenv("CLOISTER_WORKSPACE", str(tmp_path / "from the environment"))
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    # It said "Default location" while $CLOISTER_WORKSPACE decided the folder.
    assert dialog.workspace.placeholderText() == f"Default: {tmp_path / 'from the environment'}"

