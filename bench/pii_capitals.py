"""Names in text written in capitals: what reading capitals as titles finds, and what it invents.

``privacy.pii.capitals`` reads a stretch of words in capitals title-cased so that the name rules
can see the names in it ("MARGARET THORNBURY complained", a patient list in capitals). The same
reading makes shouted company names look like people ("THANK YOU CHASE", "WELLS FARGO"). Two
figures, on real and synthetic text put in capitals (``str.upper``; a text whose length that
changes is left out, so the gold spans keep their places):

- recall: PERSON overlap precision / recall on presidio-research's ``generated_large.json`` in
  capitals (the names are there, as in a patient list), beside the same set as written;
- false people: PERSON findings in the CFPB narratives in capitals (the CFPB scrubs names, so
  nearly every one is a false alarm), with the spans found most often.

    .venv/bin/python bench/pii_capitals.py [--data DIR] [--top 25]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from full_data import add_data_argument, require  # noqa: E402 - bench/full_data.py, beside this script
from pii_false_people import name_findings  # noqa: E402 - beside this script too
from privacy.pii import detect  # noqa: E402
from privacy.pii.evaluate import Counts, map_spans, merge_adjacent, score  # noqa: E402

LARGE = "presidio-synthetic-pii/generated_large.json"
CFPB = "cfpb_complaints_extract/complaints.csv"
MIN_SCORE = 0.5


def person_figures(records: list[dict], *, capitals: bool) -> tuple[float, float, int]:
    """PERSON overlap precision and recall (every detector, as a scan runs them), and the
    number of records scored."""
    exact, overlap = Counts(), Counts()
    used = 0
    for record in records:
        text = record["full_text"]
        if capitals:
            if len(text.upper()) != len(text):
                continue
            text = text.upper()
        used += 1
        gold = map_spans((s["start_position"], s["end_position"], s["entity_type"])
                         for s in record["spans"])
        pred = [(f.start, f.end, f.type) for f in detect(text) if f.score >= MIN_SCORE]
        score(gold, merge_adjacent(map_spans(pred), text), exact, overlap, gold_types={"PERSON"})
    p, r, _ = overlap.prf("PERSON")
    return p, r, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_argument(parser)
    parser.add_argument("--top", type=int, default=25)
    opts = parser.parse_args()
    data = require(opts.data, LARGE, CFPB)
    records = json.loads((data / LARGE).read_text(encoding="utf-8"))
    for capitals in (False, True):
        p, r, used = person_figures(records, capitals=capitals)
        print(f"generated_large{' in capitals' if capitals else ''} ({used:,} records): "
              f"PERSON overlap P / R {p:.3f} / {r:.3f}")
    with (data / CFPB).open(encoding="utf-8") as f:
        texts = [r["Consumer complaint narrative"].upper() for r in csv.DictReader(f)
                 if r["Consumer complaint narrative"].strip()]
    counts, spans = name_findings(texts, MIN_SCORE)
    print(f"\n{len(texts):,} CFPB narratives in capitals (names scrubbed by the CFPB)\n")
    print("| type | findings | most frequent spans |")
    print("|---|---:|---|")
    for kind in ("PERSON", "LOCATION", "ORGANIZATION"):
        top = ", ".join(f"{s} ({n})" for s, n in spans[kind].most_common(opts.top))
        print(f"| {kind} | {counts[kind]:,} | {top} |")


if __name__ == "__main__":
    main()
