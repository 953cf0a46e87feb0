"""Detectors on 50 real records of presidio-research's synthetic PII set (tests/data): the
checksum and pattern types are found exactly, and names at a floor well below the bench."""
from __future__ import annotations

import json

from privacy.pii import detect
from privacy.pii.evaluate import Counts, map_spans, merge_adjacent, score
from tests.conftest import REAL_DATA


def test_excerpt_scores() -> None:
    records = json.loads((REAL_DATA / "presidio-synthetic-pii" / "generated_small_50.json")
                         .read_text(encoding="utf-8"))
    exact, overlap = Counts(), Counts()
    gold_types = {"PERSON", "LOCATION", "ORGANIZATION", "ADDRESS", "CREDIT_CARD", "PHONE",
                  "DATE_TIME", "EMAIL", "US_SSN", "IBAN", "URL", "IP_ADDRESS"}
    for r in records:
        gold = map_spans((s["start_position"], s["end_position"], s["entity_type"]) for s in r["spans"])
        pred = merge_adjacent(map_spans((f.start, f.end, f.type) for f in detect(r["full_text"])),
                              r["full_text"])
        score(gold, pred, exact, overlap, gold_types=gold_types)
    for entity in ("CREDIT_CARD", "EMAIL", "US_SSN", "IP_ADDRESS", "PHONE"):
        assert exact.prf(entity)[1] == 1.0, (entity, exact.tp[entity], exact.fn[entity])
    p, r, _ = overlap.prf("PERSON")
    assert r >= 0.85 and p >= 0.65, (p, r)
    assert overlap.prf()[2] >= 0.58


def test_few_people_in_narratives_the_cfpb_scrubbed_of_names() -> None:
    """The CFPB replaces names with XXXX before publishing, so a PERSON found in its narratives
    is almost always a false alarm (a bank, a state, "The List"): on the 101 narratives of the
    excerpt, 23 were found before the precision rules of 2026-12-05, 13 after."""
    import csv

    with (REAL_DATA / "cfpb_complaints_extract" / "complaints.csv").open(encoding="utf-8") as f:
        texts = [r["Consumer complaint narrative"] for r in csv.DictReader(f)
                 if r["Consumer complaint narrative"].strip()]
    assert len(texts) == 101
    people = [t[f.start:f.end] for t in texts for f in detect(t) if f.type == "PERSON" and f.score >= 0.5]
    assert len(people) <= 15, people
    assert not {"The List", "America", "Texas", "Louisiana"} & set(people), people
