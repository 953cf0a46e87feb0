"""The Train page's automatic settings: chosen from the dataset by the engine, shown with why.

When a dataset (or base model) is chosen, ``engine.training.plan`` measures the data on a worker
thread and this box puts the chosen epochs, learning rate, max length, warm-up, early stopping
and class weights into the page's fields — except those the user has changed since the last
automatic fill, which stay as they are and are listed as "set by you". A user who changes
nothing trains with the automatic settings, and the estimate uses the measured text lengths.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from desktop.pages.train_datasets import ROWS, VERSION
from desktop.worker import Done, Job
from engine.events import Failed
from engine.units import rate_text


class AutoSettingsBox(QWidget):
    def __init__(self, page: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.page = page
        self.auto: Any = None  # engine.training.auto.AutoSettings
        self._imported_as: tuple[Any, dict[str, Any]] = (None, {})  # (dataset version, what it says)
        self.label = QLabel("Choose a dataset: settings are then chosen from its data.")
        self.label.setWordWrap(True)
        self.label.setObjectName("autoSettings")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        self._job: Job | None = None
        self._pending = False
        self._applied_for: str | None = None  # the dataset whose settings fill the fields
        self.start_when_chosen = False  # Start pressed while they were another dataset's
        self._shown = ""  # the dataset the choices were made for
        self._measured: tuple[Any, ...] = ()
        # What each field held when last filled (at first: the page's defaults). A field whose
        # value differs has been changed by the user, and an automatic fill leaves it alone.
        self._filled = {name: self._get(name) for name in self._fields()}
        self._page_batch = self._filled["batch_size"]  # the usual batch; lowered for tiny data only
        # A field changed after the fill is "set by you" at once, not at the next measurement.
        page, adv = self.page, self.page.advanced
        for signal in (page.epochs.valueChanged, page.max_length.valueChanged, page.batch_size.valueChanged,
                       page.learning_rate.currentTextChanged, adv.warmup.valueChanged,
                       adv.patience.valueChanged, adv.class_weights.toggled,
                       adv.long_texts.currentIndexChanged):
            signal.connect(lambda *_: self.render())
        privacy = getattr(page, "privacy", None)
        if privacy is not None:  # DP's own fields, with DP on
            for signal in (privacy.logical_batch.valueChanged, privacy.max_grad_norm.valueChanged):
                signal.connect(lambda *_: self.render())

    # --- the page's fields, by TrainConfig name ---------------------------------------------
    def _fields(self) -> tuple[str, ...]:
        return ("epochs", "learning_rate", "max_length", "warmup_ratio",
                "early_stopping_patience", "class_weights", "batch_size")

    def _get(self, name: str) -> Any:
        p, adv = self.page, self.page.advanced
        if name == "learning_rate":
            try:
                return float(p.learning_rate.currentText())
            except ValueError:
                return None
        return {"epochs": lambda: p.epochs.value(), "max_length": lambda: p.max_length.value(),
                "batch_size": lambda: p.batch_size.value(),
                "warmup_ratio": lambda: round(adv.warmup.value(), 4),
                "early_stopping_patience": lambda: adv.patience.value() or None,
                "class_weights": lambda: adv.class_weights.isChecked()}[name]()

    def _put(self, name: str, value: Any) -> None:
        p, adv = self.page, self.page.advanced
        if name == "learning_rate":
            p.learning_rate.setCurrentText(rate_text(float(value)))  # "1e-4", as the choices read
        elif name == "epochs":
            p.epochs.setValue(int(value))
        elif name == "max_length":
            p.max_length.setValue(int(value))
        elif name == "batch_size":
            p.batch_size.setValue(int(value))
        elif name == "warmup_ratio":
            adv.warmup.setValue(float(value))
        elif name == "early_stopping_patience":
            adv.patience.setValue(int(value or 0))
        elif name == "class_weights":
            adv.class_weights.setChecked(bool(value))

    def clamp_max_length(self, limit: int) -> None:
        """Keep max length within a new model's limit; not a user change, so still automatic."""
        untouched = self._get("max_length") == self._filled["max_length"]
        self.page.max_length.setValue(min(self.page.max_length.value(), limit))
        if untouched:
            self._filled["max_length"] = self._get("max_length")

    # --- choosing -----------------------------------------------------------------------------
    def schedule(self) -> None:
        """Measure the selected dataset with the selected model (on the worker)."""
        dataset, ws = self.page.dataset_combo.currentData(), self.page.workspace
        if not dataset or ws is None or self.page.is_running():
            return
        model = str(self.page.model_path) if self.page.model_path else None
        # Showing the page again re-lists the datasets: measure again only what changed.
        key = (dataset, model, self.page.dataset_combo.currentData(ROWS))
        if key == self._measured and self.auto is not None:
            return
        if self._job is not None and self._job.is_running():
            self._pending = True
            return
        from desktop.jobs import auto_settings

        self._measured = key
        self.auto = None  # the previous dataset's choices do not apply to this one
        self._mark_fields({}, set())
        self.label.setText(f"Measuring {dataset} to choose the settings…")
        job = Job.call(lambda _c: auto_settings(ws, dataset, model), name="auto", parent=self)
        job.ended.connect(lambda terminal, d=dataset: self._on_done(terminal, d))
        self._job = job
        self.page.context.start(job)

    def holds_another_datasets(self) -> bool:
        """Whether the fields still hold the settings chosen for another dataset while this
        one's are being chosen (Start would have trained with those)."""
        measuring = self._job is not None and self._job.is_running()
        return measuring and self._applied_for not in (None, self.page.dataset_combo.currentData())

    def _on_done(self, terminal: object, dataset: str) -> None:
        self._job = None
        if isinstance(terminal, Failed):
            self.label.setText(f"Automatic settings unavailable: {terminal.message}")
        elif isinstance(terminal, Done):
            self.apply(terminal.value, dataset)
        if self._pending:  # the dataset or model changed meanwhile: measure that one
            self._pending = False
            self.schedule()
        elif self.start_when_chosen:  # Start was pressed while measuring: now it starts
            self.start_when_chosen = False
            self.page.start()

    def apply(self, auto: Any, dataset: str) -> None:
        self.auto, self._applied_for = auto, dataset
        # The batch is chosen only for tiny data: for any other, an untouched field goes back
        # to the usual batch (the previous dataset may have been tiny).
        values = {"batch_size": self._page_batch, **{c.name: c.value for c in auto.choices}}
        for name, value in values.items():
            if name in self._filled and self._get(name) == self._filled[name]:
                self._put(name, value)
                self._filled[name] = self._get(name)
        self._shown = dataset
        people = getattr(self.page, "people", None)
        if people is not None:  # DP per person multiplies the epochs just set; DP's warm-up
            people.apply_epochs()
            people.apply_warmup()
        self.render()
        self.page._schedule_estimate()  # the estimate now uses the measured lengths

    def render(self) -> None:
        """The chosen settings with why; with DP on, the DP ones too, in place of the plain
        learning rate (and, per person, the epochs) that they replace."""
        if self.auto is None:
            return
        from engine.training.auto import AutoSettings

        dataset = self._shown
        # A field the user changed to exactly the automatic value reads as the automatic choice
        # ("Max length = 64: ..."), not as "set by you (automatic would be 64)".
        automatic = self.auto.values
        kept = [n for n in self.set_by_user() if n not in automatic or self._get(n) != automatic[n]]
        people = getattr(self.page, "people", None)
        dp = people.dp_choices() if people is not None else ()
        replaced = {c.name for c in dp}
        # The warm-up and validation lines count the steps of the epochs, batch and long texts
        # in the fields, as the run will (with DP, its warm-up is among the DP choices).
        steps = people.step_choices() if people is not None else {}
        if dp:
            steps.pop("warmup_ratio")
        # Long texts read in windows: the max length's reason says so (it said they are cut).
        windows = self.page.advanced.options()["long_texts"] == "windows"
        chosen = self.auto.in_windows() if windows else self.auto
        choices = tuple(steps.get(c.name, c) for c in chosen.choices)
        names = self._form_names()
        said = dict(zip((c.name for c in choices),
                        AutoSettings(choices, self.auto.lengths).lines(kept, names=names)))
        lines = [f"• {said[c.name]}" for c in choices if c.name not in replaced]
        mine: list[str] = []
        if dp:
            # A DP value the user changed is theirs: said so, with the automatic one beside it.
            current = {**self.page.config_options(), "class_weights": False}
            mine = [c.name for c in dp if c.name in current and current[c.name] != c.value]
            dp_said = dict(zip((c.name for c in dp),
                               AutoSettings(tuple(dp), self.auto.lengths).lines(mine, names=names)))
            lines.append("With differential privacy:")
            lines += [f"• {line}" for line in dp_said.values()]
            said.update(dp_said)
            said.pop("class_weights", None)  # DP turns them off: the field is not the data's choice
        lines += self._long_texts_lines()
        if self.auto.vocabulary_line():
            # First, where it is seen: the eighth bullet sat below the fold of the settings.
            lines.insert(0, f"⚠ {self.auto.vocabulary_line(in_app=True)}")
        if self.auto.held_out_line():  # the bullets promise early stopping it cannot do
            lines.insert(0, f"⚠ {self.auto.held_out_line(in_app=True)}")
        if self.imported_as:
            lines.append(f"• multi-label: a yes/no for each label (the dataset was imported with "
                         f"labels separated by {self.imported_as['label_delimiter']!r})")
        self.label.setText(f"Chosen for {dataset} (highlighted above; hover a setting for why):\n"
                           + "\n".join(lines))
        # With DP on, a field DP filled (the learning rate) differs from the plain fill: whether
        # the user set it is what DP's own comparison says, not the plain one (it read as theirs).
        self._mark_fields(said, (set(kept) - replaced) | set(mine))

    def _long_texts_lines(self) -> list[str]:
        """How texts over the max length are read; with them cut, how many are, and the choice
        that reads them in windows (from the share the command line's dry run mentions it;
        not with DP, which needs them cut)."""
        from engine.training.plan import CUT_SHARE_TO_MENTION
        from engine.training.windows import MAX_WINDOWS, default_overlap, long_texts

        max_length = self.page.max_length.value()
        if not len(self.auto.lengths):
            return []
        shares = long_texts(self.auto.lengths, max_length=max_length,
                            overlap=default_overlap(max_length))
        if self.page.advanced.options()["long_texts"] == "windows":
            return [f"• Long texts: read in windows of {max_length} tokens, about "
                    f"{shares.windows_per_text:.2f} a text; a text's prediction is the mean of its "
                    "windows'" + (f"; {shares.past_reach_share:.0%} go past {MAX_WINDOWS} windows "
                                  f"({shares.reach:,} tokens) and the rest of those is cut"
                                  if shares.past_reach_share else "")]
        privacy = getattr(self.page, "privacy", None)
        if shares.cut_share < CUT_SHARE_TO_MENTION or (privacy is not None and privacy.enabled.isChecked()):
            return []
        return [f"• Long texts: {shares.cut_share:.0%} are cut at {max_length} tokens; Advanced → "
                f"Long texts can read them in windows, about {shares.windows_per_text:.2f} a text "
                "(as many times the training time)"]

    def _mark_fields(self, said: dict[str, str], by_user: set[str]) -> None:
        """Each field the automatic settings filled says so: its label is highlighted and the
        reason is its tooltip (the box below lists them all, far from the field). A field the
        user changed is not highlighted; its tooltip gives the automatic value."""
        for name, field in self._field_widgets().items():
            line = said.get(name)
            auto = line is not None and name not in by_user
            label = self._label_for(field)
            for widget in (field, label):
                if widget is None:
                    continue
                widget.setToolTip(("Chosen from the data: " if auto else "") + (line or ""))
            shown = label if label is not None else field  # the checkbox is its own label
            if bool(shown.property("auto")) != auto:
                shown.setProperty("auto", auto)
                shown.style().unpolish(shown)  # the stylesheet's [auto="true"] rule
                shown.style().polish(shown)

    def _field_widgets(self) -> dict[str, QWidget]:
        page, adv = self.page, self.page.advanced
        fields = {"epochs": page.epochs, "learning_rate": page.learning_rate,
                  "max_length": page.max_length, "batch_size": page.batch_size,
                  "warmup_ratio": adv.warmup, "early_stopping_patience": adv.patience,
                  "class_weights": adv.class_weights}
        privacy = getattr(page, "privacy", None)
        if privacy is not None:
            fields.update(dp_logical_batch_size=privacy.logical_batch,
                          dp_max_grad_norm=privacy.max_grad_norm, dp_trainable=privacy.trainable)
        return fields

    def _label_for(self, field: QWidget) -> QWidget | None:
        for form in self.page.findChildren(QFormLayout):
            label = form.labelForField(field)
            if label is not None and isinstance(label, QLabel) and label.text():
                return label
        return None

    def _form_names(self) -> dict[str, str]:
        """Each setting by the label of its field on this page, as the reasons name them."""
        privacy = getattr(self.page, "privacy", None)
        per_person = privacy is not None and bool(privacy.options().get("dp_person_column"))
        return {"epochs": "Epochs", "learning_rate": "Learning rate", "max_length": "Max length",
                "batch_size": "Batch size", "warmup_ratio": "Warm-up ratio",
                "early_stopping_patience": "Early stopping patience",
                "class_weights": "Class weights", "eval_every_steps": "Validation every",
                "dp_max_grad_norm": "Clipping norm C", "dp_trainable": "Train",
                "dp_logical_batch_size": "People per step" if per_person else "Rows per step"}

    def set_by_user(self) -> list[str]:
        """The fields the user changed since the last automatic fill (left alone by the next)."""
        return [name for name, filled in self._filled.items() if self._get(name) != filled]

    def put_if_untouched(self, name: str, value: Any) -> None:
        """An automatic value decided elsewhere (DP per person's epochs): set, unless the user
        changed the field since the last automatic fill."""
        if self._get(name) == self._filled[name]:
            self._put(name, value)
            self._filled[name] = self._get(name)

    @property
    def imported_as(self) -> dict[str, Any]:
        """What the dataset chosen now says about training it (multi-label, its delimiter):
        read for the current choice, never left over from the previous one (a cheap metadata
        read, kept until the choice or its version changes)."""
        from engine.training.plan import as_imported

        page = self.page
        dataset = page.dataset_combo.currentData()
        key = (page.workspace, dataset, page.dataset_combo.currentData(VERSION))
        if not dataset or page.workspace is None:
            return {}
        if self._imported_as[0] != key:
            self._imported_as = (key, as_imported(page.workspace, dataset))
        return self._imported_as[1]

    def extra_options(self) -> dict[str, Any]:
        """Settings the page has no field for: evaluations within an epoch (automatic, once the
        dataset is measured, for the epochs, batch and long texts in the fields) and what the
        dataset says (multi-label), always."""
        measured = {}
        if self.auto is not None:  # for the steps the fields ask for, as the box says it
            people = getattr(self.page, "people", None)
            measured["eval_every_steps"] = (people.step_choices()["eval_every_steps"].value
                                            if people is not None else self.auto.values.get("eval_every_steps"))
        return {**measured, **self.imported_as}

    def mean_tokens(self, max_length: int) -> float | None:
        return None if self.auto is None else self.auto.mean_tokens_at(max_length)
