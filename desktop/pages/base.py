"""What every page has: a title, an icon, a header, and hooks for lock/unlock and showing."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from desktop.context import AppContext

if TYPE_CHECKING:
    from engine.vault import Vault


class Page(QWidget):
    title = ""
    icon_name = ""
    subtitle = ""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(20, 14, 20, 12)
        heading = QLabel(self.title)
        heading.setObjectName("pageTitle")
        self.layout_.addWidget(heading)
        subtitle = self.subtitle_text()
        if subtitle:
            sub = QLabel(subtitle)
            sub.setObjectName("pageSubtitle")
            sub.setWordWrap(True)
            self.layout_.addWidget(sub)

    def subtitle_text(self) -> str:
        """The line under the title; a page whose text depends on the engine overrides this."""
        return self.subtitle

    @property
    def workspace(self) -> Vault | None:
        return self.context.workspace

    def on_workspace(self, workspace: Vault | None) -> None:
        """Unlocked (a Workspace) or locked (None): drop every decrypted thing on lock."""

    def on_shown(self) -> None:
        """The user navigated here: refresh lists that may have changed."""


def section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


def run_choice() -> QComboBox:
    """A run picker as wide as its items ("20261206-234024-bee7bcc9 — sms — accuracy 0.93"),
    within bounds: at a fixed 360 px the accuracy, what a run is picked by, was cut off."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.setMinimumWidth(360)
    combo.setMaximumWidth(640)  # a long dataset name is elided, not the window widened
    return combo
