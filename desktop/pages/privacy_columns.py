"""The Privacy step's whole-column choices: what to do with each column the model does not read
(an id, a patient's name, a phone number in a column of its own), with the scan's proposals
("its name 'patient_id'", "12 of 12 sampled cells are one EMAIL") filled in.

The text columns and the label are not listed: their personal data is handled span by span by
the entity actions, and dropping them would leave nothing to train on.
"""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from privacy.pii.operators import APP_ACTIONS, DATE_ACTIONS, DATE_TYPES

# Keep or drop first, then what the actions' registry offers in the app ("shift_date" needs a
# person key, set in a policy file).
COLUMN_CHOICES = ("keep", "drop", *(a for a in APP_ACTIONS if a != "keep"))
# What each action does, in words, for the menus (the policy file keeps the actions' names).
ACTION_LABELS = {
    "keep": "Keep as is",
    "drop": "Drop the column",
    "redact": "Remove",
    "tag": "Replace by its type (<PERSON>)",
    "mask": "Mask all but the end (****1234)",
    "pseudonym": "Replace by a fake value",
    "generalize_date": "Keep the month only",
}


def fill_actions(combo: QComboBox, actions: Any, current: str, *, entity: str | None = None) -> None:
    """The combo's choices in words, each carrying its action's name (``currentData``);
    ``entity``: the type a row is about, which "Replace by its type" then shows (<URL>, not
    <PERSON> on every row)."""
    for name in actions:
        label = ACTION_LABELS.get(name, name)
        if name == "tag" and entity:
            label = f"Replace by its type (<{entity}>)"
        combo.addItem(label, name)
    choose_action(combo, current)


def choose_action(combo: QComboBox, action: str) -> None:
    """Select ``action`` (its name, not its words) in a combo ``fill_actions`` filled."""
    combo.setCurrentIndex(max(0, combo.findData(action)))


class ColumnActions(QTableWidget):
    """Column | Looks like | Action. ``changed`` fires when an action is chosen."""

    changed = Signal()
    HEADERS = ("Column", "Looks like", "Action")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setTabKeyNavigation(False)  # Tab moves on to Preview and Create
        self._entities: dict[str, str] = {}

    def show_columns(self, columns: list[str], proposals: list[Any]) -> None:
        """One row per column; a proposed identifier column starts at its proposed action."""
        proposed = {p.column: p for p in proposals}
        self.setRowCount(0)
        self._entities = {}
        for column in columns:
            row = self.rowCount()
            self.insertRow(row)
            proposal = proposed.get(column)
            self._entities[column] = proposal.entity if proposal else "ID"
            self.setItem(row, 0, QTableWidgetItem(column))
            self.setItem(row, 1, QTableWidgetItem(
                f"{proposal.entity} ({proposal.reason})" if proposal else "—"))
            combo = QComboBox()
            combo.setAccessibleName(f"Action for column {column}")
            fill_actions(combo, COLUMN_CHOICES, proposal.action if proposal and
                         proposal.action in COLUMN_CHOICES else "keep",
                         entity=proposal.entity if proposal else None)
            combo.currentIndexChanged.connect(lambda _index: self.changed.emit())
            self.setCellWidget(row, 2, combo)
            self.setColumnWidth(2, max(self.columnWidth(2), combo.sizeHint().width() + 8))
        # Up to four rows in full (the combos are taller than text rows); more scroll.
        shown = min(self.rowCount(), 4)
        self.setMinimumHeight(self.horizontalHeader().sizeHint().height() + 4
                              + sum(self.rowHeight(r) for r in range(shown)))

    def combos(self) -> list[QWidget]:
        return [self.cellWidget(row, 2) for row in range(self.rowCount())]

    def actions(self) -> dict[str, str]:
        return {self.item(row, 0).text(): self.cellWidget(row, 2).currentData()
                for row in range(self.rowCount())}

    def set_action(self, column: str, action: str) -> None:
        for row in range(self.rowCount()):
            if self.item(row, 0).text() == column:
                choose_action(self.cellWidget(row, 2), action)

    def changes_anything(self) -> bool:
        return any(action != "keep" for action in self.actions().values())

    def policy_lines(self, *, day_first: bool = False) -> list[str]:
        """The ``[columns]`` lines of a policy file for every column not kept; ``day_first``
        goes with date actions, as for dates in the text (a date column ignored it)."""
        def settings(action: str) -> str:
            dated = day_first and action in DATE_ACTIONS
            return ", day_first = true" if dated else ""

        def entity(column: str, action: str) -> str:
            # A date rule's cells are dates: one it cannot read is tagged <DATE>, not <ID>.
            held = self._entities.get(column, "ID")
            dated = action in DATE_ACTIONS and held not in DATE_TYPES
            return "DATE" if dated else held

        # A JSON string is a valid TOML quoted key: any column name is written safely.
        return [f'{json.dumps(column)} = {{ action = "{action}", '
                f'entity = "{entity(column, action)}"{settings(action)} }}'
                for column, action in self.actions().items() if action != "keep"]
