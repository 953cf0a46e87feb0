"""Desktop entry point: ``cloister`` with no arguments (and ``make run``).

Start-up order matters for the cold start: Qt and the window first, nothing heavy; the vault
dialog right after the window is shown; torch/transformers are imported on a worker thread
once the workspace is open, so the first training run does not pay for them.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from desktop import platform_check
from desktop.context import AppContext
from desktop.icons import icon
from desktop.settings import load_settings
from desktop.worker import Job
from resources.paths import resources_dir

log = logging.getLogger(__name__)

# Set by bench/bench_gui.py and the installer check: print when the window is first shown, then
# quit at once; with SCREENSHOT also save what the window shows to that PNG file first.
QUIT_AFTER_SHOW = "CLOISTER_QUIT_AFTER_SHOW"
SCREENSHOT = "CLOISTER_SCREENSHOT"


def make_application(argv: list[str] | None = None) -> QApplication:
    keep_qt_settings_private()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Cloister")
    app.setOrganizationName("Cloister")
    app.setWindowIcon(icon("cloister"))
    # The stylesheet only uses palette() colours, so the system's light or dark theme shows through.
    readable_links(app)
    if _style_sheet(app):
        # Qt resolves palette() in a style sheet when it is set: after the system switches
        # between light and dark while Cloister runs, it is set again, or half the window
        # keeps the old colours (the page list, the tables) beside the new ones.
        if app.findChild(_Restyler) is None:
            app.installEventFilter(_Restyler(app))
    return app


def keep_qt_settings_private() -> None:
    """Qt's own file dialog remembers the folders it opened (the folder of a data file, of an
    access request's export) in QtProject.conf, world-readable, in the user's config folder:
    Qt's settings go to Cloister's settings folder instead, which is the user's alone (0700)."""
    from PySide6.QtCore import QSettings

    from privacy.vault.folders import settings_dir

    folder = settings_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":  # made 0755 by versions before 2026-12-07
            os.chmod(folder, 0o700)
    except OSError:  # an unwritable settings folder is said when settings are saved
        return
    for kind in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(kind, QSettings.Scope.UserScope, str(folder))


def _style_sheet(app: QApplication) -> bool:
    """Set the style sheet, with the error colour that reads on the theme; False without one."""
    from desktop.contrast import error_rule

    style = resources_dir() / "style.qss"
    if not style.exists():
        return False
    app.setStyleSheet(style.read_text(encoding="utf-8") + "\n" + error_rule(app.palette()))
    return True


def readable_links(app: QApplication) -> None:
    """Make the palette's link colour readable on its window colour (and, through
    ``desktop.contrast``, its hint and selection colours). The style sheet marks the
    automatically chosen settings with it; a dark theme that leaves Qt's default dark blue
    showed them dark blue on dark grey."""
    from PySide6.QtGui import QPalette

    from desktop.contrast import readable_palette

    palette = readable_palette(app.palette())  # hints and the selection too (WCAG AA)
    link, window = palette.color(QPalette.ColorRole.Link), palette.color(QPalette.ColorRole.Window)
    if abs(link.lightnessF() - window.lightnessF()) < 0.35:
        better = palette.color(QPalette.ColorRole.Highlight)
        better = better.lighter(170) if window.lightnessF() < 0.5 else better.darker(170)
        palette.setColor(QPalette.ColorRole.Link, better)
    if palette != app.palette():
        app.setPalette(palette)


class _Restyler(QObject):
    """Sets the application's style sheet again when its palette changes."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._busy = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (watched is self.parent() and event.type() == QEvent.Type.ApplicationPaletteChange
                and not self._busy):
            self._busy = True  # setting the sheet again sends palette events of its own
            try:
                app = QApplication.instance()
                if isinstance(app, QApplication):
                    readable_links(app)
                    _style_sheet(app)
            finally:
                self._busy = False
        return False


def create_window(*, kdf: Any = None):  # noqa: ANN201 - MainWindow, imported lazily
    from desktop.main_window import MainWindow

    context = AppContext(load_settings(), kdf=kdf)
    return MainWindow(context)


# Exit code when the window cannot open (missing system libraries, no display).
EXIT_NO_PLATFORM = 3


def main() -> int:
    from privacy.hardening import disable_core_dumps
    from privacy.offline import enforce_offline

    disable_core_dumps()  # a crash must not write decrypted data to a core file
    enforce_offline()
    logging.basicConfig(level=os.environ.get("CLOISTER_LOG", "WARNING"))
    # Before QApplication: Qt aborts the process when its platform plugin cannot load.
    problem = platform_check.check_platform()
    if problem is not None:
        platform_check.report(problem)
        return EXIT_NO_PLATFORM
    app = make_application()
    from desktop.gui_gc import GuiThreadGarbageCollector

    GuiThreadGarbageCollector(app)  # owned by the app: lives as long as the event loop
    window = create_window()
    window.show()
    if os.environ.get(QUIT_AFTER_SHOW):
        def report() -> None:
            print(f"SHOWN {time.time():.6f}", flush=True)
            target = os.environ.get(SCREENSHOT)
            if target:
                window.grab().save(target)
            app.quit()

        QTimer.singleShot(200 if os.environ.get(SCREENSHOT) else 0, report)
        return app.exec()

    def on_workspace(workspace: object) -> None:
        if workspace is not None and not getattr(window, "_warmed", False):
            window._warmed = True
            from desktop.jobs import warm_up

            window.context.start(Job.call(warm_up, name="warm-up", parent=window))

    window.context.workspace_changed.connect(on_workspace)
    QTimer.singleShot(0, window.open_vault)
    return app.exec()
