"""The span scorer behind the personal-data figures (bench/bench_pii.py, RESULTS.md) and the
real-excerpt test's thresholds, checked against matches counted by hand: a scorer that matched
any position, or any type, made both read better than they were."""
from __future__ import annotations

import pytest

from privacy.pii.evaluate import Counts, map_spans, merge_adjacent, score

TEXT = "Call Ann Lee at 555-0100 or write to 12 High St, SW1A 1AA about Bob."
ANN = (5, 12, "PERSON")          # "Ann Lee"
PHONE = (16, 24, "PHONE")        # "555-0100"
STREET = (37, 47, "ADDRESS")     # "12 High St"
POSTCODE = (49, 57, "ADDRESS")   # "SW1A 1AA"
BOB = (64, 67, "PERSON")         # "Bob"


def _scored(gold, predicted, **kw):  # noqa: ANN001, ANN202
    exact, overlap = Counts(), Counts()
    score(gold, predicted, exact, overlap, **kw)
    return exact, overlap


def test_the_spans_are_where_the_test_says() -> None:
    assert [TEXT[s:e] for s, e, _ in (ANN, PHONE, STREET, POSTCODE, BOB)] == [
        "Ann Lee", "555-0100", "12 High St", "SW1A 1AA", "Bob"]


def test_exact_matching_needs_the_same_start_end_and_type() -> None:
    gold = [ANN, PHONE, BOB]
    predicted = [(5, 8, "PERSON"),      # "Ann": a wrong end, a miss and a false alarm
                 (16, 24, "PERSON"),    # the phone's span, the wrong type
                 BOB, BOB]              # found twice: one hit, one false alarm
    exact, overlap = _scored(gold, predicted, gold_types={"PERSON", "PHONE"})
    assert (exact.tp["PERSON"], exact.fp["PERSON"], exact.fn["PERSON"]) == (1, 3, 1)
    assert (exact.tp["PHONE"], exact.fp["PHONE"], exact.fn["PHONE"]) == (0, 0, 1)
    assert exact.prf("PERSON") == pytest.approx((0.25, 0.5, 1 / 3))
    # Overlap: "Ann" touches "Ann Lee" (found); the wrongly typed phone still finds nothing and
    # is still a false alarm, since it touches no PERSON.
    assert (overlap.tp["PERSON"], overlap.fp["PERSON"], overlap.fn["PERSON"]) == (2, 1, 0)
    assert (overlap.tp["PHONE"], overlap.fn["PHONE"]) == (0, 1)


def test_predictions_of_types_the_gold_data_never_marks_are_left_out() -> None:
    exact, _ = _scored([ANN], [ANN, (16, 24, "PHONE")])  # no gold PHONE in this text
    assert exact.fp["PHONE"] == 0 and exact.prf() == (1.0, 1.0, 1.0)
    exact, _ = _scored([ANN], [ANN, (16, 24, "PHONE")], gold_types={"PERSON", "PHONE"})
    assert exact.fp["PHONE"] == 1 and exact.prf() == pytest.approx((0.5, 1.0, 2 / 3))


def test_an_address_found_in_two_pieces_is_one_span_once_merged() -> None:
    pieces = map_spans([(37, 47, "STREET_ADDRESS"), (49, 57, "ZIP"), (5, 12, "PERSON")])
    assert pieces == [STREET, POSTCODE, ANN]
    merged = merge_adjacent(pieces, TEXT)
    assert merged == [ANN, (37, 57, "ADDRESS")]  # only ", " between them
    # Not across words: "about" stands between the postcode and Bob.
    assert merge_adjacent([POSTCODE, (64, 67, "ADDRESS")], TEXT) == [POSTCODE, (64, 67, "ADDRESS")]
    gold = [(37, 57, "ADDRESS")]
    exact, _ = _scored(gold, pieces)
    assert exact.tp["ADDRESS"] == 0 and exact.fn["ADDRESS"] == 1
    exact, _ = _scored(gold, merged)
    assert exact.tp["ADDRESS"] == 1 and exact.fp["ADDRESS"] == 0


def test_one_prediction_may_cover_several_gold_pieces_when_overlap_is_lenient() -> None:
    _, overlap = _scored([STREET, POSTCODE], [(37, 57, "ADDRESS")])
    assert (overlap.tp["ADDRESS"], overlap.fp["ADDRESS"], overlap.fn["ADDRESS"]) == (2, 0, 0)
    assert Counts().prf() == (0.0, 0.0, 0.0)  # nothing to score is no score, not a division error
