"""Everyday reads and writes on a workspace a team has used for a year, against a new one.

    .venv/bin/python bench/bench_big_workspace.py [--datasets 150] [--runs 300] [--entries 20000]

Two throwaway workspaces (cheap KDF): a small one (one dataset, one run) and a big one with
``--datasets`` datasets of 200 rows, ``--runs`` run records (their records only: no model is
trained, as listing runs reads only records) and ``--entries`` more audit entries. On each,
best of ``--repeats``:

- list the runs (what ``cloister runs`` and the Runs page read), and the datasets;
- read one run record, and check one key exists (every page does a few of these);
- append one audit entry (every change writes one or more);
- store one more dataset of 200 rows (an import, with its sweep and its entries).

It prints a table of milliseconds and the ratio big/small: what grows with the workspace.
"""
from __future__ import annotations

import scratch_anchors  # noqa: F401 - first: this run's workspaces leave no anchors behind
import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSPHRASE = "a benchmark passphrase of several words"


def _table(i: int, rows: int = 200):  # noqa: ANN202 - an ImportedTable
    import pyarrow as pa

    from engine.data.importing.table import ImportedTable

    texts = [f"message {j} of dataset {i}: {'cash prize' if j % 2 else 'lunch at noon'}" for j in range(rows)]
    table = pa.table({"text": texts, "label": ["spam" if j % 2 else "ham" for j in range(rows)]})
    return ImportedTable(table=table, source=Path(f"d{i}.csv"), format="csv", encoding="utf-8")


def build(root: Path, *, datasets: int, runs: int, entries: int) -> object:
    from engine.data.columns import infer_mapping
    from engine.data.store import save_dataset
    from engine.runs import RunRecord, RunStatus, new_run_id, save_run
    from privacy.vault.kdf import ScryptParams
    from privacy.vault.workspace import Workspace

    ws = Workspace.create(root, PASSPHRASE, kdf=ScryptParams(log2_n=10))
    for i in range(datasets):
        table = _table(i)
        save_dataset(ws, f"d{i}", table, infer_mapping(table))
    for i in range(runs):
        save_run(ws, RunRecord(run_id=new_run_id(), dataset=f"d{i % datasets}", config={"epochs": 3},
                               status=RunStatus.FINISHED, metrics={"accuracy": 0.9}))
    for i in range(entries):
        ws.audit("predict-file", run="r", rows=i, output="out.csv")
    return ws


def best_ms(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def measure(ws, repeats: int) -> dict[str, float]:  # noqa: ANN001 - a Workspace
    from engine.data.columns import infer_mapping
    from engine.data.store import list_datasets, save_dataset
    from engine.runs import list_runs, load_run

    one = list_runs(ws)[0].run_id
    extra = _table(99_999)
    counter = iter(range(10**6))
    return {
        "list the runs": best_ms(lambda: list_runs(ws), repeats),
        "list the datasets": best_ms(lambda: list_datasets(ws), repeats),
        "read one run record": best_ms(lambda: load_run(ws, one), repeats),
        "check one key exists": best_ms(lambda: ws.has(f"runs/{one}/run.json"), repeats),
        "append one audit entry": best_ms(lambda: ws.audit("bench.append", n=next(counter)), repeats),
        "store a 200-row dataset": best_ms(
            lambda: save_dataset(ws, f"extra{next(counter)}", extra, infer_mapping(extra)), repeats),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=150)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    opts = parser.parse_args()
    os.environ["CLOISTER_UNSAFE_TEST_KDF"] = "1"  # throwaway workspaces: the KDF is not measured
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        small = build(Path(tmp) / "small", datasets=1, runs=1, entries=0)
        big = build(Path(tmp) / "big", datasets=opts.datasets, runs=opts.runs, entries=opts.entries)
        built = time.perf_counter() - started
        audit = len(big.verify_audit().entries)  # type: ignore[attr-defined]
        print(f"big workspace: {opts.datasets} datasets of 200 rows, {opts.runs} runs, {audit:,} "
              f"audit entries (built in {built:.0f} s); small: 1 dataset, 1 run; best of "
              f"{opts.repeats}\n")
        print("| operation | small (ms) | big (ms) | big / small |")
        print("|---|---:|---:|---:|")
        on_small, on_big = measure(small, opts.repeats), measure(big, opts.repeats)
        for name, ms in on_small.items():
            print(f"| {name} | {ms:.1f} | {on_big[name]:.1f} | {on_big[name] / ms:.1f}x |")


if __name__ == "__main__":
    main()
