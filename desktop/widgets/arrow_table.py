"""A virtual table model over a pyarrow Table: only the visible rows are ever converted.

Qt asks for cells as they scroll into view; rows are fetched in blocks of ``BLOCK`` and a few
blocks are cached, so a million-row preview costs no more than a hundred-row one.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QTableView

from desktop.accessible import tab_leaves

BLOCK = 256
CACHED_BLOCKS = 16
MAX_CELL_CHARS = 300  # long texts are shortened in the cell; the tooltip shows more


def preview_view(model: ArrowTableModel) -> QTableView:
    """The table a file's rows are previewed in: one line a row, cells chosen one by one."""
    table = tab_leaves(QTableView(), "Rows of the file")
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
    header = table.horizontalHeader()
    header.setDefaultSectionSize(220)
    # A long column name ("Consumer complaint narrative  [text]") reads from its start and
    # ends in "…", instead of being centred and cut at both ends.
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setTextElideMode(Qt.TextElideMode.ElideRight)
    header.setStretchLastSection(True)
    table.verticalHeader().setDefaultSectionSize(24)
    table.setWordWrap(False)
    return table


class TextColumnWidth(QObject):
    """Keeps the preview's text column at three fifths of the view as the window is resized,
    until the user drags that column: set once when the file opened, it stayed 1,150 pixels
    wide in a window shrunk to 1280 (the label column off-screen), or narrow in one enlarged
    (the texts cut beside an empty stretch). ``keep`` makes or reuses one per shown file."""

    def __init__(self, table: QTableView, column: int) -> None:
        super().__init__(table)
        self.table, self.column, self.user_sized, self._setting = table, column, False, False
        table.viewport().installEventFilter(self)
        table.horizontalHeader().sectionResized.connect(self._resized)
        self.apply()

    @classmethod
    def keep(cls, table: QTableView, column: int, previous: TextColumnWidth | None) -> TextColumnWidth:
        """The rule for ``column``: ``previous`` itself when it already keeps that column (a fix
        or a change of label shows the file again: a width the user set stays), else a new one
        in its place."""
        if previous is not None and previous.table is table and previous.column == column:
            if not previous.user_sized:
                previous.apply()
            return previous
        if previous is not None:
            previous.table.viewport().removeEventFilter(previous)
            previous.table.horizontalHeader().sectionResized.disconnect(previous._resized)
            previous.deleteLater()
        return cls(table, column)

    def _resized(self, logical: int, _old: int, _new: int) -> None:
        if logical == self.column and not self._setting:
            self.user_sized = True  # the user's width stands from now on

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's
        if event.type() == QEvent.Type.Resize and not self.user_sized:
            self.apply()
        return False

    def apply(self) -> None:
        self._setting = True
        try:
            self.table.horizontalHeader().resizeSection(
                self.column, max(160, self.table.viewport().width() * 3 // 5))
        finally:
            self._setting = False


class ArrowTableModel(QAbstractTableModel):
    def __init__(self, table: Any = None, *, parent: Any = None) -> None:
        super().__init__(parent)
        self._table = table
        self._blocks: OrderedDict[int, list[list[Any]]] = OrderedDict()
        self._highlighted: dict[str, str] = {}

    # --- data -------------------------------------------------------------------------------
    def set_table(self, table: Any) -> None:
        self.beginResetModel()
        self._table = table
        self._blocks.clear()
        self._highlighted = {}
        self.endResetModel()

    def table(self) -> Any:
        return self._table

    def set_roles(self, roles: dict[str, str]) -> None:
        """Mark columns by role, e.g. {"message": "text", "label": "label"}, shown in headers."""
        self._highlighted = dict(roles)
        if self._table is not None and self._table.num_columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self._table.num_columns - 1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if parent.isValid() or self._table is None:
            return 0
        return self._table.num_rows

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if parent.isValid() or self._table is None:
            return 0
        return self._table.num_columns

    def _block(self, number: int) -> list[list[Any]]:
        block = self._blocks.get(number)
        if block is None:
            part = self._table.slice(number * BLOCK, BLOCK)
            block = [column.to_pylist() for column in part.columns]
            self._blocks[number] = block
            if len(self._blocks) > CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(number)
        return block

    def cell(self, row: int, column: int) -> Any:
        return self._block(row // BLOCK)[column][row % BLOCK]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._table is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self.cell(index.row(), index.column())
            if value is None:
                return "" if role == Qt.ItemDataRole.DisplayRole else "(empty)"
            text = str(value)
            limit = MAX_CELL_CHARS if role == Qt.ItemDataRole.DisplayRole else 4 * MAX_CELL_CHARS
            text = text if len(text) <= limit else text[: limit - 1] + "…"
            return text.replace("\n", " ⏎ ") if role == Qt.ItemDataRole.DisplayRole else text
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self._table is None:
            return None
        if orientation == Qt.Orientation.Vertical:
            # 1-based data rows: the same numbers the validation problems use.
            return section + 1 if role == Qt.ItemDataRole.DisplayRole else None
        name = self._table.column_names[section]
        if role == Qt.ItemDataRole.DisplayRole:
            role_name = self._highlighted.get(name)
            return f"{name}  [{role_name}]" if role_name else name
        if role == Qt.ItemDataRole.FontRole and name in self._highlighted:
            font = QFont()
            font.setBold(True)
            return font
        return None
