"""Raw texts anonymized as an anonymized dataset's rows were, for a model trained on them.

A run trained on an anonymized copy learnt '<PHONE>' and pseudonyms, never the numbers and
names themselves; fed raw texts at prediction, or scored on the raw file, it read what it never
saw (a walk-through: accuracy 1.00 on the stored copy, 0.97 on the same rows raw). Prediction and
evaluation on files now anonymize their texts first, by the policy the audit log recorded for
the copy, with this workspace's pseudonym key (the same pseudonyms as the copy's), in memory.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import InputError

TextsAnonymizer = Callable[[list[str]], list[str]]


def anonymizer_for(ws: Any, policy: Any, text_columns: tuple[str, ...]) -> TextsAnonymizer:
    """What anonymizes texts as ``policy`` anonymized a dataset's text column (its column rule
    and the scan of free text; with several text columns, the texts as joined). The pseudonym
    key is read now: the returned function needs no unlocked workspace."""
    from privacy.pii.anonymize import anonymize_columns
    from privacy.pii.secret import workspace_pseudonymizer

    column = text_columns[0] if len(text_columns) == 1 else "text"
    rule = policy.columns.get(column)
    # No date-shift key column either: a text typed or read from another file has no customer
    # id beside it (the policy's key named a column of the training file, and every prediction
    # failed "names column 'customer_id', which the data does not have"); its dates move by the
    # offset of a row without a key.
    only_text = dataclasses.replace(policy, columns={column: rule} if rule else {}, scan_columns=None,
                                    date_shift_key=None)
    pseudonymizer = workspace_pseudonymizer(ws)

    def anonymize(texts: list[str]) -> list[str]:
        if not texts:
            return texts
        result = anonymize_columns({column: texts}, only_text, pseudonymizer)
        return [str(v) for v in result.columns.get(column, texts)]
    return anonymize


def dataset_anonymizer(ws: Any, info: Any, reviews: Mapping[str, Any] | None = None
                       ) -> TextsAnonymizer | None:
    """How the stored dataset ``info`` was anonymized, or None where it was not made so or
    its policy cannot be read. ``reviews``: ``privacy_reviews(ws)`` when the caller has it (it
    verifies the whole audit log)."""
    from engine.data.anonymize import privacy_reviews, review_policy

    if reviews is None:
        reviews = privacy_reviews(ws) if hasattr(ws, "verify_audit") else {}
    review = reviews.get(info.name)
    if review is None or review[0] != "dataset.anonymized":
        return None
    policy = review_policy(ws, review[1])
    return None if policy is None else anonymizer_for(ws, policy, tuple(info.mapping.text_columns))


# What a run keeps of its rows' anonymization: enough to anonymize its input again (the policy,
# or the vault key of a long one, which is never deleted) and to say so on its model card.
_KEPT = ("policy", "policy_kept_as", "policy_source", "policy_sha256", "reversible")


def anonymization_for_run(ws: Any, name: str) -> dict[str, Any]:
    """What run records keep of how stored dataset ``name`` was anonymized ({} where it was
    not): read once, at training, so that prediction neither verifies the whole audit log on
    each model load nor loses the policy when the dataset is deleted after training."""
    from engine.data.anonymize import privacy_reviews

    if not hasattr(ws, "verify_audit"):
        return {}
    review = privacy_reviews(ws).get(name)
    if review is None or review[0] != "dataset.anonymized":
        return {}
    return {key: review[1][key] for key in _KEPT if key in review[1]}


def training_anonymizer(ws: Any, record: Any) -> TextsAnonymizer | None:
    """How the rows run ``record`` trained on were anonymized, or None where they were not. A
    run trained before its record kept this is looked up in the audit log (followed through
    renames, fixes and erasures, as its model card says it): None there also where that is no
    longer known (the dataset deleted or imported again)."""
    from engine.data.anonymize import privacy_reviews, review_policy, trained_dataset_now
    from engine.data.store import dataset_info

    kept = getattr(record, "anonymization", None)
    if kept is not None:
        policy = review_policy(ws, kept) if kept else None
        columns = tuple((record.dataset_columns or {}).get("text_columns") or ("text",))
        return None if policy is None else anonymizer_for(ws, policy, columns)
    if not hasattr(ws, "verify_audit"):
        return None
    reviews = privacy_reviews(ws)
    now = trained_dataset_now(ws, record, reviews)
    if now is None:
        return None
    try:
        return dataset_anonymizer(ws, dataset_info(ws, now), reviews)
    except InputError:
        return None
