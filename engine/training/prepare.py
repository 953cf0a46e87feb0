"""Everything checked and gathered before the first step: settings, model folder, data, splits.

Each check raises ``TrainingFailure`` with the kind and message the user sees, so a run that
cannot work fails in seconds, before any model is loaded.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TYPE_CHECKING

import numpy as np

from engine.errors import CloisterError, InputError
from engine.events import FailureKind
from engine.models.folders import ModelInfo, check_model_folder, resolve_model_path
from engine.training.config import TrainConfig
from engine.training.data import LabelCoding, code_labels
from engine.failures import TrainingFailure

if TYPE_CHECKING:
    from engine.vault import Vault


@dataclass(frozen=True)
class Prepared:
    config: TrainConfig
    model: ModelInfo
    texts: list[str]
    coding: LabelCoding
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def check_settings(config: TrainConfig) -> ModelInfo:
    problems = config.validate()
    if problems:
        raise TrainingFailure(FailureKind.BAD_SETTING, "; ".join(p.message for p in problems))
    try:
        info = check_model_folder(resolve_model_path(config.model_path))
    except InputError as exc:
        raise TrainingFailure(FailureKind.BAD_MODEL, str(exc)) from exc
    problems = config.validate(model_max_length=info.max_length)
    if problems:
        raise TrainingFailure(FailureKind.BAD_SETTING, "; ".join(p.message for p in problems))
    return info


def load_rows(ws: Vault, name: str) -> tuple[list[str], list[str]]:
    """Texts and labels of a vault dataset, refusing one with blocking validation problems."""
    from engine.data import store

    try:
        stored = store.load_dataset(ws, name)
    except CloisterError as exc:  # not found, damaged, stored by a newer version
        raise TrainingFailure(FailureKind.BAD_DATA, str(exc)) from exc
    blocking = _blocking_problems(stored)
    if blocking:
        raise TrainingFailure(
            FailureKind.BAD_DATA,
            f"dataset '{name}' has problems that block training: {blocking}. Fix the source "
            "file and import it again (`cloister inspect FILE` lists every problem)",
        )
    return [str(t) for t in stored.texts], [str(v) for v in stored.labels]


def _blocking_problems(stored: Any) -> str:
    """The import-time validation errors kept with the dataset (``--force`` imports keep them).

    ``engine.data.store`` records each problem as its text, ``"<severity>: <where>: <message>"``;
    only errors block training, warnings do not.
    """
    problems = [str(p) for p in getattr(stored.info, "problems", ())]
    errors = [p for p in problems if p.startswith("error:")]
    if not errors:
        return ""
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(errors[:3]) + more


def split_rows(strata: Sequence[str], *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified, seeded train/validation/test positions (80/10/10)."""
    from engine.data.splits import split_indices

    splits = split_indices(list(strata), train=0.8, validation=0.1, test=0.1, seed=seed)
    return tuple(np.asarray(s, dtype=np.int64) for s in (splits.train, splits.validation, splits.test))  # type: ignore[return-value]


def prepare_rows(
    config: TrainConfig,
    info: ModelInfo,
    texts: list[str],
    labels: list[str],
    *,
    splits: tuple[Sequence[int], Sequence[int], Sequence[int]] | None = None,
) -> Prepared:
    """Label coding and splits for in-memory rows, with the checks that need the data."""
    if len(texts) != len(labels):
        raise TrainingFailure(FailureKind.BAD_DATA, f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise TrainingFailure(FailureKind.BAD_DATA, f"dataset '{config.dataset}' has no rows")
    coding = code_labels(labels, multi_label=config.multi_label, delimiter=config.label_delimiter)
    if len(coding.names) < 2:
        raise TrainingFailure(
            FailureKind.BAD_DATA,
            f"dataset '{config.dataset}' has only one label ({', '.join(coding.names) or 'none'}): "
            "a classifier needs at least two; add rows of another class",
        )
    if splits is not None:
        train, validation, test = (np.asarray(s, dtype=np.int64) for s in splits)
    else:
        try:
            train, validation, test = split_rows(labels, seed=config.seed)
        except InputError as exc:
            raise TrainingFailure(FailureKind.BAD_DATA, str(exc)) from exc
    problems = config.validate(train_rows=len(train))
    if problems:
        raise TrainingFailure(FailureKind.BAD_SETTING, "; ".join(p.message for p in problems))
    return Prepared(config, info, texts, coding, train, validation, test)
