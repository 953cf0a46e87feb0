"""Seeded stratified splits and leakage detection."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.data.splits import find_leakage, split_indices

LABELS = ["pos"] * 60 + ["neg"] * 30 + ["rare"] * 10


def test_default_split_is_stratified_80_10_10() -> None:
    splits = split_indices(LABELS)
    assert splits.sizes() == {"train": 80, "validation": 10, "test": 10}
    counts = splits.label_counts(LABELS)
    assert counts["train"] == {"neg": 24, "pos": 48, "rare": 8}
    assert counts["validation"] == {"neg": 3, "pos": 6, "rare": 1}
    assert counts["test"] == {"neg": 3, "pos": 6, "rare": 1}


def test_same_seed_same_split_other_seed_other_split() -> None:
    assert split_indices(LABELS, seed=7) == split_indices(LABELS, seed=7)
    assert split_indices(LABELS, seed=7).test != split_indices(LABELS, seed=8).test


def test_adding_a_class_does_not_reshuffle_the_others() -> None:
    before = split_indices(LABELS)
    after = split_indices(LABELS + ["new"] * 10)
    assert set(before.test) <= set(after.test)


def test_user_provided_test_file_means_no_test_split() -> None:
    splits = split_indices(LABELS, train=0.9, validation=0.1, test=0.0)
    assert splits.test == [] and splits.sizes()["validation"] == 10


def test_tiny_classes_keep_a_training_row() -> None:
    splits = split_indices(["a"] * 20 + ["b"] * 2 + ["c"])
    counts = splits.label_counts(["a"] * 20 + ["b"] * 2 + ["c"])
    assert counts["train"]["b"] >= 1 and counts["train"]["c"] == 1


@pytest.mark.parametrize(
    ("fractions", "message"),
    [((0.8, 0.1, 0.2), "must add up to 1"), ((0.0, 0.5, 0.5), "train fraction must be above 0"),
     ((1.2, -0.1, -0.1), "must be between 0 and 1")],
)
def test_bad_fractions_name_the_setting(fractions: tuple[float, float, float], message: str) -> None:
    train, validation, test = fractions
    with pytest.raises(InputError, match=message):
        split_indices(LABELS, train=train, validation=validation, test=test)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("abcde"), min_size=1, max_size=200), st.integers(0, 2**31))
def test_splits_partition_the_rows(labels: list[str], seed: int) -> None:
    splits = split_indices(labels, seed=seed)
    everything = splits.train + splits.validation + splits.test
    assert sorted(everything) == list(range(len(labels)))
    # Every class keeps at least one training row, and no split is more than a row off its share.
    train_counts = Counter(labels[i] for i in splits.train)
    val_counts = Counter(labels[i] for i in splits.validation)
    test_counts = Counter(labels[i] for i in splits.test)
    for label, n in Counter(labels).items():
        assert train_counts[label] >= 1
        # Classes of 3+ rows are evaluated; no held-out split is more than a row off its share.
        if n >= 3:
            assert val_counts[label] >= 1 and test_counts[label] >= 1
        assert val_counts[label] <= max(1, round(0.1 * n)) and test_counts[label] <= max(1, round(0.1 * n))


def test_leakage_finds_test_rows_seen_in_training() -> None:
    train = ["The movie was GREAT", "boring plot", "  "]
    test = ["the  movie was great", "new text", "", "Boring plot\n"]
    assert find_leakage(train, test) == [0, 3]


def _multi_label_rows(n: int = 300, seed: int = 4) -> list[str]:
    """Six labels, one to three a row, written in any order (as a ticket export writes them)."""
    import random

    rng = random.Random(seed)
    names = ["billing", "bug", "login", "refund", "shipping", "urgent"]
    rows = []
    for _ in range(n):
        chosen = rng.sample(names, rng.choice([1, 1, 2, 3]))
        rows.append("|".join(chosen))  # rng.sample's order: "bug|urgent" and "urgent|bug"
    return rows


def test_multi_label_rows_are_stratified_by_their_labels_not_by_how_they_are_written() -> None:
    from engine.data.splits import multi_label_strata

    assert multi_label_strata(["a|b", "b|a", "a", "a|c", " c | a "], "|") == ["b", "b", "a", "c", "c"]
    labels = _multi_label_rows()
    strata = multi_label_strata(labels, "|")
    splits = split_indices(strata, seed=13)
    sizes = splits.sizes()
    assert abs(sizes["test"] - 30) <= 3 and abs(sizes["validation"] - 30) <= 3  # ~10% each
    three = [i for i, label in enumerate(labels) if label.count("|") == 2]
    share_all = len(three) / len(labels)
    share_test = sum(1 for i in splits.test if i in set(three)) / len(splits.test)
    assert abs(share_test - share_all) < 0.10  # the rows with several labels are tested too
    for name in ("billing", "bug", "login", "refund", "shipping", "urgent"):
        assert any(name in labels[i].split("|") for i in splits.test)
    # The same label sets written in another order give the same split.
    sorted_labels = ["|".join(sorted(label.split("|"))) for label in labels]
    assert split_indices(multi_label_strata(sorted_labels, "|"), seed=13) == splits
    # What the label strings themselves gave (the old rule): most three-label rows never tested.
    old = split_indices(labels, seed=13)
    assert sum(1 for i in old.test if i in set(three)) / len(old.test) < share_all / 2


def test_a_stored_run_keeps_the_split_it_was_made_with() -> None:
    from engine.training.config import TrainConfig
    from engine.training.prepare import split_strata

    labels = _multi_label_rows()
    new = TrainConfig(dataset="d", model_path="m", multi_label=True)
    assert new.split_rule == 2 and split_strata(labels, new) != labels
    stored_before = {k: v for k, v in new.to_dict().items() if k != "split_rule"}
    assert split_strata(labels, stored_before) == labels  # rule 1: as that run was split
    assert TrainConfig.from_dict(stored_before).split_rule == 1  # resumed as it was made
    assert split_strata(labels, new.to_dict()) == split_strata(labels, new)
    single = TrainConfig(dataset="d", model_path="m")
    assert split_strata(["a", "b"], single) == ["a", "b"]
