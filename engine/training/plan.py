"""What a run will use before it starts: the automatic settings merged with the user's own,
and the time/memory estimate for exactly those settings on this dataset.

``plan_training`` is what ``cloister train`` (and ``--dry-run``) and the Train page call, so a
user who changes nothing gets the settings ``engine.training.auto`` chose for their data, and
sees why. Everything the user set explicitly wins over the automatic value.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from engine.errors import InputError
from engine.failures import TrainingFailure
from engine.training.auto import (
    TRAIN_SHARE, AutoSettings, Choice, auto_for_dataset, choose_dp_settings, eval_choice, per_person_epochs,
    warmup_choice,
)
from engine.training.config import TrainConfig
from engine.units import count_of, human_size, rate_text
from engine.training.estimate import Estimate, estimate

if TYPE_CHECKING:
    from engine.vault import Vault


CUT_SHARE_TO_MENTION = 0.05  # the dry run points at --long-texts windows from this share cut
# Below this many units of privacy (training rows, or people) the dry run warns that DP may
# learn little: 4,000 sst2 rows at ε = 8 reached 0.82 (plain 0.86), one epoch of them chance.
DP_FEW_UNITS = 2000


@dataclass(frozen=True)
class TrainPlan:
    config: TrainConfig
    auto: AutoSettings | None  # None when automatic settings were turned off
    overridden: tuple[str, ...]  # settings the user gave that differ from the automatic ones
    estimate: Estimate
    rows: int
    classes: int
    privacy: str = ""  # with DP and ``strict``: the noise, steps and δ the run will use
    split: tuple[int, int, int] | None = None  # with ``strict``: training, validation, test rows
    windows_per_text: float = 1.0  # with long texts read in windows: their mean count a text
    # With DP per row and ``strict``: a column that sounds like people, with repeated values.
    person_hint: str = ""
    # With DP and ``strict``: what earlier runs on the same rows spent (composition).
    spent_before: str = ""

    def lines(self) -> list[str]:
        out = [f"dataset {self.config.dataset!r}: {self.rows:,} rows, {self.classes} classes"]
        if self.auto is not None:
            out.append("automatic settings (chosen from the data):")
            out += [f"  {line}" for line in self.auto.lines(self.overridden)]
            if self.auto.vocabulary_line():
                out.append(f"note: {self.auto.vocabulary_line()}")
        else:
            out.append("automatic settings: off (the fixed defaults and your settings are used)")
        c = self.config
        out.append(f"settings used: epochs {c.epochs}, learning rate {rate_text(c.learning_rate)}, batch "
                   f"size {c.batch_size}, max length {c.max_length}, warm-up {c.warmup_ratio:g}, "
                   f"early stopping {c.early_stopping_patience or 'off'}, class weights "
                   f"{'on' if c.class_weights else 'off'}"
                   + (f", multi-label (labels separated by {c.label_delimiter!r})" if c.multi_label else ""))
        if self.split is not None:
            from engine.training.prepare import nothing_held_out

            train, validation, test = self.split
            out.append(f"split (seed {c.seed}): {train:,} training, {validation:,} validation and "
                       f"{test:,} test rows" + (", each person's rows in one part"
                                                if c.dp and c.dp_person_column else ""))
            if nothing_held_out(validation, test):
                out.append(f"warning: {nothing_held_out(validation, test)}")
        long_texts = self.long_texts_line()
        if long_texts:
            out.append(long_texts)
        if self.privacy:
            out.append(self.privacy)
        if self.person_hint:
            out.append(self.person_hint)
        if self.spent_before:
            out.append(self.spent_before)
        e = self.estimate
        # Measured on an idle machine: a busy one took ten times as long, and the live ETA said so.
        out.append(f"estimate: about {_duration(e.seconds)} on {e.device_name} with nothing else "
                   f"running, peak memory about {human_size(e.peak_memory_bytes)}")
        return out

    def long_texts_line(self) -> str:
        """How texts longer than max length are read; with them cut, how many are and the
        option that reads them in windows (when at least ``CUT_SHARE_TO_MENTION`` are cut and
        DP, which needs them cut, is off)."""
        from engine.training.windows import MAX_WINDOWS, long_texts

        c = self.config
        lengths = self.auto.lengths if self.auto is not None else ()
        shares = long_texts(lengths, max_length=c.max_length, overlap=c.overlap_tokens)
        if c.windows:
            line = (f"long texts: read in windows of {c.max_length} tokens, consecutive windows "
                    f"sharing {c.overlap_tokens} (about {self.windows_per_text:.2f} windows a "
                    "text); a text's prediction is the mean of its windows'")
            if shares.past_reach_share:
                line += (f"; {shares.past_reach_share:.0%} are longer than {MAX_WINDOWS} windows "
                         f"reach ({shares.reach:,} tokens): the rest of those is cut")
            return line
        if shares.cut_share < CUT_SHARE_TO_MENTION:
            return ""
        if c.dp:  # DP reads each text once a step: no windows, but the cut is still worth saying
            return (f"long texts: {shares.cut_share:.0%} are cut at {c.max_length} tokens (their "
                    "start is kept; with differential privacy they cannot be read in windows)")
        return (f"long texts: {shares.cut_share:.0%} are cut at {c.max_length} tokens (their start "
                f"is kept); --long-texts windows reads each in windows of {c.max_length} (about "
                f"{shares.windows_per_text:.2f} a text, up to {MAX_WINDOWS}; that many times the "
                "training time)")

    def as_dict(self) -> dict[str, Any]:
        """What ``lines`` says, for ``train --dry-run --json``: the settings the run would use,
        each automatic choice with its reason (and whether the user's own value replaced it)."""
        automatic = None if self.auto is None else [
            {"name": c.name, "value": c.value, "reason": c.reason, "set_by_you": c.name in self.overridden}
            for c in self.auto.choices]
        e = self.estimate
        return {"dataset": self.config.dataset, "rows": self.rows, "classes": self.classes,
                "automatic": automatic, "settings": self.config.to_dict(),
                "split": None if self.split is None else dict(zip(("train", "validation", "test"), self.split)),
                "privacy": self.privacy or None, "person_hint": self.person_hint or None,
                "spent_before": self.spent_before or None,
                "long_texts": self.long_texts_line() or None,
                "unknown_words": None if self.auto is None else round(self.auto.unknown_share, 4),
                "pieces_per_word": None if self.auto is None else round(self.auto.pieces_per_word, 2),
                "vocabulary": (self.auto.vocabulary_line() or None) if self.auto is not None else None,
                "estimate": {"seconds": round(e.seconds, 1), "peak_memory_bytes": int(e.peak_memory_bytes),
                             "device": e.device}}


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"  # 2 min 51 s is about 3 min, as the app says it
    return f"{seconds / 3600:.1f} h"


def plan_training(ws: Vault, dataset: str, explicit: Mapping[str, Any], *, auto: bool = True,
                  model_path: str | None = None, strict: bool = False) -> TrainPlan:
    """The config a run on ``dataset`` will use: ``explicit`` (TrainConfig fields the user set)
    over the automatic settings (unless ``auto`` is false) over the fixed defaults.

    Raises InputError with the reason when the dataset, model or a setting cannot be used;
    ``strict`` adds every check the run itself makes once it has the data (the split's sizes,
    the DP budget and noise, the layers, the device), so that ``cloister train --dry-run``
    approves only what would run, and a refused run leaves no failed run behind.
    """
    from engine.training.prepare import check_settings, load_rows, split_strata

    names = {f.name for f in fields(TrainConfig)}
    unknown = set(explicit) - names
    if unknown:
        raise InputError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
    imported_as = as_imported(ws, dataset)
    _check_label_reading(dataset, imported_as, explicit)
    _check_class_fixes(ws, dataset, explicit)
    explicit = {**imported_as, **dict(explicit)}
    # With automatic settings the length is chosen within the model's limit: a placeholder
    # that any model accepts stands in for it while the model and data are checked.
    placeholder = {"max_length": 8} if auto else {}
    base = TrainConfig(dataset=dataset, model_path=model_path, **{**placeholder, **dict(explicit)})
    try:
        info = check_settings(base, length_known=not placeholder or "max_length" in explicit)
        rows = load_rows(ws, dataset, base.dp_person_column if base.dp else None,
                         label_delimiter=base.label_delimiter if base.multi_label else None)
        texts, labels = rows.texts, rows.labels
        # DP per person reads one row per person an epoch: the people set its batch and time.
        units = len(set(rows.people)) if rows.people is not None else len(texts)
    except TrainingFailure as exc:
        raise InputError(exc.message) from exc
    if base.multi_label and not imported_as and not any(base.label_delimiter in str(label)
                                                        for label in labels):
        raise InputError(f"no label of dataset {dataset!r} holds {base.label_delimiter!r}: it has "
                         "one label a row, so train it without --multi-label (or, if its labels "
                         "are joined by another character, give that with --label-delimiter)")
    chosen: AutoSettings | None = None
    values: dict[str, Any] = {}
    real_rows = 0  # the training rows of the run's split, measured with the automatic settings
    if auto:
        # The split the run will make, so "80 training rows" here is what the run trains on
        # (per person, each person's rows all on one side: the people in training are counted).
        real_rows, real_units = training_split(split_strata(labels, base), base.seed, rows.people)
        train_units = real_units or int(units * TRAIN_SHARE)
        chosen = auto_for_dataset(texts, labels, info, batch_size=base.batch_size,
                                  multi_label=base.multi_label,
                                  label_delimiter=base.label_delimiter, train_rows=real_rows or None)
        chosen = dataclasses.replace(chosen, train_units=train_units)  # the Train page counts on them
        if real_rows:
            chosen = dataclasses.replace(chosen, held_out_rows=len(texts) - real_rows)
        values = dict(chosen.values)
        if base.dp:
            # DP-SGD refuses class weights (they re-weight single rows, which the per-row
            # clipping bound does not cover) and has its own learning-rate, clipping, batch and
            # trainable-part needs: those choices replace the non-DP ones.
            dp = choose_dp_settings(train_units, explicit.get("dp_trainable"),
                                    per_person=rows.people is not None)
            replaced = ["class_weights", "learning_rate"]
            if rows.people is not None:
                dp += (per_person_epochs(int(values["epochs"]), len(texts), units),)
                replaced.append("epochs")
            kept = tuple(c for c in chosen.choices if c.name not in replaced)
            chosen = dataclasses.replace(chosen, choices=kept + dp)
            values = dict(chosen.values)
    config = TrainConfig(dataset=dataset, model_path=model_path, **{**values, **dict(explicit)})
    if chosen is not None and "batch_size" not in explicit and not config.dp \
            and 0 < real_rows < config.batch_size:
        # Tiny data: the fixed default batch (16) may hold more rows than training has; one
        # batch of all of them is what the user who set nothing wants, not a refusal. Before
        # the warm-up below, which counts the steps of the batch in use.
        config = dataclasses.replace(config, batch_size=real_rows)
        chosen = dataclasses.replace(chosen, choices=chosen.choices + (Choice(
            "batch_size", real_rows, f"{real_rows} training rows, fewer than the usual batch "
            f"of {base.batch_size}: one batch holds them all"),))
    # Long texts in windows: a text trains as its windows, whose count (measured, with the
    # automatic settings or without them) the steps, the warm-up and the estimate count.
    mean = chosen.mean_tokens_at(config.max_length) if chosen is not None else None
    per_text = 1.0
    if config.windows:
        measured = chosen if chosen is not None else AutoSettings((), _token_lengths(texts, info))
        per_text, mean = measured.windows_at(config.max_length, config.overlap_tokens)
        if chosen is not None:  # the max length's reason: texts past it are read, not cut
            chosen = chosen.in_windows()
    if chosen is not None:
        # The warm-up and validation count the steps this run will take: the epochs and batch
        # in use (the user's, if given), accumulated micro-batches, and DP's logical batches.
        again = step_choices(chosen, config, train_units)
        chosen = dataclasses.replace(chosen, choices=tuple(
            again[c.name] if c.name in again and c.name not in explicit else c for c in chosen.choices))
        config = dataclasses.replace(config, **{k: chosen.values[k] for k in
                                                ("warmup_ratio", "eval_every_steps") if k not in explicit})
        values = dict(chosen.values)
    overridden = tuple(k for k in values if k in explicit and explicit[k] != values[k])
    if base.multi_label:
        classes = len({p.strip() for v in labels for p in v.split(base.label_delimiter) if p.strip()})
    else:
        classes = len(set(labels))
    privacy, split = _check_as_the_run_will(config, info, labels, rows.people) if strict else ("", None)
    hint = _person_hint(ws, dataset) if strict and config.dp and not config.dp_person_column else ""
    spent = spent_before(ws, dataset) if strict and config.dp else ""
    return TrainPlan(config=config, auto=chosen, overridden=overridden, person_hint=hint,
                     spent_before=spent,
                     estimate=estimate(config, units, mean_tokens=mean, windows_per_text=per_text),
                     rows=len(texts), windows_per_text=per_text,
                     classes=classes, privacy=privacy, split=split)


def _person_hint(ws: Vault, dataset: str) -> str:
    """A column that sounds like people and repeats, under a per-row guarantee: as `inspect`
    says it (the dry run said nothing, and the card then stated a per-row guarantee for
    patients with several rows each)."""
    from engine.data.columns import person_column_candidates
    from engine.data.store import load_dataset

    stored = load_dataset(ws, dataset)
    found = person_column_candidates(stored.table, stored.info.mapping)
    if not found:
        return ""
    column, people = found[0]
    return (f"warning: column {column!r} may say who each row is about ({people:,} values for "
            f"{stored.table.num_rows:,} rows): this guarantee covers each row, not each person; "
            f"add --dp-person-column {column} to cover each person, all of their rows")


def spent_before(ws: Vault, dataset: str) -> str:
    """Earlier runs on ``dataset`` (``runs_on``): each DP run spent its ε on its rows, and
    models released from several add up (composition); a run without DP gives its model no
    guarantee at all. The README said so, but nothing did where a user starts another run."""
    from engine.runs import runs_on

    # Its rows now, and as they were before a fix or an import under its name: nearly the
    # same people, so counted too (an overcount errs the safe way).
    earlier = runs_on(ws, dataset)
    spent = [float(r.privacy["epsilon_spent"]) for r in earlier
             if r.privacy and float(r.privacy.get("epsilon_spent") or 0) > 0]
    plain = sum(1 for r in earlier if not (r.config or {}).get("dp"))
    if not spent and not plain:
        return ""
    parts = []
    if spent:
        each = ", ".join(f"{e:.2f}" for e in spent[:6]) + (", ..." if len(spent) > 6 else "")
        parts.append(f"{len(spent)} with DP spent ε = {each} ({sum(spent):.2f} in all)")
    if plain:
        parts.append(f"{plain} without DP, whose models carry no guarantee")
    return (f"note: earlier runs on this dataset: {'; '.join(parts)}. This run's ε counts only "
            "its own model: models of the same rows released together add up their ε")


def _token_lengths(texts: Any, info: Any) -> Any:
    """The texts' token counts with the model's tokenizer (a sample, as the automatic settings
    measure them)."""
    from engine.models.folders import load_tokenizer
    from engine.training.auto import count_cap, token_lengths, tokenizer_counter

    return token_lengths(texts, tokenizer_counter(load_tokenizer(info.path),
                                                  cap=count_cap(int(info.max_length))))


def training_split(strata: Any, seed: int, people: Any = None) -> tuple[int, int]:
    """The rows the run's seeded split (of ``strata``: ``prepare.split_strata``, or the labels
    of a single-label run) will train on, and the units DP samples among them
    (the people, when each person is the unit; else the rows again); (0, 0) when the data
    cannot be split (the run's own checks say why)."""
    from engine.training.prepare import split_rows

    try:
        train = split_rows(strata, seed=seed, people=people)[0]
    except (ValueError, InputError, TrainingFailure):
        return 0, 0
    return len(train), (len({people[i] for i in train}) if people is not None else len(train))


def _check_as_the_run_will(config: TrainConfig, info: Any, labels: Any, people: Any
                           ) -> tuple[str, tuple[int, int, int]]:
    """The run's own checks, made before it starts -> (for DP, the line saying what it will
    spend; the split's training, validation and test rows)."""
    from engine.training.devices import choose_device
    from engine.training.prepare import split_rows, split_strata

    per_person = bool(config.dp and people is not None)
    try:
        train, validation, test = split_rows(split_strata(labels, config), seed=config.seed,
                                             new_run=True,
                                             people=people if per_person else None)
    except TrainingFailure as exc:  # too few people to split: refused as the run would
        raise InputError(str(exc)) from exc
    sizes = (len(train), len(validation), len(test))
    units = len({people[i] for i in train}) if per_person else len(train)
    problems = config.validate(train_rows=len(train), model_max_length=info.max_length,
                               people=units if per_person else None)
    if problems:
        raise InputError("; ".join(p.message for p in problems))
    choose_device(config.device, configure_threads=False)  # a GPU asked for and absent
    if not config.dp:
        return "", sizes
    return dp_plan_line(config, info, units, per_person), sizes


def dp_plan_line(config: TrainConfig, info: Any, units: int, per_person: bool) -> str:
    """DP's checks that need the data (the layers to train, the budget for these ``units``),
    made before a run starts, and the line saying what it will spend; InputError if refused.
    The dry run prints the line; ``engine.training.entry`` checks it before a run has a record,
    so that the app's refusals are not left behind as failed runs."""
    from engine.training.private import check_layer_count, dp_delta
    from privacy.dp.budget import DPSettingError, noise_for_budget, sample_rate_for

    try:
        check_layer_count(config.dp_trainable, info.num_layers)
    except TrainingFailure as exc:
        raise InputError(exc.message) from exc

    delta = dp_delta(config, units)
    rate = sample_rate_for(units, config.dp_logical_batch_size)
    steps = round(1 / rate) * config.epochs
    try:
        sigma = noise_for_budget(epsilon=config.dp_epsilon, delta=delta, sample_rate=rate,
                                 steps=steps, logical_batch_size=config.dp_logical_batch_size,
                                 accountant=config.dp_accountant)
    except DPSettingError as exc:
        raise InputError(str(exc)) from exc
    unit = f"per person (column '{config.dp_person_column}')" if per_person else "per training row"
    noun = "people" if per_person else "training rows"
    # Poisson sampling takes each unit with probability 1/ceil(N/B): a step holds N/ceil(N/B)
    # on average, which can be well under B (any B above N/2 gives N/2). Say what it will hold.
    expected = rate * units
    batch = f"about {round(expected):,}"
    if abs(expected - config.dp_logical_batch_size) > 0.05 * config.dp_logical_batch_size:
        steps_per_epoch = round(1 / rate)
        batch += (f" rather than {config.dp_logical_batch_size:,}: each of the {units:,} {noun} "
                  f"joins a step with probability 1/{steps_per_epoch} (a logical batch of "
                  f"{-(-units // steps_per_epoch):,} says so exactly)")
    few = ""
    if units < DP_FEW_UNITS:  # bench/RESULTS.md, "Differential privacy": small data learns little
        few = (f"; warning: {units:,} {noun} are few for DP: the noise can swamp what the model "
               "learns (4,000 sst2 rows at ε = 8: 0.82 accuracy against 0.86 without DP, and "
               "chance with a single epoch), so judge it by its test metrics")
    return (f"differential privacy: ε = {config.dp_epsilon:g}, δ = {delta:.3g}, {unit}, over "
            f"{units:,} {noun}: {count_of(steps, 'step')} of {batch} (sampling rate {rate:.4g}) with noise "
            f"σ = {sigma:.3f} x C = {config.dp_max_grad_norm:g}; trains {config.dp_trainable}{few}")


def _check_label_reading(dataset: str, imported_as: Mapping[str, Any],
                         explicit: Mapping[str, Any]) -> None:
    """A dataset imported as multi-label is read with the delimiter it was imported with: any
    other would make every combination of labels one class, silently."""
    stored, given = imported_as.get("label_delimiter"), explicit.get("label_delimiter")
    if stored and given is not None and given != stored:
        raise InputError(f"dataset {dataset!r} was imported with labels separated by {stored!r}; "
                         f"reading them split by {given!r} would make each combination one "
                         "label: leave out --label-delimiter")



def as_imported(ws: Vault, dataset: str) -> dict[str, Any]:
    """What the dataset itself says about training it: multi-label, with the delimiter it was
    imported with (``import --label-delimiter``). A setting the user gives wins."""
    from engine.data.store import dataset_info
    from engine.errors import CloisterError

    try:
        delimiter = dataset_info(ws, dataset).label_delimiter
    except CloisterError:
        return {}  # load_rows says what is wrong with the dataset
    return {"multi_label": True, "label_delimiter": delimiter} if delimiter else {}


def _check_class_fixes(ws: Vault, dataset: str, explicit: Mapping[str, Any]) -> None:
    """``--multi-label`` on a dataset imported with one label a cell and fixed class by class
    is refused, as the Datasets page refuses to read such a file with several labels a row: a
    merge into 'other' had replaced every label of the rows whose combination was rare."""
    from engine.data.multi_label_checks import class_fixes_read_as_one_label
    from engine.data.store import dataset_info
    from engine.errors import CloisterError

    if not explicit.get("multi_label"):
        return
    try:
        info = dataset_info(ws, dataset)
    except CloisterError:
        return  # load_rows says what is wrong with the dataset
    by_class = [] if info.label_delimiter else class_fixes_read_as_one_label(info.history)
    if by_class:
        raise InputError(f"dataset {dataset!r} was fixed class by class ({'; '.join(by_class)}) "
                         "while each label cell was one label: read now as several labels a row, "
                         "those rows lost their other labels too. Import the file again with "
                         "--label-delimiter and without those fixes")


def step_choices(auto: AutoSettings | None, config: TrainConfig, train_units: int) -> dict[str, Choice]:
    """The warm-up and the validation interval for the optimizer steps ``config`` takes over
    ``train_units`` (the split's training rows; DP per person, its people): the epochs and batch
    in use, accumulated micro-batches, DP's logical batches, and with long texts in windows each
    text as its windows (counted on ``auto``'s measured lengths). What the dry run chooses and
    the Train page shows and runs with."""
    from engine.training.optim import steps_per_epoch

    if config.windows and auto is not None:
        per_text = auto.windows_at(config.max_length, config.overlap_tokens)[0]
        train_units = int(round(train_units * per_text))
    # One DP step is one logical batch; a plain step is grad_accumulation micro-batches.
    per_epoch = (max(1, -(-train_units // max(1, config.dp_logical_batch_size))) if config.dp else
                 steps_per_epoch(train_units, batch_size=config.batch_size,
                                 grad_accumulation=config.grad_accumulation))
    return {"warmup_ratio": warmup_choice(per_epoch * config.epochs, noisy=config.dp),
            "eval_every_steps": eval_choice(per_epoch)}
