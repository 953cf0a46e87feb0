"""Small painted charts that follow the palette: horizontal bars and a confusion heat map.

Painted by hand rather than with pyqtgraph so the Datasets and Try-it pages start instantly
(pyqtgraph costs ~0.6 s to import) and the bars read well at any size.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor, QFocusEvent, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen,
)
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QToolTip, QWidget


def _scroll_area_of(widget: QWidget) -> QScrollArea | None:
    """The scroll area ``widget`` is the widget of (its parent is the area's viewport)."""
    viewport = widget.parentWidget()
    area = viewport.parentWidget() if viewport is not None else None
    return area if isinstance(area, QScrollArea) else None


def _accent(widget: QWidget) -> QColor:
    return widget.palette().color(QPalette.ColorRole.Highlight)


class BarChart(QWidget):
    """Horizontal labelled bars, largest first if asked; values shown as counts or percentages."""

    ROW = 22

    def __init__(self, *, percent: bool = False, max_bars: int = 40, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._percent = percent
        self._max_bars = max_bars
        self._items: list[tuple[str, float]] = []
        self._highlight: str | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_values(self, items: Sequence[tuple[str, float]], *, highlight: str | None = None) -> None:
        self._items = list(items)
        self._highlight = highlight
        # The bars in words, for a screen reader (the page names the chart itself), also on
        # the scroll area around them: it takes the focus, the chart does not.
        said = "; ".join(f"{name}: {value * 100:.1f}%" if self._percent else f"{name}: {int(value):,}"
                         for name, value in self._shown())
        self.setAccessibleDescription(said)
        area = _scroll_area_of(self)
        if area is not None:
            area.setAccessibleDescription(said)
        # Inside a scroll area: keep every row readable and let the area scroll instead.
        self.setMinimumHeight(self.sizeHint().height() if self._items else 60)
        self.updateGeometry()
        self.update()

    def values(self) -> list[tuple[str, float]]:
        return list(self._items)

    def event(self, event: Any) -> bool:
        # The whole label and its count on hover: a long label is cut to fit its column.
        if event.type() == QEvent.Type.ToolTip:
            items = self._shown()
            row_height = min(self.ROW, max(12, (self.height() - 4) // max(1, len(items))))
            row = int((event.pos().y() - 4) // row_height)
            if items and 0 <= row < len(items):
                name, value = items[row]
                amount = f"{value * 100:.1f}%" if self._percent else f"{int(value):,}"
                QToolTip.showText(event.globalPos(), f"{name}: {amount}", self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def _shown(self) -> list[tuple[str, float]]:
        if len(self._items) <= self._max_bars:
            return self._items
        rest = sum(value for _, value in self._items[self._max_bars - 1:])
        more = len(self._items) - self._max_bars + 1
        return self._items[: self._max_bars - 1] + [(f"{more} more", rest)]

    def sizeHint(self) -> QSize:
        return QSize(320, max(60, self.ROW * len(self._shown()) + 8))

    def minimumSizeHint(self) -> QSize:
        return QSize(160, min(self.sizeHint().height(), 120))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.WindowText)
        track = palette.color(QPalette.ColorRole.Mid)
        track.setAlpha(60)
        items = self._shown()
        if not items:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Nothing to show yet")
            return
        metrics = QFontMetrics(self.font())
        label_width = min(self.width() // 3, max(metrics.horizontalAdvance(name) for name, _ in items) + 12)
        value_width = metrics.horizontalAdvance("100.0% " if self._percent else "0000000 ")
        bar_width = max(10, self.width() - label_width - value_width - 8)
        # Scale to the largest real bar; an aggregated "N more" row is clipped, not the yardstick.
        top_value = 1.0 if self._percent else max((v for _, v in self._items[: self._max_bars]), default=1) or 1
        row_height = min(self.ROW, max(12, (self.height() - 4) // len(items)))
        names = shown_names([name for name, _ in items], metrics, label_width - 8)
        for i, (name, value) in enumerate(items):
            y = 4 + i * row_height
            shown_name = names[i]
            painter.setPen(text_color)
            painter.drawText(QRectF(0, y, label_width - 6, row_height), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown_name)
            bar = QRectF(label_width, y + 3, bar_width, row_height - 6)
            painter.fillRect(bar, track)
            color = _accent(self)
            if self._highlight is not None and name != self._highlight:
                color.setAlpha(140)
            filled = QRectF(bar.x(), bar.y(), bar.width() * max(0.0, min(1.0, value / top_value)), bar.height())
            painter.fillRect(filled, color)
            text = f"{value * 100:.1f}%" if self._percent else f"{int(value):,}"
            painter.setPen(text_color)
            painter.drawText(QRectF(label_width + bar_width + 6, y, value_width, row_height), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


def shown_names(names: Sequence[str], metrics: QFontMetrics, width: int) -> list[str]:
    """Each name cut to ``width`` pixels, at its end; where two would then read the same
    ("Credit reporting, cre…" and "Credit reporting or o…" both became "Credit reporting…" in a
    narrower column), in the middle, which keeps both ends."""
    right = [metrics.elidedText(n, Qt.TextElideMode.ElideRight, width) for n in names]
    seen = Counter(right)
    return [metrics.elidedText(n, Qt.TextElideMode.ElideMiddle, width) if seen[r] > 1 and r != n else r
            for n, r in zip(names, right)]


def scrolled_heat_map(heat_map: HeatMap) -> QScrollArea:
    """The heat map in a scroll area that scrolls only when its cells, at their smallest, do not
    fit; the Tab key goes past the area to the map itself."""
    area = QScrollArea()
    area.setWidget(heat_map)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    # The headings are drawn where the area shows the map: a scroll repaints it whole (only the
    # cells in view are painted), or the headings' copies would be moved along with the cells.
    for bar in (area.horizontalScrollBar(), area.verticalScrollBar()):
        bar.valueChanged.connect(lambda _v: heat_map.update())
    return area


class HeatMap(QWidget):
    """Confusion matrix: rows are true labels, columns predicted; cell shade by row share.

    Clicking a cell emits ``cell_clicked(true_index, predicted_index)`` so the results page can
    filter the misclassified browser; from the keyboard, the arrow keys move a current cell
    (framed, and announced by name) and Enter or Space chooses it.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels: list[str] = []
        self._matrix: list[list[int]] = []
        self._totals: list[int] = []
        self.placeholder = "No confusion matrix yet"
        self.current = (0, 0)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_matrix(self, labels: Sequence[str], matrix: Sequence[Sequence[int]], *,
                   placeholder: str | None = None) -> None:
        """``placeholder``: what to say where there is no matrix (default: none yet)."""
        self._labels = [str(label) for label in labels]
        self._matrix = [[int(v) for v in row] for row in matrix]
        self._totals = [sum(row) for row in self._matrix]
        self.placeholder = placeholder or "No confusion matrix yet"
        self.current = (0, 0)
        self._announce()
        self.updateGeometry()  # a larger matrix needs more room: the scroll area around it asks
        self.update()

    def _announce(self) -> None:
        """The current cell, as a screen reader reads the matrix's name."""
        if not self._matrix:
            self.setAccessibleName(f"Confusion matrix: {self.placeholder}")
            return
        i, j = self.current
        self.setAccessibleName(
            f"Confusion matrix, true {self._labels[i]}, predicted {self._labels[j]}: "
            f"{self._matrix[i][j]:,} of {sum(self._matrix[i]):,} rows (arrow keys move, Enter "
            "lists them)")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {Qt.Key.Key_Up: (-1, 0), Qt.Key.Key_Down: (1, 0), Qt.Key.Key_Left: (0, -1),
                 Qt.Key.Key_Right: (0, 1)}
        n = len(self._matrix)
        if n and event.key() in steps:
            di, dj = steps[Qt.Key(event.key())]
            self.current = (min(n - 1, max(0, self.current[0] + di)),
                            min(n - 1, max(0, self.current[1] + dj)))
            self._announce()
            self._keep_current_in_view()
            self.update()
        elif n and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.cell_clicked.emit(*self.current)
        else:
            super().keyPressEvent(event)

    def matrix(self) -> list[list[int]]:
        return [list(row) for row in self._matrix]

    MIN_CELL = 4.0
    MAX_MARGIN = 220  # the row names' column: a long label is cut in the middle past it

    def _margin(self, width: float, height: float | None = None) -> float:
        """The row names' column; a narrow strip when rows are too small to be named (its
        144 empty pixels were all that made a 120-label map scroll sideways)."""
        metrics = QFontMetrics(self.font())
        margin = self._names_width(width)
        if height is not None and self._cell(width, height, margin) < metrics.height() - 2:
            margin = min(margin, float(metrics.horizontalAdvance("true ↓") + 8))
        return margin

    def _names_width(self, width: float) -> float:
        """The column the row names take when they are shown."""
        longest = max((QFontMetrics(self.font()).horizontalAdvance(l) for l in self._labels),
                      default=20) + 14
        return float(min(width / 3, longest, self.MAX_MARGIN))

    def _top(self) -> int:
        """Where the cells start: below the heading and the column names."""
        return QFontMetrics(self.font()).height() * 2 + 6

    def _cell(self, width: float, height: float, margin: float) -> float:
        n = max(1, len(self._labels))
        return max(self.MIN_CELL, min((width - margin - 4) / n, (height - self._top() - 4) / n))

    def _geometry(self) -> tuple[float, float, float]:
        margin = self._margin(self.width(), self.height())
        return margin, self._top(), self._cell(self.width(), self.height(), margin)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's
        """Every cell at its smallest: with hundreds of labels the matrix is wider than the
        pane, and the scroll area around it scrolls (the columns past the edge, where a model's
        mistakes may be, were out of reach)."""
        n = len(self._matrix)
        if not n:
            return QSize(240, 200)
        top, side = self._top(), n * self.MIN_CELL + 4
        return QSize(max(240, int(self._margin(3 * side, top + side) + side)), max(200, int(top + side)))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.WindowText)
        if not self._matrix:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(12, 0, -12, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        margin, top, cell = self._geometry()
        n = len(self._labels)
        metrics = QFontMetrics(self.font())
        accent = _accent(self)
        painter.setPen(text_color)
        show_text = cell >= metrics.horizontalAdvance("0000") + 4
        # A name fits its row only when the row is as tall as a line: smaller, 320 names drawn
        # 4 pixels apart ran into one black smear (a cell's tooltip names it instead).
        show_row_names = cell >= metrics.height() - 2 and margin >= self._names_width(self.width())
        rows, columns = self.visible_cells(event.rect())
        # Cut in the middle: labels that share a long start ('Billing / refunds / ...') keep
        # the ends that tell them apart.
        for j in columns:
            if cell >= 24:
                name = metrics.elidedText(self._labels[j], Qt.TextElideMode.ElideMiddle, int(cell) - 2)
                painter.drawText(QRectF(margin + j * cell, metrics.height() + 2, cell, metrics.height()), Qt.AlignmentFlag.AlignCenter, name)
        for i in rows:
            row, total = self._matrix[i], self._totals[i] or 1
            painter.setPen(text_color)
            if show_row_names:
                name = metrics.elidedText(self._labels[i], Qt.TextElideMode.ElideMiddle, int(margin) - 8)
                painter.drawText(QRectF(0, top + i * cell, margin - 6, cell), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            for j in columns:
                value = row[j]
                share = value / total
                color = QColor(accent)
                color.setAlphaF(0.06 + 0.94 * share)
                rect = QRectF(margin + j * cell, top + i * cell, cell - 1, cell - 1)
                painter.fillRect(rect, color)
                if show_text:
                    painter.setPen(palette.color(QPalette.ColorRole.HighlightedText) if share > 0.5 else text_color)
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(value))
        if self.hasFocus():  # where the arrow keys are
            i, j = self.current
            painter.setPen(QPen(text_color, 2))
            painter.drawRect(QRectF(margin + j * cell + 1, top + i * cell + 1, cell - 3, cell - 3))
        # Last, over the cells: where the scroll area shows the map, the two headings stay in
        # its top-left corner (centred over every column, "predicted →" was past the edge with
        # many; painted first, the cells scrolled under them covered them).
        seen = self.visibleRegion().boundingRect()
        left, top_seen = max(0, seen.left()), max(0, seen.top())
        painter.fillRect(QRectF(left, top_seen, max(0, seen.width()), metrics.height()),
                         palette.color(QPalette.ColorRole.Window))
        painter.setPen(text_color)
        painter.drawText(QRectF(left + margin, top_seen, max(0.0, seen.width() - margin),
                                metrics.height()), Qt.AlignmentFlag.AlignLeft, "predicted →")
        painter.drawText(QRectF(left, top_seen, max(margin, metrics.horizontalAdvance("true ↓") + 4),
                                metrics.height()), Qt.AlignmentFlag.AlignLeft, "true ↓")

    def _keep_current_in_view(self) -> None:
        """Inside a scroll area, the cell the arrow keys moved to is scrolled into view."""
        area = _scroll_area_of(self)
        if area is not None:
            margin, top, cell = self._geometry()
            i, j = self.current
            area.ensureVisible(int(margin + (j + 0.5) * cell), int(top + (i + 0.5) * cell),
                               int(cell) + 8, int(cell) + 8)

    def visible_cells(self, area: QRect) -> tuple[range, range]:
        """The rows and columns of cells that ``area`` of the widget shows. Only those are
        painted: with thousands of labels the cells run far past the widget's edge at their
        4-pixel minimum, and painting all 25 million of a 5,000-label matrix took minutes a
        repaint."""
        margin, top, cell = self._geometry()
        n = len(self._matrix)

        def span(first_pixel: int, last_pixel: int, origin: float) -> range:
            first = max(0, int((first_pixel - origin) // cell))
            return range(first, max(first, min(n, int((last_pixel - origin) // cell) + 1)))

        # A pixel more on each side: cells start at fractional positions, and a pixel whose
        # centre is in the next cell is painted by it.
        return (span(area.top() - 1, area.bottom() + 1, top),
                span(area.left() - 1, area.right() + 1, margin))

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()  # the current cell's frame shows only with the focus

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The (true, predicted) cell under a point of the widget, or None."""
        if not self._matrix:
            return None
        margin, top, cell = self._geometry()
        j, i = int((x - margin) // cell), int((y - top) // cell)
        n = len(self._matrix)
        return (i, j) if 0 <= i < n and 0 <= j < n and x >= margin and y >= top else None

    def cell_tip(self, i: int, j: int) -> str:
        """What a cell says in full: with many labels the cells are too small for their count
        and the column heads are cut to a letter or two."""
        row = self._matrix[i]
        return (f"true {self._labels[i]}, predicted {self._labels[j]}: {row[j]:,} of "
                f"{sum(row):,} rows (click to list them)")

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            at = self.cell_at(event.pos().x(), event.pos().y())  # type: ignore[attr-defined]
            if at is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), self.cell_tip(*at), self)  # type: ignore[attr-defined]
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        at = self.cell_at(pos.x(), pos.y())
        if at is not None:
            self.current = at
            self._announce()
            self.cell_clicked.emit(*at)
