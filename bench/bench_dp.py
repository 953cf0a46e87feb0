"""Differential privacy: the cost of DP-SGD (ghost clipping) against plain training, same run.

One epoch of the default MiniLM-L6 on the same seeded sample of ``../shared/data/sst2/train.tsv``
(default 4,000 rows), physical batch 32, max length 128, seed 13, the same torch thread count,
each side in its own child process (so peak RSS is its own). Plain: lr 5e-5, global clipping
1.0 (Cloister's defaults). DP: ε = 8, δ = 1/N^1.1, PRV accountant, Poisson sampling with a
logical batch of ``--logical-batch`` rows, per-row clipping C, lr ``--dp-lr``, all layers
(``--trainable top-N``: only the top N layers and the head).
Time is the training loop from the first step to the last (model loading, tokenizing and
saving excluded on both sides; the DP side includes its ε evaluations for the live display).
Accuracy of both models on a seeded subset of ``sst2/dev.tsv``.

    .venv/bin/python bench/bench_dp.py [--rows 4000] [--data DIR]
"""
from __future__ import annotations

import scratch_anchors  # noqa: F401 - first: this run's workspaces leave no anchors behind
import argparse
import sys
import tempfile
import time
from pathlib import Path

import bench_train  # read_tsv, sample, peak_rss_mb, dev_accuracy, in_child
import full_data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_side(args: dict, queue) -> None:
    import torch

    from engine.events import Failed, Finished, Started, Step
    from engine.models.weights import load_model
    from engine.runs import load_run
    from engine.training import TrainConfig, train_on_rows
    from privacy.vault.container import ScryptParams
    from privacy.vault.workspace import Workspace

    torch.set_num_threads(args["threads"])
    texts, labels = args["train"]
    dp = args["dp"]
    # epochs, max_length, epsilon, trainable and plain_lr are set by bench_dp_utility.py.
    extra = dict(dp=True, dp_epsilon=args.get("epsilon", 8.0), dp_logical_batch_size=args["logical_batch"],
                 dp_max_grad_norm=args["clip"], learning_rate=args["dp_lr"],
                 dp_trainable=args.get("trainable", "all"),
                 dp_grad_sample_mode=args.get("grad_sample_mode", "auto")) if dp else {}
    people = args.get("people") if dp else None  # DP per person: who each row is about
    if people is not None:
        extra["dp_person_column"] = "person"
    config = TrainConfig(dataset="sst2-bench", model_path=args["model"], epochs=args.get("epochs", 1),
                         batch_size=32, max_length=args.get("max_length", 128), seed=13,
                         early_stopping_patience=None, device="cpu",
                         **{"learning_rate": args.get("plain_lr", 5e-5), **extra})
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws", "bench", kdf=ScryptParams(log2_n=10, r=8, p=1))
        start = last = None
        steps = 0
        for event in train_on_rows(ws, config, texts, labels, splits=(range(len(texts)), [], []),
                                   people=people):
            if isinstance(event, Started):
                start, steps = time.perf_counter(), event.total_steps
            elif isinstance(event, Step):
                last = time.perf_counter()
                if event.step % max(1, event.total_steps // 5) == 0:  # progress on stderr
                    print(f"  {'dp' if dp else 'plain'} step {event.step}/{event.total_steps} "
                          f"{last - start:.0f} s", file=sys.stderr, flush=True)
            elif isinstance(event, Failed):
                raise RuntimeError(event.message)
            elif isinstance(event, Finished):
                run_id = event.run_id
        privacy = load_run(ws, run_id).privacy
        model, tokenizer = load_model(ws, f"runs/{run_id}/model", device="cpu")
        acc = bench_train.dev_accuracy(model, tokenizer, sorted(set(labels)), *args["dev"], device="cpu",
                                       max_length=config.max_length)
    queue.put({"name": f"DP-SGD ({config.grad_sample_mode}), {config.dp_trainable}" if dp else "plain", "seconds": last - start, "steps": steps,
               "rss": bench_train.peak_rss_mb(), "acc": acc, "privacy": privacy})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--dev-rows", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--logical-batch", type=int, default=128)
    parser.add_argument("--clip", type=float, default=0.1)
    parser.add_argument("--dp-lr", type=float, default=1e-3)
    parser.add_argument("--trainable", default="all", help="DP side: all (default), lora or top-N")
    parser.add_argument("--grad-sample-mode", default="auto", choices=("auto", "ghost", "hooks"))
    parser.add_argument("--dp-only", action="store_true", help="run only the DP side (print its figures)")
    full_data.add_data_argument(parser)
    opts = parser.parse_args()
    data = full_data.require(opts.data, "sst2/train.tsv", "sst2/dev.tsv")
    from engine.models.folders import default_model_path

    train = bench_train.sample(*bench_train.read_tsv(data / "sst2" / "train.tsv"), opts.rows, seed=13)
    dev = bench_train.sample(*bench_train.read_tsv(data / "sst2" / "dev.tsv"), opts.dev_rows, seed=13)
    common = {"train": train, "dev": dev, "model": str(default_model_path()), "threads": opts.threads,
              "logical_batch": opts.logical_batch, "clip": opts.clip, "dp_lr": opts.dp_lr,
              "trainable": opts.trainable, "grad_sample_mode": opts.grad_sample_mode}
    plain = bench_train.in_child(run_side, {**common, "dp": False}) if not opts.dp_only else None
    if plain is None:
        private = bench_train.in_child(run_side, {**common, "dp": True})
        print(private)
        return
    print(f"plain: {plain['seconds']:.1f} s, {plain['rss']:.0f} MB, acc {plain['acc']:.4f}", file=sys.stderr, flush=True)
    private = bench_train.in_child(run_side, {**common, "dp": True})
    print(f"{opts.rows} rows, 1 epoch, physical batch 32, {opts.threads} threads, CPU")
    print("| side | steps | loop s | rows/s | peak RSS MB | dev accuracy |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in (plain, private):
        print(f"| {r['name']} | {r['steps']} | {r['seconds']:.1f} | {opts.rows / r['seconds']:.1f} | "
              f"{r['rss']:.0f} | {r['acc']:.4f} |")
    print(f"time ratio {private['seconds'] / plain['seconds']:.2f}x, "
          f"peak-RSS ratio {private['rss'] / plain['rss']:.2f}x")
    p = private["privacy"]
    print(f"DP: ε spent {p['epsilon_spent']:.3f} (target 8), δ {p['delta']:.3g}, σ {p['noise_multiplier']:.3f}, "
          f"C {p['max_grad_norm']}, q {p['sample_rate']:.4f}, steps {p['steps']}, lr {opts.dp_lr}, "
          f"trained: {opts.trainable}")


if __name__ == "__main__":
    main()
