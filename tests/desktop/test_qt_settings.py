"""Qt's own settings, which its file dialog writes, kept in Cloister's own settings folder."""
from __future__ import annotations


def test_qt_remembers_opened_folders_only_in_cloisters_own_settings_folder(qtbot, isolated_dirs) -> None:
    """Qt's file dialog wrote the folder of the data file opened into ~/.config/QtProject.conf,
    world-readable (plaintext-at-rest audit): Qt's settings now live in Cloister's 0700 folder."""
    from pathlib import Path

    from PySide6.QtCore import QSettings

    from desktop.app import make_application

    folder = isolated_dirs["CLOISTER_SETTINGS_DIR"]
    folder.rmdir()  # as on a first start: made by Cloister
    make_application([])
    qt_own = QSettings(QSettings.Scope.UserScope, "QtProject")
    qt_own.setValue("FileDialog/lastVisited", "file:///data/patients")
    qt_own.sync()
    written = Path(qt_own.fileName())
    assert written.parent == folder and written.is_file()
    assert folder.stat().st_mode & 0o077 == 0
