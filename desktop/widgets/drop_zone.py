"""The Datasets page's first view: where to drop a file or folder, and the one-click sample."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.keys import key_text


class DropZone(QWidget):
    """The drop zone a first-time user sees; ``sample_button`` opens the bundled sample data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        # A QWidget subclass paints its style sheet's background (the dashed frame) only so.
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        text = QLabel(f"Drop a data file or folder here\n\nor press {key_text('Ctrl+O')} to choose a "
                      f"file, or {key_text('Ctrl+Shift+O')} to choose\na folder (one sub-folder per "
                      "label)")
        text.setObjectName("dropText")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # First-time users can train in one click on public data shipped with the app.
        self.sample_button = QPushButton("Use the sample data (600 SMS messages, spam or not)")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(text)
        layout.addSpacing(12)  # the button touched the text above it
        layout.addWidget(self.sample_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
