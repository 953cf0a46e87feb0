"""Datasets page: problems list selects the offending row, column choices re-validate, the
virtual table model, bad files, and rename/delete with confirmation."""
from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from desktop.widgets.arrow_table import BLOCK, CACHED_BLOCKS, ArrowTableModel
from tests.desktop.helpers import answer_next_message_box, button_with_text, click_when_laid_out, drop_files


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def _open(qtbot, window, path: Path):  # noqa: ANN001, ANN202
    page = window.datasets_page
    page.draft = None
    drop_files(window, path)
    qtbot.waitUntil(lambda: page.draft is not None or "✖" in page.status.text()
                    or not page.progress.isVisible() and page.status.text() != "", timeout=30_000)
    return page


def _problem_rows(tmp_path: Path) -> Path:
    rows = [(f"message number {i} about {'cash prizes' if i % 2 else 'lunch plans'}", "spam" if i % 2 else "ham")
            for i in range(1, 31)]
    rows[4] = ("   ", "ham")  # data row 5: empty text
    rows[11] = ("a message without its label", "")  # data row 12: missing label
    return _write_csv(tmp_path / "with-problems.csv", rows)


def test_clicking_a_problem_selects_the_offending_row(qtbot, window, tmp_path):
    page = _open(qtbot, window, _problem_rows(tmp_path))
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert not page.import_button.isEnabled()  # blocking errors: nothing can be imported
    items = [page.problems.item(i) for i in range(page.problems.count())]
    by_code = {item.data(Qt.ItemDataRole.UserRole).code: item for item in items}
    assert {"empty-text", "missing-label"} <= set(by_code)
    for code, row, column in (("empty-text", 5, "text"), ("missing-label", 12, "label")):
        item = by_code[code]
        assert f"row {row}" in item.text() and item.text().startswith("✖")
        page.problems.setCurrentItem(item)
        page.problems.itemClicked.emit(item)
        current = page.table.currentIndex()
        assert (current.row(), current.column()) == (row - 1, page.draft.columns.index(column))
        assert page.table.selectionModel().isSelected(current)
    assert page.status.text() == "Fix the errors (✖) before importing: click one to see its row."
    assert page.labels_title.text() == "Labels (2)"  # a row's missing label is no third class


def test_errors_without_a_row_are_not_offered_as_clickable(qtbot, window, tmp_path):
    """"every usable row has the same label" names no row: clicking it did nothing, though the
    status line said "click one to see its row"."""
    rows = [(f"message number {i} about lunch", "ham") for i in range(1, 31)]
    page = _open(qtbot, window, _write_csv(tmp_path / "one-label.csv", rows))
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert page.draft.blocking() and not any(p.row is not None for p in page.draft.problems if p.blocking)
    assert page.status.text() == "Fix the errors (✖) before importing."


def test_leaving_out_incomplete_rows_makes_the_file_importable(qtbot, window, tmp_path):
    path = _problem_rows(tmp_path)
    with path.open("a", encoding="utf-8") as handle:  # a text with an unquoted comma
        handle.write("see you later, at the station,ham\n")
    page = _open(qtbot, window, path)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    # A row that cannot be read blocks the import too: left out unasked, it was lost unseen.
    items = [page.problems.item(i) for i in range(page.problems.count())]
    [unreadable] = [i for i in items if i.data(Qt.ItemDataRole.UserRole).code == "unreadable-rows"]
    assert unreadable.text().startswith("✖ 1 row of the file could not be read")
    assert "tick “Leave out rows … that cannot be read” above" in unreadable.text()
    assert page.skip_box.text() == "Leave out rows with empty text, no label, or that cannot be read"
    draft_before = page.draft
    page.skip_box.setChecked(True)
    qtbot.waitUntil(lambda: page.draft is not draft_before and page.import_button.isEnabled(), timeout=30_000)
    assert all(not item.data(Qt.ItemDataRole.UserRole).blocking
               for item in (page.problems.item(i) for i in range(page.problems.count())))
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    assert page.stored.item(0, 1).text() == "28"  # 30 rows minus the two incomplete ones


def test_choosing_columns_revalidates_and_updates_chart_and_headers(qtbot, window, spam_csv):
    page = _open(qtbot, window, spam_csv)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert page.model.headerData(page.draft.columns.index("label"), Qt.Orientation.Horizontal) == "label  [label]"
    assert len(page.chart.values()) == 2
    before = page.draft
    page.label_combo.setCurrentIndex(page.label_combo.findData(None))
    page.label_combo.activated.emit(page.label_combo.currentIndex())
    qtbot.waitUntil(lambda: page.draft is not before, timeout=30_000)
    assert page.draft.label_column is None
    assert page.chart.values() == []
    assert page.model.headerData(page.draft.columns.index("label"), Qt.Orientation.Horizontal) == "label"


def test_a_file_that_cannot_be_read_shows_the_engine_message(qtbot, window, tmp_path):
    bad = tmp_path / "notes.docx"
    bad.write_bytes(b"PK\x03\x04 not really a document")
    page = window.datasets_page
    drop_files(window, bad)
    qtbot.waitUntil(lambda: not page.progress.isVisible() and page.status.text() != "", timeout=30_000)
    assert "notes.docx" in page.status.text()
    assert page.status.property("error") is True
    assert page.draft is None


def test_rename_and_delete_ask_first(qtbot, window, spam_csv):
    page = _open(qtbot, window, spam_csv)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    assert page.select_stored("messages")

    def rename() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, rename)
            return
        dialog.setTextValue("sms-sample")
        dialog.accept()

    QTimer.singleShot(0, rename)
    click_when_laid_out(qtbot, page.rename_button)
    assert page.stored.item(0, 0).text() == "sms-sample"
    # Still chosen under its new name, its buttons usable (all went grey, nothing chosen).
    assert page.stored_panel.selected_name() == "sms-sample" and page.stored_panel.train_button.isEnabled()
    window.context.datasets_changed.emit()  # as a Privacy copy made elsewhere does
    assert page.stored_panel.selected_name() == "sms-sample"

    seen: list[str] = []
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Cancel, seen=seen)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert "sms-sample" in seen[0] and page.stored.rowCount() == 1  # cancelled: kept

    page.select_stored("sms-sample")
    answer_next_message_box(lambda box: button_with_text(box, "Delete"))
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert page.stored.rowCount() == 0
    from engine.data.store import list_datasets

    assert list_datasets(window.context.workspace) == []


def test_virtual_model_over_a_million_rows_converts_only_what_is_shown(qtbot):
    rows = 1_000_000
    table = pa.table({"text": pa.array([f"row {i}" for i in range(rows)]),
                      "label": pa.array(["a", "b"] * (rows // 2))})
    model = ArrowTableModel(table)
    assert model.rowCount() == rows and model.columnCount() == 2
    assert model.data(model.index(rows - 1, 0)) == f"row {rows - 1}"
    assert model.data(model.index(0, 1)) == "a"
    assert model.headerData(rows - 1, Qt.Orientation.Vertical) == rows  # 1-based like problems
    for start in range(0, 40 * BLOCK, BLOCK):  # scroll through 40 blocks
        assert model.data(model.index(start, 0)) == f"row {start}"
    assert len(model._blocks) == CACHED_BLOCKS  # bounded cache: old blocks dropped
    assert model.data(model.index(5, 0)) == "row 5"  # and re-fetched when needed


def test_drops_are_refused_while_locked(qtbot, window, spam_csv):
    window.lock()
    accepted_enter, _ = drop_files(window, spam_csv)
    assert not accepted_enter
    assert window.datasets_page.draft is None


def test_sample_data_opens_in_one_click(qtbot, window):
    page = window.datasets_page
    assert page.sample_button.isVisible()
    qtbot.mouseClick(page.sample_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert page.draft.rows == 600
    assert (page.draft.text_column, page.draft.label_column) == ("text", "label")
    assert {label for label, _ in page.chart.values()} == {"ham", "spam"}
    assert page.import_button.isEnabled()


def test_a_taken_name_is_caught_before_encrypting_and_can_replace(qtbot, window, spam_csv, tmp_path):
    page = _open(qtbot, window, spam_csv)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    from engine.data.store import dataset_info

    first = dataset_info(window.context.workspace, "messages")
    # The same name again: asked at once, nothing encrypted; Cancel keeps the stored one.
    smaller = _write_csv(tmp_path / "messages.csv", [(f"text {i}", "a" if i % 2 else "b") for i in range(12)])
    page = _open(qtbot, window, smaller)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert page.name_edit.text() == "messages"
    seen: list[str] = []
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Cancel, seen=seen)
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    assert "already in the vault" in seen[0] and not page.progress.isVisible()
    assert "Not imported: “messages” is taken" in page.status.text() and page.status.property("error")
    assert dataset_info(window.context.workspace, "messages").sha256 == first.sha256
    # Yes replaces it.
    answer_next_message_box(lambda box: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.draft is None, timeout=30_000)
    assert dataset_info(window.context.workspace, "messages").rows == 12
    assert not page.status.property("error")
    # A name the vault cannot take is said before anything starts, in the error style.
    page = _open(qtbot, window, smaller)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    page.name_edit.setText("../escape")
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    assert page.status.property("error") and page.status.text()[:1].isupper()
    assert page.draft is not None  # still there to fix the name


def test_a_split_file_is_named_after_its_folder(tmp_path):
    from desktop.state import ImportDraft
    from engine.data.importing import read_table

    folder = tmp_path / "sst2"
    folder.mkdir()
    path = _write_csv(folder / "train.csv", [("good", "pos"), ("bad", "neg")])
    draft = ImportDraft(imported=read_table(path), mapping=None, problems=[])  # type: ignore[arg-type]
    assert draft.suggested_name() == "sst2-train"
    other = _write_csv(folder / "reviews.csv", [("good", "pos"), ("bad", "neg")])
    assert ImportDraft(imported=read_table(other), mapping=None, problems=[]).suggested_name() == "reviews"  # type: ignore[arg-type]


def test_a_wide_export_opens_on_its_text_and_label_columns(qtbot, window, real_data):
    """The CFPB export's narrative is its 6th column of 18: the preview shows it first, and
    the label beside it, without changing which column a problem names."""
    page = _open(qtbot, window, real_data / "cfpb_complaints_extract" / "complaints.csv")
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    header, columns = page.table.horizontalHeader(), page.draft.columns
    assert header.logicalIndex(0) == columns.index("Consumer complaint narrative")
    assert header.logicalIndex(1) == columns.index("Product")
    assert page.model.headerData(columns.index("Date received"), Qt.Orientation.Horizontal,
                                 Qt.ItemDataRole.DisplayRole).startswith("Date received")
    # Another text column chosen: it moves to the front instead.
    page.text_combo.setCurrentText("Issue")
    page.text_combo.activated.emit(page.text_combo.currentIndex())
    qtbot.waitUntil(lambda: page.draft is not None and page.draft.text_column == "Issue", timeout=30_000)
    assert header.logicalIndex(0) == columns.index("Issue") and header.logicalIndex(1) == columns.index("Product")


def test_open_folder_reads_one_sub_folder_per_label(qtbot, window, tmp_path, monkeypatch):
    """A folder per label cannot be picked in a file dialog: File › Open data folder…
    (Ctrl+Shift+O) picks the folder, as dropping it does."""
    from PySide6.QtWidgets import QFileDialog

    root = tmp_path / "reviews"
    for label, words in (("pos", "lovely warm funny"), ("neg", "dull cold long")):
        (root / label).mkdir(parents=True)
        for i, word in enumerate(words.split()):
            (root / label / f"{i}.txt").write_text(f"a {word} film", encoding="utf-8")
    asked: list[str] = []

    def choose(_parent, caption, _start):  # noqa: ANN001
        asked.append(caption)
        return str(root)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(choose))
    page = window.datasets_page
    assert window.open_folder_action.shortcut().toString() == "Ctrl+Shift+O"
    window.open_folder_action.trigger()
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert asked == ["Open a folder with one sub-folder per label"]
    assert page.draft.imported.table.num_rows == 6
    assert sorted(page.chart.values()) == [("neg", 3), ("pos", 3)]


def test_a_workbook_with_several_sheets_offers_the_others(qtbot, window, tmp_path):
    """The first sheet is read; when the data is on another, the Sheet box reads that one."""
    import openpyxl

    path = tmp_path / "tickets.xlsx"
    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append(["text", "count"])
    summary.append(["Count", "40"])
    book.create_sheet("Empty")
    data = book.create_sheet("Data")
    data.append(["message", "label"])
    for i in range(10):
        data.append([f"ticket {i} about the app", "ab"[i % 2]])
    book.save(path)
    page = window.datasets_page
    _open(qtbot, window, path)
    assert page.draft.imported.sheet == "Summary" and page.sheet_combo.isVisible()
    assert [page.sheet_combo.itemText(i) for i in range(page.sheet_combo.count())] == [
        "Summary", "Empty", "Data"]
    assert any("the first of 3" in page.problems.item(i).text()
               for i in range(page.problems.count()))
    page.sheet_combo.setCurrentText("Empty")  # nothing there: said, and the preview stays
    page.sheet_combo.activated.emit(1)
    qtbot.waitUntil(lambda: "is empty" in page.status.text(), timeout=30_000)
    assert page.sheet_combo.currentText() == "Summary" and page.draft.imported.sheet == "Summary"
    page.sheet_combo.setCurrentText("Data")
    page.sheet_combo.activated.emit(2)
    qtbot.waitUntil(lambda: page.draft.imported.sheet == "Data", timeout=30_000)
    assert page.draft.rows == 10 and page.text_combo.currentText() == "message"
    assert page.sheet_combo.currentText() == "Data"
    _open(qtbot, window, _write_csv(tmp_path / "plain.csv", [("good", "pos"), ("bad", "neg")]))
    assert not page.sheet_combo.isVisible()  # a CSV has no sheets


def test_a_kind_of_problem_says_what_to_do_once_not_on_every_row(qtbot, window, tmp_path):
    rows = [(f"message number {i}", "ab"[i % 2]) for i in range(30)]
    for i in (3, 8, 14):
        rows[i] = ("   ", "a")  # three empty texts: one kind, one hint
    page = _open(qtbot, window, _write_csv(tmp_path / "empty-texts.csv", rows))
    items = [page.problems.item(i) for i in range(page.problems.count())]
    empty = [item for item in items if item.data(Qt.ItemDataRole.UserRole).code == "empty-text"]
    hint = empty[0].data(Qt.ItemDataRole.UserRole).hint
    assert len(empty) == 3 and hint and hint in empty[0].text()
    assert all(hint not in item.text() and item.toolTip() == hint for item in empty[1:])


def test_the_text_column_starts_wide_and_the_short_label_narrow(qtbot, window, spam_csv):
    page = _open(qtbot, window, spam_csv)
    header = page.table.horizontalHeader()
    text = page.draft.columns.index(page.draft.text_column)
    label = page.draft.columns.index(page.draft.label_column)
    qtbot.waitUntil(lambda: header.sectionSize(text) > header.sectionSize(label), timeout=5_000)
    assert header.sectionSize(text) >= page.table.viewport().width() * 3 // 5 - 1

    def three_fifths() -> bool:
        return abs(header.sectionSize(text) - page.table.viewport().width() * 3 // 5) <= 1

    # It follows the window (set once, it stayed as wide as the first window, the label column
    # off-screen in a smaller one, or narrow beside an empty stretch in a larger one) ...
    window.show()
    for size in ((1900, 1000), (1100, 700), (1600, 900)):
        window.resize(*size)
        qtbot.waitUntil(three_fifths, timeout=5_000)
    # ... until the user sets it: their width stands.
    header.resizeSection(text, 300)
    window.resize(1300, 800)
    qtbot.wait(100)
    assert header.sectionSize(text) == 300
    page.show_draft(page.draft)  # shown again, as after a fix: the user's width still stands
    window.resize(1500, 800)
    qtbot.wait(100)
    assert header.sectionSize(text) == 300
    assert len(page.table.findChildren(type(page._text_width))) == 1  # one rule, not one a showing


def test_an_empty_vault_is_one_line_under_the_preview(qtbot, window, spam_csv):
    """An empty table and four greyed buttons took ~140 px from a file's preview; an empty
    vault now says so in one line."""
    page = _open(qtbot, window, spam_csv)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: page.split.sizes()[0] > 0, timeout=5_000)
    preview, vault = page.split.sizes()
    note = page.stored_panel.empty_note
    assert note.isVisible() and "Nothing here yet" in note.text()
    assert not page.stored.isVisible() and not page.train_button.isVisible()
    assert vault < 70 and preview > 10 * vault


def test_with_no_file_open_the_vault_list_gets_the_height_its_rows_need(qtbot, window, spam_csv):
    """Day two: the empty drop zone took most of the page and the list showed three rows."""
    from tests.desktop.test_training_ui import _store

    for i in range(8):
        _store(window, spam_csv, name=f"set-{i}")
    window.resize(1280, 800)
    window.show_page("datasets")
    page = window.datasets_page
    page.refresh_stored()
    qtbot.waitUntil(lambda: page.stored.rowCount() == 8, timeout=5_000)
    qtbot.wait(50)
    table = page.stored
    last = table.visualItemRect(table.item(7, 0))
    assert table.viewport().rect().contains(last)  # every dataset in view, none scrolled off
    drop, vault = page.split.sizes()
    assert drop >= page.empty.minimumSizeHint().height()  # the drop zone keeps what it needs


def test_the_preview_and_the_vault_list_share_the_height_the_user_gives_them(qtbot, window, spam_csv):
    page = _open(qtbot, window, spam_csv)
    qtbot.waitUntil(lambda: page.import_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=60_000)
    assert page.stored.isVisible() and not page.stored_panel.empty_note.isVisible()
    _open(qtbot, window, spam_csv)  # a second file to preview, with one dataset stored
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: page.split.sizes()[0] > 0, timeout=5_000)
    preview, vault = page.split.sizes()
    assert preview > 2 * vault  # the file being read gets most of the height
    assert vault == page.split.widget(1).minimumSizeHint().height()  # the list: what it needs
    assert vault > page.train_button.sizeHint().height() * 3  # its buttons fit
    page.split.setSizes([100, preview + vault - 100])  # the user drags the line up: a long list
    qtbot.wait(20)
    assert page.stored.height() > 300  # no fixed cap on the list
    page.split.setSizes([preview + vault, 0])  # and down, all the way: the list stays visible
    qtbot.wait(20)
    assert page.split.sizes()[1] > 0 and page.stored.isVisible()


def test_a_column_that_grows_wider_gets_the_room_in_its_splitter(qtbot) -> None:
    """A wider Fix button, added for the next file, was cut off: the splitter kept the column
    at the width the first file's content needed."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

    from desktop.widgets.column_scroll import ColumnScroll

    content = QWidget()
    layout = QVBoxLayout(content)
    layout.addWidget(QPushButton("Fix"))
    column = ColumnScroll(content)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(QLabel("the preview " * 20))
    splitter.addWidget(column)
    splitter.resize(900, 400)
    qtbot.addWidget(splitter)
    splitter.show()
    qtbot.waitExposed(splitter)
    splitter.setSizes([880, 20])  # squeezed to what the first content allowed
    wide = QPushButton("Optional: Repair text encoded twice ('Ã©' back to 'é') (changes 1,234 rows)")
    layout.addWidget(wide)
    qtbot.waitUntil(lambda: column.viewport().width() >= wide.sizeHint().width(), timeout=5_000)


def test_a_legacy_csvs_encoding_can_be_chosen_when_its_letters_look_wrong(qtbot, window, tmp_path) -> None:
    # Greek in Windows-1253 reads as plausible Cyrillic: the app had no way to say otherwise
    # (its problem line named a command-line flag).
    path = tmp_path / "greek.csv"
    rows = "".join(f"Καλημέρα, η κάρτα μου μπλοκαρίστηκε {i};{'παράπονο' if i % 2 else 'ερώτηση'}\r\n"
                   for i in range(20))
    path.write_bytes(("κείμενο;ετικέτα\r\n" + rows).encode("cp1253"))
    page = window.datasets_page
    _open(qtbot, window, path)
    assert page.draft.imported.encoding == "cp1251" and page.encoding_combo.isVisible()
    assert page.file_label.text().endswith("CSV · Windows-1251")  # as the problem line names it
    assert page.encoding_combo.currentData() == "cp1251"
    hints = [page.problems.item(i).toolTip() for i in range(page.problems.count())]
    assert any("Encoding box above" in hint for hint in hints) and not any("--encoding" in h for h in hints)
    index = page.encoding_combo.findData("cp1253")
    page.encoding_combo.setCurrentIndex(index)
    page.encoding_combo.activated.emit(index)
    qtbot.waitUntil(lambda: page.draft.imported.encoding == "cp1253", timeout=30_000)
    assert page.draft.columns == ["κείμενο", "ετικέτα"] and page.encoding_combo.currentData() == "cp1253"
    # A UTF-8 file has nothing to choose.
    utf8 = tmp_path / "plain.csv"
    utf8.write_text("text,label\n" + "".join(f"row {i},{'ab'[i % 2]}\n" for i in range(20)), encoding="utf-8")
    _open(qtbot, window, utf8)
    assert not page.encoding_combo.isVisible()


def test_a_file_being_read_can_be_cancelled_and_nothing_of_it_is_kept(qtbot, window, tmp_path) -> None:  # noqa: ANN001
    # A million rows took 8 s to read, with no way out but to wait.
    path = _write_csv(tmp_path / "big.csv", [(f"message {i} about lunch", "ab"[i % 2]) for i in range(50_000)])
    page = window.datasets_page
    window.show_page("datasets")
    page.draft = None
    page.open_path(path)
    assert page.bar.cancel_button.isVisible() and page.progress.isVisible()
    page.bar.cancel_button.click()
    qtbot.waitUntil(lambda: not page.progress.isVisible(), timeout=60_000)
    assert page.status.text() == "Stopped: nothing was read in."
    assert page.draft is None and not page.bar.cancel_button.isVisible()
    page.open_path(path)  # the page is free again: the next read is not refused
    qtbot.waitUntil(lambda: page.draft is not None, timeout=60_000)
    assert page.draft.imported.num_rows == 50_000
    page.name_edit.setText("big")
    page.import_button.click()  # an import shows its progress, without a Cancel it cannot honour
    assert page.progress.isVisible() and not page.bar.cancel_button.isVisible()
    qtbot.waitUntil(lambda: not page.progress.isVisible(), timeout=60_000)
