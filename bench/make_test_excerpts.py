"""Cut the small real excerpts under tests/data/ from the full public sets.

The suite must pass in a clone with nothing beside it, so it reads only these excerpts; this
script, like the benchmarks, reads the full sets (``bench/full_data.py``: ``--data DIR``). Run it
again (``python bench/make_test_excerpts.py [--data DIR]``) to rebuild them; every cut is
deterministic (leading rows, a fixed stride, or rows picked by a stated rule, in file order), and
rows are copied byte for byte except where a comment below says otherwise.
"""
from __future__ import annotations

import argparse
import csv
import io
import shutil
from collections import defaultdict
from pathlib import Path

import full_data  # bench/full_data.py: where the full public sets are

OUT = Path(__file__).resolve().parents[1] / "tests" / "data"


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def sst2(src: Path, out: Path) -> None:
    """Header, the first 300 rows, and every occurrence (in file order) of the first 6 sentences
    that repeat with one label and the first 3 that repeat with conflicting labels."""
    lines = _lines(src / "train.tsv")
    header, rows = lines[0], lines[1:]
    labels_of: dict[bytes, list[bytes]] = defaultdict(list)
    for line in rows:
        text, _, label = line.rstrip(b"\n").rpartition(b"\t")
        labels_of[text].append(label)
    same = [t for t, ls in labels_of.items() if len(ls) > 1 and len(set(ls)) == 1][:6]
    conflicting = [t for t, ls in labels_of.items() if len(set(ls)) > 1][:3]
    wanted = set(same) | set(conflicting)
    keep = [line for i, line in enumerate(rows)
            if i < 300 or line.rstrip(b"\n").rpartition(b"\t")[0] in wanted]
    (out / "train.tsv").write_bytes(header + b"".join(keep))


def banking77(src: Path, out: Path) -> None:
    """Header and every 16th row: the file is sorted by intent, so all 77 intents stay, with
    uneven counts; categories.json unchanged."""
    lines = _lines(src / "train.csv")
    # Rows are one line each in this file (no quoted newlines), so a line stride is a row stride.
    (out / "train.csv").write_bytes(lines[0] + b"".join(lines[1::16]))
    shutil.copyfile(src / "categories.json", out / "categories.json")


def ag_news(src: Path, out: Path) -> None:
    """The first 400 rows of the header-less dev.tsv."""
    (out / "dev.tsv").write_bytes(b"".join(_lines(src / "dev.tsv")[:400]))


def sms(src: Path, out: Path) -> None:
    """The header line and the first 599 messages; the UCI readme unchanged (prose, no suffix)."""
    (out / "SMSSpamCollection").write_bytes(b"".join(_lines(src / "SMSSpamCollection")[:600]))
    shutil.copyfile(src / "readme", out / "readme")


def cfpb(src: Path, out: Path) -> None:
    """The header and, in file order, the first 300 records, the first 100 records that have a
    narrative, every 'Student loan' record with one (a class of one among narratives), and the
    one 'Debt or credit management' record. Records are re-written by the csv module with
    minimal quoting, as the export itself is written; the values are unchanged."""
    text = (src / "complaints.csv").read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    narrative = header.index("Consumer complaint narrative")
    product = header.index("Product")
    keep, narratives = [], 0
    for i, record in enumerate(reader):
        has_text = bool(record[narrative].strip())
        narratives += has_text
        if (i < 300 or (has_text and narratives <= 100)
                or (has_text and record[product] == "Student loan")
                or record[product] == "Debt or credit management"):
            keep.append(record)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(keep)
    (out / "complaints.csv").write_text(buffer.getvalue(), encoding="utf-8", newline="")


def rt_polarity(src: Path, out: Path) -> None:
    """The first 500 sentences of each file."""
    for name in ("rt-polarity.pos", "rt-polarity.neg"):
        (out / name).write_bytes(b"".join(_lines(src / name)[:500]))


def trec(src: Path, out: Path) -> None:
    """TREC_10.label whole (500 questions, 23 KB)."""
    shutil.copyfile(src / "TREC_10.label", out / "TREC_10.label")


def presidio_pii(src: Path, out: Path) -> None:
    """The first 50 records of generated_small.json, re-serialised by the json module with the
    source's indent (4) and non-ASCII kept as is; every value is unchanged."""
    import json

    records = json.loads((src / "generated_small.json").read_text(encoding="utf-8"))[:50]
    (out / "generated_small_50.json").write_text(
        json.dumps(records, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")


def restaurant8k(src: Path, out: Path) -> None:
    """The first 40 records of train_0.json (nested objects: ``userInput.text``, and
    ``context``/``labels`` left out of records where they are empty), re-serialised by the json
    module with the source's indent (4); every value is unchanged."""
    import json

    records = json.loads((src / "train_0.json").read_text(encoding="utf-8"))[:40]
    (out / "train_0_40.json").write_text(
        json.dumps(records, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")


CUTS = {"sst2": sst2, "banking77": banking77, "ag_news": ag_news, "sms_spam_collection": sms,
        "cfpb_complaints_extract": cfpb, "rt-polarity": rt_polarity, "trec": trec,
        "presidio-synthetic-pii": presidio_pii, "restaurant8k": restaurant8k}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    full_data.add_data_argument(parser)
    args = parser.parse_args()
    full_data.require(args.data, *CUTS)
    for name, cut in CUTS.items():
        out = OUT / name
        out.mkdir(exist_ok=True)
        cut(args.data / name, out)
        licence = args.data / name / "LICENSE"
        if licence.exists():
            shutil.copyfile(licence, out / "LICENSE")
        print(f"{name}: " + ", ".join(f"{p.name} {p.stat().st_size:,} B" for p in sorted(out.iterdir())))


if __name__ == "__main__":
    main()
