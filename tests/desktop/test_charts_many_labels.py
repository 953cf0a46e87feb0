"""A confusion matrix of thousands of labels paints only the cells the widget shows."""
from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QPalette

from desktop.widgets.charts import HeatMap


def test_only_the_cells_in_view_are_painted_and_they_are_painted_right(qtbot) -> None:
    # 2,000 labels at the 4-pixel minimum run 8,000 pixels past a 600-pixel widget: painting
    # every one of the 4 million cells made each repaint take seconds (minutes at 5,000).
    n = 2_000
    matrix = [[0] * n for _ in range(n)]
    for i in range(n):
        matrix[i][i] = 3
        matrix[i][(i + 1) % n] = 1
    heat = HeatMap()
    qtbot.addWidget(heat)
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#1e88e5"))
    heat.setPalette(palette)
    heat.resize(600, 400)
    heat.set_matrix([f"code {i}" for i in range(n)], matrix)
    margin, top, cell = heat._geometry()
    assert cell == 4.0
    rows, columns = heat.visible_cells(heat.rect())
    assert rows.start == columns.start == 0
    assert len(rows) <= (400 - top) // cell + 1 and len(columns) <= (600 - margin) // cell + 1
    # A region exposed by a small repaint: only its own cells.
    part = QRect(int(margin + 40 * cell) + 1, int(top + 10 * cell) + 1, 2, 2)
    assert heat.visible_cells(part) == (range(10, 11), range(40, 41))
    # A repaint of a one-pixel strip at fractional cell edges paints every cell it touches.
    heat.set_matrix([f"code {i}" for i in range(50)], [row[:50] for row in matrix[:50]])
    heat.resize(601, 457)
    margin, top, cell = heat._geometry()
    assert cell != int(cell)
    for x in range(int(margin), int(margin + 50 * cell) - 1):
        columns = heat.visible_cells(QRect(x, int(top) + 2, 1, 1))[1]
        painted = [j for j in range(50) if margin + j * cell <= x + 0.5 < margin + (j + 1) * cell]
        assert set(painted) <= set(columns), x
    heat.resize(600, 400)
    heat.set_matrix([f"code {i}" for i in range(n)], matrix)
    margin, top, cell = heat._geometry()
    image = heat.grab().toImage()
    diagonal = image.pixelColor(int(margin + 5 * cell + 1), int(top + 5 * cell + 1))
    beside = image.pixelColor(int(margin + 6 * cell + 1), int(top + 5 * cell + 1))
    empty = image.pixelColor(int(margin + 9 * cell + 1), int(top + 5 * cell + 1))
    accent = QColor("#1e88e5")

    def away(c: QColor) -> int:
        return sum(abs(a - b) for a, b in zip(c.getRgb()[:3], accent.getRgb()[:3]))

    assert away(diagonal) < away(beside) < away(empty)  # the shade follows the share: 3/4, 1/4, 0
    assert heat.cell_tip(5, 6) == "true code 5, predicted code 6: 1 of 4 rows (click to list them)"


def test_hundreds_of_labels_scroll_without_a_smear_of_names(qtbot) -> None:
    """320 labels: every name was drawn 4 pixels apart (one black smear), 'predicted →' was
    centred past the edge, and the columns past the pane (where the mistakes were) could not be
    reached. The names now show only where a row is as tall as a line, and the map scrolls."""
    from PySide6.QtCore import Qt

    from desktop.widgets.charts import scrolled_heat_map

    n = 320
    matrix = [[3 if i == j else 0 for j in range(n)] for i in range(n)]
    matrix[5][300] = 2  # a mistake far to the right
    heat = HeatMap()
    area = scrolled_heat_map(heat)
    qtbot.addWidget(area)
    area.resize(520, 420)
    area.show()
    heat.set_matrix([f"intent_{i:03d}" for i in range(n)], matrix)
    qtbot.waitUntil(lambda: area.horizontalScrollBar().maximum() > 0, timeout=5_000)
    margin, top, cell = heat._geometry()
    assert cell == HeatMap.MIN_CELL and heat.width() >= margin + n * cell
    # Rows too small to be named leave no empty column for their names.
    assert margin <= heat.fontMetrics().horizontalAdvance("true ↓") + 8
    assert area.verticalScrollBar().maximum() > 0
    image = heat.grab(QRect(0, 0, int(margin), 400)).toImage()
    background = image.pixelColor(1, int(top) + 40)
    inked = {(x, y) for x in range(int(margin) - 6) for y in range(int(top), 400)
             if image.pixelColor(x, y) != background}
    assert not inked  # no row names at 4 pixels a row
    # The arrow keys walk to the mistake, and the area scrolls to keep it in view.
    heat.setFocus()
    heat.current = (5, 290)
    for _ in range(10):
        qtbot.keyClick(heat, Qt.Key.Key_Right)
    assert heat.current == (5, 300)
    x = margin + 300.5 * cell
    shown = area.horizontalScrollBar().value()
    assert shown <= x <= shown + area.viewport().width()
    # Scrolled right, the headings are still in the area's top-left corner.
    assert shown > margin
    qtbot.wait(50)
    view = area.viewport().grab().toImage()
    line = heat.fontMetrics().height()
    paper = view.pixelColor(view.width() - 2, line // 2)
    assert any(view.pixelColor(px, py) != paper
               for px in range(int(margin), int(margin) + 60) for py in range(line))  # predicted →
    assert any(view.pixelColor(px, py) != paper for px in range(2, 40) for py in range(line))  # true ↓
    # Few labels: no scrolling, and the names are there.
    heat.set_matrix(["ham", "spam"], [[5, 1], [0, 4]])
    qtbot.waitUntil(lambda: area.horizontalScrollBar().maximum() == 0, timeout=5_000)
    assert area.verticalScrollBar().maximum() == 0


def test_short_labels_keep_their_row_names(qtbot) -> None:
    """'0'/'1' and 'yes'/'no' lost their row names when the narrow strip for unnamed rows was
    taken for a name column."""
    from desktop.widgets.charts import HeatMap

    heat = HeatMap()
    qtbot.addWidget(heat)
    heat.resize(500, 400)
    for labels in (["0", "1"], ["yes", "no"]):
        heat.set_matrix(labels, [[5, 1], [0, 4]])
        margin, top, cell = heat._geometry()
        image = heat.grab().toImage()
        paper = image.pixelColor(1, int(top + cell - 3))
        inked = [(x, y) for x in range(int(margin) - 6) for y in range(int(top), int(top + 2 * cell))
                 if image.pixelColor(x, y) != paper]
        assert inked, labels
