"""The main window: sidebar of pages, menus and shortcuts, drop target, lock and idle lock."""
from __future__ import annotations

import importlib
import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QDialog, QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
    QMainWindow, QMessageBox, QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

from desktop.accessible import announce, presses_on_enter
from desktop.context import AppContext
from desktop.keys import key_text
from desktop.icons import icon, nav_icon
from desktop.pages.base import Page

log = logging.getLogger(__name__)

_INPUT_EVENTS = {
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
}


class _LockScreen(QWidget):
    def __init__(self, on_unlock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        picture = QLabel()
        picture.setPixmap(icon("lock").pixmap(QSize(72, 72)))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = title = QLabel("Cloister is locked")
        title.setObjectName("pageTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = text = QLabel("Your datasets and models stay encrypted until you unlock the workspace.")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)
        self.button = QPushButton("Unlock…")
        self.button.setDefault(True)
        self.button.clicked.connect(on_unlock)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.button)
        row.addStretch(1)
        for widget in (picture, title, text):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addStretch(2)

    def describe(self, vault_exists: bool) -> None:
        """Locked, or (first launch, its dialog cancelled) no vault yet: the button opens the
        right dialog either way, and says which."""
        if vault_exists:
            self.title.setText("Cloister is locked")
            self.text.setText("Your datasets and models stay encrypted until you unlock the workspace.")
            self.button.setText("Unlock…")
        else:
            self.title.setText("No vault yet")
            self.text.setText("Cloister keeps your datasets and models in an encrypted vault, "
                              "protected by a passphrase you choose. Create it to begin.")
            self.button.setText("Create vault…")


# key, title, icon, module, class. Pages are built the first time they are needed: the window
# appears sooner (pyqtgraph and four pages' widgets wait until the user goes there).
PAGES = (
    ("datasets", "Datasets", "datasets", "desktop.pages.datasets", "DatasetsPage"),
    ("train", "Train", "train", "desktop.pages.train", "TrainPage"),
    ("results", "Results", "results", "desktop.pages.results", "ResultsPage"),
    ("tryit", "Try it", "tryit", "desktop.pages.tryit", "TryItPage"),
    ("runs", "Runs", "runs", "desktop.pages.runs", "RunsPage"),
)
# The Go menu's letters (Alt+G, then one key): one each, Train and Try it, Results and Runs apart.
GO_MNEMONICS = {"datasets": "&Datasets", "train": "&Train", "results": "&Results", "tryit": "Tr&y it",
                "runs": "R&uns"}


class MainWindow(QMainWindow):
    PAGE_KEYS = tuple(key for key, *_ in PAGES)

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("Cloister")
        self.setWindowIcon(icon("cloister"))
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self.setMinimumSize(960, 500)

        self._built: dict[str, Page] = {}
        self._page_at_lock: str | None = None
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setAccessibleName("Pages")
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setFixedWidth(190)
        self.stack = QStackedWidget()
        for number, (_key, title, icon_name, _module, _cls) in enumerate(PAGES, start=1):
            item = QListWidgetItem(nav_icon(icon_name), title)
            item.setToolTip(f"{title} ({key_text(f'Ctrl+{number}')})")
            self.nav.addItem(item)
            self.stack.addWidget(QWidget())  # placeholder until the page is built
        self.lock_screen = _LockScreen(self.unlock)
        self.stack.addWidget(self.lock_screen)
        self.nav.currentRowChanged.connect(self._on_nav)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.lock_label = QLabel()
        self.job_label = QLabel()
        self.statusBar().addPermanentWidget(self.job_label)
        self.statusBar().addPermanentWidget(self.lock_label)
        context.status_message.connect(self._say)
        context.workspace_changed.connect(self._on_workspace)
        context.run_selected.connect(self._on_run_selected)
        context.busy_changed.connect(self._on_busy)

        self._build_menus()
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(self._on_idle)
        QApplication.instance().installEventFilter(self)
        self._on_workspace(context.workspace)

    # --- menus and shortcuts ----------------------------------------------------------------
    def _action(self, text: str, slot, shortcut: QKeySequence | str | None = None,
                icon_name: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(icon(icon_name))
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action("&Open data…", self.open_file_dialog, QKeySequence.StandardKey.Open, "open")
        # A folder with one sub-folder per label: a file dialog cannot choose a folder.
        self.open_folder_action = self._action("Open data &folder…", self.open_folder_dialog,
                                               "Ctrl+Shift+O", "open")
        self.lock_action = self._action("&Lock", self.request_lock, "Ctrl+L", "lock")
        self.passphrase_action = self._action("Change &passphrase…", self.change_passphrase)
        self.backup_action = self._action("&Back up workspace…", self.back_up_workspace)
        self.audit_action = self._action("&Audit log…", self.open_audit_log)
        self.export_action = self._action("&Export model…", self._export, "Ctrl+E", "export")
        # Preferences has no standard key on Linux: Ctrl+, as on macOS (Cmd+,) and in most editors.
        self.settings_action = self._action("&Settings…", self.open_settings, "Ctrl+,")
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        for action in (self.open_action, self.open_folder_action, self.lock_action,
                       self.passphrase_action, self.backup_action, self.audit_action, None,
                       self.export_action, None,
                       self.settings_action, None, self.quit_action):
            if action is None:
                file_menu.addSeparator()
            else:
                file_menu.addAction(action)
        go_menu = bar.addMenu("&Go")
        for number, (key, title, icon_name, _module, _cls) in enumerate(PAGES, start=1):
            action = self._action(GO_MNEMONICS.get(key, title), lambda _=False, key=key: self.show_page(key),
                                  f"Ctrl+{number}", icon_name)
            go_menu.addAction(action)
        # Start and cancel from the keyboard, from any page (Start shows the Train page first).
        train_menu = bar.addMenu("&Training")
        self.start_action = self._action("&Start training", self._start_training, "Ctrl+Return", "train")
        self.cancel_action = self._action("&Cancel training", lambda: self.train_page.cancel(), "Ctrl+.")
        train_menu.addAction(self.start_action)
        train_menu.addAction(self.cancel_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&About Cloister", self.open_about))

    # --- pages and navigation ---------------------------------------------------------------
    def page(self, key: str) -> Page:
        """The page for ``key``, built (and told the workspace state) on first use."""
        page = self._built.get(key)
        if page is None:
            index = self.PAGE_KEYS.index(key)
            _key, _title, _icon, module, cls = PAGES[index]
            page = getattr(importlib.import_module(module), cls)(self.context)
            placeholder = self.stack.widget(index)
            self.stack.insertWidget(index, page)
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
            self._built[key] = page
            presses_on_enter(page)
            page.on_workspace(self.context.workspace)
        return page

    def _say(self, text: str) -> None:
        """A message in the status bar for 15 s, said to a screen reader too (it was gone after
        8 s, from a place the keyboard never reaches)."""
        self.statusBar().showMessage(text, 15_000)
        announce(text, on=self.statusBar())

    def change_passphrase(self) -> None:
        if self.context.workspace is None:
            return
        from desktop.dialogs.vault import ChangePassphraseDialog

        dialog = ChangePassphraseDialog(self.context.workspace, kdf=self.context.kdf, parent=self)
        if dialog.exec():
            self.context.status_message.emit("Passphrase changed: the workspace opens with the new one.")
        dialog.deleteLater()  # its passphrase fields go with it

    def back_up_workspace(self) -> None:
        """File › Back up workspace…: what `cloister backup` does, into a new folder named by
        the date inside a folder the user chooses."""
        if self.context.workspace is None:
            return
        import time

        where = QFileDialog.getExistingDirectory(self, "Choose where to put the workspace's backup",
                                                 str(Path.home()))
        if where:
            dest = Path(where) / f"Cloister backup {time.strftime('%Y-%m-%d %H%M%S')}"
            self.start_backup(Path(self.context.workspace.root), dest)

    def start_backup(self, root: Path, dest: Path) -> object:
        """Copy the workspace at ``root`` to ``dest`` on a worker thread (it waits for a change
        in progress, and holds off new ones while it copies); the outcome is said when done."""
        from desktop.worker import Done, Job
        from privacy.vault.backup import back_up

        def ended(terminal: object) -> None:
            if isinstance(terminal, Done):
                from engine.units import human_size

                made = terminal.value
                self._say(f"Backed up the workspace to {made.folder}: {made.files:,} files, "
                          f"{human_size(made.bytes)}. Like the workspace, it opens only with the "
                          "passphrase.")
            else:
                why = getattr(terminal, "message", "it was stopped")
                self._say(f"The workspace was not backed up: {why}")
                QMessageBox.warning(self, "Backup not made", f"The workspace was not backed up: {why}")

        job = Job.call(lambda _cancel: back_up(root, dest), name="backup", parent=self)
        job.ended.connect(ended)
        self._say(f"Backing up the workspace to {dest}…")
        return self.context.start(job, long=True)

    def _export(self) -> None:
        """The run chosen on the Runs page when that is where the user is; else the run shown
        on Results (Ctrl+E on Runs exported the run last opened on Results)."""
        if self.stack.currentWidget() is self._built.get("runs"):
            self.runs_page.export_selected()  # or says why the selection has nothing to export
        else:
            self.results_page.export_current()

    def _start_training(self) -> None:
        self.show_page("train")
        self.train_page.start_button.click()  # a disabled Start (no dataset) does nothing

    datasets_page = property(lambda self: self.page("datasets"))
    train_page = property(lambda self: self.page("train"))
    results_page = property(lambda self: self.page("results"))
    tryit_page = property(lambda self: self.page("tryit"))
    runs_page = property(lambda self: self.page("runs"))

    def show_page(self, key: str) -> None:
        if not self.context.unlocked:
            return
        self.nav.setCurrentRow(self.PAGE_KEYS.index(key))

    def current_page_key(self) -> str:
        widget = self.stack.currentWidget()
        for key, page in self._built.items():
            if page is widget:
                return key
        return "locked"

    def _on_nav(self, row: int) -> None:
        if row >= 0 and self.context.unlocked:
            page = self.page(self.PAGE_KEYS[row])
            self.stack.setCurrentWidget(page)
            page.on_shown()

    def _on_run_selected(self, run_id: str) -> None:
        self.results_page.show_run(run_id)
        self.show_page("results")

    # --- files -------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self.context.unlocked:
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001 - Qt override
        if event.mimeData().hasUrls() and self.context.unlocked:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths or not self.context.unlocked:
            return
        event.acceptProposedAction()
        self.open_path(paths[0])
        if len(paths) > 1:
            self.context.status_message.emit("Opened the first of the dropped files; drop one at a time.")

    def open_path(self, path: Path) -> None:
        self.show_page("datasets")
        self.datasets_page.open_path(path)

    def open_file_dialog(self) -> None:
        if not self.context.unlocked:
            return
        from desktop.jobs import data_file_filter

        path, _ = QFileDialog.getOpenFileName(self, "Open data", str(Path.home()), data_file_filter())
        if path:
            self.open_path(Path(path))

    def open_folder_dialog(self) -> None:
        if not self.context.unlocked:
            return
        path = QFileDialog.getExistingDirectory(self, "Open a folder with one sub-folder per label",
                                                str(Path.home()))
        if path:
            self.open_path(Path(path))

    # --- dialogs -----------------------------------------------------------------------------
    def open_settings(self) -> None:
        from desktop.dialogs.settings import SettingsDialog

        dialog = SettingsDialog(self.context.settings, parent=self)
        if dialog.exec():
            saved = True
            try:
                self.context.update_settings(dialog.result_settings())
            except OSError as exc:  # in use for this session; said plainly that it is not kept
                from desktop.settings import SETTINGS_FILE, settings_dir

                saved = False
                QMessageBox.warning(self, "Settings not saved", (
                    f"Could not write {settings_dir() / SETTINGS_FILE}: {exc.strerror or exc}. The new "
                    "settings apply until Cloister closes; check that this folder can be written."))
            self._restart_idle_timer()
            if "train" in self._built:
                self.train_page.apply_settings()
            self.context.status_message.emit("Settings saved." if saved else "Settings in use, not saved.")

    def open_audit_log(self) -> None:
        """File › Audit log…: the log, verified (`cloister audit --verify`), in a window."""
        if self.context.workspace is None:
            return
        from desktop.dialogs.audit import show_audit_log

        self.audit_dialog = show_audit_log(self.context, self, getattr(self, "audit_dialog", None))

    def open_about(self) -> None:
        from desktop.dialogs.about import AboutDialog

        AboutDialog(parent=self).exec()

    # --- vault -------------------------------------------------------------------------------
    def open_vault(self) -> bool:
        """Create (first launch) or unlock the workspace. Returns True when unlocked."""
        from desktop.dialogs.vault import CreateVaultDialog, UnlockDialog
        from privacy.vault.workspace import Workspace

        root = self.context.root
        if Workspace.exists(root):
            dialog = UnlockDialog(root, parent=self)
        else:
            dialog = CreateVaultDialog(root, kdf=self.context.kdf, parent=self)
        if dialog.exec() and dialog.workspace is not None:
            self.context.set_workspace(dialog.workspace)
            return True
        self.lock_screen.describe(Workspace.exists(root))
        return False

    def unlock(self) -> None:
        self.open_vault()

    def request_lock(self) -> None:
        """Lock (the menu, Ctrl+L), asking first when that would stop a training run."""
        if self.context.unlocked and self.context.jobs.busy("train") and not self._stop_training_ok("Lock"):
            return
        self.lock()

    def _stop_training_ok(self, verb: str) -> bool:
        answer = QMessageBox.question(
            self, f"{verb} Cloister",
            f"A training run is in progress. {verb} stops it at its next step; Resume (on the "
            f"Train page or in Runs) continues it later from its last checkpoint.\n\n{verb} anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def lock(self) -> None:
        """Forget the keys and every decrypted thing the pages hold; running work is cancelled."""
        if not self.context.unlocked:
            return
        self._close_dialogs()
        self.context.jobs.cancel_all_and_wait()
        self._page_at_lock = self.current_page_key()  # unlocking comes back to it
        workspace = self.context.workspace
        self.context.set_workspace(None)
        try:
            workspace.lock()
        except Exception as exc:  # noqa: BLE001 - locking must always leave the UI locked
            log.warning("lock raised %s", type(exc).__name__)

    @staticmethod
    def _close_dialogs() -> None:
        """Dialogs show decrypted things (a privacy preview, a run's labels, typed passphrases)
        and act on the workspace: locking closes them all, and deletes them, the hidden ones
        too (a closed dialog is only hidden, its contents still in memory; a new one is made
        each time). A modal one still open belongs to the code waiting on it: it is rejected,
        and deleted with its parent or at the next lock."""
        for widget in QApplication.topLevelWidgets():
            if not isinstance(widget, QDialog):
                continue
            waiting = widget.isVisible() and widget.isModal()
            if widget.isVisible():
                widget.reject()
            if not waiting:
                widget.deleteLater()

    def _on_workspace(self, workspace: object) -> None:
        unlocked = workspace is not None
        for page in list(self._built.values()):
            page.on_workspace(workspace)
        self.nav.setEnabled(unlocked)
        for action in (self.lock_action, self.open_action, self.open_folder_action, self.export_action,
                       self.passphrase_action, self.audit_action):
            action.setEnabled(unlocked)
        if unlocked:
            self.lock_label.setText(f"Unlocked · {self.context.root}")
            back = self._page_at_lock
            self.nav.setCurrentRow(-1)
            self.nav.setCurrentRow(self.PAGE_KEYS.index(back) if back in self.PAGE_KEYS else 0)
            self.nav.setFocus()  # the keyboard starts from the page list, not from nowhere
            self._restart_idle_timer()
        else:
            self.lock_label.setText("Locked")
            from privacy.vault.workspace import Workspace

            # Also at start, before any unlock: a first launch has no vault to unlock.
            self.lock_screen.describe(Workspace.exists(self.context.root))
            self.stack.setCurrentWidget(self.lock_screen)
            self.idle_timer.stop()

    # --- idle lock ---------------------------------------------------------------------------
    def _restart_idle_timer(self) -> None:
        minutes = self.context.settings.idle_lock_minutes
        if minutes > 0 and self.context.unlocked:
            self.idle_timer.start(minutes * 60_000)
        else:
            self.idle_timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self.idle_timer.isActive():
            self._restart_idle_timer()
        return False

    def _on_idle(self) -> None:
        # A training run the user started is not "idle": wait for it rather than kill it.
        if self.context.jobs.busy():
            self._restart_idle_timer()
            return
        self.lock()
        self.context.status_message.emit("Locked after inactivity.")

    def _on_busy(self, busy: bool) -> None:
        self.job_label.setText("working…" if busy else "")

    # --- closing -----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel running work and wait for its thread: never destroy a running QThread."""
        if self.context.jobs.busy("train") and self.isVisible() and not self._stop_training_ok("Close"):
            event.ignore()
            return
        if self.context.jobs.running():
            self.statusBar().showMessage("Stopping running work…")
            QApplication.processEvents()
        if not self.context.jobs.close():
            event.ignore()
            self.statusBar().showMessage("Still stopping; try closing again in a moment.")
            return
        QApplication.instance().removeEventFilter(self)
        if self.context.workspace is not None:
            try:
                self.context.workspace.lock()
            except Exception:  # noqa: BLE001
                log.warning("lock on close failed")
        event.accept()
