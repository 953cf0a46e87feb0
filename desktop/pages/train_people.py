"""The Train page's count of the people a DP run protects, and the step-dependent automatic
settings that follow it: DP per person samples people, so the logical batch, the epochs, the
warm-up and the validation interval follow the people (or the split's rows) and the steps the
fields ask for. Split from ``desktop.pages.train_privacy``, which holds the section's widgets."""
from __future__ import annotations

from typing import Any


from desktop.pages.train_datasets import ROWS, VERSION
from desktop.worker import Done, Job
from engine.events import Failed


class PeopleCount:
    """How many people the chosen person column names, counted on a worker thread from the
    decrypted dataset (only while DP is on): DP per person samples people, so the automatic
    logical batch, the epochs and the estimate follow the people, not the rows. ``count`` is
    None until known, and while each row is the unit."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count: int | None = None
        self.training: int | None = None  # of them, those the run's split puts in training
        self._key: tuple[Any, ...] | None = None  # what ``count`` (or the running count) is for
        page.privacy.person.currentIndexChanged.connect(lambda _i: self.refresh())
        page.seed.valueChanged.connect(lambda _v: self.refresh())  # another split, other people
        # The warm-up counts the steps the run will take: it follows the epochs and batches.
        for spin in (page.epochs, page.batch_size, page.privacy.logical_batch, page.max_length):
            spin.valueChanged.connect(lambda _v: self._warmup_changed())
        # Windows make more steps of each text: the warm-up counts them.
        page.advanced.long_texts.currentIndexChanged.connect(lambda _i: self._warmup_changed())

    def key(self) -> tuple[Any, ...]:
        """The workspace, dataset, column and dataset version (its digest) being counted."""
        page = self.page
        column = page.privacy.person.currentData() if page.privacy.enabled.isChecked() else None
        version = page.dataset_combo.currentData(VERSION)
        return page.workspace, page.dataset_combo.currentData(), column, version, page.seed.value()

    def refresh(self) -> None:
        """Count again if the workspace, dataset or column changed; then fill in what follows."""
        from desktop.jobs import count_people

        key = self.key()
        if key == self._key:
            self.apply()
            return
        self._key, self.count, self.training = key, None, None
        self.page.privacy.say_people("")
        ws, dataset, column, _version, seed = key
        if ws is None or not dataset or not column:
            self.apply()
            return
        self.page.privacy.say_people("Counting the people…")
        job = Job.call(lambda _c: count_people(ws, dataset, column, seed), name="people", parent=self.page)
        job.ended.connect(lambda terminal: self._done(terminal, key))
        self.page.context.start(job)

    def _done(self, terminal: object, key: tuple[Any, ...]) -> None:
        if key != self._key:  # the choice changed while counting
            return
        say = self.page.privacy.say_people
        if isinstance(terminal, Failed):
            say(f"✖ {terminal.message}")
        elif isinstance(terminal, Done):
            self.count, self.training = (int(n) for n in terminal.value)
            trained = f" ({self.training:,} of them in training)" if self.training and self.count > 1 else ""
            # The column is named here too: the combo above shrinks to fit and may cut it off.
            say(f"{self.count:,} {'person' if self.count == 1 else 'people'} in column "
                         f"'{key[2]}'{trained}; each step uses one row of each person it draws.")
            self.apply()

    def apply(self) -> None:
        """The automatic DP settings and epochs for the rows, or for the people once counted."""
        page = self.page
        if page.privacy.enabled.isChecked():  # fill takes the DP fields' own choices
            page.privacy.fill(self.dp_choices())
        self.apply_epochs()
        self.apply_warmup()
        page.auto_box.render()  # the automatic settings now list the DP ones, with why
        page._schedule_estimate()

    def dp_choices(self) -> tuple[Any, ...]:
        """The automatic DP settings, with why, for the Automatic settings box (none without DP):
        they replace the plain learning rate, and per person the epochs."""
        from engine.training.auto import choose_dp_settings

        page = self.page
        if not page.privacy.enabled.isChecked():
            return ()
        choices = choose_dp_settings(self.training_units(),
                                     page.privacy.trainable.currentData(),
                                     per_person=self.count is not None)
        epochs = self._per_person_epochs()
        return choices + (self.warmup_choice(),) + ((epochs,) if epochs is not None else ())

    def step_choices(self) -> dict[str, Any]:
        """The warm-up and validation interval for the epochs, batch (DP: logical batch) and long
        texts in the fields, as the dry run works them out (``plan.step_choices``)."""
        from engine.training.config import TrainConfig
        from engine.training.plan import step_choices

        page = self.page
        config = TrainConfig(dataset="", epochs=page.epochs.value(), batch_size=page.batch_size.value(),
                             max_length=page.max_length.value(), **page.advanced.options(),
                             **page.privacy.options())
        return step_choices(page.auto_box.auto, config, self.training_units())

    def warmup_choice(self) -> Any:
        return self.step_choices()["warmup_ratio"]

    def training_units(self) -> int:
        """What a step samples from in training: the people the split puts there once counted
        (DP per person), else the run's split's rows as measured (not 80% of the rows), else 80%."""
        from engine.training.auto import TRAIN_SHARE

        per_person = bool(self.page.privacy.options().get("dp_person_column"))
        if self.training and per_person:
            return self.training
        auto = self.page.auto_box.auto
        if auto is not None and auto.train_units and not per_person:
            return int(auto.train_units)
        return int(self.page._rows() * TRAIN_SHARE)

    def _warmup_changed(self) -> None:
        if self.page.auto_box.auto is None:
            return
        self.apply_warmup()
        self.page.auto_box.render()

    def _per_person_epochs(self) -> Any:
        from engine.training.auto import per_person_epochs

        page = self.page
        auto = page.auto_box.auto
        if auto is None or "epochs" not in auto.values or not self.count \
                or not page.privacy.options().get("dp_person_column"):
            return None
        rows = int(page.dataset_combo.currentData(ROWS) or 0)
        return per_person_epochs(int(auto.values["epochs"]), rows, self.count)

    def apply_epochs(self) -> None:
        """The automatic epochs, times the rows per person for DP per person (an epoch reads one
        row of each person); a number of epochs the user typed stays theirs."""
        auto = self.page.auto_box.auto
        if auto is None or "epochs" not in auto.values:
            return
        per_person = self._per_person_epochs()
        epochs = int(auto.values["epochs"]) if per_person is None else int(per_person.value)
        self.page.auto_box.put_if_untouched("epochs", epochs)

    def apply_warmup(self) -> None:
        """The warm-up for the steps the fields ask for (``warmup_choice``: DP's is that of every
        DP measurement); a warm-up the user typed stays theirs."""
        auto = self.page.auto_box.auto
        if auto is None or "warmup_ratio" not in auto.values:
            return
        self.page.auto_box.put_if_untouched("warmup_ratio", self.warmup_choice().value)
