"""Small helpers for driving real widgets in the desktop tests."""
from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget


def drop_files(target: QWidget, *paths: Path) -> tuple[bool, bool]:
    """Send a drag-enter and a drop with file URLs, as the window system would.

    Returns whether the enter and the drop were accepted.
    """
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    with warnings.catch_warnings():
        # PySide marks the QPoint constructor deprecated, yet it is the one Qt 6 offers here.
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(400, 300), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(QPointF(400, 300), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    return enter.isAccepted(), drop.isAccepted()


def answer_next_message_box(choose: Callable[[QMessageBox], object], *, seen: list[str] | None = None) -> None:
    """When the next modal message box opens, record its text and press the chosen button."""

    def answer(box: QMessageBox) -> None:
        if seen is not None:
            seen.append(box.text())
        button = choose(box)
        if isinstance(button, QMessageBox.StandardButton):
            button = box.button(button)
        button.click()

    when_modal_opens(QMessageBox, answer)


def button_with_text(box: QMessageBox, text: str):  # noqa: ANN201 - QAbstractButton
    for button in box.buttons():
        if button.text() == text:
            return button
    raise AssertionError(f"no button {text!r} in {[b.text() for b in box.buttons()]}")


def cut_off_texts(root: QWidget) -> list[str]:
    """Visible single-line labels and buttons narrower than their text (word-wrapped labels
    reflow, so they are skipped)."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    problems = []
    for widget in [*root.findChildren(QLabel), *root.findChildren(QAbstractButton)]:
        if not widget.isVisible() or not widget.text() or widget.text().startswith("<"):
            continue
        if isinstance(widget, QLabel) and widget.wordWrap():
            continue
        # A label with line breaks is drawn line by line: its longest line must fit.
        needed = max(widget.fontMetrics().horizontalAdvance(line)
                     for line in widget.text().replace("&", "").split("\n"))
        if widget.width() < needed:
            problems.append(f"{widget.text()!r}: {widget.width()}px < {needed}px")
    return problems


def unlock_from_the_lock_screen(qtbot, window, passphrase: str) -> None:  # noqa: ANN001
    """Press the lock screen's Unlock button and type ``passphrase`` into the dialog it opens."""
    from PySide6.QtCore import Qt

    from desktop.dialogs.vault import UnlockDialog

    def fill(dialog: UnlockDialog) -> None:
        dialog.passphrase.setText(passphrase)
        dialog.unlock_button.click()

    when_modal_opens(UnlockDialog, fill)
    qtbot.mouseClick(window.lock_screen.button, Qt.MouseButton.LeftButton)


def when_modal_opens(kind: type, act: Callable[[Any], object]) -> None:
    """Once a modal dialog of ``kind`` is open (the code about to run will open it and wait in
    its event loop), call ``act`` with it."""

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind):
            act(dialog)
        else:
            QTimer.singleShot(20, attempt)

    QTimer.singleShot(0, attempt)


def click_when_laid_out(qtbot, button: QWidget) -> None:  # noqa: ANN001
    """Click ``button`` once it is shown where a user could click it: the vault's buttons
    appear with its first dataset, and a click before the layout settles lands beside them."""
    qtbot.waitUntil(lambda: button.isEnabled() and not button.visibleRegion().isEmpty(), timeout=5_000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@contextlib.contextmanager
def another_writer_holds_the_datasets(ws: Any) -> Iterator[None]:
    """For the block, another writer (a `cloister import` in a terminal, between its steps)
    holds the workspace's dataset-write lock; it lets go when the block ends."""
    from engine.data.dataset_writes import writing_datasets

    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with writing_datasets(ws):
            holding.set()
            release.wait(30)

    writer = threading.Thread(target=hold)
    writer.start()
    assert holding.wait(10)
    try:
        yield
    finally:
        release.set()
        writer.join(10)
