"""About dialog: versions of Cloister and its main libraries, and the plain offline statement."""
from __future__ import annotations

import platform
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from desktop.icons import icon

OFFLINE_STATEMENT = ("Cloister makes no network connection. Models, data and results stay on "
                     "this computer, encrypted in your workspace.")
LIBRARIES = ("torch", "transformers", "datasets", "opacus", "cryptography", "pyarrow", "onnxruntime")


def versions() -> list[tuple[str, str]]:
    """Installed versions, read from package metadata (nothing heavy is imported)."""
    rows = [("Cloister", _version("cloister")), ("Python", platform.python_version()), ("PySide6", pyside_version)]
    return rows + [(name, _version(name)) for name in LIBRARIES]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


class AboutDialog(QDialog):
    def __init__(self, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Cloister")
        self.setMinimumWidth(440)
        picture = QLabel()
        picture.setPixmap(icon("cloister").pixmap(64, 64))
        title = QLabel("<h2>Cloister</h2>Private fine-tuning of text classifiers, on your own machine.")
        title.setWordWrap(True)
        self.offline = QLabel(f"<b>{OFFLINE_STATEMENT}</b>")
        self.offline.setWordWrap(True)
        table = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{version}</td></tr>" for name, version in versions())
        self.versions = QLabel(f"<table>{table}</table>")
        self.versions.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (picture, title, self.offline, self.versions, buttons):
            layout.addWidget(widget)
