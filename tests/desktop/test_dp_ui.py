"""The Train page's differential-privacy section under a real DP run (tiny BERT, real Opacus)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop.state import Phase
from engine.events import Finished, Step
from tests.desktop.test_training_ui import _prepare, _store


def test_dp_switch_presets_and_epsilon_spent_live(qtbot, window, spam_csv, tiny_model_dir: Path) -> None:
    _store(window, spam_csv)
    page = _prepare(window, tiny_model_dir, epochs=2, batch_size=4)
    dp = page.privacy
    assert not dp.body.isVisibleTo(page) and dp.options() == {}
    assert "dp" not in page.config_options()
    qtbot.waitUntil(lambda: page.estimate_label.text().startswith(("About", "Under 1 s")), timeout=60_000)
    assert "differential privacy" not in page.estimate_label.text()
    # An idle machine's figure, and said so: on a busy one it was ten times too short.
    assert "on CPU (with nothing else running), peak memory about" in page.estimate_label.text()
    dp.enabled.setChecked(True)
    assert dp.body.isVisibleTo(page)
    # The estimate is made again, for DP-SGD's cost.
    qtbot.waitUntil(lambda: "with differential privacy" in page.estimate_label.text(), timeout=60_000)
    assert [b.text() for b in dp.preset_buttons.values()] == ["ε = 1", "ε = 3", "ε = 8"]
    assert "e^3" in dp.preset_buttons[3.0].toolTip()
    # One row of presets; the chosen one's meaning under them, following the choice.
    assert dp.meaning.text() == dp.preset_buttons[8.0].toolTip() and "e^8" in dp.meaning.text()
    assert dp.custom_epsilon.value() == 8.0  # one ε on screen: the box showed 5.00 beside "ε = 8"
    dp.preset_buttons[3.0].setChecked(True)
    assert dp.meaning.text() == dp.preset_buttons[3.0].toolTip()
    assert dp.custom_epsilon.value() == 3.0 and not dp.custom_button.isChecked()
    dp.custom_epsilon.setValue(2.0)  # typing a value of one's own chooses it
    assert dp.custom_button.isChecked() and dp.epsilon() == 2.0
    assert "e^2 ≈ 7.39 times" in dp.meaning.text()
    assert not dp.person_note.isVisibleTo(page)  # each row protected: no empty note row
    from PySide6.QtWidgets import QLabel

    uncovered = [w.text() for w in dp.findChildren(QLabel) if w.text().startswith("Not covered")]
    assert uncovered and "automatic settings read from all the rows" in uncovered[0]
    dp.preset_buttons[3.0].setChecked(True)
    dp.logical_batch.setValue(8)
    dp.accountant.setCurrentIndex(dp.accountant.findData("rdp"))
    options = page.config_options()
    assert options["dp"] and options["dp_epsilon"] == 3.0 and options["dp_logical_batch_size"] == 8

    seen: list[object] = []
    with qtbot.waitSignal(page.training_ended, timeout=180_000) as ended:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
        page.job.events.connect(seen.extend)
    assert isinstance(ended.args[0], Finished), ended.args[0]
    assert page.monitor.phase is Phase.FINISHED
    steps = [e for e in seen if isinstance(e, Step)]
    assert steps and all(e.epsilon is not None and e.epsilon <= 3.0 for e in steps)
    from engine.runs import load_run

    spent = load_run(window.context.workspace, ended.args[0].run_id).privacy["epsilon_spent"]
    assert page.epsilon_label.isVisibleTo(page)
    assert page.epsilon_label.text() == f"Privacy spent: ε = {spent:.2f} (loss curve below)"
    assert f"ε {spent:.2f}" in page.progress_text.text()
    # Results and Runs say the run is a DP one, and what it guarantees (they said nothing).
    run_id = ended.args[0].run_id
    window.results_page.show_run(run_id)
    assert f"differential privacy: ε = {spent:.2f} spent of 3" in window.results_page.summary.text()
    runs = window.runs_page
    runs.compare([load_run(window.context.workspace, run_id)])
    rows = [runs.compare_table.verticalHeaderItem(r).text() for r in range(runs.compare_table.rowCount())]
    cell = runs.compare_table.item(rows.index("Privacy (DP)"), 0)
    assert cell.text() == f"ε {spent:.2f} of 3, per row" and "validation and test metrics" in cell.toolTip()
    # Back on the Train page with DP on, the run just made is named with what it spent, as
    # `cloister train --dp` names it: the next run's ε covers only its own model.
    assert not dp.spent_note.isVisibleTo(page) or "earlier runs" in dp.spent_note.text()
    page.on_shown()
    qtbot.waitUntil(lambda: dp.spent_note.isVisibleTo(page), timeout=30_000)
    assert dp.spent_note.text().startswith(
        f"earlier runs on this dataset: 1 with DP spent ε = {spent:.2f} ({spent:.2f} in all)")
    dp.enabled.setChecked(False)
    assert not dp.spent_note.isVisibleTo(page)


def test_custom_epsilon_and_bad_delta_are_explained(qtbot, window, spam_csv, tiny_model_dir: Path) -> None:
    _store(window, spam_csv)
    page = _prepare(window, tiny_model_dir, epochs=1)
    page.privacy.enabled.setChecked(True)
    page.privacy.custom_button.setChecked(True)
    page.privacy.custom_epsilon.setValue(2.5)
    page.privacy.delta.setText("0.5")
    page.privacy.logical_batch.setValue(8)
    assert page.config_options()["dp_epsilon"] == 2.5
    with qtbot.waitSignal(page.training_ended, timeout=120_000) as ended:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.monitor.phase is Phase.FAILED
    assert "δ = 0.5 is not below 1/N" in page.message.text(), page.message.text()
    assert "protects no one" in ended.args[0].message


def test_settings_that_are_not_numbers_are_named_as_typed(qtbot, window, spam_csv, tiny_model_dir: Path) -> None:
    from engine.runs import list_runs

    _store(window, spam_csv)
    page = _prepare(window, tiny_model_dir, epochs=1)
    page.privacy.enabled.setChecked(True)  # (fills in DP's own rate: typed over below)
    page.learning_rate.setCurrentText("abc")
    page.privacy.delta.setText("1e-6x")
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.monitor.phase is Phase.FAILED and page.job is None
    assert page.message.text() == (
        "✖ Check the settings: the learning rate 'abc' is not a number: type one like 5e-5 or "
        "0.0001; δ '1e-6x' is not a number: leave it empty for the default 1/N^1.1, or type one "
        "like 1e-6.")
    assert list_runs(window.context.workspace) == []  # nothing started, nothing recorded
    assert page.progress_text.text() == ""  # no "starting" above a refusal
    page.privacy.enabled.setChecked(False)  # δ only counts with DP on
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert "δ" not in page.message.text() and "'abc'" in page.message.text()
    # Corrected, the refusal goes: it stayed, in red, beside the value the user had fixed.
    page.learning_rate.setCurrentText("5e-5")
    assert page.monitor.phase is Phase.IDLE and not page.message.text().startswith("✖")
    assert page.message.text() == "Check the settings, then press Start training."


def test_dp_switch_fills_the_dp_settings_and_gives_the_plain_rate_back(
        qtbot, window, spam_csv, tiny_model_dir: Path) -> None:
    """The page's automatic DP choices (engine.training.auto.choose_dp_settings): a larger
    learning rate, C = 0.1, a logical batch sized to the rows, the top two layers; a value the
    user typed stays theirs, and the rate follows the part trained (LoRA takes a larger one)."""
    from engine.training.auto import TRAIN_SHARE, dp_logical_batch

    _store(window, spam_csv)
    page = _prepare(window, tiny_model_dir, epochs=1)
    dp = page.privacy
    plain_rate = page.learning_rate.currentText()
    assert plain_rate not in ("5e-3", "2e-2")
    dp.logical_batch.setValue(64)  # the user's own value, before DP is switched on
    dp.enabled.setChecked(True)
    assert page.learning_rate.currentText() == "5e-3"
    # DP's rate is an automatic choice, marked as one (it read as the user's own).
    rate_label = page.auto_box._label_for(page.learning_rate)
    qtbot.waitUntil(lambda: page.auto_box.auto is not None and bool(rate_label.property("auto")),
                    timeout=60_000)
    assert dp.max_grad_norm.value() == 0.1 and dp.trainable.currentData() == "top-2"
    assert dp.logical_batch.value() == 64  # typed by the user: kept
    options = page.config_options()
    assert options["learning_rate"] == 5e-3 and options["dp_trainable"] == "top-2"
    dp.trainable.setCurrentIndex(dp.trainable.findData("lora"))  # the rate follows the part
    assert page.config_options()["learning_rate"] == 2e-2
    dp.enabled.setChecked(False)
    assert page.learning_rate.currentText() == plain_rate and page.config_options().get("dp") is None
    dp.enabled.setChecked(True)  # LoRA, chosen before: DP's rate for LoRA
    assert page.learning_rate.currentText() == "2e-2"
    page.learning_rate.setCurrentText("1e-3")  # a rate the user types...
    dp.trainable.setCurrentIndex(dp.trainable.findData("top-1"))
    assert page.learning_rate.currentText() == "1e-3"  # ...stays whatever part is picked
    assert not rate_label.property("auto")  # and is no longer marked automatic
    dp.enabled.setChecked(False)

    rows = int(page._rows() * TRAIN_SHARE)
    fresh = type(dp)()
    fresh.fill(__import__("engine.training.auto", fromlist=["x"]).choose_dp_settings(rows))
    assert fresh.logical_batch.value() == dp_logical_batch(rows)  # untouched: filled in


def _with_sender(spam_csv: Path, tmp_path: Path) -> Path:
    """The spam excerpt with a "sender" column: 8 senders of 5 messages each."""
    import csv

    with open(spam_csv, encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    with_sender = tmp_path / "with_sender.csv"
    with open(with_sender, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*header, "sender"])
        writer.writerows([*row, f"+44 7700 9000{i % 8:02d}"] for i, row in enumerate(rows))
    return with_sender


def test_a_person_column_with_blanks_is_explained_under_protect(qtbot, window, spam_csv, tiny_model_dir: Path,
                                                                 tmp_path: Path) -> None:
    import csv

    with open(_with_sender(spam_csv, tmp_path), encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    rows[3][-1] = ""  # one message says nothing of its sender
    gaps = tmp_path / "gaps.csv"
    with open(gaps, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    _store(window, gaps, name="gaps")
    page = _prepare(window, tiny_model_dir, epochs=1)
    page.dataset_combo.setCurrentIndex(page.dataset_combo.findData("gaps"))
    page.privacy.enabled.setChecked(True)
    page.privacy.person.setCurrentIndex(page.privacy.person.findData("sender"))
    qtbot.waitUntil(lambda: page.privacy.person_note.text().startswith("✖"), timeout=30_000)
    assert "1 row(s) have no value in the person column 'sender' (rows 4)" in page.privacy.person_note.text()
    assert page.people.count is None


def test_per_person_multiplies_the_automatic_epochs(qtbot, window, spam_csv, tiny_model_dir: Path,
                                                    tmp_path: Path) -> None:
    """An epoch per person reads one row of each person: the automatic epochs grow with the rows
    per person (5 here, at most 4x), and come back when DP or the person column is turned off."""
    _store(window, _with_sender(spam_csv, tmp_path), name="by_sender")
    window.show_page("train")
    page = window.train_page
    assert page.set_model_folder(tiny_model_dir)
    page.dataset_combo.setCurrentIndex(page.dataset_combo.findData("by_sender"))
    qtbot.waitUntil(lambda: page.auto_box.auto is not None, timeout=60_000)
    automatic = int(page.auto_box.auto.values["epochs"])
    assert page.epochs.value() == automatic
    page.privacy.enabled.setChecked(True)
    page.privacy.person.setCurrentIndex(page.privacy.person.findData("sender"))
    qtbot.waitUntil(lambda: page.people.count == 8, timeout=30_000)
    assert page.epochs.value() == 4 * automatic
    # A quarter of the people the split puts in training, rounded up: what the engine's own
    # plan (the CLI's dry run) chooses for the same data, not a guess at 80% of them.
    from engine.training.plan import plan_training

    plan = plan_training(window.context.workspace, "by_sender", {"dp": True, "dp_person_column": "sender"},
                         model_path=str(tiny_model_dir))
    assert 0 < page.people.training < page.people.count
    assert page.privacy.logical_batch.value() == plan.config.dp_logical_batch_size == -(-page.people.training // 4)
    assert page.privacy.person_note.text().startswith(
        f"8 people in column 'sender' ({page.people.training} of them in training); ")
    page.privacy.person.setCurrentIndex(0)  # each row again: epochs and batch for the rows
    assert page.epochs.value() == automatic and page.privacy.logical_batch.value() == 8
    page.privacy.person.setCurrentIndex(page.privacy.person.findData("sender"))
    qtbot.waitUntil(lambda: page.epochs.value() == 4 * automatic, timeout=30_000)
    page.privacy.enabled.setChecked(False)
    assert page.epochs.value() == automatic
    typed = automatic + 1  # neither the automatic nor the per-person number
    page.epochs.setValue(typed)  # the user's own number stays, whatever is chosen after
    page.privacy.enabled.setChecked(True)
    qtbot.waitUntil(lambda: page.people.count == 8, timeout=30_000)
    assert page.epochs.value() == typed


def test_a_dataset_imported_again_under_its_name_is_counted_again(qtbot, window, spam_csv,
                                                                  tiny_model_dir: Path, tmp_path: Path) -> None:
    import csv

    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset

    _store(window, _with_sender(spam_csv, tmp_path), name="by_sender")
    page = _prepare(window, tiny_model_dir, epochs=1)
    page.dataset_combo.setCurrentIndex(page.dataset_combo.findData("by_sender"))
    page.privacy.enabled.setChecked(True)
    page.privacy.person.setCurrentIndex(page.privacy.person.findData("sender"))
    qtbot.waitUntil(lambda: page.people.count == 8, timeout=30_000)
    with open(_with_sender(spam_csv, tmp_path), encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    fewer = tmp_path / "fewer.csv"
    with open(fewer, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *([*row[:-1], row[-1][:-1]] for row in rows)])
    imported = read_table(fewer)  # the senders' last digit cut: 8 senders become 1
    save_dataset(window.context.workspace, "by_sender", imported, infer_mapping(imported), overwrite=True)
    window.context.datasets_changed.emit()
    assert page.dataset_combo.currentData() == "by_sender"
    qtbot.waitUntil(lambda: page.people.count == 1, timeout=30_000)
    assert page.privacy.person_note.text().startswith("1 person in column 'sender';")


def test_protecting_people_by_a_column_trains_per_person(qtbot, window, spam_csv, tiny_model_dir: Path,
                                                         tmp_path: Path) -> None:
    """The "Protect" choice lists the columns that can name a person (not the text or the label)
    and a run with one of them is accounted per person."""
    from engine.runs import load_run

    _store(window, _with_sender(spam_csv, tmp_path), name="by_sender")
    page = _prepare(window, tiny_model_dir, epochs=1)
    page.dataset_combo.setCurrentIndex(page.dataset_combo.findData("by_sender"))
    dp = page.privacy
    dp.enabled.setChecked(True)
    assert [dp.person.itemData(i) for i in range(dp.person.count())] == [None, "sender"]
    assert "all of their rows" in dp.person.toolTip()
    assert dp.logical_batch.value() == 8  # automatic for 32 training rows: a quarter of them
    dp.person.setCurrentIndex(dp.person.findData("sender"))
    # The people are counted from the dataset, and the automatic logical batch follows them.
    qtbot.waitUntil(lambda: page.people.count == 8, timeout=30_000)
    assert page._rows() == 8 and dp.logical_batch.value() == -(-page.people.training // 4)
    assert dp.batch_label.text() == "People per step (logical batch):"
    dp.logical_batch.setValue(2)
    dp.accountant.setCurrentIndex(dp.accountant.findData("rdp"))
    assert page.config_options()["dp_person_column"] == "sender"
    with qtbot.waitSignal(page.training_ended, timeout=180_000) as ended:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert isinstance(ended.args[0], Finished), ended.args[0]
    ws = window.context.workspace
    privacy = load_run(ws, ended.args[0].run_id).privacy
    from engine.data.store import load_dataset
    from engine.training.prepare import person_ids, split_rows

    stored = load_dataset(ws, "by_sender")
    people = person_ids(stored, "sender")
    train, _, _ = split_rows(stored.labels, seed=13, people=people)
    assert privacy["unit"].startswith("one person")
    assert privacy["privacy_units"] == len({people[i] for i in train}) < 8  # the training people
    assert privacy["training_rows"] == len(train)
    # The run list says that a test split of whole people measures less than its rows suggest.
    window.show_page("runs")
    runs = window.runs_page
    listed = next(r for r in range(runs.table.rowCount())
                  if runs.table.item(r, 0).text() == ended.args[0].run_id)
    record = load_run(ws, ended.args[0].run_id)
    assert 1 <= record.test_effective_rows <= record.test_rows
    assert runs.table.item(listed, 5).toolTip().endswith(
        f"on {record.test_rows:,} test rows grouped by person, worth about "
        f"{record.test_effective_rows:,.0f} independent rows")
    # A run recorded before the effective rows were kept: the caveat, and how to measure it.
    from engine.runs import save_run

    save_run(ws, record.updated(test_effective_rows=None))
    runs.refresh()
    listed = next(r for r in range(runs.table.rowCount())
                  if runs.table.item(r, 0).text() == record.run_id)
    assert runs.table.item(listed, 5).toolTip().endswith(
        f"the true interval is wider; `cloister evaluate {record.run_id}` measures it)")
    runs.select_runs([record.run_id])
    runs.compare_selected()  # the comparison reads the stored report instead, which knows
    heads = [runs.compare_table.verticalHeaderItem(r).text() for r in range(runs.compare_table.rowCount())]
    assert "grouped by person, worth about" in runs.compare_table.item(heads.index("Accuracy"), 0).toolTip()
    assert "protecting each person (column 'sender')" in \
        runs.compare_table.item(heads.index("Privacy (DP)"), 0).toolTip()


def test_the_automatic_settings_box_lists_the_dp_settings_with_why(qtbot, window, spam_csv,
                                                                   tiny_model_dir: Path) -> None:
    _store(window, spam_csv)
    window.show_page("train")
    page = window.train_page
    assert page.set_model_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: page.auto_box.label.text().startswith("Chosen for"), timeout=60_000)
    plain = page.auto_box.label.text()
    assert "Learning rate = " in plain and "With differential privacy" not in plain
    plain_warmup = page.advanced.warmup.value()
    assert plain_warmup == 0.1 and "Warm-up ratio = 0.1: " in plain  # few steps: a longer ramp
    # The warm-up follows the epochs and batch the user types, as `train --epochs N --dry-run`.
    auto_epochs, auto_batch = page.epochs.value(), page.batch_size.value()
    page.batch_size.setValue(1)
    page.epochs.setValue(100)
    steps = int(page._rows() * 0.8) * 100
    assert steps >= 1_000 and page.advanced.warmup.value() == 0.06  # many steps: 6%
    assert f"Warm-up ratio = 0.06: {steps:,} optimizer steps" in page.auto_box.label.text()
    page.epochs.setValue(auto_epochs)
    page.batch_size.setValue(auto_batch)
    assert page.advanced.warmup.value() == plain_warmup and page.auto_box.label.text() == plain
    page.advanced.class_weights.setChecked(True)
    page.privacy.enabled.setChecked(True)
    text = page.auto_box.label.text()
    assert "With differential privacy:" in text
    for name in ("Learning rate = 5e-3", "Clipping norm C = 0.1", "Rows per step = ",
                 "Train = top-2", "Class weights = off: differential privacy"):
        assert name in text.split("With differential privacy:")[1], name
    assert "learning_rate" not in text.split("With differential privacy:")[0]  # replaced, not twice
    # DP's warm-up counts its noisy steps, and is the 6% every DP figure was measured with.
    assert "warmup_ratio" not in text.split("With differential privacy:")[0]
    assert "Warm-up ratio = 0.06: " in text and "noisy steps in all" in text
    assert page.advanced.warmup.value() == 0.06 and page.config_options()["warmup_ratio"] == 0.06
    # DP refuses per-row weights: the box is off-limits and the run would not ask for them.
    assert not page.advanced.class_weights.isEnabled()
    assert page.config_options()["class_weights"] is False
    page.privacy.trainable.setCurrentIndex(page.privacy.trainable.findData("lora"))
    assert "Learning rate = 2e-2: differential privacy with LoRA" in page.auto_box.label.text()
    # What the user chose is said to be theirs, not shown as if the automatic value applied.
    assert "Train: set by you (automatic would be top-2)" in page.auto_box.label.text()
    automatic_batch = page.privacy.logical_batch.value()
    page.privacy.logical_batch.setValue(4)  # said at once, not at the next measurement
    assert (f"Rows per step: set by you (automatic would be {automatic_batch})"
            in page.auto_box.label.text())
    assert page.config_options()["dp_logical_batch_size"] == 4
    page.privacy.enabled.setChecked(False)
    # The box ticked before DP is the user's own: said so as soon as it applies again.
    assert "Class weights: set by you (automatic would be off)" in page.auto_box.label.text()
    assert page.advanced.class_weights.isEnabled()
    assert page.advanced.warmup.value() == plain_warmup  # the plain one back
    assert page.config_options()["class_weights"] is True
    page.advanced.class_weights.setChecked(False)
    assert page.auto_box.label.text() == plain


def test_the_settings_column_fits_its_width_with_dp_on(qtbot, window, spam_csv, tmp_path: Path) -> None:
    """Long choices ("Each person, named by column '…'") once widened the fixed settings column
    past its width: a horizontal scroll bar, and labels and buttons cut off at the right."""
    from PySide6.QtWidgets import QScrollArea

    _store(window, _with_sender(spam_csv, tmp_path), name="by_sender")
    window.show_page("train")
    page = window.train_page
    page.dataset_combo.setCurrentIndex(page.dataset_combo.findData("by_sender"))
    page.privacy.enabled.setChecked(True)
    page.privacy.person.setCurrentIndex(page.privacy.person.findData("sender"))
    scroll = page.findChild(QScrollArea)
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    qtbot.waitUntil(lambda: not scroll.horizontalScrollBar().isVisible(), timeout=5_000)
    # What the shrunken combo cuts off is in its choice's tooltip and in the note under it.
    person = page.privacy.person
    assert person.itemData(person.currentIndex(), Qt.ItemDataRole.ToolTipRole) == \
        "Each person, named by column 'sender'"
    assert person.currentText() == "Each person ('sender')"  # short enough not to be cut
    assert "any one person's rows ('sender')" in page.privacy.meaning.text()  # ε said of people
    qtbot.waitUntil(lambda: "in column 'sender'" in page.privacy.person_note.text(), timeout=30_000)
    assert page.privacy.person_note.isVisibleTo(page)
    # Each row protected while a column sounds like people: said, with the way to protect them.
    person.setCurrentIndex(0)
    qtbot.waitUntil(lambda: "Column 'sender' may say who each row is about" in
                    page.privacy.person_note.text(), timeout=10_000)
    assert "any one row" in page.privacy.meaning.text()


def test_columns_that_name_a_person_are_offered_first(qapp) -> None:  # noqa: ANN001
    from desktop.pages.train_privacy import PrivacySettings

    dp = PrivacySettings()
    dp.set_columns(["Complaint ID", "Date received", "customer_id", "Timely response?", "patientID", "paid"])
    offered = [dp.person.itemData(i) for i in range(dp.person.count())]
    # Every column is still offered; those that sound like a person's id come first, in order
    # (a "Complaint ID" is one per row, not a person).
    assert offered == [None, "customer_id", "patientID", "Complaint ID", "Date received",
                       "Timely response?", "paid"]


def test_the_people_counted_for_training_are_split_as_a_multi_label_run_splits(tmp_path) -> None:
    # The Train page counted them on the label strings' split, the run on its rarest-label one:
    # 151 people against 149, and its automatic DP settings differed from the CLI's.
    import random

    import pyarrow as pa

    from desktop.jobs import count_people
    from engine.data.columns import ColumnMapping
    from engine.data.importing.table import ImportedTable
    from engine.data.store import load_dataset, save_dataset
    from engine.training.config import TrainConfig
    from engine.training.plan import training_split
    from engine.training.prepare import person_ids, split_strata
    from tests.engine.test_splits import _multi_label_rows
    from tests.engine.tiny_model import make_workspace

    ws = make_workspace(tmp_path / "ws")
    labels = _multi_label_rows(600)
    rng = random.Random(2)
    table = pa.table({"text": [f"note {i}" for i in range(600)], "label": labels,
                      "person": [f"p{rng.randrange(200)}" for _ in range(600)]})
    save_dataset(ws, "tickets", ImportedTable(table=table, source=tmp_path / "t.csv", format="csv"),
                 ColumnMapping(text_columns=("text",), label_column="label"), label_delimiter="|")
    stored = load_dataset(ws, "tickets")
    people = person_ids(stored, "person")
    run = TrainConfig(dataset="tickets", multi_label=True, label_delimiter="|")
    as_the_run = training_split(split_strata(stored.labels, run), 13, people)[1]
    assert count_people(ws, "tickets", "person", 13) == (len(set(people)), as_the_run)
    assert as_the_run != training_split(stored.labels, 13, people)[1]  # the two rules differ here
