"""Training throughput: Cloister's loop against the Hugging Face Trainer recipe, same run.

Both fine-tune the same base model (default: the bundled MiniLM-L6) on the same seeded sample
of ``../shared/data/sst2/train.tsv`` (4,000 rows), batch 32, max length 128, 1 epoch, lr 5e-5,
weight decay 0.01, 6% linear warm-up, gradient clipping 1.0, fused AdamW (the Trainer's default
optimizer), seed 13, the same torch thread count. Each side runs in its own child process so
its peak RSS is its own. Throughput is training rows per second over the optimizer steps
(tokenization, model loading and saving excluded on both sides). Accuracy of both models is
measured on a seeded subset of ``sst2/dev.tsv`` with the same prediction code.

Baseline: ``transformers.Trainer`` with ``DataCollatorWithPadding`` when ``accelerate`` is
installed (the Trainer requires it). Without it, the same recipe written out as the Trainer runs
it: random sampler, ``DataCollatorWithPadding``, the model's own loss, fused AdamW with the
Trainer's no-decay groups, linear schedule, clipping. The table says which one ran.

    .venv/bin/python bench/bench_train.py                 # the speed table
    .venv/bin/python bench/bench_train.py --quality       # the quality table (long)
"""
from __future__ import annotations

import scratch_anchors  # noqa: F401 - first: this run's workspaces leave no anchors behind
import argparse
import csv
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import full_data  # bench/full_data.py: where the full public sets are (not HF "datasets")

ROOT = Path(__file__).resolve().parents[1]
DATA = full_data.DEFAULT  # set from --data in main()
sys.path.insert(0, str(ROOT))

# Throw-away workspaces with a cheap scrypt measure the vault, not the KDF; writing below the
# 2^17 floor needs the explicit test-only switch (privacy/vault/kdf.py).
os.environ.setdefault("CLOISTER_UNSAFE_TEST_KDF", "1")


def read_tsv(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r["sentence"] for r in rows], [r["label"] for r in rows]


def sample(texts: list[str], labels: list[str], n: int, seed: int) -> tuple[list[str], list[str]]:
    idx = random.Random(seed).sample(range(len(texts)), min(n, len(texts)))
    return [texts[i] for i in idx], [labels[i] for i in idx]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def dev_accuracy(model, tokenizer, labels, texts, gold, device, max_length=128) -> float:
    from engine.evaluation.prediction import Predictor

    model.eval()
    probs = Predictor(model, tokenizer, labels, device=device, max_length=max_length).predict_proba(texts)
    predicted = [labels[i] for i in probs.argmax(axis=1)]
    return sum(p == g for p, g in zip(predicted, gold)) / len(gold)


# ---- Cloister ---------------------------------------------------------------------------------
def run_cloister(args: dict, queue) -> None:
    import torch

    from engine.events import Failed, Finished, Started, Step
    from engine.models.weights import load_model
    from engine.training import TrainConfig, train_on_rows
    from privacy.vault.container import ScryptParams
    from privacy.vault.workspace import Workspace

    torch.set_num_threads(args["threads"])
    texts, labels = args["train"]
    config = TrainConfig(dataset="sst2-bench", model_path=args["model"], epochs=1,
                         batch_size=args["batch_size"], learning_rate=5e-5, max_length=args["max_length"],
                         seed=13, early_stopping_patience=None, device=args["device"])
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws", "bench", kdf=ScryptParams(log2_n=10, r=8, p=1))
        start = last = None
        device = ""
        for event in train_on_rows(ws, config, texts, labels, splits=(range(len(texts)), [], [])):
            if isinstance(event, Started):
                start, device = time.perf_counter(), event.device
            elif isinstance(event, Step):
                last = time.perf_counter()
            elif isinstance(event, Failed):
                raise RuntimeError(event.message)
            elif isinstance(event, Finished):
                run_id = event.run_id
        model, tokenizer = load_model(ws, f"runs/{run_id}/model", device=config.device if config.device != "auto" else "cpu")
        acc = dev_accuracy(model, tokenizer, sorted(set(labels)), *args["dev"], device="cpu", max_length=args["max_length"])
    queue.put({"name": "Cloister loop", "seconds": last - start, "rows": len(texts),
               "rss": peak_rss_mb(), "acc": acc, "device": device})


# ---- Baseline ----------------------------------------------------------------------------------
def run_baseline(args: dict, queue) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    torch.set_num_threads(args["threads"])
    torch.manual_seed(13)
    texts, labels = args["train"]
    names = sorted(set(labels))
    tokenizer = AutoTokenizer.from_pretrained(args["model"], local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        args["model"], num_labels=len(names), local_files_only=True)
    enc = tokenizer(texts, truncation=True, max_length=args["max_length"])
    features = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
                 "token_type_ids": enc["token_type_ids"][i], "labels": names.index(labels[i])}
                for i in range(len(texts))]
    steps = -(-len(texts) // args["batch_size"])
    collator = DataCollatorWithPadding(tokenizer)
    try:
        import accelerate  # noqa: F401
        from datasets import Dataset
        from transformers import Trainer, TrainingArguments

        kind = "HF Trainer"
        with tempfile.TemporaryDirectory() as tmp:
            targs = TrainingArguments(output_dir=tmp, per_device_train_batch_size=args["batch_size"],
                                      num_train_epochs=1, learning_rate=5e-5, weight_decay=0.01,
                                      warmup_steps=int(round(0.06 * steps)), max_grad_norm=1.0,
                                      save_strategy="no", report_to=[], seed=13, logging_steps=50,
                                      use_cpu=args["device"] == "cpu")
            dataset = Dataset.from_list(features)  # in memory: no Arrow cache on disk
            trainer = Trainer(model=model, args=targs, train_dataset=dataset, data_collator=collator)
            start = time.perf_counter()
            trainer.train()
            seconds = time.perf_counter() - start
    except ImportError:
        kind = "Trainer recipe (no accelerate)"
        from torch.utils.data import DataLoader, RandomSampler
        from transformers import get_linear_schedule_with_warmup
        from transformers.trainer_pt_utils import get_parameter_names

        device = torch.device("cuda" if args["device"] != "cpu" and torch.cuda.is_available() else "cpu")
        model.to(device).train()
        # The Trainer's grouping: no decay for biases and LayerNorm weights.
        decay = [n for n in get_parameter_names(model, [torch.nn.LayerNorm]) if "bias" not in n]
        groups = [{"params": [p for n, p in model.named_parameters() if n in decay], "weight_decay": 0.01},
                  {"params": [p for n, p in model.named_parameters() if n not in decay], "weight_decay": 0.0}]
        optimizer = torch.optim.AdamW(groups, lr=5e-5, fused=True)
        scheduler = get_linear_schedule_with_warmup(optimizer, int(round(0.06 * steps)), steps)
        loader = DataLoader(features, batch_size=args["batch_size"], collate_fn=collator,
                            sampler=RandomSampler(features, generator=torch.Generator().manual_seed(13)))
        start = time.perf_counter()
        for batch in loader:
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            loss.item()  # the Trainer reads the loss every step for its running log
        seconds = time.perf_counter() - start
        model.to("cpu")
    acc = dev_accuracy(model, tokenizer, names, *args["dev"], device="cpu", max_length=args["max_length"])
    queue.put({"name": kind, "seconds": seconds, "rows": len(texts), "rss": peak_rss_mb(),
               "acc": acc, "device": f"cpu ({args['threads']} threads)"})


def in_child(target, args: dict) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(args, queue))
    proc.start()
    import queue as queue_module

    while True:
        try:
            result = queue.get(timeout=2)
            break
        except queue_module.Empty:
            if not proc.is_alive():
                raise SystemExit(f"{target.__name__} failed (exit code {proc.exitcode}); see above")
    proc.join()
    return result


def speed(opts: argparse.Namespace) -> None:
    from engine.models.folders import default_model_path

    train = sample(*read_tsv(DATA / "sst2" / "train.tsv"), opts.rows, seed=13)
    dev = sample(*read_tsv(DATA / "sst2" / "dev.tsv"), opts.dev_rows, seed=13)
    args = {"train": train, "dev": dev, "model": str(opts.model or default_model_path()),
            "batch_size": 32, "threads": opts.threads, "device": opts.device,
            "max_length": opts.max_length}
    print(f"sst2: {len(train[0])} training rows, {len(dev[0])} dev rows, batch 32, "
          f"max length {opts.max_length}, "
          f"1 epoch; torch threads {opts.threads}; load average before: {os.getloadavg()[0]:.1f}")
    base = in_child(run_baseline, args)
    ours = in_child(run_cloister, args)
    print(f"load average after: {os.getloadavg()[0]:.1f}\n")
    print(f"| loop | device | train s | samples/s | peak RSS MB | dev accuracy |")
    print(f"|---|---|---|---|---|---|")
    for r in (base, ours):
        print(f"| {r['name']} | {r['device']} | {r['seconds']:.1f} | {r['rows'] / r['seconds']:.1f} "
              f"| {r['rss']:.0f} | {r['acc']:.4f} |")
    ratio = (ours["rows"] / ours["seconds"]) / (base["rows"] / base["seconds"])
    print(f"\nthroughput ratio Cloister / baseline: {ratio:.2f}x; "
          f"accuracy difference: {100 * (ours['acc'] - base['acc']):+.2f} points")


# ---- quality -------------------------------------------------------------------------------
def _sms() -> tuple[list[str], list[str]]:
    lines = (DATA / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()[1:]
    pairs = [line.split("\t", 1) for line in lines if "\t" in line]
    return [t for _, t in pairs], [label for label, _ in pairs]


def _banking() -> tuple[list[str], list[str]]:
    with (DATA / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


# (name, loader, rows used, epochs, max length, learning rate): subsets sized for ~10 minutes
# each on 2 shared CPU cores; the split is Cloister's own stratified 80/10/10 of those rows.
QUALITY_RUNS = (
    ("sst2", lambda: read_tsv(DATA / "sst2" / "train.tsv"), 3000, 2, 64, 5e-5),
    ("banking77", _banking, 4000, 5, 64, 1e-4),
    ("sms_spam_collection", _sms, 3000, 2, 96, 5e-5),
)


def run_quality_one(args: dict, queue) -> None:
    import torch

    from engine.events import Failed, Finished
    from engine.training import TrainConfig, train_on_rows
    from privacy.vault.container import ScryptParams
    from privacy.vault.workspace import Workspace

    torch.set_num_threads(args["threads"])
    texts, labels = args["rows"]
    config = TrainConfig(dataset=args["name"], model_path=args["model"], epochs=args["epochs"],
                         batch_size=32, learning_rate=args["lr"], max_length=args["max_length"],
                         early_stopping_patience=None, device=args["device"])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws", "bench", kdf=ScryptParams(log2_n=10, r=8, p=1))
        for event in train_on_rows(ws, config, texts, labels):
            if isinstance(event, Failed):
                raise RuntimeError(event.message)
            if isinstance(event, Finished):
                metrics = dict(event.metrics)
    queue.put({"seconds": time.perf_counter() - start, **metrics})


def quality(opts: argparse.Namespace) -> None:
    from engine.models.folders import default_model_path

    print(f"default base model (MiniLM-L6), batch 32, torch threads {opts.threads}, "
          f"load average before: {os.getloadavg()[0]:.1f}\n")
    print("| dataset | rows used (train/val/test 80/10/10) | classes | epochs | max length | lr "
          "| test accuracy | test macro-F1 | minutes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, loader, n, epochs, max_length, lr in QUALITY_RUNS:
        texts, labels = sample(*loader(), n, seed=13)
        result = in_child(run_quality_one, {
            "name": name, "rows": (texts, labels), "model": str(opts.model or default_model_path()),
            "threads": opts.threads, "device": opts.device, "epochs": epochs,
            "max_length": max_length, "lr": lr})
        print(f"| {name} | {len(texts)} | {len(set(labels))} | {epochs} | {max_length} | {lr:g} "
              f"| {result['accuracy']:.4f} | {result['macro_f1']:.4f} | {result['seconds'] / 60:.1f} |",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--dev-rows", type=int, default=872)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--model", default=None, help="base model folder (default: bundled MiniLM)")
    parser.add_argument("--quality", action="store_true", help="run the quality table instead")
    full_data.add_data_argument(parser)
    opts = parser.parse_args()
    global DATA
    DATA = full_data.require(opts.data, "sst2/train.tsv", "sst2/dev.tsv", "sms_spam_collection/SMSSpamCollection",
                     "banking77/train.csv")
    if opts.quality:
        quality(opts)
    else:
        speed(opts)


if __name__ == "__main__":
    main()
