"""Cycles are collected on the GUI thread, never on a job's thread."""
from __future__ import annotations

import gc
import threading
import weakref

from desktop.gui_gc import GuiThreadGarbageCollector


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


def test_garbage_made_on_a_worker_thread_is_freed_on_the_gui_thread(qtbot) -> None:
    freed_on: list[int] = []
    collector = GuiThreadGarbageCollector(interval_ms=20)
    try:
        assert not gc.isenabled()

        def worker() -> None:
            # Far past generation 0's threshold: Python would have collected here, on this thread.
            for i in range(5 * gc.get_threshold()[0]):
                node = Node()
                if i < 50:
                    weakref.finalize(node, lambda: freed_on.append(threading.get_ident()))

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert freed_on == []
        qtbot.waitUntil(lambda: len(freed_on) == 50, timeout=5000)
        assert set(freed_on) == {threading.main_thread().ident}
    finally:
        collector.stop()
    assert gc.isenabled()
