"""What a keyboard-only or screen-reader user meets: every control is named as a screen reader
reads it (Qt's accessibility interface, from the widget's own name or its label's buddy), Tab
leaves tables instead of walking their cells, and Enter does what the page is for."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractItemView, QAbstractScrollArea, QAbstractSpinBox, QComboBox, QLineEdit,
    QPlainTextEdit, QWidget,
)

from engine.events import Cancelled, Finished
from tests.desktop.test_datasets_page import _open
from tests.desktop.test_training_ui import _prepare, _store

INPUTS = (QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QAbstractScrollArea, QAbstractButton)


def read_name(widget: QWidget) -> str:
    """The name a screen reader announces for the widget."""
    face = QAccessible.queryAccessibleInterface(widget)
    return face.text(QAccessible.Text.Name).strip() if face is not None else ""


def unnamed(root: QWidget) -> list[str]:
    """Visible controls under ``root`` that a screen reader would announce without a name."""
    found = []
    for widget in root.findChildren(QWidget):
        takes_focus = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        inner = isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox))  # read as one
        if not inner and widget.isVisibleTo(root) and takes_focus and isinstance(widget, INPUTS) \
                and not read_name(widget):
            found.append(f"{type(widget).__name__} {widget.objectName()!r} "
                         f"{getattr(widget, 'text', lambda: '')()!r}")
    return found


def trapping_tables(root: QWidget) -> list[str]:
    return [f"{type(v).__name__} {v.objectName()!r}" for v in root.findChildren(QAbstractItemView)
            if v.tabKeyNavigation() and v.isVisibleTo(root)]


def _trained(qtbot, window, spam_csv: Path, tiny_model_dir: Path) -> None:  # noqa: ANN001
    _store(window, spam_csv)
    page = _prepare(window, tiny_model_dir, epochs=1)
    with qtbot.waitSignal(page.training_ended, timeout=120_000) as ended:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert isinstance(ended.args[0], Finished)


def test_every_control_on_every_page_has_a_name_and_tab_leaves_tables(
        qtbot, window, spam_csv, tiny_model_dir: Path) -> None:
    _trained(qtbot, window, spam_csv, tiny_model_dir)
    window.train_page.privacy.enabled.setChecked(True)
    _open(qtbot, window, spam_csv)  # a file's preview open on the Datasets page
    assert window.datasets_page.draft is not None
    problems = {}
    for name in ("datasets", "train", "results", "tryit", "runs"):
        window.show_page(name)
        qtbot.wait(50)
        page = window.page(name)
        problems[name] = unnamed(page) + trapping_tables(page)
    problems["sidebar"] = [] if read_name(window.nav) else ["the page list"]
    said = "\n".join(f"{page}: {item}" for page, items in problems.items() for item in items)
    assert not said, said


def test_tab_leaves_the_preview_and_enter_in_the_name_imports(qtbot, window, spam_csv,
                                                               monkeypatch) -> None:
    page = _open(qtbot, window, spam_csv)
    qtbot.waitUntil(lambda: page.import_button.isEnabled(), timeout=30_000)
    page.table.setFocus()
    qtbot.waitUntil(page.table.hasFocus, timeout=2_000)
    QTest.keyClick(page.table, Qt.Key.Key_Tab)
    assert not page.table.hasFocus()  # it walked the cells, and Name/Import were out of reach
    # On from the rows: the side column's Fix buttons, problems and chart (in the order the
    # column shows them), then Name and Import (the Fix buttons came after Discard, and the
    # chart after Name).
    order, widget = [], page.table
    while widget is not page.discard_button and len(order) < 30:
        widget = widget.nextInFocusChain()
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isVisibleTo(page):
            order.append(widget)
    fixes = len(page.fixes_panel.buttons)
    assert order[:fixes] == page.fixes_panel.buttons
    assert order[fixes:] == [page.problems, page.chart_scroll, page.name_edit, page.import_button,
                             page.discard_button]
    page.name_edit.setFocus()
    page.name_edit.setText("by-keyboard")
    heard = _listening(monkeypatch)
    QTest.keyClick(page.name_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.stored.rowCount() == 1, timeout=60_000)
    assert page.stored.item(0, 0).text() == "by-keyboard"
    # Focus on what comes next (it went to "Use the sample data"), and the outcome said aloud.
    qtbot.waitUntil(page.stored_panel.train_button.hasFocus, timeout=5_000)
    assert (page.status, page.status.text()) in heard and page.status.text().startswith("Imported by-keyboard")


def _listening(monkeypatch) -> list[tuple[object, str]]:  # noqa: ANN001
    """What is announced to a screen reader (none runs here, so Qt would drop it)."""
    import types

    import desktop.accessible

    heard: list[tuple[object, str]] = []
    monkeypatch.setattr(desktop.accessible, "QAccessible", types.SimpleNamespace(
        isActive=lambda: True, updateAccessibility=lambda e: heard.append((e.object(), e.message()))))
    return heard


def test_training_from_the_keyboard(qtbot, window, spam_csv, tiny_model_dir: Path) -> None:
    """Ctrl+Return starts from any page; focus goes where the next key is wanted (Cancel while
    it runs, See results after), not to the plot Qt would pick; Enter on a run opens it; the
    confusion matrix works with arrows and Enter and says which cell it is on."""
    _store(window, spam_csv)
    page = _prepare(window, tiny_model_dir, epochs=40)  # long enough to cancel by key
    window.show_page("datasets")
    page.start_button.setFocus()  # the shortcut is window-wide; focus on Start moves to Cancel
    with qtbot.waitSignal(page.training_ended, timeout=120_000) as ended:
        QTest.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert window.stack.currentWidget() is page
        qtbot.waitUntil(page.cancel_button.hasFocus, timeout=10_000)
        QTest.keyClick(window, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(ended.args[0], Cancelled)
    qtbot.waitUntil(page.start_button.hasFocus, timeout=5_000)  # not the plot
    assert page.start_button.accessibleDescription() == page.message.text() != ""  # said there
    page.epochs.setValue(1)
    with qtbot.waitSignal(page.training_ended, timeout=120_000) as ended:
        QTest.keyClick(page.start_button, Qt.Key.Key_Space)
    assert isinstance(ended.args[0], Finished)
    qtbot.waitUntil(page.results_button.hasFocus, timeout=5_000)
    assert page.results_button.accessibleDescription() == page.message.text()
    QTest.keyClick(page.results_button, Qt.Key.Key_Return)  # Enter did nothing here (Space did)
    assert window.current_page_key() == "results"
    window.show_page("train")
    assert page.message.text().startswith("✔") and page.start_button.accessibleDescription() == ""

    runs = window.runs_page
    window.show_page("runs")
    runs.select_runs([ended.args[0].run_id])  # the finished one (the cancelled has no model)
    runs.table.setFocus()
    opened: list[str] = []
    window.context.run_selected.connect(opened.append)
    QTest.keyClick(runs.table, Qt.Key.Key_Return)
    assert len(opened) == 1 and window.current_page_key() == "results"
    window.show_page("runs")
    row = next(r for r in range(runs.table.rowCount())
               if runs.table.item(r, 0).text() == ended.args[0].run_id)
    cell = runs.table.visualRect(runs.table.model().index(row, 0)).center()
    QTest.mouseClick(runs.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)  # a double-click:
    QTest.mouseDClick(runs.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)  # once, not twice
    assert len(opened) == 2 and len(set(opened)) == 1

    results = window.results_page
    qtbot.waitUntil(lambda: results.report is not None, timeout=30_000)
    window.show_page("results")
    heat = results.heatmap
    heat.setFocus()
    matrix, labels = heat.matrix(), results.report.labels
    QTest.keyClick(heat, Qt.Key.Key_Right)
    assert heat.current == (0, 1)
    assert heat.accessibleName().startswith(
        f"Confusion matrix, true {labels[0]}, predicted {labels[1]}: {matrix[0][1]} of {sum(matrix[0])} rows")
    QTest.keyClick(heat, Qt.Key.Key_Return)
    assert f"where true = {labels[0]} and predicted = {labels[1]}" in results.filter_label.text()
    assert results.misclassified.rowCount() == matrix[0][1]

    tryit = window.tryit_page  # with a model to try: its text box passes Tab on
    window.show_page("tryit")
    qtbot.waitUntil(tryit.text.isEnabled, timeout=30_000)
    tryit.text.setFocus()
    qtbot.waitUntil(tryit.text.hasFocus, timeout=2_000)
    QTest.keyClicks(tryit.text, "win a prize")
    QTest.keyClick(tryit.text, Qt.Key.Key_Tab)
    assert tryit.text.toPlainText() == "win a prize" and not tryit.text.hasFocus()

    from desktop.dialogs.export import ExportDialog

    export = ExportDialog(window.context, ended.args[0].run_id, parent=window)
    export.show()
    assert unnamed(export) == []
    export.passphrase.setText("a long passphrase one")
    export.repeat.setText("a long passphrase two")
    qtbot.mouseClick(export.export_button, Qt.MouseButton.LeftButton)
    # The refusal is in a label below; the button the user is on carries it too.
    assert "do not match" in export.message.text()
    said = export.export_button.accessibleDescription()
    assert "do not match" in said and said in export.message.text()
    export.close()


def test_the_page_list_shows_where_the_keyboard_is(qtbot, window) -> None:
    assert window.nav.hasFocus()  # after unlocking, the keyboard starts from the page list
    focused = window.nav.grab().toImage()
    window.datasets_page.open_button.setFocus()
    qtbot.waitUntil(lambda: not window.nav.hasFocus(), timeout=2_000)
    assert window.nav.grab().toImage() != focused  # the stylesheet's outline: 0 hid the focus


def test_dialog_fields_are_named_and_errors_reach_the_field(qtbot, tmp_path, window) -> None:
    from desktop.dialogs.settings import SettingsDialog
    from desktop.dialogs.vault import UnlockDialog
    from privacy.vault.workspace import Workspace
    from tests.desktop.conftest import FAST_KDF, PASSPHRASE

    root = tmp_path / "ws"
    Workspace.create(root, PASSPHRASE, kdf=FAST_KDF).lock()
    unlock = UnlockDialog(root)
    qtbot.addWidget(unlock)
    unlock.show()
    assert unnamed(unlock) == []
    qtbot.keyClicks(unlock.passphrase, "not the passphrase")
    qtbot.mouseClick(unlock.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(unlock.error.isVisible, timeout=10_000)
    # The error is in a label; a screen reader on the field hears it there.
    assert unlock.passphrase.accessibleDescription() == unlock.error.text()
    assert unlock.error.text().startswith("Wrong passphrase")
    settings = SettingsDialog(window.context.settings)
    qtbot.addWidget(settings)
    settings.show()
    assert unnamed(settings) == []



def test_the_window_fits_a_1080p_screen_at_200_percent_without_overlapping(qtbot, window) -> None:
    """At 200% a 1920x1080 screen is 960x540: the window's minimum height was 640, and at its
    minimum width a run's progress line (not wrapped) pushed the Train page's live column over
    its settings."""
    assert window.minimumWidth() <= 960 and window.minimumHeight() <= 500
    window.resize(window.minimumSize())
    window.show_page("train")
    page = window.train_page
    page.progress_text.setText("stopped early at step 90 of 300 planned · epoch 3.0 / 10 · loss 0.701 · "
                               "1,214.4 rows/s")
    qtbot.wait(50)
    settings_right = page.settings_scroll.mapTo(page, page.settings_scroll.rect().topRight()).x()
    live_left = page.progress.mapTo(page, page.progress.rect().topLeft()).x()
    assert window.height() <= 500 and live_left > settings_right


def test_hints_selections_and_errors_keep_aa_contrast_on_light_and_dark_themes(qapp):
    """Qt's hint grey (the estimate, captions, subtitles) read 3.9:1 on the window, white on
    the selection 3.7:1, and the fixed error red 4.3:1; WCAG AA asks 4.5:1."""
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QLabel

    from desktop.app import make_application
    from desktop.contrast import AA, contrast, flattened

    role, before = QPalette.ColorRole, qapp.palette()
    dark = QPalette(before)
    for r, colour in ((role.Window, "#353535"), (role.Base, "#2a2a2a"), (role.WindowText, "#f0f0f0"),
                      (role.Text, "#f0f0f0"), (role.PlaceholderText, "#80f0f0f0"),
                      (role.Highlight, "#2a82da"), (role.HighlightedText, "#ffffff")):
        dark.setColor(r, QColor(colour))
    try:
        for theme in (QPalette(before), dark):
            qapp.setPalette(theme)
            palette = make_application().palette()
            window, base = palette.color(role.Window), palette.color(role.Base)
            hint = flattened(palette.color(role.PlaceholderText), window)
            assert min(contrast(hint, window), contrast(hint, base)) >= AA
            assert contrast(palette.color(role.Highlight), palette.color(role.HighlightedText)) >= AA
            disabled = QPalette.ColorGroup.Disabled  # a disabled selection still looks disabled
            assert palette.color(disabled, role.Highlight) == theme.color(disabled, role.Highlight)
            error = QLabel("✖ Not imported")
            error.setProperty("error", True)
            error.ensurePolished()
            assert contrast(error.palette().color(role.WindowText), window) >= AA
    finally:
        qapp.setPalette(before)
        make_application()


def test_the_go_menu_has_a_letter_for_each_page(window) -> None:
    [go] = [a.menu() for a in window.menuBar().actions() if a.text() == "&Go"]
    letters = [a.text()[a.text().index("&") + 1].lower() for a in go.actions() if "&" in a.text()]
    assert len(letters) == len(go.actions()) == 5 and len(set(letters)) == 5
