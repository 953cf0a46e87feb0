"""Build resources/pii/common_words.txt: English words that are common in lower case.

A name-list token that is also an everyday word ("will", "rose", "hunter", "grant") is only
taken as a name with more evidence (a second name, a title, a capital letter). Faker's 971
frequent words are too few for that, so this list adds every word seen in lower case at least
``MIN_COUNT`` times in two public-domain / CC BY sources beside the checkout:

- CFPB consumer complaint narratives (US government work, public domain), whose personal data
  the CFPB already replaced with XXXX, so its lower-case words are not names;
- BANKING77 customer queries (PolyAI, CC BY 4.0).

    python resources/pii/make_common_words.py [--data ../shared/data]

The output is sorted, one word a line; the script is deterministic.
"""
from __future__ import annotations

import argparse
import csv
import re
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parents[2] / "shared" / "data"
MIN_COUNT = 2
_WORD = re.compile(r"(?<![\w'])[a-z][a-z'-]*[a-z](?![\w])")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    with (args.data / "cfpb_complaints_extract" / "complaints.csv").open(encoding="utf-8",
                                                                          newline="") as handle:
        for row in csv.DictReader(handle):
            counts.update(_WORD.findall(row["Consumer complaint narrative"]))
    with (args.data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            counts.update(_WORD.findall(row["text"]))
    words = sorted(w for w, n in counts.items() if n >= MIN_COUNT and len(w) > 1)
    (HERE / "common_words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words")


if __name__ == "__main__":
    main()
