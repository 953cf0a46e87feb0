"""How the Datasets page reads a file, where it can be told otherwise: the sheet of an Excel
workbook (the first that holds data is read), and the encoding of a CSV or TSV that is not UTF-8
(the code page its text reads best in is chosen; Greek reads as plausible Cyrillic, Czech as
Western European, so the user who sees wrong letters picks the right one here)."""
from __future__ import annotations

import codecs
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QWidget

from desktop.accessible import label_for
from engine.data.importing.legacy_encodings import CANDIDATES

# Read as they are: their encoding is in the file itself.
_SAID_IN_THE_FILE = ("utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "ascii")


class ReadingBoxes(QWidget):
    """The Sheet and Encoding boxes; each shown only where there is a choice to make."""

    reread = Signal(dict)  # the read_table option that changed: {"sheet": ...} or {"encoding": ...}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sheet = QComboBox()
        self.sheet_label = label_for("Sheet:", self.sheet)
        self.encoding = QComboBox()
        self.encoding.setToolTip("The letters look wrong? Choose the encoding the file was saved in")
        for codec, name in CANDIDATES:
            self.encoding.addItem(name, codec)
        self.encoding_label = label_for("Encoding:", self.encoding)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.sheet_label, self.sheet, self.encoding_label, self.encoding):
            row.addWidget(widget)
        self.sheet.activated.connect(lambda _i: self.reread.emit({"sheet": self.sheet.currentText()}))
        self.encoding.activated.connect(lambda _i: self.reread.emit({"encoding": self.encoding.currentData()}))

    def show_for(self, imported: Any) -> None:
        """The boxes for a file just read (or back to it, after a read that failed)."""
        self.sheet.clear()
        self.sheet.addItems(imported.sheets)
        self.sheet.setCurrentText(imported.sheet or "")
        for widget in (self.sheet_label, self.sheet):
            widget.setVisible(len(imported.sheets) > 1)
        codec = _python_name(imported.encoding)
        legacy = imported.format in ("csv", "tsv") and codec is not None and codec not in _SAID_IN_THE_FILE
        if legacy and self.encoding.findData(codec) < 0:
            self.encoding.addItem(codec, codec)  # latin-1 ("iso8859-1"), or one named by hand
        if legacy:
            self.encoding.setCurrentIndex(self.encoding.findData(codec))
        for widget in (self.encoding_label, self.encoding):
            widget.setVisible(legacy)
        self.setVisible(len(imported.sheets) > 1 or legacy)


def _python_name(encoding: str | None) -> str | None:
    try:
        return codecs.lookup(encoding).name if encoding else None
    except LookupError:
        return None
