"""Desktop entry point: ``cloister`` with no arguments."""
from __future__ import annotations

import sys


def main() -> int:
    from privacy.offline import enforce_offline

    enforce_offline()
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("Cloister")
    window.setCentralWidget(QLabel("Cloister — private fine-tuning"))
    window.resize(1280, 800)
    window.show()
    return app.exec()
