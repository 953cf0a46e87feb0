"""An erasure request's search (``cloister forget``) against the plain reads it cannot avoid.

    .venv/bin/python bench/bench_forget.py [--copies 250] [--repeats 3]

The data is the real CFPB complaints extract (``../shared/data/cfpb_complaints_extract``),
copied ``--copies`` times over (a dataset the size of a year of complaints), with a customer id,
a name and an e-mail column added to each row and one person's name written into a handful of
narratives, as a CRM export has them. It is imported into a throwaway workspace (cheap KDF),
then timed, best of ``--repeats``:

- baseline: decrypting and reading the stored dataset (``load_dataset``), which any search of
  it must do;
- search: ``engine.erasure.plan_erasure`` for a name, an e-mail and a phone number (every
  column, every spelling), the plan the CLI prints before asking;
- search by id: the same for a customer id in its column (``--column``).

It prints a table of seconds, rows/s and the ratio to the baseline.
"""
from __future__ import annotations

import scratch_anchors  # noqa: F401 - first: this run's workspaces leave no anchors behind
import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SOURCE = ROOT.parent / "shared" / "data" / "cfpb_complaints_extract" / "complaints.csv"
PASSPHRASE = "a benchmark passphrase of several words"


def build(path: Path, copies: int, seed: int = 13) -> int:
    rng = random.Random(seed)
    with SOURCE.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Consumer complaint narrative"].strip()]
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "name", "email", "text", "label"])
        for copy in range(copies):
            for i, row in enumerate(rows):
                text = row["Consumer complaint narrative"]
                if rng.random() < 0.001:
                    text += " Please call Jane Doe back on +44 20 7946 0958."
                writer.writerow([f"C{copy:03d}{i:05d}", f"Customer {copy}-{i}",
                                 f"c{copy}.{i}@example.com", text, row["Product"]])
                count += 1
    return count


def best(repeats: int, work) -> float:  # noqa: ANN001 - a no-argument callable
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"{SOURCE} is not here: this benchmark reads ../shared/data")
    os.environ["CLOISTER_UNSAFE_TEST_KDF"] = "1"
    from engine.data.columns import ColumnMapping
    from engine.data.importing import read_table
    from engine.data.store import load_dataset, save_dataset
    from engine.erasure import plan_erasure
    from privacy.vault.kdf import ScryptParams
    from privacy.vault.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "crm.csv"
        rows = build(csv_path, args.copies)
        ws = Workspace.create(Path(tmp) / "ws", PASSPHRASE, kdf=ScryptParams(log2_n=10))
        with ws:
            save_dataset(ws, "crm", read_table(csv_path),
                         ColumnMapping(text_columns=("text",), label_column="label"))
            csv_path.unlink()
            read = best(args.repeats, lambda: load_dataset(ws, "crm"))
            search = best(args.repeats, lambda: plan_erasure(
                ws, ["Jane Doe", "jane.doe@example.com", "+44 20 7946 0958"]))
            by_id = best(args.repeats, lambda: plan_erasure(ws, ["C00300042"],
                                                            columns=["customer_id"]))
            found = plan_erasure(ws, ["Jane Doe", "jane.doe@example.com", "+44 20 7946 0958"])
    print(f"{rows:,} rows, 5 columns; the person named in {found.rows} of them\n")
    print("| step | seconds (best of %d) | rows/s | vs reading the dataset |" % args.repeats)
    print("|---|---:|---:|---:|")
    for name, seconds in (("read the stored dataset (baseline)", read),
                          ("search: name, e-mail, phone, every column", search),
                          ("search: a customer id in its column", by_id)):
        print(f"| {name} | {seconds:.2f} | {rows / seconds:,.0f} | {seconds / read:.1f}x |")


if __name__ == "__main__":
    main()
