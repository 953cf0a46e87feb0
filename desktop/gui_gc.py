"""Cyclic garbage collection on the GUI thread only.

Python's cycle collector runs on whichever thread happens to allocate when a threshold is
crossed. In this app that is often the training thread, and a collected cycle can hold Qt
objects (a finished ``Job`` and its ``QThread``, a closed page and the lambdas connected to its
signals): deleting those from a thread that does not own them crashes the process (seen as a
segfault "Garbage-collecting" inside model loading). So automatic collection is switched off and
a timer on the GUI thread collects instead, generation by generation, with the thresholds Python
would have used (pyqtgraph's GarbageCollector does the same).
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class GuiThreadGarbageCollector(QObject):
    """While it exists, cycles are collected on the thread that created it (the GUI thread)."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(interval_ms)

    def collect_due(self) -> int:
        """Collect the generations whose allocation counts passed their thresholds."""
        found = 0
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self._thresholds[generation]:
                break
            found += gc.collect(generation)
        return found

    def stop(self) -> None:
        """Hand collection back to Python, after one full collection here."""
        self._timer.stop()
        gc.collect()
        gc.enable()
