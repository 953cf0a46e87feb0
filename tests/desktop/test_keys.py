"""Shortcut hints in the platform's own words (desktop/keys.py)."""
from __future__ import annotations

import sys

from desktop.keys import key_text, select_more_key


def test_hints_name_the_keys_as_the_platform_shows_them(qtbot, monkeypatch) -> None:  # noqa: ARG001
    if sys.platform != "darwin":
        assert key_text("Ctrl+O") == "Ctrl+O"  # as it was written, off macOS
        assert key_text("Ctrl+Shift+O") == "Ctrl+Shift+O"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert select_more_key() == "Cmd"  # Cmd+click adds to a selection on macOS
    monkeypatch.setattr(sys, "platform", "linux")
    assert select_more_key() == "Ctrl"


def test_no_hint_names_ctrl_by_hand(qtbot) -> None:  # noqa: ARG001
    """Every shortcut a text names goes through key_text: one written "press Ctrl+O" named a
    key macOS users do not press (Qt maps the shortcut itself to Command there). Strings given
    to Qt as the shortcut itself, and docstrings, are not texts shown."""
    import ast
    from pathlib import Path

    given_to_qt = {"key_text", "_action", "QKeySequence", "setShortcut", "QShortcut"}
    root = Path(__file__).resolve().parents[2] / "desktop"
    said = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip: set[int] = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))  # a docstring
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in given_to_qt:
                    skip.update(id(a) for a in ast.walk(node) if isinstance(a, ast.Constant))
        said += [f"{path.relative_to(root)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)
                 and id(node) not in skip and "Ctrl+" in node.value]
    assert said == []
