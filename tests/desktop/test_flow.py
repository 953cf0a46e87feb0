"""The whole flow through the real window: drop a CSV, preview, import, train a tiny model,
see the results, try it, export. Real Qt widgets (offscreen), real vault, real PyTorch."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.events import Finished
from tests.desktop.helpers import answer_next_message_box, button_with_text, cut_off_texts, drop_files


def _first_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _import_dropped_csv(qtbot, window, csv_path: Path) -> None:  # noqa: ANN001
    page = window.datasets_page
    accepted_enter, accepted_drop = drop_files(window, csv_path)
    assert accepted_enter and accepted_drop
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert window.current_page_key() == "datasets"
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)


def test_drop_preview_import_train_results_try_export(qtbot, window, spam_csv, tiny_model_dir, tmp_path):
    rows = _first_rows(spam_csv)
    page = window.datasets_page

    # Drop: the preview shows the file's rows, the proposed columns, the label counts.
    drop_files(window, spam_csv)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    model = page.model
    assert model.rowCount() == len(rows) == 40
    message_col = page.draft.columns.index("message")
    assert model.data(model.index(0, message_col)) == rows[0]["message"]
    assert model.data(model.index(39, message_col)) == rows[39]["message"]
    assert page.text_combo.currentText() == "message"
    assert page.label_combo.currentData() == "label"
    expected = sorted(((label, sum(r["label"] == label for r in rows)) for label in {"ham", "spam"}),
                      key=lambda pair: -pair[1])
    assert page.chart.values() == expected
    assert page.import_button.isEnabled()

    # Import into the vault: the stored list shows the dataset with its rows and labels.
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    assert page.stored.item(0, 0).text() == "messages"
    assert page.stored.item(0, 1).text() == "40"
    assert page.stored.item(0, 2).text() == "2"
    assert page.draft is None  # the preview (plaintext in memory) is dropped after import
    # The new dataset is selected: its buttons are ready without a search for its row.
    assert page.stored.currentRow() == 0 and page.stored_panel.train_button.isEnabled()

    # Train a tiny model: live curve points arrive, the run finishes, progress reaches the end.
    window.show_page("train")
    train = window.train_page
    assert train.dataset_combo.currentData() == "messages"
    assert train.set_model_folder(tiny_model_dir)
    train.epochs.setValue(2)
    train.batch_size.setValue(8)
    train.max_length.setValue(32)
    with qtbot.waitSignal(train.training_ended, timeout=180_000) as ended:
        qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
        assert train.cancel_button.isEnabled() and not train.start_button.isEnabled()
        # A setting changed now would show beside a run that does not use it.
        assert not train.settings_scroll.widget().isEnabled()
    assert isinstance(ended.args[0], Finished), ended.args[0]
    losses = train.loss_plot.series()["loss"]
    assert len(losses[0]) >= 2 and all(v > 0 for v in losses[1])
    assert train.progress.value() == train.progress.maximum()
    assert train.message.text().startswith("✔ Finished")
    assert train.device_label.text().startswith("Device: cpu")

    # Results: headline metrics and the confusion matrix match the stored report.
    from engine.evaluation.metrics import accuracy_interval
    from engine.evaluation.report import load_report

    run_id = ended.args[0].run_id
    report = load_report(window.context.workspace, run_id)
    qtbot.mouseClick(train.results_button, Qt.MouseButton.LeftButton)
    assert window.current_page_key() == "results"
    results = window.results_page
    assert results.run_id == run_id
    assert results.cards["accuracy"].value.text() == f"{report.accuracy:.3f}"
    assert results.cards["macro_f1"].value.text() == f"{report.macro_f1:.3f}"
    low, high = accuracy_interval(report.accuracy, report.n)  # how precise this small split is
    assert f"95% interval {low:.4f}-{high:.4f}" in results.summary.text() and low < report.accuracy < high
    assert results.heatmap.matrix() == [list(row) for row in report.confusion]
    assert sum(map(sum, results.heatmap.matrix())) == report.n > 0
    assert results.per_class.rowCount() == 2
    assert {results.per_class.item(r, 0).text() for r in range(2)} == {"ham", "spam"}
    assert results.misclassified.rowCount() == len(report.misclassified)
    n = len(report.misclassified)  # "1 misclassified test row.", "3 misclassified test rows."
    assert results.filter_label.text().startswith(f"{n} misclassified test row{'' if n == 1 else 's'}.")
    shown = [float(results.misclassified.item(r, 3).text()) for r in range(results.misclassified.rowCount())]
    assert len(shown) >= 2 and shown == sorted(shown, reverse=True)  # the most confident mistakes first
    window.resize(1280, 800)
    qtbot.wait(20)
    assert cut_off_texts(window) == []  # with real numbers and names on the page

    # Try it: typing shows a probability bar per class, summing to one.
    qtbot.mouseClick(results.try_button, Qt.MouseButton.LeftButton)
    assert window.current_page_key() == "tryit"
    tryit = window.tryit_page
    qtbot.waitUntil(lambda: tryit.predictor is not None, timeout=60_000)
    with qtbot.waitSignal(tryit.prediction_shown, timeout=30_000):
        qtbot.keyClicks(tryit.text, "win a free prize now")
    bars = dict(tryit.bars.values())
    assert set(bars) == {"ham", "spam"}
    assert sum(bars.values()) == pytest.approx(1.0, abs=1e-4)
    assert max(bars, key=bars.get) in tryit.answer.text()
    assert cut_off_texts(window) == []

    # Batch prediction: a file in, a file out with a prediction per row, with progress.
    predictions = tmp_path / "predicted.csv"
    progress_seen: list[int] = []
    tryit.batch_progress.valueChanged.connect(progress_seen.append)
    with qtbot.waitSignal(tryit.batch_ended, timeout=60_000) as batch:
        tryit.predict_batch(spam_csv, predictions)
    assert isinstance(batch.args[0], Finished), batch.args[0]
    written = _first_rows(predictions)
    assert [r["message"] for r in written] == [r["message"] for r in rows]
    assert {r["predicted_label"] for r in written} <= {"ham", "spam"}
    assert progress_seen and tryit.batch_progress.value() == tryit.batch_progress.maximum()
    assert str(predictions) in tryit.batch_status.text()
    # Which column the texts came from, and that the file left the vault unencrypted.
    status = tryit.batch_status.text()
    assert ", texts from column 'message'." in status and "The file is not encrypted" in status
    # The SMS rows longer than the 32 tokens this run reads (not those exactly as long) are
    # counted, as Try it says of one.
    cut = sum(len(tryit.predictor.tokenizer(r["message"])["input_ids"]) > 32 for r in rows)
    said = {0: "", 1: "1 text was longer than the model reads"}.get(
        cut, f"{cut} texts were longer than the model reads")
    assert (said in status) if cut else ("longer than the model reads" not in status)
    # Plaintext predictions left the vault: the audit log says so, as for the CLI.
    [logged] = [e for e in window.context.workspace.verify_audit().entries
                if e.action == "predict-file"]
    assert logged.details["run"] == run_id and logged.details["rows"] == len(rows)

    # Export: plaintext only after the explicit warning is confirmed.
    from desktop.dialogs.export import ExportDialog

    dialog = ExportDialog(window.context, run_id, parent=window)
    qtbot.addWidget(dialog)
    out = tmp_path / "exported"
    dialog.folder.setText(str(out))
    seen: list[str] = []
    answer_next_message_box(lambda box: box.button(box.StandardButton.Cancel), seen=seen)
    dialog.plaintext.setChecked(True)
    assert "unencrypted" in seen[0] and dialog.encrypted.isChecked()  # declined: still encrypted
    answer_next_message_box(lambda box: button_with_text(box, "Export unencrypted"), seen=seen)
    dialog.plaintext.setChecked(True)
    assert dialog.plaintext.isChecked() and len(seen) == 2
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.exported_to is not None or dialog.message.text().startswith("✖"), timeout=60_000)
    assert dialog.exported_to == out, dialog.message.text()
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    dialog.close()

    # ONNX is one radio button away (plaintext again only after the warning).
    onnx_dialog = ExportDialog(window.context, run_id, parent=window)
    qtbot.addWidget(onnx_dialog)
    onnx_dialog.format_buttons["onnx"].setChecked(True)
    onnx_out = tmp_path / "exported-onnx"
    onnx_dialog.folder.setText(str(onnx_out))
    answer_next_message_box(lambda box: button_with_text(box, "Export unencrypted"))
    onnx_dialog.plaintext.setChecked(True)
    qtbot.mouseClick(onnx_dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: onnx_dialog.exported_to is not None or "✖" in onnx_dialog.message.text(), timeout=120_000)
    assert onnx_dialog.exported_to == onnx_out, onnx_dialog.message.text()
    assert (onnx_out / "model.onnx").is_file() and not (onnx_out / "model.safetensors").exists()
    onnx_dialog.close()

    # The default is encrypted: one sealed file that only the passphrase opens.
    from engine.export.exporters import open_export

    sealed_dialog = ExportDialog(window.context, run_id, parent=window)
    qtbot.addWidget(sealed_dialog)
    assert sealed_dialog.encrypted.isChecked()
    target = tmp_path / "model.cloister-export"
    sealed_dialog.folder.setText(str(target))
    sealed_dialog.passphrase.setText("a passphrase for the recipient")
    sealed_dialog.repeat.setText("a passphrase for the recipient, mistyped")
    qtbot.mouseClick(sealed_dialog.export_button, Qt.MouseButton.LeftButton)
    assert "do not match" in sealed_dialog.message.text() and not target.exists()
    assert sealed_dialog.message.property("error")  # said as the refusal it is
    sealed_dialog.passphrase.setText("a passphrase for the recipient")
    sealed_dialog.repeat.setText("a passphrase for the recipient")
    qtbot.mouseClick(sealed_dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sealed_dialog.exported_to is not None or "✖" in sealed_dialog.message.text(),
                    timeout=60_000)
    assert sealed_dialog.exported_to == target and target.is_file(), sealed_dialog.message.text()
    assert b"safetensors" not in target.read_bytes() and b"architectures" not in target.read_bytes()
    opened = open_export(target, tmp_path / "opened", "a passphrase for the recipient")
    assert (opened / "config.json").read_bytes() == (out / "config.json").read_bytes()
    sealed_dialog.close()

    # Locking forgets every decrypted thing the pages were showing.
    window.lock()
    assert results.misclassified.rowCount() == 0 and results.per_class.rowCount() == 0
    assert results.heatmap.matrix() == [] and results.report is None
    assert tryit.text.toPlainText() == "" and tryit.bars.values() == [] and tryit.predictor is None
    assert train.loss_plot.series() == {} and page.stored.rowCount() == 0


def test_before_any_run_the_pages_say_what_to_do(qtbot, window):
    window.show_page("tryit")
    tryit = window.tryit_page
    assert not tryit.text.isEnabled() and "No trained model yet" in tryit.answer.text()
    window.show_page("runs")
    assert window.runs_page.hint.text().startswith("No runs yet")
