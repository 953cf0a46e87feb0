"""A multi-label run (trained from the CLI) on the Results and Try it pages: what each page says
fits a model whose every label is a yes/no of its own."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

LABELS = ("toxic", "obscene", "insult")


@pytest.fixture
def multi_label_run(window, tiny_model_dir: Path, tmp_path: Path) -> str:  # noqa: ANN001
    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset
    from engine.events import Finished
    from engine.training import TrainConfig, train

    combos = ["billing", "tech", "billing|tech", "refund", "refund|billing"]
    source = tmp_path / "tickets.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "tags"), *[(f"ticket {i} about {combos[i % 5]}", combos[i % 5])
                                                          for i in range(60)]])
    imported = read_table(source)
    ws = window.context.workspace
    save_dataset(ws, "tickets", imported, infer_mapping(imported))
    events = list(train(ws, TrainConfig(dataset="tickets", model_path=str(tiny_model_dir), epochs=1,
                                        batch_size=8, max_length=32, multi_label=True)))
    assert isinstance(events[-1], Finished), events[-1]
    return events[-1].run_id


def test_results_call_accuracy_an_exact_match_and_show_no_confusion_matrix(qtbot, window,
                                                                           multi_label_run: str) -> None:
    window.show_page("results")
    results = window.results_page
    results.refresh_runs()
    results.show_run(multi_label_run)
    card = results.cards["accuracy"]
    assert card.caption.text() == "Exact match (every label)" and "all predicted right" in card.toolTip()
    assert "exact-match accuracy 95% interval" in results.summary.text()
    assert results.heatmap.matrix() == [] and results.heatmap.placeholder.startswith("Multi-label run")
    assert [results.per_class.item(r, 0).text() for r in range(results.per_class.rowCount())] == \
        ["billing", "refund", "tech"]
    assert "misclassified test row" in results.filter_label.text()
    assert "confusion cell" not in results.filter_label.text()  # there is no matrix to click


def test_try_it_lists_every_label_at_the_threshold(qtbot, window, multi_label_run: str) -> None:
    from desktop.pages.tryit import answer_text
    from engine.evaluation.prediction import Prediction

    window.show_page("tryit")
    tryit = window.tryit_page
    tryit.refresh_runs()
    tryit.select_run(multi_label_run)
    qtbot.waitUntil(lambda: tryit.predictor is not None, timeout=60_000)
    with qtbot.waitSignal(tryit.prediction_shown, timeout=30_000):
        qtbot.keyClicks(tryit.text, "ticket about billing and tech")
    bars = dict(tryit.bars.values())
    assert set(bars) == {"billing", "refund", "tech"}  # each its own yes/no: they need not sum to 1
    answer = tryit.answer.text()
    assert "every label at 50% or more" in answer or answer.startswith("No label reaches 50%")
    # The two answers, on predictions made by hand:
    two = Prediction("billing|tech", 0.9, {"billing": 0.9, "tech": 0.6, "refund": 0.1}, ("billing", "tech"))
    assert answer_text(two, True, 0.5) == "<b>billing</b> (90%), <b>tech</b> (60%) — every label at 50% or more"
    # The labels of a prediction come in the labels' order; the answer says the likeliest first.
    flipped = Prediction("billing|tech", 0.9, {"tech": 0.9, "billing": 0.6}, ("billing", "tech"))
    assert answer_text(flipped, True, 0.5).startswith("<b>tech</b> (90%), <b>billing</b> (60%)")
    none = Prediction("", 0.3, {"billing": 0.3, "tech": 0.2}, ())
    assert answer_text(none, True, 0.5) == "No label reaches 50%: the likeliest is billing at 30.0%"
    assert answer_text(Prediction("spam", 0.8, {"spam": 0.8}, ("spam",)), False, 0.5) == \
        "<b>spam</b> — 80.0% confident"


def test_the_train_page_trains_a_dataset_imported_as_multi_label_as_one(qtbot, window, tiny_model_dir: Path,
                                                                        tmp_path: Path) -> None:
    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset

    source = tmp_path / "tags.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "tags"), *[(f"t {i}", ["a", "b", "a|b"][i % 3]) for i in range(30)]])
    imported = read_table(source)
    save_dataset(window.context.workspace, "tags", imported, infer_mapping(imported), label_delimiter="|")
    window.context.datasets_changed.emit()
    window.show_page("train")
    page = window.train_page
    page.select_dataset("tags")
    assert page.set_model_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: page.auto_box.label.text().startswith("Chosen for tags"), timeout=60_000)
    assert "multi-label: a yes/no for each label" in page.auto_box.label.text()
    options = page.config_options()
    assert options["multi_label"] is True and options["label_delimiter"] == "|"
    # Another dataset chosen: at once (before it is measured) nothing of the last one is left.
    save_dataset(window.context.workspace, "plain", imported, infer_mapping(imported))
    window.context.datasets_changed.emit()
    page.select_dataset("plain")
    assert "multi_label" not in page.config_options() and "eval_every_steps" not in page.config_options()
    page.select_dataset("tags")
    assert page.config_options()["multi_label"] is True  # before its measuring is done, too


def _open_tickets(qtbot, window, source: Path, combos: list[str], rows: int, odd: tuple[str, str]):  # noqa: ANN001, ANN202
    """Write ``rows`` tickets cycling through the label cells ``combos`` and one ``odd`` row,
    drop the file on the window and wait for its draft; the Datasets page."""
    from tests.desktop.helpers import drop_files

    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "tags"), *[(f"ticket {i}", combos[i % len(combos)])
                                                          for i in range(rows)], odd])
    page = window.datasets_page
    drop_files(window, source)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    return page


def test_several_labels_a_row_imported_from_the_datasets_page(qtbot, window, tmp_path: Path) -> None:
    """Labels joined with '|': the page says so; one click counts them label by label, the fixes
    that drop rows by class are withdrawn, and the dataset is stored as multi-label."""
    from PySide6.QtCore import Qt

    from engine.data.store import dataset_info
    from tests.desktop.helpers import drop_files

    source = tmp_path / "tickets.csv"
    page = _open_tickets(qtbot, window, source, ["billing", "tech", "billing|tech", "refund|billing", "refund"],
                         20, ("one odd ticket", "tech|urgent"))
    # Read whole, 'tech|urgent' is a class of one row: an error with its own fix.
    assert page.draft.blocking() and any("into 'other'" in b.text() for b in page.fixes_panel.buttons)
    hint = next(i for i in range(page.problems.count())
                if page.problems.item(i).data(Qt.ItemDataRole.UserRole).code == "looks-multi-label")
    assert "tick “Several labels per row”" in page.problems.item(hint).text()
    first = page.draft
    page._on_problem_clicked(page.problems.item(hint))  # a click on the hint ticks the box
    qtbot.waitUntil(lambda: page.draft is not first, timeout=30_000)
    assert page.multi_box.isChecked() and page.draft.label_delimiter == "|"
    assert page.chart.values() == [("billing", 12), ("tech", 9), ("refund", 8), ("urgent", 1)]
    # 'urgent' alone is still too small, but dropping its rows would drop their 'tech' too.
    assert page.draft.blocking() and not page.fixes_panel.buttons
    page.multi_box.setChecked(False)
    qtbot.waitUntil(lambda: page.draft.label_delimiter is None, timeout=30_000)
    assert ("billing|tech", 4) in page.chart.values()

    source.write_text(source.read_text(encoding="utf-8").replace("tech|urgent", "tech"), encoding="utf-8")
    unticked = page.draft
    drop_files(window, source)
    qtbot.waitUntil(lambda: page.draft is not unticked, timeout=30_000)
    assert not page.multi_box.isChecked()  # a new file starts as one label a row
    checked = page.draft
    page.multi_box.setChecked(True)
    qtbot.waitUntil(lambda: page.draft is not checked and page.import_button.isEnabled(), timeout=30_000)
    page.name_edit.setText("tickets")
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    info = dataset_info(page.workspace, "tickets")
    assert info.label_delimiter == "|" and info.labels == {"billing": 12, "tech": 9, "refund": 8}


def test_several_labels_a_row_refused_after_a_fix_by_class(qtbot, window, tmp_path: Path) -> None:
    """A class fix made while each cell was one label (the one-row class 'tech|urgent' dropped)
    would have dropped that row's 'tech' too: ticking the box then is refused, and the draft and the
    box stay as they were. A delimiter typed but not yet checked is checked before importing."""
    from engine.data.store import dataset_info
    from tests.desktop.helpers import drop_files

    source = tmp_path / "tickets.csv"
    page = _open_tickets(qtbot, window, source, ["billing", "tech", "billing|tech"], 12, ("odd one", "tech|urgent"))
    merged = page.draft
    page.apply_fix(next(o for o in page.draft.fix_options if o.label == "Drop classes under 2 rows"))
    qtbot.waitUntil(lambda: page.draft is not merged, timeout=30_000)
    fixed = page.draft
    assert [s["kind"] for s in fixed.history] == ["small-classes"]
    page.multi_box.setChecked(True)
    qtbot.waitUntil(lambda: "already changed class by class (dropped " in page.status.text(),
                    timeout=30_000)
    assert page.draft is fixed and not page.multi_box.isChecked()

    # The same file without the odd row: ';' typed while the box is ticked, never confirmed.
    source.write_text(source.read_text(encoding="utf-8").replace("odd one,tech|urgent", "odd one,tech")
                      .replace("|", ";"), encoding="utf-8")
    drop_files(window, source)
    qtbot.waitUntil(lambda: page.draft is not fixed and not page.draft.history, timeout=30_000)
    plain = page.draft
    page.multi_box.blockSignals(True)
    page.multi_box.setChecked(True)
    page.multi_box.blockSignals(False)
    page.delimiter_edit.setText(";")
    page.name_edit.setText("tickets")
    page.import_draft()  # checks the typed delimiter first instead of storing "billing;tech" rows
    qtbot.waitUntil(lambda: page.draft is not plain, timeout=30_000)
    assert page.draft.label_delimiter == ";" and page.stored.rowCount() == 0
    page.import_draft()
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    info = dataset_info(page.workspace, "tickets")
    assert info.label_delimiter == ";" and info.labels == {"billing": 8, "tech": 9}


def test_spellings_of_a_label_merged_label_by_label_from_the_datasets_page(qtbot, window,
                                                                          tmp_path: Path) -> None:
    """With several labels a row, the merge of spellings is offered and applied label by label;
    the page then refused its own fix as one "made class by class"."""
    from engine.data.store import dataset_info

    source = tmp_path / "tickets.csv"
    page = _open_tickets(qtbot, window, source, ["billing", "tech", "Billing|tech", "refund"], 24,
                         ("odd one", "TECH"))
    page.multi_box.setChecked(True)
    qtbot.waitUntil(lambda: page.draft.label_delimiter == "|", timeout=30_000)
    merge = next(o for o in page.draft.fix_options
                 if o.label == "Merge labels that differ only in how they are written")
    before = page.draft
    page.apply_fix(merge)
    qtbot.waitUntil(lambda: page.draft is not before, timeout=30_000)
    assert "already changed class by class" not in page.status.text()
    assert page.draft.label_delimiter == "|" and [s["kind"] for s in page.draft.history] == [
        "merge-label-variants"]
    assert dict(page.chart.values()) == {"billing": 12, "tech": 13, "refund": 6}
    page.name_edit.setText("tickets")
    page.import_draft()
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    assert dataset_info(page.workspace, "tickets").labels == {"billing": 12, "tech": 13, "refund": 6}


def test_several_labels_a_row_survive_a_trip_through_no_label_column(qtbot, window, tmp_path: Path) -> None:
    """Without a label column the multi-label box does not apply: it is greyed but keeps its
    tick, so choosing the label column again reads several labels a row as before."""
    from tests.desktop.helpers import drop_files

    page = _open_tickets(qtbot, window, tmp_path / "tickets.csv", ["billing", "tech", "billing|tech"], 12,
                         ("odd one", "tech"))
    first = page.draft
    page.multi_box.setChecked(True)
    qtbot.waitUntil(lambda: page.draft is not first, timeout=30_000)
    assert page.draft.label_delimiter == "|" and page.multi_box.isEnabled()
    page.label_combo.setCurrentIndex(0)  # "(none: choose the column of labels)", as a user's choice would be
    page.label_combo.activated.emit(0)
    qtbot.waitUntil(lambda: page.draft.label_column is None and page.text_combo.isEnabled(), timeout=30_000)
    assert page.draft.label_delimiter is None
    assert page.multi_box.isChecked() and not page.multi_box.isEnabled() and not page.delimiter_edit.isEnabled()
    page.label_combo.setCurrentIndex(page.label_combo.findData("tags"))
    page.label_combo.activated.emit(page.label_combo.currentIndex())
    qtbot.waitUntil(lambda: page.draft.label_column == "tags", timeout=30_000)
    assert page.draft.label_delimiter == "|" and page.multi_box.isChecked() and page.multi_box.isEnabled()
    assert dict(page.chart.values()) == {"billing": 8, "tech": 9}  # "billing|tech" counted once each
    # Greyed and ticked, the box is not carried over to the next file.
    page.label_combo.setCurrentIndex(0)
    page.label_combo.activated.emit(0)
    qtbot.waitUntil(lambda: page.draft.label_column is None and page.text_combo.isEnabled(), timeout=30_000)
    unlabelled = page.draft
    notes = tmp_path / "notes.csv"  # one text column: no label column to infer
    notes.write_text("note\n" + "".join(f"a note about the weather number {i}\n" for i in range(12)),
                     encoding="utf-8")
    drop_files(window, notes)
    qtbot.waitUntil(lambda: page.draft is not unlabelled and page.text_combo.isEnabled(), timeout=30_000)
    assert page.draft.label_column is None and page.draft.imported.source == notes
    assert not page.multi_box.isChecked() and not page.multi_box.isEnabled()


@pytest.mark.parametrize("typed", ["", "a"])
def test_a_label_separator_that_is_none_is_said_and_nothing_is_read(qtbot, window, tmp_path, typed):
    # Empty, the box was ignored without a word; a letter split "ham" into "h" and "m".
    from tests.desktop.helpers import drop_files

    path = tmp_path / "tags.csv"
    path.write_text("text,label\n" + "".join(f"ticket {i},billing|urgent\n" for i in range(12)),
                    encoding="utf-8")
    page = window.datasets_page
    drop_files(window, path)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    before = page.draft
    page.delimiter_edit.setText(typed)
    page.multi_box.setChecked(True)
    assert page.status.text().startswith("Type the character that separates a row's labels")
    assert page.status.property("error") is True and page.draft is before


@pytest.mark.parametrize("multi_label", [False, True])
def test_try_it_shows_a_label_that_looks_like_a_tag(qtbot, multi_label: bool) -> None:
    """"<none>" is a common label; the answer line is rich text, where it vanished as a tag."""
    from PySide6.QtGui import QTextDocument

    from desktop.pages.tryit import answer_text
    from engine.evaluation.prediction import Prediction

    said = Prediction("<none>", 0.9, {"<none>": 0.9, "b&c": 0.1}, ("<none>",))
    document = QTextDocument()
    document.setHtml(answer_text(said, multi_label, 0.5))
    assert document.toPlainText().startswith("<none>")
    document.setHtml(answer_text(Prediction("", 0.3, {"<none>": 0.3}, ()), True, 0.5))
    assert "the likeliest is <none> at 30.0%" in document.toPlainText()


def test_a_click_on_the_hint_for_labels_joined_with_a_semicolon_reads_them_with_it(
        qtbot, window, tmp_path: Path) -> None:
    """The hint now comes for ';' too; a click on it set '|' (all the hint knew), which read
    'billing;tech' as one label again."""
    from PySide6.QtCore import Qt

    page = _open_tickets(qtbot, window, tmp_path / "semi.csv", ["billing", "tech", "billing;tech"],
                         18, ("one odd ticket", "tech;refund"))
    hint = next(i for i in range(page.problems.count())
                if page.problems.item(i).data(Qt.ItemDataRole.UserRole).code == "looks-multi-label")
    first = page.draft
    page._on_problem_clicked(page.problems.item(hint))
    qtbot.waitUntil(lambda: page.draft is not first, timeout=30_000)
    assert page.multi_box.isChecked() and page.draft.label_delimiter == ";"
    assert dict(page.chart.values()) == {"billing": 12, "tech": 13, "refund": 1}


def test_columns_of_0_1_values_are_read_as_labels_from_the_hint_and_imported(
        qtbot, window, tmp_path: Path) -> None:
    """The Jigsaw layout (a 0/1 column per label): the page picks none of them as a two-class
    label but says what they look like; a click reads them as one label each, several a row,
    an empty cell is named by its column, and the dataset is stored as multi-label."""
    from PySide6.QtCore import Qt

    from engine.data.store import dataset_info
    from tests.desktop.helpers import drop_files

    sets = [("toxic",), ("insult",), ("toxic", "insult", "obscene"), ()]
    rows = [(f"c{i}", f"comment {i}", *(int(label in sets[i % 4]) for label in LABELS))
            for i in range(24)]
    rows[5] = ("c5", "comment 5", "", "0", "1")  # an empty cell, row 6
    source = tmp_path / "comments.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("id", "comment_text", *LABELS), *rows])
    page = window.datasets_page
    drop_files(window, source)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert page.draft.label_column is None and page.draft.blocking()
    hint = next(i for i in range(page.problems.count())
                if page.problems.item(i).data(Qt.ItemDataRole.UserRole).code == "indicator-columns")
    assert "3 columns hold only 0/1 values ('toxic', 'obscene', 'insult')" in page.problems.item(hint).text()
    assert "Click here to read these columns as the labels" in page.problems.item(hint).text()
    assert "If one of them is the only label" in page.problems.item(hint).text()
    first = page.draft
    page._on_problem_clicked(page.problems.item(hint))
    qtbot.waitUntil(lambda: page.draft is not first, timeout=30_000)
    assert page.multi_box.isChecked() and page.draft.label_delimiter == "|"
    assert dict(page.chart.values()) == {"toxic": 12, "insult": 11, "obscene": 6}  # row 6: none yet
    lines = [page.problems.item(i).text() for i in range(page.problems.count())]
    assert any(line.startswith("✖ row 6, column 'toxic': the cell is empty") for line in lines), lines
    assert not page.import_button.isEnabled()
    read = page.draft
    page.skip_box.setChecked(True)  # revalidated: said of the same columns, now left out
    qtbot.waitUntil(lambda: page.draft is not read and page.import_button.isEnabled(), timeout=30_000)
    lines = [page.problems.item(i).text() for i in range(page.problems.count())]
    assert any(line.startswith("⚠ row 6, column 'toxic': the cell is empty") for line in lines), lines
    assert any("6 rows have 0 in every label column" in line for line in lines), lines
    page.name_edit.setText("comments")
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    info = dataset_info(page.workspace, "comments")
    assert info.rows == 23 and info.label_delimiter == "|"
    assert info.labels == {"toxic": 12, "insult": 11, "obscene": 6}


def test_two_0_1_columns_keep_the_label_picked_and_read_as_labels_lock_the_multi_label_box(
        qtbot, window, tmp_path: Path) -> None:
    """A yes/no label beside one 0/1 column: picked, with a warning that a click reads both as
    labels; once so read, "Several labels per row" is locked, saying why (unticked, the joined
    cells 'toxic|insult' and a lone '|' were read as classes of one label)."""
    from PySide6.QtCore import Qt

    from tests.desktop.helpers import drop_files

    sets = [("toxic",), ("insult",), ("toxic", "insult"), ()]
    rows = [(f"comment {i}", *(int(label in sets[i % 4]) for label in ("toxic", "insult")))
            for i in range(24)]
    source = tmp_path / "two.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("comment_text", "toxic", "insult"), *rows])
    page = window.datasets_page
    drop_files(window, source)
    qtbot.waitUntil(lambda: page.draft is not None and page.draft.imported.source == source,
                    timeout=30_000)
    assert page.draft.label_column == "toxic" and not page.draft.blocking()
    assert page.multi_box.isEnabled() and not page.multi_box.isChecked()
    hint = next(i for i in range(page.problems.count())
                if page.problems.item(i).data(Qt.ItemDataRole.UserRole).code == "indicator-columns")
    line = page.problems.item(hint).text()
    assert line.startswith("⚠ the label is 'toxic', one yes/no label") and "click here to read both" in line
    first = page.draft
    page._on_problem_clicked(page.problems.item(hint))
    qtbot.waitUntil(lambda: page.draft is not first, timeout=30_000)
    assert page.multi_box.isChecked() and page.draft.label_columns is not None
    assert dict(page.chart.values()) == {"toxic": 12, "insult": 12}
    assert not page.multi_box.isEnabled() and not page.delimiter_edit.isEnabled()
    assert "read from the 0/1 columns toxic, insult" in page.multi_box.toolTip()
    read = page.draft
    page.skip_box.setChecked(True)  # revalidated: still read from the columns, still locked
    qtbot.waitUntil(lambda: page.draft is not read, timeout=30_000)
    assert page.draft.label_columns is not None and not page.multi_box.isEnabled()
    assert set(dict(page.chart.values())) == {"toxic", "insult"}  # never 'toxic|insult' or '|'

