"""What a screen reader and a keyboard need from the app's widgets: a label that names its
field (Qt reads a field's name from its label's buddy), and tables that Tab leaves."""
from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QDialog, QLabel, QPushButton, QWidget


def label_for(text: str, field: QWidget) -> QLabel:
    """A label beside ``field`` that a screen reader reads as the field's name."""
    label = QLabel(text)
    label.setBuddy(field)
    return label


def tab_leaves(view: QAbstractItemView, name: str) -> QAbstractItemView:
    """Tab moves on to the next control instead of walking the view's cells (arrow keys walk
    them), and the view is announced by ``name``."""
    view.setTabKeyNavigation(False)
    view.setAccessibleName(name)
    return view


def refocus(had_focus: QWidget | None, *candidates: QWidget) -> None:
    """After controls were disabled: if the one that had the keyboard focus is among them, the
    focus goes to the first enabled, visible candidate instead of the next widget in Tab order
    (which Qt picks, and which is rarely what the user needs next)."""
    if had_focus is None or had_focus.isEnabled():
        return
    for widget in candidates:
        if widget.isEnabled() and widget.isVisible():
            widget.setFocus(Qt.FocusReason.OtherFocusReason)
            return


def announce(text: str, *, on: QWidget) -> None:
    """Say ``text`` (an error shown in a label the user is not on) to a screen reader: as the
    description of ``on``, the control the user is on (read again when it regains focus), and
    as an announcement where the platform's screen reader takes them."""
    on.setAccessibleDescription(text)
    say_aloud(text, on=on)


def say_aloud(text: str, *, on: QWidget) -> None:
    """Say ``text`` (a status that changed under the user) where the platform's screen reader
    takes announcements, leaving ``on``'s description as it is (it is not a field's error)."""
    if text and QAccessible.isActive():
        QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(on, spoken(text)))


def spoken(text: str) -> str:
    """A label's text as a screen reader should hear it: rich text without its tags and with
    its entities read back; plain text as it is (a label such as "<none>" stays)."""
    from html import unescape

    from PySide6.QtGui import Qt as GuiQt  # mightBeRichText lives in QtGui's namespace

    said = unescape(re.sub(r"<[^>]+>", "", text)) if GuiQt.mightBeRichText(text) else text
    from desktop.text_breaks import ZERO_WIDTH_SPACE

    return said.replace(ZERO_WIDTH_SPACE, "")  # places to wrap a long label are not part of it


class _KeepsCtrlReturn(QObject):
    """Claims Ctrl+Return for the text box it watches (Qt asks a focused widget first, with a
    ShortcutOverride event), so that the window's Start training shortcut does not fire."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            event.accept()
        return False


def keeps_ctrl_return(edit: QWidget) -> None:
    """Ctrl+Return typed in ``edit`` stays there: many users press it for a new line or to
    send, and in Try it's text box it started a training run."""
    edit.installEventFilter(_KeepsCtrlReturn(edit))


def presses_on_enter(root: QWidget) -> None:
    """Enter presses the focused button under ``root`` as Space does. Outside a dialog Qt
    leaves Enter to default buttons only, so on a page it did nothing on See results (where a
    finished run puts the focus), Train on it or a Fix button. A dialog's own buttons are
    left as the dialog made them (Enter there is its default button)."""
    for button in root.findChildren(QPushButton):
        if not isinstance(button.window(), QDialog):
            button.setAutoDefault(True)


def chain_tabs(*widgets: QWidget) -> None:
    """Tab visits ``widgets`` in this order (widgets placed in table cells come last otherwise,
    after everything below the table)."""
    for first, second in zip(widgets, widgets[1:]):
        QWidget.setTabOrder(first, second)
