"""The Qt binding must not lose references to None: PySide6 6.12 drops one on every call that
returns nothing, and before Python 3.12 the interpreter then frees None and aborts the app
("Fatal Python error: none_dealloc") after a few repaints of a 77-class confusion matrix."""
from __future__ import annotations

import sys

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter


def test_qt_calls_that_return_nothing_keep_none_alive(qapp) -> None:
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    color, rect = QColor(1, 2, 3), QRectF(1, 2, 3, 4)
    try:
        before = sys.getrefcount(None)
        for _ in range(100):  # a small share of one paint of a large heat map
            color.setAlpha(70)
            painter.fillRect(rect, color)
            painter.setPen(color)
            painter.drawRect(rect)
        lost = before - sys.getrefcount(None)
    finally:
        painter.end()
    assert lost < 40, f"{lost} references to None lost in 400 Qt calls: this PySide6 leaks them"
