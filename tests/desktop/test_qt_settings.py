"""Qt's own settings, which its file dialog writes, kept in Cloister's own settings folder."""
from __future__ import annotations


def test_qt_remembers_opened_folders_only_in_cloisters_own_settings_folder(qtbot, isolated_dirs) -> None:
    """Qt's file dialog wrote the folder of the data file opened into ~/.config/QtProject.conf,
    world-readable (plaintext-at-rest audit): Qt's settings now live in Cloister's 0700 folder."""
    from pathlib import Path

    from PySide6.QtCore import QSettings

    from desktop.app import make_application

    folder = isolated_dirs["CLOISTER_SETTINGS_DIR"]
    folder.chmod(0o755)  # as versions before 2026-12-07 made it
    make_application([])
    qt_own = QSettings(QSettings.Scope.UserScope, "QtProject")
    qt_own.setValue("FileDialog/lastVisited", "file:///data/patients")
    qt_own.sync()
    written = Path(qt_own.fileName())
    assert written.parent == folder and written.is_file()
    assert folder.stat().st_mode & 0o077 == 0


def test_an_unwritable_settings_folder_does_not_stop_the_app(qtbot, tmp_path, monkeypatch) -> None:
    from desktop.app import keep_qt_settings_private

    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("CLOISTER_SETTINGS_DIR", str(blocker / "settings"))
    keep_qt_settings_private()  # no traceback at start: saving settings says what is wrong
    from PySide6.QtCore import QSettings

    assert not QSettings(QSettings.Scope.UserScope, "QtProject").fileName().startswith(str(blocker))
    assert not (blocker.parent / "settings").exists()
