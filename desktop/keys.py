"""Shortcuts as the platform writes them in help texts: Qt maps Ctrl to the Command key on
macOS, so a hint that said "Ctrl+O" there named a key that does something else."""
from __future__ import annotations

import sys

from PySide6.QtGui import QKeySequence


def key_text(sequence: str) -> str:
    """``"Ctrl+O"`` as this platform shows it: ``Ctrl+O`` on Linux and Windows, ``⌘O`` on
    macOS."""
    return QKeySequence(sequence).toString(QKeySequence.SequenceFormat.NativeText)


def select_more_key() -> str:
    """The key held to add an item to a selection: Cmd on macOS, Ctrl elsewhere."""
    return "Cmd" if sys.platform == "darwin" else "Ctrl"
