"""Export dialog: Hugging Face folder or ONNX; encrypted with a passphrase by default, plaintext
only after an explicit warning the user confirms."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
    QLineEdit, QMessageBox, QProgressBar, QPushButton, QRadioButton, QVBoxLayout, QWidget,
)

from privacy.passphrase_strength import assess
from desktop.accessible import announce
from desktop.worker import Done, Job
from engine.events import Cancelled, Failed, Finished, Progress
from engine.export.formats import export_formats

PLAINTEXT_WARNING = (
    "A plaintext export writes the trained model to disk unencrypted.\n\n"
    "A model can reveal parts of the data it was trained on (for example rare names or numbers "
    "in the training texts). Anyone who can read that folder can use or copy the model.\n\n"
    "Export unencrypted anyway?"
)


def export_run(context: Any, run_id: str, parent: QWidget) -> None:
    """Open the export dialog for ``run_id`` (Results, Runs, File › Export model)."""
    dialog = ExportDialog(context, run_id, parent=parent)
    dialog.exec()
    dialog.deleteLater()  # its passphrase fields go with it, not kept hidden under the page


class ExportDialog(QDialog):
    def __init__(self, context, run_id: str, *, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.context = context
        self.run_id = run_id
        self.job: Job | None = None
        self.exported_to: Path | None = None
        self.setWindowTitle(f"Export model — run {run_id}")
        self.setMinimumWidth(640)

        # One button per registered export format; one that cannot work here says why.
        self.format_buttons: dict[str, QRadioButton] = {}
        formats = QButtonGroup(self)
        for spec in export_formats():
            button = QRadioButton(spec.title)
            missing = spec.missing()
            if missing:
                button.setEnabled(False)
                button.setToolTip(f"Needs {', '.join(missing)}, which is not installed")
            formats.addButton(button)
            self.format_buttons[spec.name] = button
        next(iter(self.format_buttons.values())).setChecked(True)

        self.folder = QLineEdit(self._default_target(plaintext=False))
        browse = QPushButton("Choose…", accessibleName="Choose the export folder")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)

        self.encrypted = QRadioButton("Encrypted with a passphrase (recommended)")
        self.plaintext = QRadioButton("Plaintext (unencrypted)")
        self.encrypted.setChecked(True)
        protection = QButtonGroup(self)
        protection.addButton(self.encrypted)
        protection.addButton(self.plaintext)
        self.plaintext.toggled.connect(self._on_plaintext_toggled)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Passphrase for the exported files")
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setPlaceholderText("Repeat it")

        self.progress = QProgressBar()
        self.progress.hide()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText("Export")
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        for i, button in enumerate(self.format_buttons.values()):
            form.addRow("Format:" if i == 0 else "", button)
        # An encrypted export is one file; a plaintext one a new folder: the label says which.
        self.target_label = QLabel("Save as:")
        self.target_label.setBuddy(self.folder)
        form.addRow(self.target_label, folder_row)
        form.addRow("Protection:", self.encrypted)
        form.addRow("", self.plaintext)
        form.addRow("Passphrase:", self.passphrase)
        form.addRow("Repeat:", self.repeat)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _default_target(self, *, plaintext: bool) -> str:
        # Plaintext goes to a new folder; an encrypted export is one sealed file.
        suffix = "" if plaintext else ".cloister-export"
        target = Path.home() / f"cloister-{self.run_id}{suffix}"
        # A second export of the run: a free name, not a refusal after Export was pressed.
        number = 2
        while target.exists():
            target = Path.home() / f"cloister-{self.run_id}-{number}{suffix}"
            number += 1
        return str(target)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into", str(Path(self.folder.text()).parent))
        if folder:
            self.folder.setText(str(Path(folder) / Path(self.folder.text()).name))

    def confirm_plaintext(self) -> bool:
        """The explicit warning; tests drive this message box."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Export without encryption?", PLAINTEXT_WARNING,
                          QMessageBox.StandardButton.Cancel, self)
        self.warning_box = box
        confirm = box.addButton("Export unencrypted", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is confirm

    def _on_plaintext_toggled(self, checked: bool) -> None:
        if checked and not self.confirm_plaintext():
            self.encrypted.setChecked(True)
        unencrypted = self.plaintext.isChecked()
        if self.folder.text() == self._default_target(plaintext=not unencrypted):
            self.folder.setText(self._default_target(plaintext=unencrypted))
        self.target_label.setText("Folder:" if unencrypted else "Save as:")
        self.passphrase.setEnabled(not unencrypted)
        self.repeat.setEnabled(not unencrypted)
        self.message.setText("⚠ The export will NOT be encrypted." if unencrypted else "")

    def _refuse(self, text: str) -> None:
        """Why nothing was exported, in the error style (empty: clear it)."""
        self.message.setText(f"✖ {text}" if text else "")
        announce(text, on=self.export_button)  # where the user is: the refusal is below
        self.message.setProperty("error", bool(text))
        self.message.style().polish(self.message)

    def chosen_format(self) -> str:
        return next(name for name, button in self.format_buttons.items() if button.isChecked())

    def export(self) -> None:
        if self.job is not None:
            return
        out = Path(self.folder.text()).expanduser()
        plaintext = self.plaintext.isChecked()
        passphrase: str | None = None
        if not plaintext:
            passphrase = self.passphrase.text()
            if passphrase != self.repeat.text():
                self._refuse("The two passphrases do not match.")
                return
            hint = assess(passphrase)
            if not hint.acceptable:
                self._refuse(hint.advice)
                return
        self._refuse("")  # nothing wrong: the error style goes
        from desktop.jobs import export_events

        workspace, run_id, kdf = self.context.workspace, self.run_id, self.context.kdf
        format = self.chosen_format()
        job = Job(lambda cancel: export_events(workspace, run_id, out, format=format, plaintext=plaintext,
                                                      passphrase=passphrase, kdf=kdf, cancel=cancel),
                         name="export", parent=self)
        job.events.connect(self._on_events)
        job.ended.connect(lambda terminal: self._on_ended(out, terminal))
        self.job = job
        self.progress.setRange(0, 0)
        self.progress.show()
        self.export_button.setEnabled(False)
        self.message.setText(f"Exporting to {out}…")
        self.context.start(job, long=True)

    def _on_events(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, Progress) and event.total:
                self.progress.setRange(0, event.total)
                self.progress.setValue(event.done)

    def _on_ended(self, out: Path, terminal: object) -> None:
        self.job = None
        self.progress.hide()
        self.export_button.setEnabled(True)
        if isinstance(terminal, (Done, Finished)):
            value = getattr(terminal, "value", None)
            self.exported_to = Path(value) if isinstance(value, (str, Path)) else out
            out = self.exported_to
            kind = "unencrypted" if self.plaintext.isChecked() else "encrypted"
            opened = ("" if self.plaintext.isChecked() else
                      " Where it goes, `cloister open-export FILE --out NEW_FOLDER` asks for "
                      "its passphrase and writes the model folder.")
            self.message.setText(f"✔ Exported ({kind}) to {out}.{opened}")
            self.export_button.setEnabled(False)
            close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
            close.setFocus()
            announce(self.message.text(), on=close)  # the focus is there; the result was unsaid
        elif isinstance(terminal, Failed):
            self._refuse(terminal.message)
        elif isinstance(terminal, Cancelled):
            self.message.setText("Export cancelled.")

    def done(self, result: int) -> None:  # noqa: D401 - Qt override: never orphan the export thread
        if self.job is not None and self.job.is_running():
            self.job.cancel()
            self.job.wait()
            self.job.finish_now()
        super().done(result)
