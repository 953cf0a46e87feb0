"""Create-vault and unlock dialogs. The key derivation runs on a worker thread (it is slow on
purpose), so the dialog stays responsive and shows that it is working."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QMessageBox, QProgressBar,
    QVBoxLayout, QWidget,
)

from privacy.passphrase_strength import Strength, assess
from desktop.accessible import announce
from desktop.worker import Done, Job
from engine.events import Failed

if TYPE_CHECKING:
    from engine.vault import Vault


class _VaultDialog(QDialog):
    """Shared behaviour: run one workspace operation in a job, keep the result or show the error."""

    def __init__(self, root: Path, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.root = Path(root)
        self.workspace: Vault | None = None
        self._job: Job | None = None
        self.error_field: QLineEdit | None = None  # where an error is said to a screen reader
        self.setModal(True)
        self.setMinimumWidth(460)
        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        self.error.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: key derivation has no progress to report
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(6)
        self.busy.hide()

    def _run(self, operation: Callable[[], Any], *, name: str) -> None:
        self.error.hide()
        self.busy.show()
        self._set_inputs_enabled(False)
        job = Job.call(lambda _cancel: operation(), name=name, parent=self)
        job.ended.connect(self._on_ended)
        self._job = job
        job.start()

    def _on_ended(self, terminal: object) -> None:
        self.busy.hide()
        self._set_inputs_enabled(True)
        if isinstance(terminal, Done):
            self.workspace = terminal.value
            self.accept()
            return
        message = terminal.message if isinstance(terminal, Failed) else "The operation stopped."
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        field = self.error_field or self.findChild(QLineEdit)  # where the user retypes
        if field is not None:
            announce(message, on=field)
        # A wrapped message needs more height than the dialog had: grow to show all of it.
        self.adjustSize()

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for child in self.findChildren(QLineEdit):
            child.setEnabled(enabled)
        buttons = self.findChild(QDialogButtonBox)
        if buttons is not None:
            buttons.setEnabled(enabled)

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        # Never leave a key-derivation thread running behind a closed dialog.
        if self._job is not None and self._job.is_running():
            self._job.wait()
            self._job.finish_now()
        super().done(result)


class CreateVaultDialog(_VaultDialog):
    """First launch: choose a passphrase (twice) and create the encrypted workspace."""

    def __init__(self, root: Path, *, kdf: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(root, parent)
        self._kdf = kdf
        self.setWindowTitle("Create your Cloister vault")
        self.intro = intro = QLabel(
            "Everything you import and train is kept encrypted in this workspace:\n"
            f"{self.root}\n\nChoose a passphrase. It cannot be recovered if you forget it."
        )
        intro.setWordWrap(True)
        self.first = QLineEdit()
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setPlaceholderText("Passphrase")
        self.second = QLineEdit()
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.second.setPlaceholderText("The same passphrase again")
        self.meter = QProgressBar()
        self.meter.setRange(0, int(Strength.STRONG))
        self.meter.setTextVisible(False)
        self.meter.setMaximumHeight(8)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create vault")
        self.buttons.accepted.connect(self._create)
        self.buttons.rejected.connect(self.reject)
        self.form = form = QFormLayout()
        form.addRow("Passphrase:", self.first)
        form.addRow("Repeat:", self.second)
        form.addRow("Strength:", self.meter)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self.first.textChanged.connect(self._update)
        self.second.textChanged.connect(self._update)
        for field in (self.first, self.second):
            field.returnPressed.connect(lambda field=field: self._why_not(field))
        self._update()

    def _update(self) -> None:
        hint = assess(self.first.text())
        self.meter.setValue(int(hint.strength))
        matches = self.first.text() == self.second.text()
        advice = hint.advice
        if self.second.text() and not matches:
            advice += "  The two passphrases do not match."
        self.hint.setText(advice)
        self.create_button.setEnabled(hint.acceptable and matches)
        # The advice sits in a label the keyboard never reaches: each field carries its part,
        # and the meter says its level in words (it gave a bare number).
        self.first.setAccessibleDescription(hint.advice)
        self.second.setAccessibleDescription("The two passphrases do not match."
                                             if self.second.text() and not matches else "")
        self.meter.setAccessibleDescription(hint.strength.name.replace("_", " ").lower())

    def _why_not(self, field: QLineEdit) -> None:
        """Enter with Create greyed out did nothing and said nothing: say what it waits for."""
        if not self.create_button.isEnabled():
            announce(self.hint.text().strip() or "Type the passphrase twice.", on=field)

    def _create(self) -> None:
        if not self.create_button.isEnabled():
            return
        from privacy.vault.workspace import Workspace

        passphrase, root, kdf = self.first.text(), self.root, self._kdf
        self._run(lambda: Workspace.create(root, passphrase, kdf=kdf), name="create-vault")


class ChangePassphraseDialog(CreateVaultDialog):
    """File › Change passphrase: the current one, then the new one twice, with the same
    strength rule as a new vault. Only the master key's wrapping changes (as `cloister
    passwd`): no data is re-encrypted, and a wrong current passphrase changes nothing."""

    def __init__(self, workspace: Vault, *, kdf: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(workspace.root, kdf=kdf, parent=parent)
        self._workspace = workspace
        self.setWindowTitle("Change the passphrase")
        self.intro.setText(f"The workspace {self.root} opens with the new passphrase from now "
                           "on; the old one stops working. Nothing is re-encrypted.")
        self.current = QLineEdit()
        self.current.setEchoMode(QLineEdit.EchoMode.Password)
        self.current.setPlaceholderText("The passphrase you unlocked with")
        self.form.insertRow(0, "Current:", self.current)
        self.error_field = self.current
        self.form.labelForField(self.first).setText("New:")
        self.create_button.setText("Change passphrase")
        self.current.setFocus(Qt.FocusReason.OtherFocusReason)

    def _create(self) -> None:
        if not self.create_button.isEnabled():
            return
        if self.current.text() == self.first.text():
            self._show_error("The new passphrase is the same as the current one: nothing to change.")
            return
        workspace, old, new, kdf = self._workspace, self.current.text(), self.first.text(), self._kdf
        self._run(lambda: _change_passphrase(workspace, old, new, kdf), name="change-passphrase")


def _change_passphrase(workspace: Any, old: str, new: str, kdf: Any) -> Any:
    from privacy.errors import WrongPassphrase

    try:
        workspace.change_passphrase(old, new, kdf=kdf)
    except WrongPassphrase as exc:
        # Changed meanwhile by `cloister passwd` or another window: the date says so, as the
        # unlock dialog's does.
        note = (f" It was set or last changed on {exc.passphrase_set}: after a change, only the "
                "new one opens it." if exc.passphrase_set else "")
        raise WrongPassphrase(f"The current passphrase is wrong: nothing was changed.{note}",
                              passphrase_set=exc.passphrase_set) from None
    return workspace


class UnlockDialog(_VaultDialog):
    """Later launches and after a lock: ask for the passphrase; a wrong one can be retried."""

    def __init__(self, root: Path, *, parent: QWidget | None = None) -> None:
        super().__init__(root, parent)
        self.setWindowTitle("Unlock Cloister")
        intro = QLabel(f"Enter the passphrase of the workspace\n{self.root}")
        intro.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Passphrase")
        self.passphrase.setAccessibleName("Passphrase")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.unlock_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.unlock_button.setText("Unlock")
        self.buttons.accepted.connect(self._unlock)
        self.buttons.rejected.connect(self.reject)
        # After a backup was put back (the README's advice), the way on is in the app too, not
        # only 'cloister audit --accept-restore'; shown only when the integrity check refuses.
        self.accept_copy_button = self.buttons.addButton(
            "Accept this copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.accept_copy_button.setAutoDefault(False)  # never by Enter: it cannot be undone
        self.accept_copy_button.clicked.connect(self._accept_copy)
        self.accept_copy_button.hide()
        self._found: tuple[str, ...] = ()  # the problems shown, which Accept accepts
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.passphrase)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)

    def _unlock(self) -> None:
        if not self.passphrase.text():
            self._show_error("Enter the passphrase.")
            return
        from privacy.vault.workspace import Workspace

        passphrase, root = self.passphrase.text(), self.root
        self._run(lambda: _unlock_said_plainly(Workspace.unlock, root, passphrase), name="unlock")

    def _accept_copy(self) -> None:
        sure = QMessageBox.question(
            self, "Accept this copy?",
            "Open the workspace as it is now, and record in its audit log that you accepted it? "
            "Whatever was newer than this copy stays gone, erasures of people (Forget a "
            "person…) done since it was made included: run them again. This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if sure != QMessageBox.StandardButton.Yes:
            return
        passphrase, root, shown = self.passphrase.text(), self.root, self._found
        self.accept_copy_button.hide()
        self._run(lambda: _accept_restore(root, passphrase, shown), name="unlock")

    def _on_ended(self, terminal: object) -> None:
        if isinstance(terminal, Done) and isinstance(terminal.value, RestoreFound):
            found = terminal.value
            self.busy.hide()
            self._set_inputs_enabled(True)
            self._show_error(_restore_said(found))
            self._found = found.problems
            # The passphrase was right: kept, and fixed while Accept accepts what it opened.
            self.passphrase.setEnabled(not found.restorable)
            self.accept_copy_button.setVisible(found.restorable)
            return
        accepting, self._found = bool(self._found), ()
        self.accept_copy_button.hide()
        super()._on_ended(terminal)
        if self.workspace is None and not accepting:
            # Let the user retry at once: clear the field and put the cursor back in it.
            self.passphrase.clear()
            self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)


@dataclass(frozen=True)
class RestoreFound:
    """The passphrase was right, but the workspace failed its integrity check; ``restorable``:
    accepting it as it is can work (an older copy), not a missing or damaged index."""
    problems: tuple[str, ...]
    restorable: bool


def _restore_said(found: RestoreFound) -> str:
    listed = "".join(f"\n• {p[:1].upper()}{p[1:]}" for p in found.problems[:4])
    head = ("This workspace is not as Cloister last left it, so it was not opened (nothing was "
            f"changed):{listed}\n\n")
    if not found.restorable:
        return head + ("Its files are missing or damaged, so it cannot be opened as it is: put "
                       "back your newest backup of the whole folder, or ask whoever manages this "
                       "computer.")
    return head + ("If you put back a backup on purpose, press Accept this copy: Cloister "
                   "records that in the audit log and opens it, and whatever was newer than the "
                   "backup is gone. If you did not, these files were changed outside Cloister: "
                   "put back your newest backup, or ask whoever manages this computer.")


def _accept_restore(root: Path, passphrase: str, shown: tuple[str, ...]) -> Any:
    """What 'cloister audit --accept-restore' does, then the usual unlock (and its checks);
    only for the problems the user was shown (the folder may have changed since)."""
    from privacy.errors import IntegrityError
    from privacy.vault.workspace import Workspace

    suspect = Workspace.unlock(root, passphrase, check_integrity=False)
    try:
        if tuple(suspect.integrity_problems()) != shown:
            raise IntegrityError("The workspace changed since its problems were shown, so nothing "
                                 "was accepted: press Unlock to see them again.")
        suspect.accept_restore()
    finally:
        suspect.lock()
    return Workspace.unlock(root, passphrase)


def _unlock_said_plainly(unlock: Any, root: Path, passphrase: str) -> Any:
    """``unlock(root, passphrase)``; a wrong passphrase is said as a person would, not with the
    vault file's path (the dialog already names the workspace); a failed integrity check comes
    back as ``RestoreFound``, for the dialog to offer accepting the copy."""
    from privacy.errors import IntegrityError, WrongPassphrase

    try:
        return unlock(root, passphrase)
    except IntegrityError as exc:
        return RestoreFound(exc.problems, exc.restorable)
    except WrongPassphrase as exc:
        note = (f"\nIt was set or last changed on {exc.passphrase_set}: after a change, only the "
                "new one opens it." if exc.passphrase_set else "")
        raise WrongPassphrase(f"Wrong passphrase. Try again.{note}",
                              passphrase_set=exc.passphrase_set) from None
