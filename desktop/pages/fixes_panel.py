"""The Datasets page's "Fix" buttons: one per problem group, each saying how many rows it removes.

The options come from the engine (``engine.data.fix_suggest.suggest_fixes``), computed on the
worker thread with the validation report; pressing a button asks the page to apply that fix to
the draft in memory (``fix_draft``, also on the worker) and show the new preview, label chart
and problems. The source file is never touched; the applied fixes go with the draft into the
vault as the dataset's history.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.accessible import say_aloud


def fix_draft(draft: Any, fix: Any, *, skip_incomplete: bool = False) -> Any:
    """Worker-thread body: ``draft`` with ``fix`` applied in memory and validated again.

    Raises the engine's ``FixRefused`` (shown as the job's failure message) when the fix would
    leave an unusable dataset; the draft is then unchanged.
    """
    import dataclasses

    from engine.data.fixes import apply_fixes

    from desktop.pages.draft_check import read_and_check

    fixes = [fix]
    if skip_incomplete and getattr(fix, "needs_labels", False):
        from engine.data.fixes import DropIncomplete

        fixes = [DropIncomplete(), fix]  # class sizes without the rows left out at import anyway
    table, report = apply_fixes(draft.imported.table, draft.mapping, fixes)
    history = [step for step in report.history()  # the implicit drop, only where it dropped
               if step["kind"] != "drop-empty" or step["rows_removed"] or len(fixes) == 1]
    # Read-time problems name rows of the source file; they no longer match the fixed table.
    imported = dataclasses.replace(draft.imported, table=table, problems=())
    return read_and_check(imported.source, text_column=draft.text_column,
                          label_column=draft.label_column, skip_incomplete=skip_incomplete,
                          imported=imported, history=[*draft.history, *history],
                          label_delimiter=draft.label_delimiter)


class FixesPanel(QWidget):
    """A button per fix option; ``fix_chosen`` carries the chosen ``FixOption``."""

    fix_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: list[QPushButton] = []
        self.reasons: list[QLabel] = []
        # A fix replaces the buttons (the pressed one too, under the keyboard's focus): the
        # focus then goes to the next fix, or here when none is left (the page sets it).
        self.after_fix: QWidget | None = None
        self._pressed: QPushButton | None = None
        self._refused: str | None = None  # why the pressed fix was refused, for the next buttons
        self.applied = QLabel()
        self.applied.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.applied)
        self.set_options([], [])

    def set_options(self, options: list[Any], history: list[dict[str, Any]]) -> None:
        for widget in [*self.buttons, *self.reasons]:
            self._layout.removeWidget(widget)
            widget.deleteLater()
        self.buttons, self.reasons = [], []
        previous: frozenset[str] = frozenset()
        # Of two ways to fix the same problem, the one that can be applied comes first: a greyed
        # "not possible" heading the group made the working fix read as the second choice.
        options = _possible_first(options)
        for option in options:
            prefix = "Fix: " if option.blocking else "Optional: "
            if option.codes & previous:  # another way to fix the same problem: one or the other
                prefix = "Or: "
            previous = frozenset(option.codes)
            # A refusal can be long: said below the button, wrapped, so that it never widens
            # the panel (a button does not wrap) and squeezes the preview beside it.
            text = f"{option.label} — not possible" if option.refused else option.summary()
            button = QPushButton(prefix + text)
            button.setEnabled(not option.refused)
            button.setToolTip(option.refused or "Applied in memory; the source file is not changed. "
                              "Recorded in the dataset's history when you import.")
            button.clicked.connect(lambda _checked=False, o=option, b=button: self._chosen(o, b))
            button.setAutoDefault(True)  # Enter presses it on a page too (as in a dialog)
            self._layout.addWidget(button)
            self.buttons.append(button)
            if option.refused:
                reason = QLabel(f"Why: {_without_flags(option.refused)}")
                reason.setWordWrap(True)
                reason.setObjectName("fixRefusal")
                self._layout.addWidget(reason)
                self.reasons.append(reason)
        done = [str(step.get("description", step.get("kind", ""))) for step in history]
        self.applied.setText("Applied: " + "; ".join(done) if done else "")
        self.applied.setVisible(bool(done))
        self.setVisible(bool(options or done))
        if self._pressed is not None:  # after a fix: the focus on what is next, the fix said
            said = self._refused or self.applied.text()
            self._pressed, self._refused = None, None
            # Once the new buttons are shown (Qt shows a widget added to a shown layout a moment
            # later, and a hidden one takes no focus: it stayed where Qt had put it).
            QTimer.singleShot(0, lambda: self._land(said))

    def _land(self, said: str) -> None:
        target = next((b for b in self.buttons if b.isEnabled() and b.isVisible()), None) \
            or self.after_fix
        if target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)
            say_aloud(said, on=target)

    def _chosen(self, option: Any, button: QPushButton) -> None:
        self._pressed, self._refused = button, None
        self.fix_chosen.emit(option)

    def fix_failed(self, message: str) -> None:
        """The fix pressed was refused: the focus back on it, and why, said there; where the
        buttons are made again first (the Fix… dialog checks the dataset again), on the next
        ones. Nothing when no fix was pressed (another job failed)."""
        pressed = self._pressed
        if pressed is None:
            return
        if pressed in self.buttons and pressed.isEnabled():
            self._pressed = None
            pressed.setFocus(Qt.FocusReason.OtherFocusReason)
            say_aloud(message, on=pressed)
        else:
            self._refused = message

    def set_busy(self, busy: bool) -> None:
        for button in self.buttons:
            button.setEnabled(not busy and "not possible" not in button.text())


def _possible_first(options: list[Any]) -> list[Any]:
    """Each run of options fixing the same problem (sharing codes), applicable ones first."""
    groups: list[list[Any]] = []
    for option in options:
        if groups and option.codes & groups[-1][-1].codes:
            groups[-1].append(option)
        else:
            groups.append([option])
    return [o for group in groups for o in sorted(group, key=lambda o: bool(o.refused))]


def _without_flags(text: str) -> str:
    """The engine's reason without its command-line asides ("(...; --drop-small on the command
    line)"): here the fixes are buttons."""
    import re

    return re.sub(r"\s*\([^()]*--[a-z][^()]*\)", "", text)
