"""Firms' names in a column: what the example policy does to the CFPB export's Company column.

The column holds firms ("Forster & Garbus LLP", "Credit Karma, LLC", "AC AutoPay LLC, Denver,
CO Branch"), scanned as text like any column the policy does not name. The example policy keeps
organizations; a PERSON or LOCATION found inside a firm's name is replaced all the same, which
writes invented people or tags into firms' names. This anonymizes the column's distinct values
with the example policy (PERSON as "tag", so the output shows what was found) and prints every
value it changed, and how many changed by the tags they got.

    .venv/bin/python bench/pii_company_column.py [--data DIR] [--column Company]
"""
from __future__ import annotations

import argparse
import collections
import csv
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from full_data import add_data_argument, require  # noqa: E402 - bench/full_data.py, beside this script
from privacy.pii.anonymize import anonymize_columns  # noqa: E402
from privacy.pii.policy import parse_policy  # noqa: E402
from resources.paths import resource  # noqa: E402

CFPB = "cfpb_complaints_extract/complaints.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_argument(parser)
    parser.add_argument("--column", default="Company")
    opts = parser.parse_args()
    path = require(opts.data, CFPB) / CFPB
    with path.open(encoding="utf-8") as f:
        values = sorted({row[opts.column] for row in csv.DictReader(f) if row[opts.column].strip()})
    text = resource("anonymize-policy.example.toml").read_text(encoding="utf-8")
    policy = parse_policy(re.sub(r'(?m)^PERSON = "pseudonym"', 'PERSON = "tag"', text))
    result = anonymize_columns({opts.column: values}, policy, None)
    changed = [(a, b) for a, b in zip(values, result.columns[opts.column]) if a != b]
    tags: collections.Counter[str] = collections.Counter()
    for before, after in changed:
        print(f"{before!r} -> {after!r}")
        tags.update(set(re.findall(r"<([A-Z_]+)>", after)))
    by_tag = ", ".join(f"{n} with <{t}>" for t, n in tags.most_common()) or "none"
    print(f"\n{len(changed)} of {len(values)} distinct {opts.column} values changed ({by_tag})")


if __name__ == "__main__":
    main()
