"""Shortcut hints in the platform's own words (desktop/keys.py)."""
from __future__ import annotations

import sys

from PySide6.QtGui import QKeySequence

from desktop.keys import key_text, select_more_key


def test_hints_name_the_keys_as_the_platform_shows_them(qtbot, monkeypatch) -> None:  # noqa: ARG001
    native = QKeySequence.SequenceFormat.NativeText
    assert key_text("Ctrl+Shift+O") == QKeySequence("Ctrl+Shift+O").toString(native)
    if sys.platform != "darwin":
        assert key_text("Ctrl+O") == "Ctrl+O"  # as it was written, off macOS
    monkeypatch.setattr(sys, "platform", "darwin")
    assert select_more_key() == "Cmd"  # Cmd+click adds to a selection on macOS
    monkeypatch.setattr(sys, "platform", "linux")
    assert select_more_key() == "Ctrl"


def test_no_hint_names_ctrl_by_hand(qtbot) -> None:  # noqa: ARG001
    """Every hint goes through key_text: one written "Ctrl+O" named a key macOS users do not
    press (Qt maps the shortcut itself to Command there)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "desktop"
    said = [f"{path.relative_to(root)}:{number}" for path in root.rglob("*.py")
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r'"[^"]*\(Ctrl\+', line)]
    assert said == []
