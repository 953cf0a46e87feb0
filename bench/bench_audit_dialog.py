"""The audit log dialog with a year's entries: how long it takes to show them, and to filter
them at a key typed, against filling a plain one-widget-per-cell table with the same rows (what
the dialog did before 2026-12-07), in the same run.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_audit_dialog.py [--entries 50000]
"""
from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QTableWidget, QTableWidgetItem  # noqa: E402

from desktop.dialogs.audit import COLUMNS, AuditDialog  # noqa: E402
from privacy.vault.audit import AuditEntry  # noqa: E402


class _NoWorkspace:
    workspace = None  # the entries are handed to the dialog; nothing is read from disk


def _entries(count: int) -> list[AuditEntry]:
    return [AuditEntry(seq=i, time="2026-12-07T12:00:00Z", user="alice",
                       action="dataset.imported" if i % 3 else "run.finished",
                       details={"dataset": f"claims_{i}", "rows": 200, "sha256": "ab" * 32})
            for i in range(count)]


def _per_cell(table: QTableWidget, entries: list[AuditEntry]) -> None:
    table.setRowCount(len(entries))
    for row, entry in enumerate(reversed(entries)):
        for column, value in enumerate((str(entry.seq), entry.time, entry.user, entry.action,
                                        entry.details_line())):
            item = QTableWidgetItem(value)
            item.setToolTip(value)
            table.setItem(row, column, item)
    for column in range(len(COLUMNS) - 1):
        table.resizeColumnToContents(column)
    table.resizeRowsToContents()


def _seconds(app: QApplication, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    app.processEvents()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    entries = _entries(args.entries)
    plain = QTableWidget(0, len(COLUMNS))
    plain.resize(900, 480)
    plain.setWordWrap(True)
    plain.show()
    dialog = AuditDialog(_NoWorkspace())  # type: ignore[arg-type]
    dialog.show()

    def show_all() -> None:
        dialog.entries = entries
        dialog._fill()

    rows = [
        ("show every entry", _seconds(app, lambda: _per_cell(plain, entries)),
         _seconds(app, show_all)),
        ("filter (one key typed)", _seconds(app, lambda: _per_cell(
            plain, [e for e in entries if e.action.startswith("run.")])),
         _seconds(app, lambda: dialog.filter.setText("run."))),
    ]
    print(f"{args.entries:,} audit entries, offscreen Qt")
    print(f"| {'step':<24} | {'one widget a cell (s)':>21} | {'dialog (s)':>10} | {'ratio':>6} |")
    print(f"|{'-' * 26}|{'-' * 23}:|{'-' * 11}:|{'-' * 7}:|")
    for name, baseline, ours in rows:
        print(f"| {name:<24} | {baseline:>21.2f} | {ours:>10.2f} | {ours / baseline:>6.3f} |")


if __name__ == "__main__":
    main()
