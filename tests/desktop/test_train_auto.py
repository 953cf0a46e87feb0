"""Train page: automatic settings chosen from the dataset fill the fields and say why."""
from __future__ import annotations

import re
from pathlib import Path

from engine.data.columns import ColumnMapping
from engine.data.importing import ImportedTable
from engine.data.store import save_dataset
from tests.engine.tiny_model import toy_rows


def _store_toy(workspace, rows: int = 100, name: str = "toy") -> None:  # noqa: ANN001
    import pyarrow as pa

    texts, labels = toy_rows(rows, seed=3)
    imported = ImportedTable(table=pa.table({"text": texts, "label": labels}),
                             source=Path("toy.csv"), format="csv")
    save_dataset(workspace, name, imported, ColumnMapping(("text",), "label"))


def test_untouched_fields_get_the_automatic_settings_and_changed_ones_stay(qtbot, window, tiny_model_dir):
    page = window.train_page
    _store_toy(window.context.workspace)
    page.epochs.setValue(7)  # the user's own choice: must survive the automatic fill
    page.refresh_datasets()
    assert page.set_model_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: page.auto_box.auto is not None and "Chosen for toy" in page.auto_box.label.text(),
                    timeout=60_000)
    qtbot.waitUntil(lambda: page.auto_box._job is None or not page.auto_box._job.is_running(), timeout=60_000)
    text = page.auto_box.label.text()
    assert "Epochs: set by you (automatic would be 10)" in text
    assert re.search(r"Learning rate = 1e-4: a small model \(\d+K parameters\) and under 20,000 "
                     "training rows: few steps, so each one larger", text)
    assert page.epochs.value() == 7
    assert page.learning_rate.currentText() == "1e-4"
    assert page.max_length.value() == page.auto_box.auto.values["max_length"] <= 64
    assert abs(page.advanced.warmup.value() - 0.1) < 1e-9
    options = page.config_options()
    assert options["learning_rate"] == 1e-4 and options["epochs"] == 7
    assert "eval_every_steps" in options
    qtbot.waitUntil(lambda: page.estimate_label.text().startswith(("About", "Under 1 s")), timeout=60_000)
    # The user's own value, changed to exactly the automatic one, reads as the automatic choice.
    page.epochs.setValue(10)
    text = page.auto_box.label.text()
    assert "Epochs = 10:" in text and "Epochs: set by you" not in text
    page.epochs.setValue(9)
    assert "Epochs: set by you (automatic would be 10)" in page.auto_box.label.text()


def test_tiny_data_gets_a_batch_it_can_fill_and_other_data_the_usual_one(qtbot, window, tiny_model_dir):
    page = window.train_page
    _store_toy(window.context.workspace, rows=12, name="tiny")
    _store_toy(window.context.workspace)
    page.refresh_datasets()
    assert page.set_model_folder(tiny_model_dir)

    def choose(name: str) -> None:
        page.dataset_combo.setCurrentIndex(page.dataset_combo.findData(name))
        qtbot.waitUntil(lambda: f"Chosen for {name}" in page.auto_box.label.text(), timeout=60_000)

    choose("tiny")
    assert page.batch_size.value() == 4  # small batches: several steps an epoch
    assert "Batch size = 4: " in page.auto_box.label.text()
    assert "training rows: batches of 4 give 2 steps an epoch" in page.auto_box.label.text()
    choose("toy")
    assert page.batch_size.value() == 16 and "Batch size =" not in page.auto_box.label.text()
    page.batch_size.setValue(6)  # the user's own batch stays, whatever is chosen after
    choose("tiny")
    assert page.batch_size.value() == 6


def test_the_fields_the_automatic_settings_filled_say_so_beside_them(qtbot, window, tiny_model_dir):
    page = window.train_page
    _store_toy(window.context.workspace)
    page.epochs.setValue(7)  # the user's own: not marked as automatic
    page.refresh_datasets()
    assert page.set_model_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: page.auto_box.auto is not None and "Chosen for toy" in page.auto_box.label.text(),
                    timeout=60_000)
    box = page.auto_box
    rate_label, epochs_label = box._label_for(page.learning_rate), box._label_for(page.epochs)
    assert rate_label.text() == "Learning rate:" and epochs_label.text() == "Epochs:"
    assert rate_label.property("auto") is True
    assert page.learning_rate.toolTip().startswith("Chosen from the data: Learning rate = 1e-4: ")
    assert not epochs_label.property("auto")
    assert page.epochs.toolTip() == "Epochs: set by you (automatic would be 10)"
    assert page.advanced.class_weights.property("auto") is True  # a checkbox is its own label
    page.learning_rate.setCurrentText("3e-5")  # the user takes the rate over: no longer marked
    assert not rate_label.property("auto") and "set by you" in page.learning_rate.toolTip()
    warmup_label = box._label_for(page.advanced.warmup)
    assert warmup_label.property("auto") is True
    # The stylesheet's rule gives a filled field's label the link colour, an unmarked one none.
    shown = {label: label.grab().toImage() for label in (warmup_label, epochs_label)}
    colours = {label: {image.pixelColor(x, y).name() for x in range(image.width())
                       for y in range(image.height())} for label, image in shown.items()}
    link = warmup_label.palette().color(warmup_label.palette().ColorRole.Link).name()
    assert link in colours[warmup_label] and link not in colours[epochs_label]


def test_long_texts_can_be_read_in_windows_from_the_train_page(qtbot, window, tiny_model_dir):
    from PySide6.QtCore import Qt

    from engine.events import Finished
    from engine.runs import load_run
    from engine.training.windows import WINDOW_OVERLAP_KEY
    from engine.models.weights import load_config
    from tests.engine.test_long_texts import late_cue_rows

    texts, labels = late_cue_rows(60, seed=4)  # 33 tokens each: cut at 16, 3 windows
    page = _late_on_the_page(qtbot, window, tiny_model_dir, texts, labels)
    page.max_length.setValue(16)
    assert "• Long texts: 100% are cut at 16 tokens; Advanced → Long texts can read them in " \
           "windows, about 3.00 a text" in page.auto_box.label.text()
    combo = page.advanced.long_texts
    page.batch_size.setValue(1)  # 48 training rows x 10 epochs: 480 steps cut, 1,440 in windows
    assert abs(page.advanced.warmup.value() - 0.1) < 1e-9  # under 1,000 steps: the longer ramp
    combo.setCurrentIndex(combo.findData("windows"))
    text = page.auto_box.label.text()
    assert "• Long texts: read in windows of 16 tokens, about 3.00 a text" in text
    assert page.config_options()["long_texts"] == "windows"
    # The warm-up field follows the steps the windows make, as the box says it does.
    said = float(text.split("Warm-up ratio = ")[1].split(":")[0])
    assert said == 0.06 and abs(page.advanced.warmup.value() - said) < 1e-9
    page.privacy.enabled.setChecked(True)  # DP cannot take several examples of one row
    assert not combo.isEnabled() and page.config_options()["long_texts"] == "cut"
    assert combo.currentData() == "cut"  # shown as what the run will do
    assert not page.advanced.class_weights.property("auto")  # DP turns them off, not the data
    page.privacy.enabled.setChecked(False)
    assert combo.isEnabled() and combo.currentData() == "windows"
    assert page.config_options()["long_texts"] == "windows"
    page.epochs.setValue(1)
    with qtbot.waitSignal(page.training_ended, timeout=120_000) as ended:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert isinstance(ended.args[0], Finished), ended.args[0]
    run_id = ended.args[0].run_id
    assert load_run(window.context.workspace, run_id).config["long_texts"] == "windows"
    config = load_config(window.context.workspace, f"runs/{run_id}/model")
    assert getattr(config, WINDOW_OVERLAP_KEY) == 4


def test_with_windows_the_max_length_reason_says_longer_texts_are_read_not_cut(qtbot, window,
                                                                              tiny_model_dir):
    """The reason said texts "are cut there (their start is kept)" beside "Long texts: read in
    windows", as the dry run did."""

    from tests.engine.test_long_texts import late_cue_rows

    texts, labels = late_cue_rows(60, seed=4)
    texts[0] = " ".join(["the"] * 200) + " good"  # longer than the automatic max length
    page = _late_on_the_page(qtbot, window, tiny_model_dir, texts, labels)

    def reason() -> str:
        return page.auto_box.label.text().split("Max length = ")[1].splitlines()[0]

    assert reason().endswith("; 2% are cut")
    combo = page.advanced.long_texts
    combo.setCurrentIndex(combo.findData("windows"))
    assert reason().endswith("; 2% are longer, read in windows") and "cut" not in reason()
    assert "read in windows" in page.max_length.toolTip()


def test_the_page_validates_and_warms_up_on_the_steps_the_dry_run_counts(qtbot, window, tiny_model_dir):
    """With windows and a batch of 1 the page said "Validation every = each epoch end: 5 steps
    per epoch" (the usual batch, texts cut) and the run validated once in 1,112 steps, where the
    dry run validated 4 times an epoch; its warm-up counted 80% of the rows, not the split's."""
    import pyarrow as pa

    from engine.training.plan import plan_training
    from tests.engine.test_long_texts import late_cue_rows

    # 33 tokens each: 3 windows of 16; the split trains on 401 rows, 80% of them is 399
    texts, labels = late_cue_rows(499, seed=4)
    imported = ImportedTable(table=pa.table({"text": texts, "label": labels}),
                             source=Path("late.csv"), format="csv")
    ws = window.context.workspace
    save_dataset(ws, "late", imported, ColumnMapping(("text",), "label"))
    page = window.train_page
    page.refresh_datasets()
    assert page.set_model_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: "Chosen for late" in page.auto_box.label.text(), timeout=60_000)
    page.max_length.setValue(16)
    page.batch_size.setValue(1)
    combo = page.advanced.long_texts
    combo.setCurrentIndex(combo.findData("windows"))
    dry = plan_training(ws, "late", {"max_length": 16, "batch_size": 1, "long_texts": "windows"},
                        model_path=str(tiny_model_dir)).config
    options = page.config_options()
    assert dry.eval_every_steps == 3 * 401 // 4  # 3 x 399 made 299
    assert options["eval_every_steps"] == dry.eval_every_steps
    assert abs(options["warmup_ratio"] - dry.warmup_ratio) < 1e-9
    text = page.auto_box.label.text()
    assert f"Validation every = {dry.eval_every_steps:,}: " in text and "validate 4 times an epoch" in text
    combo.setCurrentIndex(combo.findData("cut"))  # a third of the steps: at each epoch end
    assert page.config_options()["eval_every_steps"] is None
    assert "Validation every = each epoch end: 401 steps per epoch" in page.auto_box.label.text()


def test_start_waits_for_the_chosen_settings_of_the_dataset_picked(qtbot, window, tiny_model_dir,
                                                                   monkeypatch):
    # Picking a large dataset left the previous one's settings in the fields for 90 s, and
    # Start trained with them.
    import threading

    import desktop.jobs

    page = window.train_page
    _store_toy(window.context.workspace, rows=12, name="tiny")
    _store_toy(window.context.workspace)
    page.refresh_datasets()
    assert page.set_model_folder(tiny_model_dir)
    page.dataset_combo.setCurrentIndex(page.dataset_combo.findData("tiny"))
    qtbot.waitUntil(lambda: "Chosen for tiny" in page.auto_box.label.text(), timeout=60_000)
    release = threading.Event()
    real = desktop.jobs.auto_settings

    def slow(*args):  # noqa: ANN002 - a large dataset, measured for a while
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(desktop.jobs, "auto_settings", slow)
    page.dataset_combo.setCurrentIndex(page.dataset_combo.findData("toy"))
    qtbot.waitUntil(page.auto_box.holds_another_datasets, timeout=10_000)
    page.start()
    assert not page.is_running()  # not with tiny's settings
    assert "Choosing the settings for toy from its rows first" in page.message.text()
    release.set()
    qtbot.waitUntil(page.is_running, timeout=60_000)  # then with toy's, by itself
    assert page.auto_box.auto is not None and "Chosen for toy" in page.auto_box.label.text()
    page.cancel()
    qtbot.waitUntil(lambda: not page.is_running(), timeout=60_000)


def test_a_language_the_base_model_cannot_read_is_said_first(qtbot, window, tiny_model_dir):
    import pyarrow as pa

    page = window.train_page
    imported = ImportedTable(table=pa.table({"text": [f"请问营业时间是几点{i}" for i in range(40)],
                                             "label": ["咨询", "投诉"] * 20}),
                             source=Path("zh.csv"), format="csv")
    save_dataset(window.context.workspace, "zh", imported, ColumnMapping(("text",), "label"))
    page.refresh_datasets()
    assert page.set_model_folder(tiny_model_dir)
    page.dataset_combo.setCurrentIndex(page.dataset_combo.findData("zh"))
    qtbot.waitUntil(lambda: "Chosen for zh" in page.auto_box.label.text(), timeout=60_000)
    lines = page.auto_box.label.text().splitlines()
    # The first thing said, in the app's words: the eighth bullet sat below the fold and named
    # a command-line flag.
    assert lines[1].startswith("⚠ the base model does not know 100% of this data's words")
    assert lines[1].endswith("choose it under Base model.") and "--model" not in lines[1]


def test_data_too_small_to_hold_rows_out_is_said_before_training(qtbot, window, tiny_model_dir):
    # The bullets promised early stopping and the best checkpoint kept, neither possible with
    # no validation rows; only the finish said there were no test rows.
    import pyarrow as pa

    texts, labels = toy_rows(8, seed=3)
    labels = [f"class {i // 2}" for i in range(8)]  # four classes of two rows
    imported = ImportedTable(table=pa.table({"text": texts, "label": labels}),
                             source=Path("pairs.csv"), format="csv")
    save_dataset(window.context.workspace, "pairs", imported, ColumnMapping(("text",), "label"))
    _store_toy(window.context.workspace)
    page = window.train_page
    page.refresh_datasets()
    assert page.set_model_folder(tiny_model_dir)
    for name, said in (("pairs", True), ("toy", False)):
        page.dataset_combo.setCurrentIndex(page.dataset_combo.findData(name))
        qtbot.waitUntil(lambda: f"Chosen for {name}" in page.auto_box.label.text(), timeout=60_000)
        text = page.auto_box.label.text()
        assert ("⚠ no rows are held out for validation or testing: a class gives one row to "
                "validation and one to testing only from 3 rows up" in text) is said
        assert ("score the run on another labelled dataset on the Results page" in text) is said


def _late_on_the_page(qtbot, window, tiny_model_dir, texts, labels):
    """The rows stored as dataset "late", chosen on the Train page with the tiny model."""
    import pyarrow as pa

    imported = ImportedTable(table=pa.table({"text": texts, "label": labels}),
                             source=Path("late.csv"), format="csv")
    save_dataset(window.context.workspace, "late", imported, ColumnMapping(("text",), "label"))
    page = window.train_page
    page.refresh_datasets()
    assert page.set_model_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: "Chosen for late" in page.auto_box.label.text(), timeout=60_000)
    return page
