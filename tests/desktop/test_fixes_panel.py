"""Datasets page "Fix" buttons: the CFPB excerpt made importable in the desktop flow."""
from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt

from tests.desktop.helpers import drop_files


def _codes(page) -> set[str]:  # noqa: ANN001
    return {page.problems.item(i).data(Qt.ItemDataRole.UserRole).code
            for i in range(page.problems.count())}


def _button(page, text: str):  # noqa: ANN001, ANN202
    (button,) = [b for b in page.fixes_panel.buttons if text in b.text()]
    return button


def test_fix_buttons_make_the_cfpb_excerpt_importable_and_trainable(qtbot, window, real_data,
                                                                    tmp_path, tiny_model_dir):
    source = tmp_path / "complaints.csv"
    shutil.copy(real_data / "cfpb_complaints_extract" / "complaints.csv", source)
    before = source.read_bytes()
    page = window.datasets_page
    drop_files(window, source)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert not page.import_button.isEnabled() and "empty-text" in _codes(page)
    labels_before = len(page.chart.values())

    drop = _button(page, "Drop rows with empty text or no label")
    assert "removes 275 rows" in drop.text() and drop.text().startswith("Fix: ")
    first = page.draft
    qtbot.mouseClick(drop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.draft is not first, timeout=30_000)
    # The preview, the chart and the problems show the fixed table at once.
    assert page.draft.rows == 376 - 275 and page.model.rowCount() == 101
    assert "empty-text" not in _codes(page) and "class-too-small" in _codes(page)
    assert len(page.chart.values()) < labels_before  # classes only seen on empty rows are gone
    assert "Applied: dropped 275 rows" in page.fixes_panel.applied.text()

    merge = _button(page, "Merge classes under 2 rows into 'other'")
    assert "changes 3 rows" in merge.text()
    second = page.draft
    qtbot.mouseClick(merge, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.draft is not second, timeout=30_000)
    assert not page.draft.blocking() and page.import_button.isEnabled()
    assert ("other", 3) in page.chart.values()

    page.name_edit.setText("cfpb")
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    from engine.data.store import dataset_info

    info = dataset_info(page.workspace, "cfpb")
    assert info.rows == 101 and [s["kind"] for s in info.history] == ["drop-empty", "small-classes"]
    assert source.read_bytes() == before  # the source file is never edited

    # ... and it trains and is evaluated in the same desktop flow (a tiny model, one epoch).
    from engine.events import Finished

    window.show_page("train")
    train = window.train_page
    train.select_dataset("cfpb")
    assert train.set_model_folder(tiny_model_dir)
    train.epochs.setValue(1)
    train.batch_size.setValue(8)
    train.max_length.setValue(32)
    qtbot.waitUntil(lambda: train.auto_box._job is None, timeout=60_000)
    with qtbot.waitSignal(train.training_ended, timeout=180_000) as ended:
        qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    assert isinstance(ended.args[0], Finished), ended.args[0]
    assert "accuracy" in ended.args[0].metrics


def test_a_refused_fix_says_why_and_changes_nothing(qtbot, window, tmp_path):
    import csv

    path = tmp_path / "lopsided.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([(f"message {i}", "big") for i in range(12)] + [("lonely", "small")])
    page = window.datasets_page
    drop_files(window, path)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    button = _button(page, "Drop classes under 2 rows")
    assert not button.isEnabled() and "fewer than two classes" in button.toolTip()
    # The reason is said in a wrapped line under the button, not in the button's own text.
    # The second way to fix the same problem reads as the alternative it is.
    assert button.text() == "Or: Drop classes under 2 rows — not possible"
    assert _button(page, "Merge classes under 2 rows").text().startswith("Fix: ")
    assert any("Why: refused: these fixes would leave fewer than two classes" in r.text()
               and r.wordWrap() for r in page.fixes_panel.reasons)
    merge = _button(page, "Merge classes under 2 rows")
    draft = page.draft
    page.apply_fix(page.draft.fix_options[[o.label for o in page.draft.fix_options].index(
        "Drop classes under 2 rows")])
    qtbot.waitUntil(lambda: "fewer than two classes" in page.status.text(), timeout=30_000)
    assert page.draft is draft and page.draft.rows == 13
    # Nor does merging the one row into 'other' help: a one-row 'other' is as untrainable.
    assert not merge.isEnabled() and "still too small to train" in merge.toolTip()
    # The reasons speak of buttons, not of command-line flags.
    assert all("--" not in r.text() for r in page.fixes_panel.reasons)


def test_the_fix_that_can_be_applied_comes_before_the_one_that_cannot():
    from types import SimpleNamespace

    from desktop.pages.fixes_panel import _possible_first

    merge = SimpleNamespace(label="merge", codes=frozenset({"tiny-class"}), refused="too small")
    drop = SimpleNamespace(label="drop", codes=frozenset({"tiny-class"}), refused="")
    repeats = SimpleNamespace(label="repeats", codes=frozenset({"duplicate-row"}), refused="")
    assert [o.label for o in _possible_first([repeats, merge, drop])] == ["repeats", "drop", "merge"]


def test_spellings_of_a_label_merged_with_one_button(qtbot, window, tmp_path):
    import csv

    path = tmp_path / "tickets.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([(f"invoice {i}", "Billing") for i in range(6)] + [("charged twice", "billing")]
                         + [(f"crash {i}", "Technical") for i in range(6)])
    page = window.datasets_page
    drop_files(window, path)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert {"label-variants", "class-too-small"} <= _codes(page) and not page.import_button.isEnabled()
    merge = _button(page, "Merge labels that differ only in how they are written")
    # It clears the error (the one-row 'billing' class), so it is offered as the fix for it.
    assert merge.text() == "Fix: Merge labels that differ only in how they are written (changes 1 row)"
    draft = page.draft
    qtbot.mouseClick(merge, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.draft is not draft, timeout=30_000)
    assert not {"label-variants", "class-too-small"} & _codes(page)
    assert sorted(page.chart.values()) == [("Billing", 7), ("Technical", 6)]
    assert page.import_button.isEnabled()
    assert "Applied: merged 1 other spelling" in page.fixes_panel.applied.text()


def test_rows_labelled_n_a_dropped_with_one_button(qtbot, window, tmp_path):
    import csv

    path = tmp_path / "sheet.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([(f"great {i}", "pos") for i in range(6)] + [(f"awful {i}", "neg") for i in range(6)]
                         + [("no idea", "#N/A")])
    page = window.datasets_page
    drop_files(window, path)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert "placeholder-label" in _codes(page) and not page.import_button.isEnabled()
    drop = _button(page, "Drop the rows labelled '#N/A'")
    assert drop.text() == "Fix: Drop the rows labelled '#N/A' (removes 1 row)"
    draft = page.draft
    qtbot.mouseClick(drop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.draft is not draft, timeout=30_000)
    assert sorted(page.chart.values()) == [("neg", 6), ("pos", 6)] and page.import_button.isEnabled()
    assert "Applied: dropped the 1 row labelled '#N/A'" in page.fixes_panel.applied.text()


def test_feed_markup_removed_with_one_button(qtbot, window, real_data, tmp_path):
    """Real AG News rows keep their feeds' HTML: a warning, not an error, whose button cleans
    the texts of the draft before it is stored."""
    import csv

    import pyarrow as pa

    from engine.data.markup import has_markup

    path = tmp_path / "news.csv"
    with (real_data / "ag_news" / "dev.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[:80]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    marked = int(has_markup(pa.array([r[0] for r in rows])).sum())
    page = window.datasets_page
    drop_files(window, path)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    assert "markup-in-text" in _codes(page) and page.import_button.isEnabled()
    strip = _button(page, "Remove web markup from the texts")
    # A warning's fix is offered as optional: the file trains as it is.
    assert strip.text() == f"Optional: Remove web markup from the texts (changes {marked} rows)"
    draft = page.draft
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.draft is not draft, timeout=30_000)
    assert "markup-in-text" not in _codes(page)
    page.name_edit.setText("news")
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=30_000)
    from engine.data.store import dataset_info, load_dataset

    assert [s["kind"] for s in dataset_info(page.workspace, "news").history] == ["strip-markup"]
    texts = [str(t) for t in load_dataset(page.workspace, "news").texts]
    assert len(texts) == 80 and not has_markup(pa.array(texts)).any()


def test_on_a_small_screen_the_fix_buttons_keep_their_height(qtbot, window, real_data, tmp_path):
    """At 1024x600 the labels, the Fix buttons and the problems need more height than there is:
    the column scrolls instead of squeezing the buttons into unreadable slivers."""
    source = tmp_path / "complaints.csv"
    shutil.copy(real_data / "cfpb_complaints_extract" / "complaints.csv", source)
    window.resize(1024, 600)
    window.show()
    page = window.datasets_page
    drop_files(window, source)
    qtbot.waitUntil(lambda: page.draft is not None, timeout=30_000)
    qtbot.waitUntil(lambda: page.fixes_panel.buttons and page.fixes_panel.buttons[0].isVisible(),
                    timeout=5_000)
    buttons = page.fixes_panel.buttons
    assert len(buttons) >= 3
    for button in buttons:
        assert button.height() >= button.sizeHint().height(), button.text()
    side = page.side_scroll
    assert side.widget().height() > side.viewport().height()  # so it scrolls, vertically only
    assert side.widget().width() <= side.viewport().width()
    # Counted by kind, as the buttons are: the empty-text kind lists many rows but counts once.
    title = page.problems_title.text()
    blocking = len({p.code for p in page.draft.problems if p.blocking})
    assert title.startswith(f"Problems — {blocking} kinds to fix before importing"), title
    assert blocking < sum(1 for p in page.draft.problems if p.blocking)


def test_with_incomplete_rows_left_out_a_class_fix_counts_without_them(tmp_path):
    import csv

    from desktop.pages.draft_check import read_and_check
    from desktop.pages.fixes_panel import fix_draft
    from engine.data.fixes import SmallClasses

    source = tmp_path / "tickets.csv"
    rows = [(f"invoice question {i}", "billing") for i in range(8)] + [("", "billing")] * 4
    rows += [(f"app crashes {i}", "technical") for i in range(12)]
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    draft = read_and_check(source, skip_incomplete=True)
    fixed = fix_draft(draft, SmallClasses(min_size=10, merge_into="other"), skip_incomplete=True)
    labels = fixed.imported.table.column("label").to_pylist()
    assert labels.count("other") == 8 and "billing" not in labels  # 8 left once the 4 go


def test_a_refused_fix_puts_the_focus_back_and_says_why_then_lets_it_be(qtbot, monkeypatch):
    """A refused fix left the panel thinking a fix was pending: any later list of fixes (a
    column chosen, another file) took the focus to a button and said an old 'Applied'."""
    from types import SimpleNamespace

    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    from desktop.pages.fixes_panel import FixesPanel
    from tests.desktop.test_accessibility import _listening

    def option(label: str) -> SimpleNamespace:
        return SimpleNamespace(label=label, codes=frozenset({label}), refused="", blocking=True,
                               summary=lambda: label)

    host = QWidget()
    qtbot.addWidget(host)
    panel, elsewhere = FixesPanel(), QLineEdit()
    layout = QVBoxLayout(host)
    layout.addWidget(panel)
    layout.addWidget(elsewhere)
    panel.set_options([option("drop repeats"), option("merge labels")], [])
    host.show()
    qtbot.waitExposed(host)
    heard = _listening(monkeypatch)
    pressed = panel.buttons[1]
    pressed.setFocus()
    qtbot.mouseClick(pressed, Qt.MouseButton.LeftButton)
    panel.set_busy(True)
    panel.set_busy(False)
    panel.fix_failed("refused: it would leave one class")
    assert host.focusWidget() is pressed and heard[-1] == (pressed, "refused: it would leave one class")
    elsewhere.setFocus()
    panel.set_options([option("drop repeats")], [])  # later, for another reason
    qtbot.wait(50)
    assert host.focusWidget() is elsewhere and len(heard) == 1
