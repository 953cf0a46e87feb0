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
    """How many of ``texts`` are, case and spacing aside, rows the run trained or validated on; None
    when that cannot be said (its dataset was deleted or imported again since)."""
    from engine.data.splits import normalize_text
    from engine.training.prepare import stored_for_run, stored_people, stored_splits

    try:
        stored = stored_for_run(ws, record)
    except InputError:  # deleted or imported again (DatasetNotFound is an InputError)
        return None
    config = dict(record.config or {})
    train, validation, _ = stored_splits(stored, config, stored_people(stored, config))
    # Compared as the split's own check compares (``find_leakage``): case, Unicode form and
    # spacing aside. Word for word, one tool said 257 rows here and 258 on the Results page.
    seen = {normalize_text(stored.texts[i]) for part in (train, validation) for i in part}
    seen.discard("")
    found = [normalize_text(str(text)) in seen for text in texts]
    # A run trained on an anonymized copy has seen the pseudonymized texts: the original file
    # matched only its rows without personal data (15 of the 135 it trained on). Its texts,
    # anonymized as the copy was (the same policy and the workspace's key), match the rest.
    anonymized = _as_the_copy_was(ws, stored.info, [str(t) for t in texts])
    if anonymized is not None:
        found = [hit or normalize_text(text) in seen for hit, text in zip(found, anonymized)]
    return sum(found)


def _as_the_copy_was(ws: Any, info: Any, texts: list[str]) -> list[str] | None:
    """``texts`` anonymized by the policy that made the dataset ``info`` (its text column's
    rules only), or None where it was not made so, or that policy cannot be read."""
    from engine.data.anonymized_inputs import dataset_anonymizer

    anonymize = dataset_anonymizer(ws, info) if texts else None
    return None if anonymize is None else anonymize(texts)


def repeated_test_rows(texts: Sequence[str], train: Iterable[Any], validation: Iterable[Any],
                       test: Iterable[Any]) -> int:
    """How many test rows have, case and spacing aside, the text of a training or validation
    row: a dataset with repeated rows puts copies on both sides of a split, and the model is
    then tested on texts it learnt."""
    from engine.data.splits import find_leakage

    seen = [texts[i] for part in (train, validation) for i in part]
    return len(find_leakage(seen, [texts[i] for i in test]))
