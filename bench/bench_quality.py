"""Quality on full data with the automatic settings: what a user who changes nothing gets.

The default MiniLM-L6, settings chosen by ``engine.training.auto`` from each dataset (nothing
tuned by hand), trained on the full training file; the score is on the test split Cloister
holds out of that file itself (stratified, seeded 80/10/10: the validation tenth drives early
stopping, the test tenth is never seen in training). The sets:

* ``sst2``: ``sst2/train.tsv`` (67k short phrases, 2 classes)
* ``banking77``: ``banking77/train.csv`` (10k queries, 77 intents)
* ``ag_news``: ``ag_news/dev.tsv`` (10k news snippets, 4 topics)
* ``cfpb``: ``cfpb_complaints_extract/complaints.csv`` after the fixes ``cloister import
  --drop-empty --drop-duplicates --min-class-size 10 --merge-small-into other`` would apply.

Full data takes hours on a 2-core CPU (a full sst2 epoch is ~10 minutes at ~110 rows/s).
``--rows N`` trains on a seeded sample instead, and ``--epochs`` overrides the automatic
epochs, to check that the benchmark runs at all::

    .venv/bin/python bench/bench_quality.py                          # the full table (hours)
    .venv/bin/python bench/bench_quality.py --sets sst2 --rows 300 --epochs 1   # a smoke run
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
from collections.abc import Callable
from pathlib import Path

import full_data  # bench/full_data.py: where the full public sets are

# The bench workspaces are throw-away: a fast KDF keeps unlocks out of the timings.
os.environ.setdefault("CLOISTER_UNSAFE_TEST_KDF", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

Rows = tuple[list[str], list[str]]


def _sst2(data: Path) -> Rows:
    with (data / "sst2" / "train.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r["sentence"] for r in rows], [r["label"] for r in rows]


def _banking77(data: Path) -> Rows:
    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def _ag_news(data: Path) -> Rows:
    texts, labels = [], []
    with (data / "ag_news" / "dev.tsv").open(encoding="utf-8", newline="") as handle:
        for line in handle:  # no header: text <TAB> topic
            text, _, label = line.rstrip("\n").rpartition("\t")
            if text and label:
                texts.append(text)
                labels.append(label)
    return texts, labels


def _cfpb(data: Path) -> Rows:
    from engine.data.columns import infer_mapping, texts_and_labels
    from engine.data.fixes import apply_fixes, fixes_from_options
    from engine.data.importing import read_table

    imported = read_table(data / "cfpb_complaints_extract" / "complaints.csv")
    mapping = infer_mapping(imported)
    fixes = fixes_from_options(drop_empty=True, drop_duplicates=True, min_class_size=10,
                               merge_small_into="other")
    table, _ = apply_fixes(imported.table, mapping, fixes)
    return texts_and_labels(table, mapping)


SETS: dict[str, tuple[str, Callable[[Path], Rows]]] = {
    "sst2": ("sst2/train.tsv", _sst2),
    "banking77": ("banking77/train.csv", _banking77),
    "ag_news": ("ag_news/dev.tsv", _ag_news),
    "cfpb": ("cfpb_complaints_extract/complaints.csv", _cfpb),
}


def sample(rows: Rows, n: int | None, seed: int = 13) -> Rows:
    texts, labels = rows
    if n is None or n >= len(texts):
        return texts, labels
    picks = sorted(random.Random(seed).sample(range(len(texts)), n))
    return [texts[i] for i in picks], [labels[i] for i in picks]


def run_one(name: str, rows: Rows, opts: argparse.Namespace, seed: int = 13) -> dict:
    import torch

    from engine.events import Failed, Finished
    from engine.models.folders import check_model_folder, resolve_model_path
    from engine.training import TrainConfig, train_on_rows
    from engine.training.auto import auto_for_dataset
    from privacy.vault.container import ScryptParams
    from privacy.vault.workspace import Workspace

    torch.set_num_threads(opts.threads)
    texts, labels = rows
    model = check_model_folder(resolve_model_path(opts.model))
    splits = fewer_training_rows(labels, opts.train_share, seed) if opts.train_share < 1 else None
    # Settings for the rows that train, as a user with that much data would get them.
    auto = auto_for_dataset(texts, labels, model,
                            train_rows=len(splits[0]) if splits is not None else None)
    values = dict(auto.values)
    if opts.epochs is not None:
        values["epochs"] = opts.epochs
    if opts.max_length is not None:
        values["max_length"] = opts.max_length
    if opts.lr is not None:
        values["learning_rate"] = opts.lr
    if opts.long_texts is not None:
        values["long_texts"] = opts.long_texts
    if opts.keep_last:  # no early stop, no choice by validation: every epoch, the last weights
        values.update(early_stopping_patience=None, select_best=False)
    # The seed picks the split (and the initialisation): another seed, another held-out tenth.
    config = TrainConfig(dataset=name, model_path=opts.model, device=opts.device, seed=seed, **values)
    start = time.perf_counter()
    metrics: dict = {}
    best_step = None
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws", "bench", kdf=ScryptParams(log2_n=10, r=8, p=1))
        for event in train_on_rows(ws, config, texts, labels, splits=splits):
            if isinstance(event, Failed):
                raise RuntimeError(f"{name}: {event.message}")
            if isinstance(event, Finished):
                metrics, best_step = dict(event.metrics), event.best_step
    return {"seconds": time.perf_counter() - start, "config": config, "auto": auto,
            "best_step": best_step, "train_rows": len(splits[0]) if splits is not None else None,
            **metrics}


def fewer_training_rows(labels: list[str], share: float, seed: int) -> tuple[list, list, list]:
    """The seed's own 80/10/10 split with only ``share`` of its training rows kept (a seeded
    sample of each class): the validation and test tenths are the very rows the full run uses,
    so a learning curve compares like with like."""
    from engine.training.prepare import split_rows

    train, validation, test = split_rows(labels, seed=seed)
    by_label: dict[str, list[int]] = {}
    for position in train:
        by_label.setdefault(labels[position], []).append(int(position))
    kept: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        kept += random.Random(f"{seed}\x00{label}\x00share").sample(rows, max(1, round(len(rows) * share)))
    return sorted(kept), [int(p) for p in validation], [int(p) for p in test]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=list(SETS))
    parser.add_argument("--rows", type=int, default=None,
                        help="train on a seeded sample of N rows (default: every row)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the automatic epochs (smoke runs only)")
    parser.add_argument("--keep-last", action="store_true",
                        help="train every epoch and keep the last weights (no early stopping, no "
                             "choice of the best validation point): what selection on a noisy "
                             "validation split costs or gains")
    parser.add_argument("--lr", type=float, default=None,
                        help="override the automatic learning rate (to compare one setting with "
                             "the automatic one, on the same seeds)")
    parser.add_argument("--max-length", type=int, default=None,
                        help="override the automatic max length (tokens per text, or per window)")
    parser.add_argument("--long-texts", choices=("cut", "windows"), default=None,
                        help="texts over the max length: cut (the default) or read in windows")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default=None, help="base model folder (default: bundled MiniLM)")
    parser.add_argument("--reasons", action="store_true", help="print why each setting was chosen")
    parser.add_argument("--seeds", nargs="+", type=int, default=[13],
                        help="one run per seed, each with its own seeded split; with several, a mean "
                             "and its standard error are printed (a ~1,000-row test tenth alone is "
                             "good to about ±0.9 points)")
    parser.add_argument("--strip-markup", action="store_true",
                        help="clean web markup out of the texts first, as `cloister import "
                             "--strip-markup` does (AG News keeps its feeds' HTML)")
    parser.add_argument("--train-share", type=float, default=1.0,
                        help="train on this share of the training split only (each seed's "
                             "validation and test rows unchanged): a learning curve, to see how "
                             "accuracy grows with the rows a user has")
    full_data.add_data_argument(parser)
    opts = parser.parse_args()
    if not 0 < opts.train_share <= 1:
        parser.error("--train-share must be above 0 and at most 1")
    data = full_data.require(opts.data, *(SETS[s][0] for s in opts.sets))

    scope = f"a seeded sample of {opts.rows:,} rows" if opts.rows else "every row"
    epochs = f"epochs forced to {opts.epochs}" if opts.epochs else "automatic epochs"
    epochs += ", web markup stripped from the texts" if opts.strip_markup else ""
    epochs += f", max length forced to {opts.max_length}" if opts.max_length else ""
    epochs += f", learning rate forced to {opts.lr:g}" if opts.lr else ""
    epochs += ", long texts read in windows" if opts.long_texts == "windows" else ""
    epochs += f", {opts.train_share:.0%} of the training split" if opts.train_share < 1 else ""
    print(f"MiniLM-L6 (or --model), automatic settings, {epochs}, {scope} of each set; test split "
          f"= Cloister's held-out 10%; torch threads {opts.threads}, load average before "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| dataset | seed | rows | classes | epochs | lr | max length | warm-up | class weights "
          "| test accuracy | test macro-F1 | minutes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in opts.sets:
        rows = sample(SETS[name][1](data), opts.rows)
        if opts.strip_markup:
            from engine.data.markup import strip_texts

            rows = (strip_texts(rows[0]), rows[1])
        accuracies = [one_seed(name, rows, opts, seed) for seed in opts.seeds]
        if len(accuracies) > 1:
            print(f"    {name}: mean test accuracy over {len(accuracies)} seeded splits "
                  f"{mean_and_error(accuracies)}", flush=True)


def mean_and_error(values: list[float]) -> str:
    """"0.9171 ± 0.0042 (standard error of the mean)" for two values or more."""
    n = len(values)
    mean = sum(values) / n
    spread = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5
    return f"{mean:.4f} ± {spread / n ** 0.5:.4f} (standard error of the mean)"


def one_seed(name: str, rows: Rows, opts: argparse.Namespace, seed: int) -> float:
    result = run_one(name, rows, opts, seed)
    c = result["config"]
    print(f"| {name} | {seed} | {len(rows[0]):,} | {len(set(rows[1]))} | {c.epochs} | "
          f"{c.learning_rate:g} | {c.max_length} | {c.warmup_ratio:g} | "
          f"{'on' if c.class_weights else 'off'} | {result['accuracy']:.4f} | "
          f"{result['macro_f1']:.4f} | {result['seconds'] / 60:.1f} |", flush=True)
    # Where early stopping found the best validation macro-F1: near the last step, more
    # epochs might still help; well before it, they would not.
    print(f"    best validation step: {result['best_step']}", flush=True)
    if result["train_rows"] is not None:
        print(f"    training rows: {result['train_rows']:,}", flush=True)
    if opts.reasons:
        for line in result["auto"].lines():
            print(f"    {line}")
    return result["accuracy"]


if __name__ == "__main__":
    main()
