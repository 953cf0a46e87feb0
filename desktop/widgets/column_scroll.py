"""A column that scrolls up and down but never sideways, and is never narrower than its content.

A plain ``QScrollArea`` in a splitter lets the splitter squeeze it to any width, cutting off
buttons (which do not wrap); without it, a column taller than the window squeezes its buttons
into slivers instead. This one asks its splitter or layout for its content's minimum width.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QScrollArea, QWidget


class ColumnScroll(QScrollArea):
    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)
        # Not a Tab stop of its own (an unnamed one, to a screen reader): Tab goes to the
        # controls inside, and the area scrolls to show the one that has the focus.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # Content that grows wider later (a Fix button added for the next file) asks for more
        # room: without this the splitter kept the old width and cut the new button off.
        content.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        content = self.widget()
        width = content.minimumSizeHint().width() if content is not None else 0
        return QSize(width + self.verticalScrollBar().sizeHint().width(), super().minimumSizeHint().height())
