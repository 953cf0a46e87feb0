"""What training reads: every text tokenized once, before the run's first step.

On a large dataset tokenizing takes a while (600,000 short sst2 texts: ~27 s on two CPU cores)
and used to happen in silence, with no way to stop it. ``tokenizing`` yields ``Progress`` events
as the chunks go, and stops between chunks when the run is cancelled.
"""
from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import InputError
from engine.events import CancelToken, FailureKind, Progress
from engine.failures import TrainingFailure
from engine.training.data import Done, Encoded, encoding_texts
from engine.training.prepare import Prepared
from engine.training.windows import encoding_windows, windows_of

PROGRESS_AFTER_SECONDS = 1.0  # quicker work says nothing: no flash of a bar
PROGRESS_EVERY_SECONDS = 0.5


@dataclass(frozen=True)
class TrainingInputs:
    """The encoded rows (a text each, or with long texts in windows a window each), the text
    each comes from (``source``), and the encoded rows training reads (``train_rows``)."""

    encoded: Encoded
    source: np.ndarray
    train_rows: np.ndarray
    tokenizer: Any = None  # the one that made them, for the trainer to keep (not loaded again)


def encoding_inputs(tokenizer: Any, prep: Prepared) -> Generator[Done, None, TrainingInputs]:
    """Tokenize ``prep``'s texts as its config reads them, yielding the texts done."""
    config = prep.config
    if config.windows:
        windows = yield from encoding_windows(tokenizer, prep.texts, max_length=config.max_length,
                                              overlap=config.overlap_tokens)
        return TrainingInputs(windows.encoded, windows.source,
                              windows_of(windows.source, prep.train), tokenizer)
    encoded = yield from encoding_texts(tokenizer, prep.texts, max_length=config.max_length)
    return TrainingInputs(encoded, np.arange(len(prep.texts)), prep.train, tokenizer)


def progress_text(done: int, total: int) -> str:
    return f"Tokenizing the texts: {done:,} of {total:,}"


def tokenizing(prep: Prepared, cancel: CancelToken | None) -> Generator[Progress, None, TrainingInputs | None]:
    """``encoding_inputs`` with the model folder's tokenizer; None when ``cancel`` was set
    meanwhile. Work that ends within ``PROGRESS_AFTER_SECONDS`` says nothing; longer work yields
    ``Progress`` then, at most every ``PROGRESS_EVERY_SECONDS``, and at its end."""
    from engine.models.folders import check_model_folder, load_tokenizer

    try:
        tokenizer = load_tokenizer(check_model_folder(prep.model.path).path)
    except InputError as exc:  # a damaged tokenizer file included
        raise TrainingFailure(FailureKind.BAD_MODEL, str(exc)) from exc
    steps = encoding_inputs(tokenizer, prep)
    started = time.monotonic()
    last: float | None = None  # when progress was last reported; None before the first report
    while True:
        if cancel is not None and cancel.cancelled:
            steps.close()
            return None
        try:
            done, total = next(steps)
        except StopIteration as end:
            inputs: TrainingInputs = end.value
            if last is not None:
                yield Progress(done=len(prep.texts), total=len(prep.texts),
                               message=progress_text(len(prep.texts), len(prep.texts)))
            return inputs
        now = time.monotonic()
        due = (now - started >= PROGRESS_AFTER_SECONDS if last is None
               else now - last >= PROGRESS_EVERY_SECONDS)
        if due and done < total:
            last = now
            yield Progress(done=done, total=total, message=progress_text(done, total))
