"""The Train page's "Advanced" settings: the ones most runs leave at their defaults."""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from desktop.settings import AUTO_DEVICE_TIP, DEVICES


WINDOWS_TIP = ("Texts longer than the max length: cut them and keep their start, or read each "
               "in windows of the max length, up to 16 (consecutive windows share a quarter); a "
               "text's prediction is then the mean of its windows'. Training takes longer in "
               "proportion to the windows.")


class AdvancedSettings(QWidget):
    """Seed, early stopping, weight decay, warm-up, class weights, long texts and device
    (TrainConfig names)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(13)
        self.patience = QSpinBox()
        self.patience.setRange(0, 50)
        self.patience.setValue(2)
        self.patience.setSpecialValueText("off")
        self.weight_decay = QDoubleSpinBox()
        self.weight_decay.setDecimals(3)
        self.weight_decay.setRange(0, 1)
        self.weight_decay.setSingleStep(0.01)
        self.weight_decay.setValue(0.01)
        self.warmup = QDoubleSpinBox()
        self.warmup.setRange(0, 0.5)
        self.warmup.setSingleStep(0.02)
        self.warmup.setValue(0.06)
        self.class_weights = QCheckBox("Weight classes by rarity")
        self._weights_allowed = True
        self.device = QComboBox()
        for title, value in DEVICES:
            self.device.addItem(title, value)
        self.device.setToolTip(AUTO_DEVICE_TIP)
        # Texts longer than the max length (engine.training.windows).
        self.long_texts = QComboBox()
        self.long_texts.addItem("Cut (keep the start)", "cut")
        self.long_texts.addItem("Read in overlapping windows", "windows")
        self._windows_allowed = True
        self._chosen_long_texts = 0  # the choice to bring back when DP is turned off
        self.long_texts.setToolTip(WINDOWS_TIP)
        form = QFormLayout(self)
        form.setContentsMargins(12, 0, 0, 0)
        form.addRow("Seed:", self.seed)
        form.addRow("Early stopping patience:", self.patience)
        form.addRow("Weight decay:", self.weight_decay)
        form.addRow("Warm-up ratio:", self.warmup)
        form.addRow("", self.class_weights)
        form.addRow("Long texts:", self.long_texts)
        form.addRow("Device:", self.device)

    def allow_class_weights(self, allowed: bool) -> None:
        """Off-limits with differential privacy, which refuses per-row weights."""
        self._weights_allowed = allowed  # not isEnabled(): a disabled parent would read as "no"
        self.class_weights.setEnabled(allowed)
        self.class_weights.setToolTip("" if allowed else "Off with differential privacy: weighting "
                                      "rows by class is not covered by the per-row clipping bound")

    def allow_windows(self, allowed: bool) -> None:
        """Off-limits with differential privacy: windows make several examples of one row."""
        if self._windows_allowed and not allowed:  # shown as what the run does: cut
            self._chosen_long_texts = self.long_texts.currentIndex()
            self.long_texts.setCurrentIndex(self.long_texts.findData("cut"))
        elif allowed and not self._windows_allowed:
            self.long_texts.setCurrentIndex(self._chosen_long_texts)
        self._windows_allowed = allowed
        self.long_texts.setEnabled(allowed)
        self.long_texts.setToolTip(WINDOWS_TIP if allowed else "Cut with differential privacy: "
                                   "windows would make several training examples of one row, "
                                   "which the per-row guarantee does not cover")

    def options(self) -> dict[str, Any]:
        """These settings as ``TrainConfig`` keyword arguments (no class weights while they are
        not allowed: DP-SGD refuses them)."""
        return dict(
            seed=self.seed.value(), early_stopping_patience=self.patience.value() or None,
            weight_decay=self.weight_decay.value(), warmup_ratio=self.warmup.value(),
            class_weights=self.class_weights.isChecked() and self._weights_allowed,
            device=self.device.currentData(),
            long_texts=self.long_texts.currentData() if self._windows_allowed else "cut",
        )
