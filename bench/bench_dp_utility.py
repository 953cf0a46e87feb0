"""Differential privacy: what accuracy DP-SGD costs on sst2, at ε = 8 and ε = 3, against plain.

The same seeded rows of ``../shared/data/sst2/train.tsv`` (default 20,000) for every
configuration, the default MiniLM-L6, physical batch 32, seed 13, every training row used for
training (no validation split, no early stopping: validation would not be private and would
change what each side sees); accuracy on the whole of ``sst2/dev.tsv`` (6,735 rows), which none of
them saw. Each configuration runs in its own child process (``bench_dp.run_side``), one after
another, and its row is printed as soon as it finishes, so a stopped run keeps what it measured.

A configuration is ``plain``, or ``dp:EPSILON:TRAINABLE`` with TRAINABLE ``all`` or ``top-N``
(the top N encoder layers, the pooler and the head; the rest frozen). δ = 1/N^1.1, PRV
accountant, Poisson sampling, ghost clipping, the logical batch, clipping norm and learning rate
given below (Li et al. 2021: large batches, a small C, a high learning rate)::

    .venv/bin/python bench/bench_dp_utility.py --configs plain dp:8:all dp:8:top-2 dp:3:all

``dp:EPSILON:TRAINABLE:person`` protects people instead of rows: the rows are dealt at random
(seeded) to people of ``--rows-per-person`` rows each (default 4; ``--skewed-people``: unequal
sizes, mean about 4), and DP runs with that person
column (one row of each person drawn in each step; N = the number of people). A trailing ``:xE``
sets that configuration's epochs (``dp:8:top-2:person:x8``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import bench_dp  # run_side: one training run (plain or DP) in a child process
import bench_train  # read_tsv, sample, in_child
import full_data


def parse_config(text: str) -> dict:
    if text == "plain":
        return {"dp": False, "label": "plain"}
    parts = text.split(":")
    kind, epsilon, trainable, *more = parts if len(parts) >= 3 else ["", "", ""]
    per_person = "person" in more
    epochs = [int(m[1:]) for m in more if m.startswith("x") and m[1:].isdigit()]
    if (kind != "dp" or not epsilon or not (trainable in ("all", "lora") or trainable.startswith("top-"))
            or len(more) != per_person + len(epochs)):
        raise SystemExit(f"configuration {text!r}: use plain or dp:EPSILON:all|lora|top-N[:person][:xEPOCHS] "
                         "(dp:8:top-2, dp:8:top-2:person:x8)")
    label = f"DP ε={float(epsilon):g}, {trainable}" + (", per person" if per_person else "")
    return {"dp": True, "epsilon": float(epsilon), "trainable": trainable, "per_person": per_person,
            "label": label + (f", {epochs[0]} epochs" if epochs else ""),
            **({"epochs": epochs[0]} if epochs else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["plain", "dp:8:all", "dp:8:top-2", "dp:3:all"])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=64, help="sst2 phrases: 99%% fit in 64 tokens")
    parser.add_argument("--plain-lr", type=float, default=5e-5)
    parser.add_argument("--plain-epochs", type=int, default=None,
                        help="epochs of the plain side (default: --epochs); plain needs fewer")
    parser.add_argument("--logical-batch", type=int, default=512)
    parser.add_argument("--clip", type=float, default=0.1)
    parser.add_argument("--dp-lr", type=float, default=5e-4)
    parser.add_argument("--grad-sample-mode", default="auto", choices=("auto", "ghost", "hooks"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows-per-person", type=int, default=4, metavar="K",
                        help="for dp:...:person configurations: each person holds K of the rows")
    parser.add_argument("--skewed-people", action="store_true",
                        help="instead, people of unequal sizes (log-normal, mean about 4, at most "
                             "200 rows): a few hold many rows, most hold one to three")
    full_data.add_data_argument(parser)
    opts = parser.parse_args()
    configs = [parse_config(c) for c in opts.configs]
    data = full_data.require(opts.data, "sst2/train.tsv", "sst2/dev.tsv")
    from engine.models.folders import default_model_path
    from engine.training.auto import dp_logical_batch

    train = bench_train.sample(*bench_train.read_tsv(data / "sst2" / "train.tsv"), opts.rows, seed=13)
    dev = bench_train.read_tsv(data / "sst2" / "dev.tsv")
    common = {"train": train, "dev": dev, "model": str(default_model_path()), "threads": opts.threads,
              "logical_batch": opts.logical_batch, "clip": opts.clip, "dp_lr": opts.dp_lr,
              "epochs": opts.epochs, "max_length": opts.max_length, "plain_lr": opts.plain_lr,
              "grad_sample_mode": opts.grad_sample_mode}
    import numpy as np

    rng = np.random.default_rng(13)
    deal = rng.permutation(len(train[0]))
    if opts.skewed_people:
        owner = np.zeros(len(deal), dtype=np.int64)  # row position -> person
        start, person = 0, 0
        while start < len(deal):
            size = int(min(200, max(1, round(rng.lognormal(0.8, 1.0)))))
            owner[start : start + size] = person
            start, person = start + size, person + 1
        people = [f"p{owner[d]}" for d in deal]
    else:
        people = [f"p{d // opts.rows_per_person}" for d in deal]
    sizes = np.bincount(np.unique(people, return_inverse=True)[1])
    print(f"{len(train[0]):,} seeded sst2 train rows, {opts.epochs} epochs, max length "
          f"{opts.max_length}, physical batch 32, {opts.threads} torch threads, CPU; accuracy on "
          f"all {len(dev[0])} sst2 dev rows; per person: {len(sizes):,} people of "
          f"{sizes.mean():.2f} rows on average (median {np.median(sizes):g}, most {sizes.max()}); "
          f"load average before {os.getloadavg()[0]:.1f}\n")
    print("| configuration | lr | logical batch | C | σ | steps | ε spent | δ | minutes | dev accuracy | vs plain |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    plain_acc = None
    for cfg in configs:
        start = time.perf_counter()
        side = {**common, **cfg}
        if cfg.get("per_person"):  # the logical batch the automatic settings give that many people
            side.update(people=people, logical_batch=dp_logical_batch(len(set(people))))
        if not cfg["dp"] and opts.plain_epochs:
            side["epochs"] = opts.plain_epochs
        r = bench_train.in_child(bench_dp.run_side, side)
        minutes = (time.perf_counter() - start) / 60
        if not cfg["dp"]:
            plain_acc = r["acc"]
        gap = f"{100 * (r['acc'] - plain_acc):+.1f} pts" if plain_acc is not None and cfg["dp"] else "—"
        p = r["privacy"] or {}
        if cfg["dp"]:
            print(f"| {cfg['label']} | {opts.dp_lr:g} | {side['logical_batch']} | {opts.clip:g} | "
                  f"{p['noise_multiplier']:.3f} | {p['steps']} | {p['epsilon_spent']:.3f} | "
                  f"{p['delta']:.2e} | {minutes:.1f} | {r['acc']:.4f} | {gap} |", flush=True)
        else:
            print(f"| plain, {side['epochs']} epochs | {opts.plain_lr:g} | 32 | global 1.0 | — | {r['steps']} | — | — | "
                  f"{minutes:.1f} | {r['acc']:.4f} | — |", flush=True)
    print(f"\nload average after {os.getloadavg()[0]:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
