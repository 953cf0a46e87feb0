"""The Train page's base model: the built-in MiniLM, or a Hugging Face folder the user chose
(checked before it is used), remembered in Settings for the next session."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

DEFAULT_MODEL = "MiniLM-L6 (default, built in)"


class BaseModelChoice:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.path: Path | None = None  # None: the default MiniLM
        self.label = QLabel(DEFAULT_MODEL)
        self.label.setWordWrap(True)
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.clicked.connect(self.choose)
        self.default_button = QPushButton("Default", accessibleName="Use the default base model")
        self.default_button.clicked.connect(lambda: self.set_folder(None))
        self.buttons = QWidget()
        row = QHBoxLayout(self.buttons)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.choose_button)
        row.addWidget(self.default_button)

    def choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.page, "Choose a Hugging Face model folder",
                                                  str(Path.home()))
        if folder:
            self.set_folder(Path(folder))

    def restore(self) -> None:
        """The folder chosen last time, chosen again (one that no longer checks out says why)."""
        remembered = self.page.context.settings.model_folder
        if remembered and self.path is None:
            self.set_folder(Path(remembered))

    def set_folder(self, folder: Path | None) -> bool:
        """Use ``folder`` as the base model after checking it; None goes back to the default."""
        if folder is not None:
            from desktop.jobs import check_model

            try:
                info = check_model(folder)
            except Exception as exc:  # noqa: BLE001 - InputError: the engine says why and what to do
                # Start still trains the model chosen before: say which, beside why this one failed.
                current = self.path.name if self.path else DEFAULT_MODEL
                self.label.setText(f"✖ {exc}\nStill using {current}.")
                return False
            params = getattr(info, "approx_parameters", None)
            size = f", {params / 1e6:.1f}M parameters" if params else ""
            self.label.setText(f"{Path(folder).name} ({getattr(info, 'model_type', 'model')}{size})")
            if getattr(info, "max_length", None):
                self.page.auto_box.clamp_max_length(int(info.max_length))
        else:
            self.label.setText(DEFAULT_MODEL)
        self.path = Path(folder) if folder is not None else None
        self._remember()
        self.page.auto_box.schedule()
        self.page._schedule_estimate()
        return True

    def _remember(self) -> None:
        context, folder = self.page.context, str(self.path or "")
        if context.settings.model_folder != folder:
            try:
                context.update_settings(replace(context.settings, model_folder=folder))
            except OSError as exc:  # kept for this session only
                context.status_message.emit(f"Could not save the settings: {exc}")
