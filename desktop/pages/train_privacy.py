"""The Train page's "Differential privacy" section: a switch, the ε presets with what each
means, the advanced DP settings, and the cost. No torch here: the presets come from
``privacy.dp.budget``, which imports Opacus only inside its functions."""
from __future__ import annotations

import math
import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QRadioButton, QSpinBox, QVBoxLayout, QWidget,
)

from desktop.accessible import label_for
from desktop.worker import Done, Job
from engine.units import reads_as_number
from privacy.dp.budget import MAX_EPSILON, PRESETS

NOT_COVERED = (
    "Not covered: several rows about one person weaken that person's guarantee, unless the "
    "column naming the person is chosen under \"Protect\"; trying several settings on the "
    "same data spends privacy that is not counted; validation and test rows, and their "
    "metrics, are not protected; nor are the automatic settings read from all the rows (max "
    "length, per-person epochs), or the exact label counts an exported model card states."
)
EACH_ROW = "Each row"
PERSON_HINT = ("When several rows can be about the same person (a customer, a patient), choose "
               "the column that names them: the guarantee then covers each person, all of their "
               "rows together. Each step uses one row of each person it draws, so an epoch reads "
               "one row per person.")
COST = ("Expect lower accuracy than without privacy (on sst2 at ε = 8: 87% against 93% with "
        "60,000 rows, 86% at ε = 3, 82% with 4,000 rows at ε = 8); with fewer rows the model "
        "may learn nothing at all, so check its test metrics. Each row's gradient is computed and clipped "
        "separately: with all layers that takes about 3 times as long on a CPU; with the top "
        "two layers (the automatic choice) or LoRA adapters an epoch is cheaper than a plain "
        "one. LoRA learns from fewer steps (few rows, one epoch). The estimate above includes it.")
TRAINABLE = (("Top 1 layer + head", "top-1"), ("Top 2 layers + head", "top-2"),
             ("Top 2 layers + head + every bias (about 2x the time)", "top-2+bias"),
             ("LoRA adapters on every layer + head", "lora"), ("All layers", "all"))


class PrivacySettings(QWidget):
    """The DP part of ``TrainConfig``: ``options()`` gives its keyword arguments."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("Train with differential privacy (DP-SGD)")
        self.enabled.setToolTip("Provably limits what the model reveals about any one training row")
        # Whom the guarantee protects: made first, as what each ε means is said of it.
        self.person = QComboBox()
        self.person.setToolTip(PERSON_HINT)
        self.set_columns(())
        self.presets = QButtonGroup(self)
        self.preset_buttons: dict[float, QRadioButton] = {}
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 0, 0, 0)
        # The presets in one row, the chosen one's meaning under them (each button's tooltip
        # holds its own): three paragraphs side by side made the settings column scroll.
        row = QHBoxLayout()
        for value, meaning in sorted(PRESETS.items()):
            button = QRadioButton(f"ε = {value:g}")
            button.setToolTip(meaning)
            self.presets.addButton(button)
            self.preset_buttons[value] = button
            row.addWidget(button)
        self.custom_button = QRadioButton("Custom ε:")
        self.custom_button.setToolTip("A budget of your own: smaller is stronger protection and "
                                      "costs more accuracy")
        self.presets.addButton(self.custom_button)
        self.custom_epsilon = QDoubleSpinBox()
        self.custom_epsilon.setRange(0.01, MAX_EPSILON)
        self.custom_epsilon.setValue(5.0)
        self.custom_epsilon.setAccessibleName("Custom ε")
        row.addWidget(self.custom_button)
        row.addWidget(self.custom_epsilon, 1)
        layout.addLayout(row)
        self.meaning = QLabel("")
        self.meaning.setWordWrap(True)
        self.meaning.setObjectName("hint")
        layout.addWidget(self.meaning)
        self.presets.buttonToggled.connect(lambda _b, _on: self._show_meaning())
        self.presets.buttonToggled.connect(self._custom_follows_preset)
        # Typing a value of one's own chooses it.
        self.custom_epsilon.valueChanged.connect(lambda _v: self.custom_button.setChecked(True))
        self.custom_epsilon.valueChanged.connect(lambda _v: self._show_meaning())
        self.preset_buttons[8.0].setChecked(True)
        self._custom_follows_preset(self.preset_buttons[8.0], True)
        form = QFormLayout()
        self.delta = QLineEdit()
        self.delta.setPlaceholderText("default: 1/N^1.1")
        self.max_grad_norm = QDoubleSpinBox()
        self.max_grad_norm.setDecimals(3)
        self.max_grad_norm.setRange(0.001, 100.0)
        self.max_grad_norm.setValue(0.1)
        self.logical_batch = QSpinBox()
        self.logical_batch.setRange(1, 65536)
        self.logical_batch.setValue(256)
        self.trainable = QComboBox()
        for title, value in TRAINABLE:
            self.trainable.addItem(title, value)
        self.accountant = QComboBox()
        self.accountant.addItem("PRV (tighter)", "prv")
        self.accountant.addItem("RDP", "rdp")
        # Whom the guarantee protects comes first after ε: it changes what ε means, and the
        # epochs and batch chosen below it.
        form.addRow("Protect:", self.person)
        self.person.currentIndexChanged.connect(lambda _i: self._show_meaning())
        self.person_note = QLabel("")
        self.person_note.setObjectName("hint")
        self.person_note.setWordWrap(True)
        form.addRow("", self.person_note)
        # What earlier runs on the dataset spent (``SpentBefore``): each run's ε is its own.
        self.spent_note = QLabel("")
        self.spent_note.setObjectName("hint")
        self.spent_note.setWordWrap(True)
        form.addRow("", self.spent_note)
        self._form = form
        self.say_people("")
        form.setRowVisible(self.spent_note, False)
        form.addRow("δ:", self.delta)
        form.addRow("Clipping norm C:", self.max_grad_norm)
        self.batch_label = label_for("Rows per step (logical batch):", self.logical_batch)
        form.addRow(self.batch_label, self.logical_batch)
        form.addRow("Train:", self.trainable)
        form.addRow("Accountant:", self.accountant)
        # Long choices ("Each person, named by column '…'") must not widen the settings column:
        # the combos shrink (their full text is in the drop-down list).
        for combo in (self.trainable, self.accountant, self.person):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        # Per person, a step samples people: the batch counts them.
        self.person.currentIndexChanged.connect(lambda _i: self.batch_label.setText(
            ("People" if self.person.currentData() else "Rows") + " per step (logical batch):"))
        layout.addLayout(form)
        for text in (COST, NOT_COVERED):
            label = QLabel(text)
            label.setWordWrap(True)
            label.setObjectName("hint")
            layout.addWidget(label)
        self.body = body
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.enabled)
        outer.addWidget(body)
        body.setVisible(False)
        self.enabled.toggled.connect(body.setVisible)
        # What the DP fields held when last filled: one that differs was changed by the user.
        self._filled = self._field_values()

    # --- automatic DP settings (engine.training.auto.choose_dp_settings) --------------------
    def _field_values(self) -> dict[str, Any]:
        return {"dp_max_grad_norm": round(self.max_grad_norm.value(), 6),
                "dp_logical_batch_size": self.logical_batch.value(),
                "dp_trainable": self.trainable.currentData()}

    def fill(self, choices: Any) -> None:
        """Put the automatic DP choices in the fields the user has not changed since the last
        fill (a value the user typed is theirs and stays)."""
        filled, current = self._filled, self._field_values()
        for choice in choices:
            if choice.name not in current or current[choice.name] != filled[choice.name]:
                continue
            if choice.name == "dp_max_grad_norm":
                self.max_grad_norm.setValue(float(choice.value))
            elif choice.name == "dp_logical_batch_size":
                self.logical_batch.setValue(int(choice.value))
            else:
                self.trainable.setCurrentIndex(max(0, self.trainable.findData(choice.value)))
        self._filled = self._field_values()

    def set_columns(self, columns: Any) -> None:
        """The dataset's columns a person can be named by (not its text or label); the choice
        stays when the new dataset has the same column."""
        current = self.person.currentData()
        self._columns = [str(c) for c in columns]
        self.person.blockSignals(True)  # re-listing the same columns changes nothing
        self.person.clear()
        self.person.addItem(EACH_ROW, None)
        # Columns that sound like who a row is about first: an export's 'Customer ID' ahead of
        # its 'Date received' or 'Timely response?'.
        for column in sorted(columns, key=lambda c: not _names_a_person(str(c))):
            # Short enough for the settings column; the tooltip and the note say it in full.
            self.person.addItem(f"Each person ('{column}')", column)
            self.person.setItemData(self.person.count() - 1,
                                    f"Each person, named by column '{column}'",
                                    Qt.ItemDataRole.ToolTipRole)
        self.person.setCurrentIndex(max(0, self.person.findData(current)) if current else 0)
        self.person.blockSignals(False)
        self.person.currentIndexChanged.emit(self.person.currentIndex())  # the dataset may differ

    def say_spent(self, text: str) -> None:
        self.spent_note.setText(text.removeprefix("note: "))
        self._form.setRowVisible(self.spent_note, bool(text))

    def say_people(self, text: str) -> None:
        """The note under "Protect" (how many people the column names, or, with each row
        protected, a column that may name people); no text, no row."""
        text = text or self._row_hint()
        self.person_note.setText(text)
        self._form.setRowVisible(self.person_note, bool(text))

    def _custom_follows_preset(self, button: Any, checked: bool) -> None:
        """The Custom box shows the ε chosen, so that a preset and another value are never on
        screen at once ("ε = 8" chosen beside "Custom ε: 5.00"); typing in it chooses Custom."""
        value = next((v for v, b in self.preset_buttons.items() if b is button), None)
        if checked and value is not None:
            self.custom_epsilon.blockSignals(True)
            self.custom_epsilon.setValue(value)
            self.custom_epsilon.blockSignals(False)

    def _show_meaning(self) -> None:
        checked = self.presets.checkedButton()
        if checked is self.custom_button:
            value = self.custom_epsilon.value()
            text = (f"Whether any one row was used changes what the model can reveal by at most "
                    f"e^{value:g} ≈ {math.exp(value):,.3g} times; smaller is stronger and costs "
                    "more accuracy.")
        else:
            text = checked.toolTip() if checked is not None else ""
        # Said of the unit protected: a person's rows together, when a column names the person.
        unit = self.person.currentData()
        self.meaning.setText(text.replace("any one row was used",
                                          f"any one person's rows ('{unit}') were used")
                             if unit else text)

    def _row_hint(self) -> str:
        """With each row protected, a column that sounds like whom the rows are about is named:
        several rows a person weaken that person's guarantee."""
        if self.person.currentData() is not None:
            return ""
        named = [c for c in self._columns if _names_a_person(c)]
        return (f"⚠ Column '{named[0]}' may say who each row is about: if a person has several "
                "rows, choose it above, or the guarantee covers single rows, not people."
                if named else "")

    def epsilon(self) -> float:
        for value, button in self.preset_buttons.items():
            if button.isChecked():
                return value
        return float(self.custom_epsilon.value())

    def typed_problems(self) -> list[str]:
        """δ as typed, when it is not a number (DP on)."""
        text = self.delta.text().strip()
        if not self.enabled.isChecked() or not text or reads_as_number(text):
            return []
        return [f"δ '{text}' is not a number: leave it empty for the default 1/N^1.1, or type "
                "one like 1e-6"]

    def options(self) -> dict[str, Any]:
        """These settings as ``TrainConfig`` keyword arguments (none when DP is off)."""
        if not self.enabled.isChecked():
            return {}
        text = self.delta.text().strip()
        try:
            delta = float(text) if text else None
        except ValueError:
            delta = -1.0  # TrainConfig.validate explains what δ must be
        return dict(dp=True, dp_epsilon=self.epsilon(), dp_delta=delta,
                    dp_max_grad_norm=self.max_grad_norm.value(),
                    dp_logical_batch_size=self.logical_batch.value(),
                    dp_trainable=self.trainable.currentData(), dp_accountant=self.accountant.currentData(),
                    dp_person_column=self.person.currentData())


class DPRate:
    """DP-SGD needs its own settings (a larger learning rate, a small C, a logical batch sized
    to the rows, the top two layers trained): switching DP on fills them in, unless the user
    changed them; switching it off gives the plain learning rate back. The DP rate follows the
    part trained (LoRA's adapters need a larger one), unless the user typed their own."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.plain: str | None = None  # the rate DP replaced
        self.filled: str | None = None  # the DP rate last filled in, while DP is on
        page.privacy.enabled.toggled.connect(self.toggled)
        page.privacy.trainable.currentIndexChanged.connect(self.part_changed)

    def _for_part(self) -> str:
        from engine.training.auto import dp_learning_rate
        from engine.units import rate_text

        return rate_text(dp_learning_rate(self.page.privacy.trainable.currentData()))

    def toggled(self, on: bool) -> None:
        page, rate = self.page, self.page.learning_rate
        page.advanced.allow_class_weights(not on)
        page.advanced.allow_windows(not on)
        if on:
            page.people.refresh()  # fills the DP settings for the rows, or the people
            self.filled = self._for_part()
            if rate.currentText() != self.filled:
                self.plain = rate.currentText()
                rate.setCurrentText(self.filled)
        else:
            if self.plain is not None and rate.currentText() == self.filled:
                rate.setCurrentText(self.plain)
                self.plain = None
            self.filled = None
            page.people.refresh()  # the automatic epochs again
        page.auto_box.render()  # with the learning rate just set
        page._schedule_estimate()

    def part_changed(self) -> None:
        page = self.page
        if self.filled is not None and page.learning_rate.currentText() == self.filled:
            self.filled = self._for_part()
            page.learning_rate.setCurrentText(self.filled)
        page.auto_box.render()  # the learning rate's reason follows the part trained
        page._schedule_estimate()


class SpentBefore:
    """While DP is on, the earlier runs on the chosen dataset and the ε they spent, as `cloister
    train --dp` says it (``engine.training.plan.spent_before``): each run's ε covers its own
    model, and models of the same rows released together add up. Read on a worker thread (it
    opens every run's record) each time the page is shown or the dataset or DP changes."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self._asked: object | None = None  # the latest question: earlier answers are dropped
        page.privacy.enabled.toggled.connect(lambda _on: self.refresh())
        page.dataset_combo.currentIndexChanged.connect(lambda _i: self.refresh())

    def refresh(self) -> None:
        from engine.training.plan import spent_before

        page = self.page
        ws, dataset = page.workspace, page.dataset_combo.currentData()
        self._asked = asked = object()
        page.privacy.say_spent("")
        if ws is None or not dataset or not page.privacy.enabled.isChecked():
            return
        job = Job.call(lambda _c: spent_before(ws, dataset), name="spent-before", parent=page)
        job.ended.connect(lambda terminal: self._done(terminal, asked))
        page.context.start(job)

    def _done(self, terminal: object, asked: object) -> None:
        if asked is self._asked and isinstance(terminal, Done):
            self.page.privacy.say_spent(str(terminal.value or ""))


# Words that name who a row is about; "id" alone does not ("Complaint ID" is one per row).
_PERSON_WORDS = ("user", "customer", "client", "patient", "account", "member", "person",
                 "email", "owner", "author", "sender", "subscriber", "employee", "student")


def _names_a_person(column: str) -> bool:
    """Whether a column's name sounds like an identifier of a person ("customer_id", "User")."""
    words = [w.casefold() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", column)]
    return any(w in _PERSON_WORDS for w in words)  # "patientID", "UserName", "customer_id"
