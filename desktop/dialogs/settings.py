"""Settings dialog: workspace location, device, idle lock. Holds preferences only, no user data."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from desktop.settings import AUTO_DEVICE_TIP, DEVICES, Settings


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self._settings = settings
        self.workspace = QLineEdit(settings.workspace)
        # Where an empty field leaves it: $CLOISTER_WORKSPACE or the platform's folder, shown.
        from privacy.vault.workspace import default_workspace_dir

        self.workspace.setPlaceholderText(f"Default: {default_workspace_dir(None, in_settings=False)}")
        self.workspace.setAccessibleName("Workspace folder")
        browse = QPushButton("Choose…", accessibleName="Choose the workspace folder")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.workspace, 1)
        row.addWidget(browse)
        self.device = QComboBox()
        for title, value in DEVICES:
            self.device.addItem(title, value)
        self.device.setToolTip(AUTO_DEVICE_TIP)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.idle = QSpinBox()
        self.idle.setRange(0, 24 * 60)
        self.idle.setSuffix(" min")
        self.idle.setSpecialValueText("never")
        self.idle.setValue(settings.idle_lock_minutes)
        note = QLabel("A new workspace location takes effect the next time Cloister starts or unlocks; "
                      "the vault in the current folder stays there, and choosing that folder again "
                      "reaches it. Cloister never makes a network connection.")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Workspace folder:", row)
        form.addRow("Training device:", self.device)
        form.addRow("Lock when idle after:", self.idle)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Workspace folder", self.workspace.text() or str(Path.home()))
        if folder:
            self.workspace.setText(folder)

    def result_settings(self) -> Settings:
        return replace(self._settings, workspace=self.workspace.text().strip(),
                       device=self.device.currentData(), idle_lock_minutes=self.idle.value()).validated()
