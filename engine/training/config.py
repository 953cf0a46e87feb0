"""The training settings: one frozen dataclass, validated before any work starts."""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, fields
from typing import Any

from engine.data.problems import Problem, Severity
from engine.errors import InputError
from engine.training.lora import LORA


# "top-N+bias": the top N layers, and every bias and LayerNorm weight of the layers below.
WITH_BIASES = "+bias"


def trainable_layers(spec: str) -> int | None:
    """N for "top-N" or "top-N+bias" (N >= 1), else None ("all" or unknown)."""
    top = spec.removesuffix(WITH_BIASES)
    if top.startswith("top-") and top[4:].isdigit() and int(top[4:]) >= 1:
        return int(top[4:])
    return None


def trains_lower_biases(spec: str) -> bool:
    """Whether ``spec`` ("top-N+bias") also trains the biases and LayerNorms below the top N."""
    return spec.endswith(WITH_BIASES) and trainable_layers(spec) is not None


class DevicePreference(str, enum.Enum):
    AUTO = "auto"  # CUDA, then Apple MPS, then CPU
    CPU = "cpu"
    CUDA = "cuda"
    MPS = "mps"


@dataclass(frozen=True)
class DeviceSetting:
    """A device as the user names it: a ``DevicePreference`` plus, for CUDA, which GPU.

    Settings, run records and ``--device`` keep the text form ("auto", "cuda:1"); everything
    that acts on it parses it here, once, so a spelling is accepted or refused the same way
    everywhere.
    """

    preference: DevicePreference
    index: int | None = None

    @classmethod
    def parse(cls, text: str) -> DeviceSetting:
        kind, _, index = str(text).strip().lower().partition(":")
        try:
            preference = DevicePreference(kind)
        except ValueError:
            raise InputError(f"device '{text}' is unknown: use auto, cpu, cuda (or cuda:N) or mps") from None
        if not index:
            return cls(preference)
        if preference is not DevicePreference.CUDA or not index.isdigit():
            raise InputError(f"device '{text}' is unknown: only CUDA takes a GPU number (cuda:0, cuda:1, ...)")
        return cls(preference, int(index))

    def __str__(self) -> str:
        return self.preference.value if self.index is None else f"{self.preference.value}:{self.index}"


@dataclass(frozen=True)
class TrainConfig:
    """What to train on and how. ``model_path=None`` means the bundled MiniLM-L6.

    ``early_stopping_patience``: stop after this many evaluations without a better validation
    macro-F1 (None: never stop early). ``eval_every_steps``: evaluate on the validation split
    every N optimizer steps as well as at each epoch end. ``select_best``: the stored model is
    the one from the best validation evaluation (else the last step's). Multi-label rows carry several labels
    joined by ``label_delimiter`` (e.g. ``"billing|urgent"``).
    """

    dataset: str
    model_path: str | None = None
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 5e-5
    max_length: int = 128
    seed: int = 13
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    grad_clip: float = 1.0
    grad_accumulation: int = 1
    class_weights: bool = False
    early_stopping_patience: int | None = 2
    multi_label: bool = False
    device: str = "auto"  # a DeviceSetting in text form ("auto", "cpu", "cuda:1", "mps")
    checkpoint_every_minutes: float = 10.0
    eval_every_steps: int | None = None
    label_delimiter: str = "|"
    # How the split is stratified: 2 (runs since 2026-12-07) stratifies multi-label rows by
    # their rarest label; 1, what a stored run without the key used, by the label string.
    # Kept with the run, so its split is derived again as it was made.
    split_rule: int = 2
    select_best: bool = True  # keep the weights of the best validation point, not the last step
    # Texts longer than max_length: "cut" keeps their start; "windows" reads all of them in
    # overlapping windows and averages the windows' predictions (engine.training.windows).
    long_texts: str = "cut"
    window_overlap: int | None = None  # tokens consecutive windows share; None: a quarter
    # Differential privacy (DP-SGD through Opacus; see engine.training.private). ``batch_size``
    # is then the physical batch (memory); the logical batch is ``dp_logical_batch_size``.
    dp: bool = False
    dp_epsilon: float = 8.0
    dp_delta: float | None = None  # None: 1/N^1.1 for N training rows
    dp_max_grad_norm: float = 1.0
    dp_logical_batch_size: int = 256
    dp_accountant: str = "prv"
    dp_trainable: str = "all"  # "all"; "top-N": the top N encoder layers plus the head; "lora"
    # "auto": ghost clipping, except hooks for LoRA, whose per-row gradients are small: there
    # ghost clipping's second backward pass through every layer cost 1.16x plain time against
    # 0.85x with hooks (bench_dp, 4,000 sst2 rows, 2026-12-05).
    dp_grad_sample_mode: str = "auto"
    # The column whose value names the person a row is about (a patient or customer id): DP
    # then protects each person, all of their rows together, instead of each row. None: every
    # row is its own unit (right when each person has one row).
    dp_person_column: str | None = None

    @property
    def windows(self) -> bool:
        return self.long_texts == "windows"

    @property
    def overlap_tokens(self) -> int:
        """The tokens consecutive windows share (with ``long_texts="windows"``)."""
        from engine.training.windows import default_overlap

        return default_overlap(self.max_length) if self.window_overlap is None else self.window_overlap

    @property
    def grad_sample_mode(self) -> str:
        """The per-sample gradient mode a DP run uses: ``dp_grad_sample_mode`` with "auto" resolved."""
        if self.dp_grad_sample_mode != "auto":
            return self.dp_grad_sample_mode
        return "hooks" if self.dp_trainable == LORA else "ghost"

    def validate(self, *, train_rows: int | None = None, model_max_length: int | None = None,
                 people: int | None = None, length_known: bool = True) -> list[Problem]:
        """Every problem with these settings, each saying what to change. Empty when fine.

        ``train_rows`` and ``model_max_length`` add the checks that need the data and the model;
        ``people``, the number of people in the training rows, those of ``dp_person_column``.
        Each problem is an error whose code names the setting (``setting:batch_size``), like
        the dataset checks in ``engine.data.validation``.
        """
        problems: list[Problem] = []

        def bad(setting: str, message: str) -> None:
            problems.append(Problem(Severity.ERROR, f"setting:{setting}", message))

        if not self.dataset:
            bad("dataset", "no dataset given: name a dataset imported into this workspace")
        if self.epochs < 1:
            bad("epochs", f"epochs is {self.epochs}: use 1 or more")
        if self.batch_size < 1:
            bad("batch_size", f"batch size is {self.batch_size}: use 1 or more (16 or 32 is typical)")
        if not 0 < self.learning_rate < 1:
            bad("learning_rate",
                f"learning rate {self.learning_rate} is out of range: use a small positive value "
                "below 1, such as 5e-5 (1e-5 to 1e-4 suit fine-tuning; 5e-3 to 2e-2 with DP)"
            )
        if self.max_length < 8:
            bad("max_length", f"max length is {self.max_length} tokens: use at least 8 (128 is typical)")
        if self.weight_decay < 0:
            bad("weight_decay", f"weight decay is {self.weight_decay}: use 0 or a small positive value")
        if not 0 <= self.warmup_ratio < 1:
            bad("warmup_ratio", f"warm-up ratio is {self.warmup_ratio}: use a fraction in [0, 1), e.g. 0.06")
        if self.grad_clip < 0:
            bad("grad_clip", f"gradient clipping is {self.grad_clip}: use 0 (off) or a positive norm such as 1.0")
        if self.grad_accumulation < 1:
            bad("grad_accumulation", f"gradient accumulation is {self.grad_accumulation}: use 1 or more")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            bad("early_stopping_patience",
                f"early-stopping patience is {self.early_stopping_patience}: use 1 or more, or turn it off"
            )
        if self.checkpoint_every_minutes <= 0:
            bad("checkpoint_every_minutes", f"checkpoint interval is {self.checkpoint_every_minutes} minutes: use a positive number")
        if self.eval_every_steps is not None and self.eval_every_steps < 1:
            bad("eval_every_steps", f"evaluation interval is {self.eval_every_steps} steps: use 1 or more, or leave it off")
        if self.multi_label and not self.label_delimiter:
            bad("label_delimiter", "multi-label mode needs a label delimiter such as '|'")
        try:
            DeviceSetting.parse(self.device)
        except InputError as exc:
            bad("device", str(exc))
        # With DP the batch size is only how many rows go through memory at once (the logical
        # batch is checked against the data below): a large one is harmless there.
        if train_rows is not None and self.batch_size > train_rows and not self.dp:
            bad("batch_size",
                f"batch size {self.batch_size} is larger than the {train_rows} training rows: "
                f"use a batch size of at most {max(1, train_rows)} or add more data"
            )
        # ``length_known=False``: max_length is a stand-in for the one the data will choose, so
        # a window overlap is not yet checked against it.
        problems.extend(self._long_text_problems(length_known))
        if self.dp:
            problems.extend(Problem(Severity.ERROR, "setting:dp", message)
                            for message in self._dp_problems(train_rows, people))
        elif self.dp_person_column:
            bad("dp_person_column", "a person column only applies with differential privacy: "
                "turn DP on, or leave the person column empty")
        if model_max_length is not None and self.max_length > model_max_length:
            bad("max_length",
                f"max length {self.max_length} is above the model's limit of {model_max_length} "
                f"tokens: use a max length of {model_max_length} or less"
            )
        return problems

    def _long_text_problems(self, length_known: bool = True) -> list[Problem]:
        from engine.training.windows import check_overlap

        def bad(message: str) -> Problem:
            return Problem(Severity.ERROR, "setting:long_texts", message)

        if self.long_texts not in ("cut", "windows"):
            return [bad(f"long texts '{self.long_texts}' is unknown: use cut (keep the start of "
                        "a long text) or windows (read it in overlapping windows)")]
        if not self.windows:
            return [bad("a window overlap only applies when long texts are read in windows: "
                        "use --long-texts windows, or leave the overlap out")] \
                if self.window_overlap is not None else []
        out = []
        why = check_overlap(self.max_length, self.overlap_tokens) \
            if self.max_length >= 8 and length_known else None
        if why:
            out.append(bad(why))
        if self.dp:
            out.append(bad("long texts read in windows make several training examples of one "
                           "row, which differential privacy's per-row accounting does not "
                           "cover: with --dp, cut long texts (--long-texts cut)"))
        return out

    def _dp_problems(self, train_rows: int | None, people: int | None) -> list[str]:
        from privacy.dp.budget import check_budget

        # The budget's N counts the units the guarantee protects: people when rows are grouped.
        units = people if self.dp_person_column else train_rows
        problems = check_budget(epsilon=self.dp_epsilon, delta=self.dp_delta,
                                n_rows=units or 0, logical_batch_size=self.dp_logical_batch_size,
                                max_grad_norm=self.dp_max_grad_norm, accountant=self.dp_accountant,
                                units="people" if self.dp_person_column else "training rows")
        if trainable_layers(self.dp_trainable) is None and self.dp_trainable not in ("all", LORA):
            problems.append(f"trainable part '{self.dp_trainable}' is unknown: use all, lora, "
                            "top-N (e.g. top-2: the top 2 layers plus the classification head) "
                            "or top-N+bias (also every bias and LayerNorm below them)")
        if self.dp_grad_sample_mode not in ("auto", "ghost", "hooks"):
            problems.append(f"per-sample gradient mode '{self.dp_grad_sample_mode}' is unknown: "
                            "use auto, ghost or hooks")
        if self.grad_accumulation != 1:
            problems.append("gradient accumulation does not apply with differential privacy: the "
                            "logical batch size sets the rows per step; leave accumulation at 1")
        if self.class_weights:
            problems.append("class weights are not supported with differential privacy: they are "
                            "computed from the training labels' counts, which the privacy "
                            "accounting does not cover; turn class weights off")
        return problems

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        # Unknown keys (from a newer version) are ignored so old runs stay readable.
        names = {f.name for f in fields(cls)}
        return cls(**{"split_rule": 1, **{k: v for k, v in data.items() if k in names}})
