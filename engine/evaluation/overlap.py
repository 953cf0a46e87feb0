"""Rows of an evaluation file that the run trained on: their scores would overstate the model.

A user who evaluates a run on "new" data may pass the very file it was trained from (or one that
shares rows with it). The run's own dataset is still in the vault, with the same seeded split,
so the rows it trained or validated on can be counted in the file by their exact text.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from engine.errors import InputError

if TYPE_CHECKING:
    from engine.vault import Vault


def rows_seen_in_training(ws: Vault, record: Any, texts: Sequence[str]) -> int | None:
    """How many of ``texts`` are, word for word, rows the run trained or validated on; None
    when that cannot be said (its dataset was deleted or imported again since)."""
    from engine.training.prepare import stored_for_run, stored_people, stored_splits

    try:
        stored = stored_for_run(ws, record)
    except InputError:  # deleted or imported again (DatasetNotFound is an InputError)
        return None
    config = dict(record.config or {})
    train, validation, _ = stored_splits(stored, config, stored_people(stored, config))
    seen = {stored.texts[i].strip() for part in (train, validation) for i in part}
    return sum(1 for text in texts if str(text).strip() in seen)


def repeated_test_rows(texts: Sequence[str], train: Iterable[Any], validation: Iterable[Any],
                       test: Iterable[Any]) -> int:
    """How many test rows have, case and spacing aside, the text of a training or validation
    row: a dataset with repeated rows puts copies on both sides of a split, and the model is
    then tested on texts it learnt."""
    from engine.data.splits import find_leakage

    seen = [texts[i] for part in (train, validation) for i in part]
    return len(find_leakage(seen, [texts[i] for i in test]))
