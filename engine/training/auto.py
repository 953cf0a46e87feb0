"""Automatic training settings chosen from the dataset, each with the reason it was chosen.

The fixed defaults (3 epochs at 5e-5, 128 tokens) underfit many-class data (banking77: 0.70
accuracy) and cut long documents, so a user who changes nothing gets settings fitted to their
data instead: ``choose_settings(texts, labels, model)`` returns an ``AutoSettings`` whose
``values`` are ``TrainConfig`` keyword arguments and whose ``choices`` say why, for
``cloister train --dry-run`` and the Train page. Anything the user sets explicitly wins.

The rules are rules of thumb for fine-tuning small BERT-family encoders (MiniLM, BERT-base):

* ``max_length``: the 95th percentile of the texts' token lengths (the model's own tokenizer,
  on up to ``LENGTH_SAMPLE`` texts), rounded up to a multiple of 16, between 32 and the model's
  limit. Dynamic padding means short texts cost nothing extra, so a generous cap is cheap.
* epochs: fewer passes for more data (each pass already has many steps), more for many classes
  (each class has fewer examples to learn from).
* learning rate: 1e-4 for small models with many classes or under 20,000 training rows (a new classifier head
  over many classes learns slowly at 5e-5), 5e-5 otherwise, 2e-5/3e-5 for big models.
* warm-up: 10% of the steps when there are few of them, 6% otherwise.
* early stopping on validation macro-F1 with patience 2, evaluated several times an epoch on
  big datasets so that it can stop within an epoch; the best point's weights are kept.
* class weights when the largest class is ``IMBALANCE_FOR_WEIGHTS`` times the smallest or more.
"""
from __future__ import annotations

import dataclasses
import re

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.data.folding import UNSPACED_SCRIPTS
from engine.training.lora import LORA
from engine.units import rate_text

LENGTH_PERCENTILE = 95
LENGTH_SAMPLE = 5000
MIN_LENGTH = 32
IMBALANCE_FOR_WEIGHTS = 5.0
TRAIN_SHARE = 0.8  # prepare.split_rows: 80/10/10
EVALS_PER_EPOCH = 4  # on big datasets, so early stopping can act within an epoch
BIG_EPOCH_STEPS = 1000
BIG_MODEL_PARAMETERS = 60_000_000  # MiniLM-L6 is 22.7M, BERT-base 110M
# Below this many training rows a small model takes the larger step (1e-4): AG News's 8,000
# training rows reached 0.908 test accuracy at 5e-5 and 0.917 at 1e-4
# (bench/RESULTS.md); sst2 (48,000) and banking77 (77 classes) are unaffected.
MANY_ROWS_FOR_SMALL_STEPS = 20_000
# Under this many training rows the usual batch of 16 gives two steps an epoch, and MiniLM
# hardly moved: batches of 4 gave 0.690 against 0.605 on 40 sst2 rows (32 training), six seeds
# out of six, and no loss on 20 rows; at 80 rows the usual batch did as well (bench/RESULTS.md,
# "Very little data").
FEW_ROWS_FOR_SMALL_BATCHES = 48
SMALL_BATCH = 4

# Differential privacy (bench/RESULTS.md, "Differential privacy"): on all 60,614 sst2 rows at
# ε = 8, two epochs, a logical batch of 2,048 and C = 0.1 (Li et al. 2021's large-batch,
# small-C recipe), training the top layer and the head reached 0.689 dev accuracy at lr 5e-4,
# 0.834 at 2e-3, 0.846 at 5e-3 and 0.847 at 1e-2 (plain: 0.933): 5e-3 is the smallest rate on
# that plateau. At 5e-3 the top two layers reached 0.856 (12.6 min) and the top three 0.857
# (16.3 min): two is where more layers stop paying for their time. Without DP the top layer
# alone reaches only 0.871, which is why one is not enough. 20,000 rows with batches of 512,
# lr 5e-4, all layers or the top two, learnt nothing. The plain rate of 5e-5 moves the weights
# less than the noise does.
#
# LoRA adapters on every layer (engine.training.lora, lr 2e-2: 0.841 at 5e-3, 5e-2 diverges)
# against the top two layers (lr 5e-3), sst2 at ε = 8 on the whole dev file: 0.856 and 0.856 on
# all 60,614 rows (60 steps); 0.837 and 0.844 on 20,000 rows (80 steps); 0.817 and 0.821 on
# 4,000 rows for 4 epochs (64 steps); but 0.738 and 0.547 (chance, on 1,000 dev rows) on 4,000
# rows for a single epoch (16 steps). LoRA learns from fewer steps; with the steps the automatic
# epochs and batch give (50 or more) the top two layers are as good or better, and gain more
# from more steps (4 epochs of all of sst2: 0.865 against LoRA's 0.857), so they stay the
# automatic choice. Every layer (lr 3e-3) drew level with them at 4 epochs of batches of 1,024
# (0.874 against 0.870) for 1.8x the time, and fell to 0.863 with batches of 512: not worth it.
DP_LEARNING_RATE = 5e-3  # top-N and all
DP_LORA_LEARNING_RATE = 2e-2  # LoRA's adapters start at zero
DP_MAX_GRAD_NORM = 0.1
DP_TRAINABLE = "top-2"
DP_ROWS_PER_STEP = 30  # logical batch ~ N/30: about 30 noisy steps an epoch, whatever N
# At most 1,024: at the same epochs and compute, more noisier steps beat fewer quieter ones on
# all of sst2 at ε = 8 (1,024 against 2,048: top 2 at 2 and 4 epochs 0.859/0.856 and
# 0.870/0.865; top 2 + biases at 4 and 8 epochs 0.877/0.874 and 0.878/0.879).
DP_BATCH_RANGE = (256, 1024)
# DP per person reads one row of each person an epoch; the epochs grow with the rows per person
# up to this factor (measured at 4: sst2, 5,000 people of 4 rows, ε = 8: 0.837 at 8 epochs
# against 0.799 at 2, and 0.844 for DP per row at 2 epochs reading as many rows).
PER_PERSON_EPOCH_FACTOR = 4


@dataclass(frozen=True)
class Choice:
    name: str  # a TrainConfig field
    value: Any
    reason: str


@dataclass(frozen=True)
class AutoSettings:
    choices: tuple[Choice, ...]
    lengths: np.ndarray  # token counts of (a sample of) the texts, uncut up to count_cap
    # How the model's vocabulary reads the texts (``vocabulary_fit``): the share of words it
    # has no piece for ([UNK]), and the mean pieces a word.
    unknown_share: float = 0.0
    pieces_per_word: float = 0.0
    # Rows the run's split holds out for validation and testing (None: not measured): none
    # when every class has under 3 rows, and then no early stopping and no test metrics.
    held_out_rows: int | None = None
    model_limit: int = 0  # the model's max length the choices were made for (0: not known)
    train_units: int = 0  # the run's split's training rows the steps were counted on (0: not known)

    def in_windows(self) -> AutoSettings:
        """These choices for long texts read in windows: the max length's reason says that
        the texts longer than it are read in windows (it said they "are cut there")."""
        said = choose_max_length(self.lengths, self.model_limit, windows=True) if self.model_limit else None
        return dataclasses.replace(self, choices=tuple(
            Choice(c.name, c.value, said.reason)
            if said is not None and c.name == "max_length" and c.value == said.value else c
            for c in self.choices))

    def held_out_line(self, *, in_app: bool = False) -> str:
        """What a split that holds nothing out means for the run ('' when it holds some)."""
        from engine.training.prepare import nothing_held_out

        return nothing_held_out(0, 0, app=in_app) if self.held_out_rows == 0 else ""

    def vocabulary_line(self, *, in_app: bool = False) -> str:
        """A note when the base model's vocabulary does not fit the data's language (Chinese
        in MiniLM's English one: every word [UNK], and two different questions became the same
        input; Russian spelled out letter by letter); empty otherwise."""
        advice = ("Train from a base model made for this language (a multilingual one) in a "
                  "local folder: " + ("choose it under Base model." if in_app else "--model FOLDER."))
        if self.unknown_share >= UNKNOWN_SHARE_TO_SAY:
            return (f"the base model does not know {self.unknown_share:.0%} of this data's "
                    "words (it reads them as [UNK]): its vocabulary is another language's, so it "
                    f"cannot tell many of these texts apart. {advice}")
        if self.pieces_per_word >= PIECES_PER_WORD_TO_SAY:
            return (f"the base model splits this data's words into {self.pieces_per_word:.1f} "
                    "pieces each on average (about 1.1 for text in the language a model was made "
                    f"for): it reads this language poorly, and accuracy will suffer. {advice}")
        return ""

    @property
    def mean_tokens(self) -> float:
        """Mean tokens per text after truncation at the chosen max_length."""
        return self.mean_tokens_at(int(self.values["max_length"]))

    def mean_tokens_at(self, max_length: int) -> float:
        if not len(self.lengths):
            return float(max_length)
        return float(np.minimum(self.lengths, max_length).mean())

    def windows_at(self, max_length: int, overlap: int) -> tuple[float, float]:
        """With long texts read in windows: (windows per text, mean tokens per window), on
        average over the measured texts, for the estimate (``engine.training.windows``)."""
        from engine.training.windows import window_counts

        if not len(self.lengths):
            return 1.0, float(max_length)
        counts = window_counts(self.lengths, max_length=max_length, overlap=overlap)
        # A text's windows hold its tokens plus the overlaps and each window's special tokens.
        tokens = np.minimum(self.lengths + (counts - 1) * (overlap + 2), counts * max_length)
        return float(counts.mean()), float(tokens.sum() / counts.sum())

    @property
    def values(self) -> dict[str, Any]:
        return {c.name: c.value for c in self.choices}

    def lines(self, overridden: Sequence[str] = (), *,
              names: Mapping[str, str] | None = None) -> list[str]:
        """One line per setting; those the user set explicitly are marked and not explained.
        ``names``: what a front end calls each setting (the desktop's form labels); the CLI
        shows the settings' own names."""
        out = []
        for c in self.choices:
            shown = (names or {}).get(c.name, c.name)
            if c.name in overridden:
                out.append(f"{shown}: set by you (automatic would be {_show(c.value, c.name)})")
            else:
                out.append(f"{shown} = {_show(c.value, c.name)}: {c.reason}")
        return out


def _show(value: Any, name: str = "") -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return rate_text(value) if name == "learning_rate" else f"{value:g}"
    if value is None and name == "eval_every_steps":
        return "each epoch end"  # "off" read as no validation at all
    return "off" if value is None else str(value)


# When the plan says the base model does not fit the data's language. Measured on words of
# letters (emoji and symbols are not a language): MiniLM's English vocabulary reads English at
# about 1.1 pieces a word with no unknown word (sst2, AG News, the SMS sample), German and
# French at 1.7, Polish and Turkish at 3.1-3.4, Russian and Arabic at 4-6 (letter by letter);
# Chinese words are 100% unknown, Japanese 67%, Korean 33%.
UNKNOWN_SHARE_TO_SAY = 0.05
PIECES_PER_WORD_TO_SAY = 2.3  # Turkish read at 2.46 went unsaid at 2.5; German is 2.1
VOCABULARY_SAMPLE = 500
_LETTERS = re.compile(r"[^\W\d_]+")
_UNSPACED = re.compile(UNSPACED_SCRIPTS)


def vocabulary_fit(texts: Sequence[str], tokenizer: Any, *,
                   sample: int = VOCABULARY_SAMPLE) -> tuple[float, float]:
    """How well a tokenizer's vocabulary reads the texts: the share of their words (runs of
    letters) with a piece it does not know ([UNK]), and the mean pieces a word, over a seeded
    sample of texts. (0, 0) without words."""
    if not len(texts):
        return 0.0, 0.0
    picks = np.random.default_rng(0).choice(len(texts), min(sample, len(texts)), replace=False)
    # Chinese, Japanese and Thai write no spaces: a run of their letters is a clause, not a
    # word, so each character counts as one (a Chinese model read "7 pieces a word" otherwise).
    words = [piece for i in np.sort(picks) for w in _LETTERS.findall(str(texts[int(i)])[:2000])
             for piece in (list(w) if _UNSPACED.search(w) else [w])]
    if not words:
        return 0.0, 0.0
    ids = tokenizer(words, add_special_tokens=False, truncation=False, padding=False,
                    verbose=False, return_attention_mask=False,
                    return_token_type_ids=False)["input_ids"]
    unk = getattr(tokenizer, "unk_token_id", None)
    unknown = sum(unk in x for x in ids) if unk is not None else 0
    return unknown / len(words), sum(len(x) for x in ids) / len(words)


def token_lengths(texts: Sequence[str], count: Callable[[list[str]], list[int]], *,
                  sample: int = LENGTH_SAMPLE, seed: int = 0) -> np.ndarray:
    """Token counts of up to ``sample`` texts (seeded, evenly drawn), as ``count`` gives them
    (``tokenizer_counter``: whole, or up to ``count_cap``)."""
    if len(texts) > sample:
        picks = np.sort(np.random.default_rng(seed).choice(len(texts), sample, replace=False))
        chosen = [str(texts[int(i)]) for i in picks]
    else:
        chosen = [str(t) for t in texts]
    return np.asarray(count(chosen), dtype=np.int64)


def count_cap(model_limit: int) -> int:
    """Where token counts stop: one past the farthest any setting reads (``MAX_WINDOWS``
    windows without overlap). Whether a text is cut, how many windows it makes and whether
    they reach its end come out the same; a longer text is counted as this many."""
    from engine.training.windows import reach

    return reach(model_limit, 0) + 1


# Counting stops at ``cap`` tokens, and each text is first cut to ``cap`` times this many
# characters (English prose has 4-5 a token), again four times longer for the few whose cut held
# fewer than ``cap`` tokens: 5,000 texts of 24,000 tokens took 126 s and 7 GB counted whole.
CHARS_PER_TOKEN_GUESS = 6


def tokenizer_counter(tokenizer: Any, *, cap: int | None = None) -> Callable[[list[str]], list[int]]:
    """Token counts (with [CLS]/[SEP]) from a Hugging Face tokenizer, in batches; with ``cap``,
    counts stop there (``count_cap``)."""
    def tokens(texts: list[str]) -> list[int]:
        ids = tokenizer(texts, truncation=cap is not None, max_length=cap, padding=False,
                        verbose=False, return_attention_mask=False,
                        return_token_type_ids=False)["input_ids"]
        return [len(x) for x in ids]

    def capped(texts: list[str], cap: int) -> list[int]:
        counts = [0] * len(texts)
        pending, chars = list(range(len(texts))), cap * CHARS_PER_TOKEN_GUESS
        while pending:
            retry = []
            for i, n in zip(pending, tokens([texts[i][:chars] for i in pending])):
                if n >= cap or len(texts[i]) <= chars:
                    counts[i] = min(n, cap)
                else:
                    retry.append(i)
            pending, chars = retry, chars * 4
        return counts

    def count(texts: list[str]) -> list[int]:
        out: list[int] = []
        size = 1024 if cap is None else 256  # a batch's encodings hold up to 256 x cap tokens
        for start in range(0, len(texts), size):
            batch = texts[start:start + size]
            out.extend(tokens(batch) if cap is None else capped(batch, cap))
        return out
    return count


def choose_max_length(lengths: np.ndarray, model_limit: int, *, windows: bool = False) -> Choice:
    """The max length for texts of ``lengths`` tokens; ``windows``: the reason says that texts
    longer than it are read in windows (``--long-texts windows``), not cut."""
    if not len(lengths):
        return Choice("max_length", min(128, model_limit), "no texts to measure; the usual 128")
    p = float(np.percentile(lengths, LENGTH_PERCENTILE))
    chosen = int(min(model_limit, max(MIN_LENGTH, -(-int(np.ceil(p)) // 16) * 16)))
    longer = float((lengths > chosen).mean())
    fate = (f"{longer:.0%} of texts are longer, read in windows of it" if windows
            else f"{longer:.0%} of texts are cut there (their start is kept)")
    if chosen == model_limit and p >= count_cap(model_limit):
        why = (f"{100 - LENGTH_PERCENTILE}% of texts or more have over {count_cap(model_limit) - 1:,} "
               f"tokens, far beyond the model's limit of {model_limit}: the limit is used and {fate}")
    elif chosen == model_limit and p > model_limit:
        why = (f"{LENGTH_PERCENTILE}% of texts have up to {int(np.ceil(p))} tokens, beyond the "
               f"model's limit of {model_limit}: the limit is used and {fate}")
    else:
        why = (f"{LENGTH_PERCENTILE}% of texts fit in {int(np.ceil(p))} tokens (measured on "
               f"{len(lengths):,} texts; the model's limit is {model_limit}); {longer:.0%} are "
               + ("longer, read in windows" if windows else "cut"))
    return Choice("max_length", chosen, why)


def choose_settings(texts: Sequence[str], labels: Sequence[str], *, model_limit: int,
                    model_parameters: int, lengths: np.ndarray | None = None,
                    batch_size: int = 16, multi_label: bool = False,
                    label_delimiter: str = "|", train_rows: int | None = None) -> AutoSettings:
    """Settings for these rows and this model (``ModelInfo.max_length``/``approx_parameters``).

    ``lengths``: token counts of (a sample of) the texts (``token_lengths``); without them the
    length is estimated from words at 1.3 tokens per word plus [CLS]/[SEP].
    """
    if lengths is None:
        lengths = np.asarray([int(len(str(t).split()) * 1.3) + 2 for t in texts], dtype=np.int64)
    if multi_label:
        counts = Counter(p.strip() for v in labels for p in str(v).split(label_delimiter) if p.strip())
    else:
        counts = Counter(str(v) for v in labels)
    classes = len(counts)
    # The run's split when the caller made it (its stratification can differ from 80% by a
    # few rows), else 80% of the rows.
    train_rows = train_rows or int(len(texts) * TRAIN_SHARE)
    per_class = train_rows / max(1, classes)
    choices = [choose_max_length(lengths, model_limit)]

    # Epochs: enough optimizer steps in total for the head and encoder to settle.
    if train_rows < 500:
        epochs, size = 10, "fewer than 500 training rows"
    elif train_rows < 2_000:
        epochs, size = 6, "fewer than 2,000 training rows"
    elif train_rows < 10_000:
        epochs, size = 4, "fewer than 10,000 training rows"
    elif train_rows < 50_000:
        epochs, size = 3, "fewer than 50,000 training rows"
    else:
        epochs, size = 2, "50,000 training rows or more"
    reason = f"{train_rows:,} training rows ({size})"
    if classes > 20 and per_class < 200:
        epochs += 2
        reason += f"; {classes} classes with about {per_class:.0f} rows each need more passes"
    choices.append(Choice("epochs", epochs, reason + "; early stopping ends it sooner if "
                          "validation stops improving"))

    big = model_parameters >= BIG_MODEL_PARAMETERS
    if big:
        lr, why = (3e-5, "a large model") if classes > 20 else (2e-5, "a large model")
    elif classes > 20:
        lr, why = 1e-4, (f"a small model ({{size}}) and {classes} classes: the new classifier "
                         "head needs a larger step")
    elif train_rows < MANY_ROWS_FOR_SMALL_STEPS:
        lr, why = 1e-4, (f"a small model ({{size}}) and under {MANY_ROWS_FOR_SMALL_STEPS:,} "
                         "training rows: few steps, so each one larger")
    else:
        lr, why = 5e-5, "a small model ({size}) with plenty of data per class"
    size = (f"{model_parameters / 1e6:.0f}M" if model_parameters >= 1e6
            else f"{model_parameters / 1e3:.0f}K") + " parameters"
    choices.append(Choice("learning_rate", lr, why.format(size=size) if "{size}" in why
                          else f"{why} ({size})"))

    if train_rows < FEW_ROWS_FOR_SMALL_BATCHES and batch_size > SMALL_BATCH:
        batch_size = SMALL_BATCH
        choices.append(Choice("batch_size", batch_size, f"{train_rows} training rows: batches "
                              f"of {batch_size} give {-(-train_rows // batch_size)} steps an epoch "
                              "instead of one or two, and small data learns from the steps"))
    steps_per_epoch = max(1, -(-train_rows // batch_size))
    choices.append(warmup_choice(steps_per_epoch * epochs))
    choices.append(Choice("early_stopping_patience", 2, "stop after 2 validation checks without "
                          "a better macro-F1 (or a tie with a loss 1% lower); the best checkpoint "
                          "is kept"))
    choices.append(eval_choice(steps_per_epoch))
    if counts:
        largest, smallest = max(counts.values()), min(counts.values())
        ratio = largest / max(1, smallest)
        weights = not multi_label and ratio >= IMBALANCE_FOR_WEIGHTS
        why = (f"the largest class has {ratio:.0f}x the rows of the smallest: weight classes by "
               "rarity so small ones are not ignored" if weights else
               f"classes are balanced enough (largest/smallest {ratio:.1f}x)")
        if multi_label and ratio >= IMBALANCE_FOR_WEIGHTS:
            why = "multi-label data: per-label weights are not chosen automatically"
        choices.append(Choice("class_weights", weights, why))
    return AutoSettings(tuple(choices), lengths=lengths, model_limit=model_limit)


def warmup_choice(total_steps: int, *, noisy: bool = False) -> Choice:
    """The warm-up for ``total_steps`` optimizer steps (DP's noisy steps with ``noisy``)."""
    if noisy:  # every DP figure in bench/RESULTS.md was measured with 6%
        return Choice("warmup_ratio", 0.06, f"{total_steps:,} noisy steps in all (about, with "
                      "Poisson sampling): 6% warm up from zero")
    warmup = 0.1 if total_steps < 1_000 else 0.06
    return Choice("warmup_ratio", warmup, f"{total_steps:,} optimizer steps in all: "
                  f"{'10% (few steps, so a longer ramp)' if warmup == 0.1 else '6%'} "
                  "warm up from zero")


def eval_choice(steps_per_epoch: int) -> Choice:
    """How often to validate, for ``steps_per_epoch`` optimizer steps an epoch."""
    every = steps_per_epoch // EVALS_PER_EPOCH if steps_per_epoch > BIG_EPOCH_STEPS else None
    return Choice("eval_every_steps", every,
                  f"{steps_per_epoch:,} steps per epoch: validate {EVALS_PER_EPOCH} times an epoch "
                  "so early stopping can act within one" if every else
                  f"{steps_per_epoch:,} steps per epoch: validating at each epoch end is enough")


def dp_logical_batch(train_rows: int) -> int:
    """The power of two nearest N/30, within 256-1,024: larger batches average the noise away
    (its share of each step falls as 1/B for a near-constant σ), and ~30 steps an epoch keep
    enough updates; past 1,024 the quieter steps are worth less than the steps they cost.
    Below ~7,700 rows this is 256, the smallest that DP-SGD suits, except that a batch is never
    more than about a quarter of the rows (tiny data: four steps an epoch)."""
    low, high = DP_BATCH_RANGE
    if train_rows <= 0:
        return low
    power = 2 ** int(round(np.log2(max(1.0, train_rows / DP_ROWS_PER_STEP))))
    # For tiny data a quarter of the rows, rounded up: Poisson sampling at 1/ceil(N/B) then
    # takes about B a step (N // 4 could take less: 103 rows, B = 25, rate 1/5, ~21 a step).
    return int(min(high, max(low, power), max(1, -(-train_rows // 4))))


def per_person_epochs(epochs: int, rows: int, people: int) -> Choice:
    """The epochs for DP per person: ``epochs`` (those for ``rows`` rows) times the mean rows
    per person, at most ``PER_PERSON_EPOCH_FACTOR`` times, so that training reads about as
    many rows as it would with one row as the unit."""
    per = rows / max(1, people)
    factor = int(min(PER_PERSON_EPOCH_FACTOR, max(1, int(per + 0.5))))  # 2.5 rows: 3x
    return Choice("epochs", epochs * factor,
                  f"differential privacy per person reads one row of each person an epoch: "
                  f"{per:.1f} rows per person, so {factor}x the {epochs} epochs for the rows (at most "
                  f"{PER_PERSON_EPOCH_FACTOR}x; sst2, 5,000 people of 4 rows: 0.837 at 8 epochs, "
                  "0.799 at 2)")


def dp_learning_rate(trainable: str) -> float:
    """The DP learning rate for the part trained: LoRA's zero-initialised adapters need more."""
    return DP_LORA_LEARNING_RATE if trainable == LORA else DP_LEARNING_RATE


def choose_dp_settings(train_rows: int, trainable: str | None = None, *,
                       per_person: bool = False) -> tuple[Choice, ...]:
    """The DP-SGD settings a user who changes nothing gets (the non-DP learning rate and class
    weights do not apply: DP refuses per-row weights, and needs a larger step). ``trainable``:
    the part the user chose to train, if any (the learning rate follows it). ``per_person``:
    ``train_rows`` counts the people in the training rows (one row of each per epoch)."""
    units = "people" if per_person else "training rows"
    batch = dp_logical_batch(train_rows)
    part = trainable or DP_TRAINABLE
    why = ("differential privacy with LoRA: the adapters start at zero and the noise is large, "
           "so they need a large step (all of sst2: 0.856 at 2e-2, 0.841 at 5e-3; 5e-2 diverges)"
           if part == LORA else
           "differential privacy: noisy, clipped gradients need a larger step than plain training "
           "(on sst2, top layers: 0.85 accuracy at 5e-3, 0.83 at 2e-3, 0.69 at 5e-4)")
    rate = Choice("learning_rate", dp_learning_rate(part), why)
    return (
        rate,
        Choice("dp_max_grad_norm", DP_MAX_GRAD_NORM, "a small clipping norm C keeps the noise, "
               "which is proportional to C, small; nearly every row's gradient is clipped anyway"),
        Choice("dp_logical_batch_size", batch, f"{train_rows:,} {units}: about "
               f"{max(1, round(train_rows / batch))} noisy steps an epoch; larger batches average the "
               "noise away, and more steps learn more " + (
                   f"(a quarter of the {units.split()[-1]}: too few for the usual 256-1,024, at "
                   "least four steps an epoch)" if batch < DP_BATCH_RANGE[0] else
                   "(a power of two in 256-1,024)")),
        Choice("dp_trainable", DP_TRAINABLE, "the top two encoder layers, the pooler and the "
               "head carry nearly all of the gradient: training only them puts the noise where "
               "the signal is (all of sst2 at ε = 8: 0.856 with the top two, 0.846 with the top "
               "one, 0.857 with the top three at 30% more time, 0.856 with LoRA adapters)"),
        # Said, not dropped silently: the plain choice may have been "on" for imbalanced data.
        Choice("class_weights", False, "differential privacy: weighting rows by class is not "
               "covered by the per-row clipping bound"),
    )


def auto_for_dataset(texts: Sequence[str], labels: Sequence[str], model: Any, *,
                     tokenizer: Any = None, batch_size: int = 16, multi_label: bool = False,
                     label_delimiter: str = "|", train_rows: int | None = None) -> AutoSettings:
    """``choose_settings`` for a model folder (``ModelInfo``), measuring with its tokenizer."""
    if tokenizer is None:
        from engine.models.folders import load_tokenizer

        tokenizer = load_tokenizer(model.path)
    lengths = token_lengths(texts, tokenizer_counter(tokenizer, cap=count_cap(int(model.max_length))))
    chosen = choose_settings(texts, labels, model_limit=int(model.max_length),
                             model_parameters=int(model.approx_parameters), lengths=lengths,
                             batch_size=batch_size, multi_label=multi_label,
                             label_delimiter=label_delimiter, train_rows=train_rows)
    unknown, pieces = vocabulary_fit(texts, tokenizer)
    return dataclasses.replace(chosen, unknown_share=unknown, pieces_per_word=pieces)
