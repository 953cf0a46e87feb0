"""False people in real text: PERSON findings in CFPB complaint narratives.

The CFPB replaces names (and other personal data) with XXXX before it publishes a narrative, so
nearly every PERSON that a detector finds there is a false alarm: a bank ("Citibank has"), a
state ("Texas"), a heading ("The List of accounts"). Anonymizing such a file would replace
those words with invented names. This prints, per type, how many findings the rules make at
the default min_score (0.5), per 100 narratives, and the spans found most often.

    .venv/bin/python bench/pii_false_people.py [--file complaints.csv] [--top 15]
"""
from __future__ import annotations

import argparse
import collections
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from privacy.pii import detect  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "cfpb_complaints_extract" / "complaints.csv"


def name_findings(texts: list[str], min_score: float = 0.5
                  ) -> tuple[collections.Counter[str], dict[str, collections.Counter[str]]]:
    """The name rules' findings at ``min_score``: how many of each type, and each type's spans."""
    counts: collections.Counter[str] = collections.Counter()
    spans: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for text in texts:
        for finding in detect(text, detectors=["names"]):
            if finding.score >= min_score:
                counts[finding.type] += 1
                spans[finding.type][text[finding.start:finding.end]] += 1
    return counts, spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT)
    parser.add_argument("--top", type=int, default=15)
    opts = parser.parse_args()
    with opts.file.open(encoding="utf-8") as f:
        texts = [r["Consumer complaint narrative"] for r in csv.DictReader(f)
                 if r["Consumer complaint narrative"].strip()]
    counts, spans = name_findings(texts)
    print(f"{len(texts):,} narratives with text in {opts.file.name} (names scrubbed by the CFPB)\n")
    print("| type | findings | per 100 narratives | most frequent spans |")
    print("|---|---:|---:|---|")
    for kind in ("PERSON", "LOCATION", "ORGANIZATION"):
        top = ", ".join(f"{s} ({n})" for s, n in spans[kind].most_common(opts.top))
        print(f"| {kind} | {counts[kind]:,} | {100 * counts[kind] / max(1, len(texts)):.1f} | {top} |")


if __name__ == "__main__":
    main()
