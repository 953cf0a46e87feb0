"""The Train page's dataset list: each stored dataset with what the page reads from it."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

ROWS = Qt.ItemDataRole.UserRole + 1
PERSON_COLUMNS = Qt.ItemDataRole.UserRole + 2  # columns that may name a person (DP per person)
VERSION = Qt.ItemDataRole.UserRole + 3  # the digest: a dataset imported again is counted again


def fill_datasets(combo: QComboBox, infos: Iterable[Any]) -> None:
    """List ``infos`` (stored datasets) in ``combo``, keeping the one chosen: by name, or, once
    renamed, by its contents (a rename keeps them). Signals are held while it is refilled."""
    current, version = combo.currentData(), combo.currentData(VERSION)
    combo.blockSignals(True)
    combo.clear()
    for info in infos:
        combo.addItem(f"{info.name}  ({info.rows:,} rows, {len(info.labels)} labels)", info.name)
        row = combo.count() - 1
        combo.setItemData(row, info.rows, ROWS)
        combo.setItemData(row, [c for c in info.columns if c not in info.mapping.text_columns
                                and c != info.mapping.label_column], PERSON_COLUMNS)
        combo.setItemData(row, info.sha256, VERSION)
    if current is not None:
        index = combo.findData(current)
        if index < 0 and version:
            index = combo.findData(version, VERSION)
        combo.setCurrentIndex(max(0, index))
    combo.blockSignals(False)
