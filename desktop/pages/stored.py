"""The datasets in the vault: name, rows, labels, size, date; train on one, rename, delete."""
from __future__ import annotations

from typing import Any, TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QGridLayout, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QMessageBox, QPushButton,
    QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from desktop.accessible import tab_leaves
from desktop.context import AppContext
from desktop.keys import key_text
from desktop.icons import icon
from desktop.pages.base import section
from desktop.state import local_time
from engine.units import count_of, human_size

if TYPE_CHECKING:
    from engine.vault import Vault


class StoredDatasetsPanel(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Name", "Rows", "Labels", "Size", "Imported"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        tab_leaves(self.table, "Datasets in the vault")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.train_button = QPushButton(icon("train"), "Train on it")
        self.train_button.clicked.connect(self._train_selected)
        # The import's fixes on the stored rows (desktop/dialogs/fix_stored.py).
        self.fix_button = QPushButton("Fix…")
        self.fix_button.setToolTip("Fix the dataset's problems (repeated rows, small classes, "
                                   "...) without its source file")
        self.fix_button.clicked.connect(self.fix_selected)
        self.fix_dialog: Any = None
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        # Find and anonymize personal data before training (desktop/pages/privacy_step.py).
        self.privacy_button = QPushButton("Privacy…")
        self.privacy_button.clicked.connect(self.privacy_selected)
        self.privacy_dialog: Any = None
        # An erasure request covers the whole vault, so it needs no selection (dialogs/forget.py).
        self.forget_button = QPushButton("Forget a person…")
        self.forget_button.setToolTip("Someone asked to be erased: find and remove every row "
                                      "about them, in every dataset")
        self.forget_button.clicked.connect(self.forget_person)
        self.forget_dialog: Any = None
        self.buttons = QWidget()
        # Two abreast: stacked five high, they set the panel's least height, and on a 1024x640
        # screen the file being read above kept too little of it.
        buttons = QGridLayout(self.buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        for i, button in enumerate((self.train_button, self.privacy_button, self.fix_button,
                                    self.rename_button, self.delete_button)):
            buttons.addWidget(button, i // 2, i % 2)
        buttons.setRowStretch(3, 1)
        buttons.addWidget(self.forget_button, 4, 0, 1, 2)
        # An empty vault is one line, not an empty table and four greyed buttons: the file
        # being previewed above gets the height.
        self.empty_note = QLabel("Nothing here yet. A file you import is stored here, encrypted; "
                                 "the file itself is not copied.")
        self.empty_note.setObjectName("hint")
        self.empty_note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.table, 1)
        row.addWidget(self.buttons)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(section("In the vault"))
        outer.addWidget(self.empty_note)
        outer.addLayout(row, 1)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        # A dataset made elsewhere (the Privacy step's anonymized copy) shows up at once.
        context.datasets_changed.connect(lambda: self.refresh(self.workspace))
        self._update_buttons()

    @property
    def workspace(self) -> Vault | None:
        return self.context.workspace

    def refresh(self, workspace: Vault, *, select: str | None = None) -> None:
        """Re-read the vault's index (small, on the UI thread); never shows row contents. The
        dataset chosen stays chosen (``select``: another, such as a renamed one's new name):
        cleared, every button went grey after a rename or a Privacy copy."""
        select = select or self.selected_name()
        self.table.setRowCount(0)
        infos: list[Any] = []
        damaged: list[tuple[str, str]] = []
        if workspace is not None:
            from desktop.jobs import stored_datasets

            try:
                infos = stored_datasets(workspace, damaged)
            except Exception as exc:  # noqa: BLE001 - a damaged entry must not break the page
                from privacy.errors import IntegrityError

                # An older copy put back while unlocked: the unlock is where it can be accepted.
                way = (f" Lock the workspace ({key_text('Ctrl+L')}) and unlock it: it then says what changed "
                       "and offers to accept this copy." if isinstance(exc, IntegrityError) else "")
                self.context.status_message.emit(f"Could not list the datasets: {exc}{way}")
        if damaged:  # left out of the list: said, or the workspace looked emptier than it is
            self.context.status_message.emit("✖ " + " ".join(f"{reason[:1].upper()}{reason[1:]}."
                                                               for _name, reason in damaged))
        for info in infos:
            row = self.table.rowCount()
            self.table.insertRow(row)
            values = [info.name, f"{info.rows:,}", str(len(info.labels)), human_size(info.size_bytes),
                      local_time(info.created)]
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if column in (1, 2, 3):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 0:
                    cell.setToolTip(", ".join(list(info.labels)[:30]))
                self.table.setItem(row, column, cell)
        if select is not None:
            self.select(select)
        self._update_buttons()

    def fit_in(self, split: QSplitter) -> None:
        """With no file open above, give the list the height its rows need, up to two thirds
        of ``split`` (the empty drop zone took most of the page, and the list showed 3 rows)."""
        total = sum(split.sizes())
        if not total:
            return  # not laid out yet: the stretch factors decide
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        wanted = self.minimumSizeHint().height() + rows
        mine = max(self.minimumSizeHint().height(), min(wanted, total * 2 // 3))
        split.setSizes([total - mine, mine])

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).text() if rows else None

    def select(self, name: str) -> bool:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == name:
                self.table.selectRow(row)
                return True
        return False

    def _update_buttons(self) -> None:
        empty = self.table.rowCount() == 0
        self.empty_note.setVisible(empty)
        self.table.setVisible(not empty)
        self.buttons.setVisible(not empty)
        selected = self.selected_name() is not None
        for button in (self.rename_button, self.delete_button, self.train_button,
                       self.privacy_button, self.fix_button):
            button.setEnabled(selected)

    def privacy_selected(self) -> None:
        name = self.selected_name()
        if name is None or self.workspace is None:
            return
        from desktop.pages.privacy_step import PrivacyDialog

        _let_go_if_closed(self.privacy_dialog)
        self.privacy_dialog = PrivacyDialog(self.context, name, self)
        self.privacy_dialog.show()

    def fix_selected(self) -> None:
        name = self.selected_name()
        if name is None or self.workspace is None:
            return
        from desktop.dialogs.fix_stored import StoredFixDialog

        _let_go_if_closed(self.fix_dialog)
        self.fix_dialog = StoredFixDialog(self.context, name, self)
        self.fix_dialog.show()

    def forget_person(self) -> None:
        if self.workspace is None:
            return
        from desktop.dialogs.forget import ForgetDialog

        if self.forget_dialog is not None:  # one at a time; a closed one holds nothing
            try:
                self.forget_dialog.deleteLater()
            except RuntimeError:  # already deleted with a lock
                pass
        self.forget_dialog = ForgetDialog(self.context, self)
        self.forget_dialog.show()

    def rename_selected(self) -> None:
        old = self.selected_name()
        if old is None:
            return
        new, ok = QInputDialog.getText(self, "Rename dataset", f"New name for {old}:", text=old)
        if ok and new.strip() and new.strip() != old:
            from desktop.jobs import rename_dataset

            workspace = self.workspace
            self._vault_edit(lambda: rename_dataset(workspace, old, new.strip()), select=new.strip())

    def delete_selected(self) -> None:
        name, workspace = self.selected_name(), self.workspace
        if name is None or workspace is None:
            return
        from desktop.jobs import delete_dataset, runs_and_unreadable, runs_trained_on

        # Its runs are counted and can go with it, as `cloister rm --with-runs` does: their
        # models and reports (which quote test rows) are what a full erasure must remove too.
        try:
            trained = runs_trained_on(workspace, name)
            unread = [run_id for run_id, _ in runs_and_unreadable(workspace)[1]]
        except Exception as exc:  # noqa: BLE001 - e.g. deleted meanwhile by `cloister rm`
            QMessageBox.warning(self, "Cloister", str(exc))
            self.refresh(workspace)
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Delete dataset",
                          f"Delete the dataset “{name}” from the vault? This cannot be undone.",
                          QMessageBox.StandardButton.Cancel, self)
        # A run whose record cannot be read may have been trained on it: who can tell is no one.
        unreadable = (f" {count_of(len(unread), 'run')} whose record cannot be read may have been "
                      "trained on it too: the Runs page names them and deletes them."
                      if unread else "")
        if unread and not trained:
            box.setInformativeText(unreadable.strip())
        if trained:
            from engine.run_claims import is_being_trained
            from engine.runs import RunStatus

            one = len(trained) == 1
            # A run training now (here, another window or a command) goes on with the rows it
            # read: said before the answer, as `cloister rm` says it.
            live = [r.run_id for r in trained
                    if r.status is RunStatus.RUNNING and is_being_trained(workspace, r.run_id)]
            box.setInformativeText(
                f"{count_of(len(trained), 'run')} {'was' if one else 'were'} trained on it. "
                f"{'Its model and test report' if one else 'Their models and test reports'} "
                "(which quote test rows) are kept unless you delete them too."
                + (f" Run {', '.join(live)} is training on it right now: it goes on with the "
                   "rows it read (cancel it to stop it)." if live else "") + unreadable)
            with_runs = box.addButton(f"Delete it and its {count_of(len(trained), 'run')}",
                                      QMessageBox.ButtonRole.DestructiveRole)
        alone = box.addButton("Delete the dataset only" if trained else "Delete",
                              QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is alone:
            self._vault_edit(lambda: delete_dataset(workspace, name))
        elif trained and box.clickedButton() is with_runs:
            if self._vault_edit(lambda: delete_dataset(workspace, name, with_runs=trained)):
                self.context.runs_changed.emit()

    def _vault_edit(self, operation, *, select: str | None = None) -> bool:  # noqa: ANN001
        """A small, fast index edit; ``select``: the dataset to choose once it is done."""
        try:
            operation()
            done = True
        except Exception as exc:  # noqa: BLE001 - show the engine's message, keep the list
            QMessageBox.warning(self, "Cloister", str(exc))
            done, select = False, None
        self.refresh(self.workspace, select=select)
        self.context.datasets_changed.emit()
        return done

    def _train_selected(self) -> None:
        name = self.selected_name()
        window = self.window()
        if name and hasattr(window, "train_page"):
            if not window.train_page.select_dataset(name):
                QMessageBox.warning(self, "Cloister", f"Dataset {name!r} is no longer stored: "
                                    "another window or a command renamed or deleted it. The "
                                    "list now shows the datasets as they are.")
                self.refresh(self.workspace)
                self.context.datasets_changed.emit()
                return
            window.show_page("train")


def _let_go_if_closed(dialog: Any) -> None:
    """The dialog a new one replaces, deleted once the user has closed it: it was only hidden,
    and each Fix… or Privacy… kept another under the page, with the rows it had shown, until
    the next lock. One still open stays (a fix it applies still says when it is stored)."""
    try:
        if dialog is not None and not dialog.isVisible():
            dialog.deleteLater()
    except RuntimeError:  # already deleted with a lock
        pass
