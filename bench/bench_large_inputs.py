"""Memory and time of the three places where large data used to blow up, each against what the
code did before, measured in the same run (each side in a fresh process, for its own peak RSS):

1. ``tokens``: tokenizing a training set. Cloister packs the ids as int32
   (``engine.training.data.encoding_texts``); the baseline keeps the tokenizer's Python lists,
   as training did before.
2. ``counts``: measuring token lengths for the automatic settings on long texts. Cloister stops
   at ``count_cap`` (``engine.training.auto.tokenizer_counter(cap=...)``); the baseline counts
   every token.
3. ``columns``: batch prediction's output for a model of many labels. Cloister writes each row's
   5 most probable (``engine.evaluation.prediction_columns``); the baseline writes a column per
   label, as before.

    .venv/bin/python bench/bench_large_inputs.py [--copies 10] [--long-texts 2000]
        [--rows 10000 --labels 5000]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "sst2" / "train.tsv"


def _sst2_texts() -> list[str]:
    if not SST2.is_file():
        sys.exit(f"{SST2} is missing: this benchmark reads ../shared/data (see README)")
    return [line.split("\t")[0] for line in SST2.read_text(encoding="utf-8").splitlines()[1:]]


def _tokens(side: str, copies: int) -> dict[str, float]:
    from engine.models.folders import default_model_path, load_tokenizer
    from engine.training.data import encode_texts

    tokenizer = load_tokenizer(default_model_path())
    texts = _sst2_texts() * copies
    start = time.perf_counter()
    if side == "cloister":
        kept: object = encode_texts(tokenizer, texts, max_length=64)
    else:
        kept = [ids for s in range(0, len(texts), 2048) for ids in tokenizer(
            texts[s:s + 2048], truncation=True, max_length=64)["input_ids"]]
    return {"rows": len(texts), "seconds": time.perf_counter() - start, "kept": id(kept)}


def _counts(side: str, texts_n: int) -> dict[str, float]:
    import random

    from engine.models.folders import default_model_path, load_tokenizer
    from engine.training.auto import count_cap, token_lengths, tokenizer_counter

    tokenizer = load_tokenizer(default_model_path())
    words = " ".join(_sst2_texts()).split()
    rng = random.Random(0)
    texts = [" ".join(rng.choices(words, k=20_000)) for _ in range(texts_n)]  # ~24,000 tokens
    cap = count_cap(512) if side == "cloister" else None
    start = time.perf_counter()
    lengths = token_lengths(texts, tokenizer_counter(tokenizer, cap=cap))
    return {"rows": len(texts), "seconds": time.perf_counter() - start,
            "median_tokens": float(sorted(lengths)[len(lengths) // 2])}


def _columns(side: str, rows: int, labels: int) -> dict[str, float]:
    import numpy as np
    import pyarrow as pa

    from engine.evaluation.file_prediction import _encode_table, _with_predictions
    from engine.evaluation.prediction_columns import PredictionColumns

    names = tuple(f"I{i:04d}" for i in range(labels))
    rng = np.random.default_rng(0)
    batches = [rng.dirichlet(np.ones(labels), size=64).astype(np.float32) for _ in range(4)]
    start = time.perf_counter()
    columns = PredictionColumns(names, rows, k=5 if side == "cloister" else None)
    for i, s in enumerate(range(0, rows, 64)):
        r = np.arange(s, min(rows, s + 64))
        columns.add(r, batches[i % 4][: len(r)])
    table = _with_predictions(pa.table({"text": [f"row {i}" for i in range(rows)]}), columns.arrays())
    data = _encode_table(table, "csv")
    return {"rows": rows, "seconds": time.perf_counter() - start, "columns": table.num_columns,
            "csv_mb": len(data) / 2**20}


def _child(args: argparse.Namespace) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.child == "tokens":
        out = _tokens(args.side, args.copies)
    elif args.child == "counts":
        out = _counts(args.side, args.long_texts)
    else:
        out = _columns(args.side, args.rows, args.labels)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["start_mb"] = before / 1024
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="sst2 train.tsv repeated (tokens)")
    parser.add_argument("--long-texts", type=int, default=2000, help="texts of ~24,000 tokens (counts)")
    parser.add_argument("--rows", type=int, default=10_000, help="rows predicted (columns)")
    parser.add_argument("--labels", type=int, default=5_000, help="the model's labels (columns)")
    parser.add_argument("--only", choices=["tokens", "counts", "columns"], action="append")
    parser.add_argument("--child", choices=["tokens", "counts", "columns"], help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=["baseline", "cloister"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    print("| what | side | rows | seconds | peak RSS MiB | ratio (Cloister / baseline) |")
    print("|---|---|---:|---:|---:|---|")
    for what in args.only or ["tokens", "counts", "columns"]:
        got = {}
        for side in ("baseline", "cloister"):
            cmd = [sys.executable, __file__, "--child", what, "--side", side, "--copies",
                   str(args.copies), "--long-texts", str(args.long_texts), "--rows",
                   str(args.rows), "--labels", str(args.labels)]
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
            got[side] = json.loads(done.stdout.strip().splitlines()[-1])
            g = got[side]
            extra = f" ({int(g['columns'])} columns, {g['csv_mb']:.0f} MiB of CSV)" if "columns" in g else ""
            print(f"| {what} | {side}{extra} | {int(g['rows']):,} | {g['seconds']:.1f} | "
                  f"{g['peak_mb']:,.0f} |", end="")
            if side == "cloister":
                b = got["baseline"]
                print(f" time {g['seconds'] / b['seconds']:.2f}x, memory above start "
                      f"{(g['peak_mb'] - g['start_mb']) / max(1.0, b['peak_mb'] - b['start_mb']):.2f}x |")
            else:
                print(" |")


if __name__ == "__main__":
    main()
