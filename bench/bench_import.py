"""Import + validation of a 1,000,000-row CSV against a bare ``pandas.read_csv`` of the same file.

    .venv/bin/python bench/bench_import.py [--rows 1000000] [--repeats 3]

Generates the CSV (short texts, 5 labels, ~100 MB) in a temporary folder that is deleted
afterwards. Each measurement runs in its own subprocess so peak RSS is not shared between the
two contenders, and the two alternate so background load hits both alike. The table shows the
best and median times (on a busy machine the best is the steadier estimate of the work itself),
rows/s, peak RSS of the whole process and its growth over the process after imports (the data's
own cost), and Cloister/pandas ratios.
Targets (issue #3): time within 2x of pandas, peak memory under 3x the file size.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("the a movie plot was good bad great boring fun slow fast acting story ending music "
         "card account refund late payment fee bank transfer money app phone help please why "
         "when how not very really quite").split()
LABELS = ("positive", "negative", "neutral", "billing", "support")


def generate(path: Path, rows: int, seed: int = 13) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("text,label\n")
        for _ in range(rows):
            words = rng.choices(WORDS, k=rng.randint(12, 22))
            handle.write(f"{' '.join(words)},{rng.choice(LABELS)}\n")


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(kind: str, path: Path) -> dict[str, float]:
    """Run in a child process: import the libraries, then time one read (+ validation)."""
    if kind == "pandas":
        import pandas as pd

        base = rss_mib()
        start = time.perf_counter()
        frame = pd.read_csv(path)
        seconds = time.perf_counter() - start
        rows = len(frame)
    else:
        sys.path.insert(0, str(ROOT))
        from engine.data.columns import infer_mapping
        from engine.data.importing import read_table
        from engine.data.validation import validate

        # pyarrow imports pandas the first time it converts a Python value (any pa.array or
        # pa.scalar call does): ~0.3 s once per process. The baseline's libraries are imported
        # before its clock starts, so are these.
        import pyarrow as pa

        pa.array(["warm-up"])
        base = rss_mib()
        start = time.perf_counter()
        imported = read_table(path)
        read_done = time.perf_counter()
        mapping = infer_mapping(imported)
        problems = validate(imported, mapping, max_tokens=256)
        seconds = time.perf_counter() - start
        rows = imported.num_rows
        assert mapping.text_columns == ("text",) and mapping.label_column == "label", mapping
        return {"seconds": seconds, "rows": rows, "peak_rss_mib": rss_mib(), "base_rss_mib": base,
                "read_seconds": read_done - start, "problems": len(problems)}
    return {"seconds": seconds, "rows": rows, "peak_rss_mib": rss_mib(), "base_rss_mib": base}


def run_child(kind: str, path: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--measure", kind, str(path)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return

    with tempfile.TemporaryDirectory(prefix="cloister-bench-") as folder:
        path = Path(folder) / "bench.csv"
        generate(path, args.rows)
        size_mib = path.stat().st_size / 1024**2
        results: dict[str, list[dict[str, float]]] = {"pandas": [], "cloister": []}
        for _ in range(args.repeats):
            for kind in results:  # alternate so background load hits both alike
                results[kind].append(run_child(kind, path))

    print(f"file: {args.rows:,} rows, {size_mib:.1f} MiB; {args.repeats} runs each, alternating; "
          f"{sys.platform}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'contender':<40} {'best s':>7} {'median s':>9} {'rows/s (best)':>14} {'peak RSS':>9} "
          f"{'growth':>8} {'growth/file':>12}")
    rows_out = (
        ("pandas.read_csv (baseline)", [r["seconds"] for r in results["pandas"]], results["pandas"]),
        ("read_table + infer_mapping + validate", [r["seconds"] for r in results["cloister"]],
         results["cloister"]),
        ("  of which read_table", [r["read_seconds"] for r in results["cloister"]], None),
    )
    summary = {}
    for label, times, runs in rows_out:
        best, median = min(times), statistics.median(times)
        summary[label] = (best, median)
        memory = ""
        if runs:
            peak = max(r["peak_rss_mib"] for r in runs)
            growth = max(r["peak_rss_mib"] - r["base_rss_mib"] for r in runs)
            memory = f"{peak:>5.0f} MiB {growth:>4.0f} MiB {growth / size_mib:>11.2f}x"
            summary[label + " memory"] = (peak, growth)
        print(f"{label:<40} {best:>7.2f} {median:>9.2f} {args.rows / best:>14,.0f} {memory}")
    (pb, pm), (cb, cm) = summary[rows_out[0][0]], summary[rows_out[1][0]]
    peak, growth = summary[rows_out[1][0] + " memory"]
    print(f"ratio cloister/pandas: best {cb / pb:.2f}x, median {cm / pm:.2f}x (target <= 2x); "
          f"cloister memory growth / file size {growth / size_mib:.2f}x, whole-process peak / file "
          f"size {peak / size_mib:.2f}x (target < 3x)")


if __name__ == "__main__":
    main()
