"""The Datasets page's top line: Open…, the progress of reading or importing a file, its Cancel,
and what the page says.

A big file took 8 s to read (a million rows; about 25 s at the size limit) with no way out
but to wait: Cancel stops a read. It cannot stop inside the file's parser, so the read stops at
its next step and what it read is dropped. (An import, once it encrypts, goes to its end: the
stored rows are all there or not at all.)
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton

from desktop.icons import icon


class WorkBar(QHBoxLayout):
    def __init__(self, open_file: Callable[[], None], cancel: Callable[[], None]) -> None:
        super().__init__()
        self.open_button = QPushButton(icon("open"), "Open…")
        self.open_button.clicked.connect(open_file)
        self.progress = QProgressBar(maximumWidth=320, accessibleName="Reading the file")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Stop reading the file")
        self.cancel_button.clicked.connect(cancel)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.addWidget(self.open_button)
        self.addWidget(self.progress)
        self.addWidget(self.cancel_button)
        self.addWidget(self.status, 1)
        self.stop()

    def start(self, *, steps: bool) -> None:
        """Show the progress: a percentage with ``steps`` (an import), else busy with a Cancel
        (a read)."""
        self.progress.setRange(0, 100 if steps else 0)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.setVisible(not steps)

    def stop(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
