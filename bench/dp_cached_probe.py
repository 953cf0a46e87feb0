"""DP probe: how far can "top 1 layer + head" go under DP when epochs are cheap?

DP with ``--dp-trainable top-N`` trains only the top N encoder layers, the pooler and the head;
the lower layers and the embeddings are frozen, so their output for a row never changes. This probe
computes that output once per row (dropout off in the frozen part), keeps it in memory, and
trains the top of the model on it, with the same Opacus wrapper the engine uses
(``privacy.dp.private.make_private``: ghost clipping, Poisson sampling, PRV accountant). An
epoch then costs one layer's forward and backward instead of six, so the question the
utility table left open, whether many more DP steps close the gap to plain training, can be
answered on this CPU. A plain (non-DP) run of the same top part on the same features gives
the ceiling of what this trainable part can learn.

    .venv/bin/python bench/dp_cached_probe.py --runs plain:2 dp:8:2 dp:8:10

Rows: every row of ``../shared/data/sst2/train.tsv`` unless ``--rows``; accuracy on all of
``sst2/dev.tsv``. A research probe for ``bench/RESULTS.md``, not a path the app takes.
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

import bench_train  # read_tsv, sample
import full_data


def tokenize(tokenizer, texts, max_length):
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, padding="max_length",
                    return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def frozen_features(model, ids, mask, keep_top, batch=256):
    """Hidden states entering the top ``keep_top`` layers, fp16, padded to max length."""
    import torch

    model.eval()
    out = torch.zeros((ids.shape[0], ids.shape[1], model.config.hidden_size), dtype=torch.float16)
    lengths = mask.sum(1)
    order = torch.argsort(lengths, descending=True)
    with torch.no_grad():
        for i in range(0, len(order), batch):
            rows = order[i : i + batch]
            L = int(lengths[rows].max())
            hs = model.bert(input_ids=ids[rows, :L], attention_mask=mask[rows, :L],
                            output_hidden_states=True).hidden_states
            out[rows, :L] = hs[-1 - keep_top].to(torch.float16)
    return out


class Top:
    """The top N layers, the pooler and the head of a BERT classifier, fed cached states."""

    @staticmethod
    def build(model, n, pool="cls"):
        import torch

        class TopModule(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = torch.nn.ModuleList(list(model.bert.encoder.layer)[-n:])
                self.pooler, self.dropout, self.classifier = model.bert.pooler, model.dropout, model.classifier

            def forward(self, hidden, mask):
                add = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
                for layer in self.layers:
                    hidden = layer(hidden, add)
                    hidden = hidden[0] if isinstance(hidden, tuple) else hidden
                if pool == "mean":
                    # Mean over the real tokens, as the sentence-transformers base was trained;
                    # the [CLS] pooler is then unused and frozen.
                    m = mask[:, :, None].to(hidden.dtype)
                    return self.classifier(self.dropout((hidden * m).sum(1) / m.sum(1).clamp(min=1)))
                return self.classifier(self.dropout(self.pooler(hidden)))

        return TopModule()


def evaluate(top, feats, mask, labels, batch=512):
    import torch

    top.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(labels), batch):
            m = mask[i : i + batch]
            L = int(m.sum(1).max())
            logits = top(feats[i : i + batch, :L].float(), m[:, :L])
            correct += int((logits.argmax(-1) == labels[i : i + batch]).sum())
    top.train()
    return correct / len(labels)


def probe_head(base, opts, train, dev):
    """The head fitted (without DP: an upper bound of what a private probe could give) on the
    pooled output of the frozen model, as the DP run starts; returns its dev accuracy."""
    import torch

    top = Top.build(base, opts.top, opts.pool)
    top.eval()

    def pooled(feats, mask, batch=512):
        out = []
        with torch.no_grad():
            for i in range(0, len(mask), batch):
                m = mask[i : i + batch]
                L = int(m.sum(1).max())
                h = feats[i : i + batch, :L].float()
                add = (1.0 - m[:, None, None, :L].float()) * torch.finfo(torch.float32).min
                for layer in top.layers:
                    h = layer(h, add)
                    h = h[0] if isinstance(h, tuple) else h
                if opts.pool == "mean":
                    w = m[:, :L, None].float()
                    out.append((h * w).sum(1) / w.sum(1).clamp(min=1))
                else:
                    out.append(top.pooler(h))
        return torch.cat(out)

    z, zdev = pooled(*train[:2]), pooled(*dev[:2])
    head = torch.nn.Linear(z.shape[1], base.classifier.out_features)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(300):  # full batch: a few hundred steps of a 385-weight model
        opt.zero_grad()
        torch.nn.functional.cross_entropy(head(z), train[2]).backward()
        opt.step()
    with torch.no_grad():
        base.classifier.weight.copy_(head.weight)
        base.classifier.bias.copy_(head.bias)
        return float((head(zdev).argmax(-1) == dev[2]).float().mean())


def run(spec, base, opts, train, dev):
    import copy

    import torch

    from privacy.dp.budget import default_delta
    from privacy.dp.private import DPSettings, make_private

    torch.manual_seed(13)
    model = copy.deepcopy(base)
    top = Top.build(model, opts.top, opts.pool)
    if opts.pool == "mean":
        top.pooler.requires_grad_(False)
    top.train()
    feats, mask, labels = train
    n = len(labels)
    lengths = mask.sum(1).numpy()
    criterion = torch.nn.CrossEntropyLoss()
    parts = spec.split(":")
    t0 = time.perf_counter()
    info = {}
    if parts[0] == "plain":
        epochs = int(parts[1])
        opt = torch.optim.AdamW([p for p in top.parameters() if p.requires_grad], lr=opts.plain_lr)
        rng = np.random.default_rng(13)
        for _ in range(epochs):
            order = rng.permutation(n)
            for i in range(0, n, 32):
                rows = order[i : i + 32]
                L = int(lengths[rows].max())
                loss = criterion(top(feats[rows, :L].float(), mask[rows, :L]), labels[rows])
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
                opt.step()
        info["steps"] = epochs * math.ceil(n / 32)
        module = top
    else:
        epsilon, epochs = float(parts[1]), int(parts[2])
        batch = int(parts[3]) if len(parts) > 3 else opts.logical_batch
        lr = float(parts[4]) if len(parts) > 4 else opts.dp_lr
        opt = torch.optim.AdamW([p for p in top.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
        settings = DPSettings(epsilon=epsilon, delta=default_delta(n), max_grad_norm=opts.clip,
                              logical_batch_size=batch, accountant="prv", grad_sample_mode="ghost")
        private = make_private(top, opt, criterion, n_rows=n, epochs=epochs, settings=settings)
        total = private.max_steps
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / total))
        module = private.module
        done = 0
        for epoch in range(epochs):
            for rows in private.poisson_batches(epoch, 13)[: max(0, total - done)]:
                rows = rows[np.argsort(-lengths[rows], kind="stable")]
                chunks = [rows[i : i + opts.physical] for i in range(0, len(rows), opts.physical)]
                if not chunks:
                    private.empty_step_grads()
                for k, c in enumerate(chunks):
                    L = int(lengths[c].max())
                    logits = module(feats[c, :L].float(), mask[c, :L])
                    private.backward(logits, labels[c], last=k == len(chunks) - 1)
                private.step()
                sched.step()
                done += 1
        info.update(steps=done, sigma=private.noise_multiplier, eps=private.epsilon(),
                    batch=batch, lr=lr)
    minutes = (time.perf_counter() - t0) / 60
    acc = evaluate(module if parts[0] == "plain" else top, *dev)
    return acc, minutes, info


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["plain:2", "dp:8:2", "dp:8:10"],
                        help="plain:EPOCHS or dp:EPSILON:EPOCHS[:LOGICAL_BATCH[:LR]]")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--top", type=int, default=1)
    parser.add_argument("--pool", choices=("cls", "mean"), default="cls",
                        help="the head reads the [CLS] pooler (as the engine's models do) or the mean "
                             "of the real tokens (as the sentence-transformers base was trained)")
    parser.add_argument("--head-init", choices=("random", "probe"), default="random",
                        help="the head as the model loads it, or fitted first on the frozen "
                             "model's pooled output (linear probing, then fine-tuning)")
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--logical-batch", type=int, default=2048)
    parser.add_argument("--physical", type=int, default=256)
    parser.add_argument("--clip", type=float, default=0.1)
    parser.add_argument("--dp-lr", type=float, default=5e-3)
    parser.add_argument("--plain-lr", type=float, default=1e-4)
    full_data.add_data_argument(parser)
    opts = parser.parse_args()
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from engine.models.folders import default_model_path

    torch.set_num_threads(2)
    data = full_data.require(opts.data, "sst2/train.tsv", "sst2/dev.tsv")
    texts, labels = bench_train.read_tsv(data / "sst2" / "train.tsv")
    if opts.rows:
        texts, labels = bench_train.sample(texts, labels, opts.rows, seed=13)
    dev_texts, dev_labels = bench_train.read_tsv(data / "sst2" / "dev.tsv")
    path = str(default_model_path())
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    torch.manual_seed(13)
    base = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2, local_files_only=True)
    t0 = time.perf_counter()
    cached = []
    for tx, lb in ((texts, labels), (dev_texts, dev_labels)):
        ids, mask = tokenize(tok, tx, opts.max_length)
        cached.append((frozen_features(base, ids, mask, opts.top), mask,
                       torch.tensor([int(x) for x in lb])))
    print(f"{len(texts):,} sst2 train rows, {len(dev_texts):,} dev rows; top {opts.top} layer(s) + "
          f"{opts.pool} pooling + head trained on cached states of the frozen layers "
          f"({(time.perf_counter() - t0) / 60:.1f} min to compute); C {opts.clip}, physical batch "
          f"{opts.physical}, 2 threads, load average {os.getloadavg()[0]:.1f}\n")
    if opts.head_init == "probe":
        print(f"head fitted on the frozen model's pooled output: {probe_head(base, opts, *cached):.4f} "
              "on dev before any DP step\n")
    print("| run | logical batch | lr | σ | steps | ε spent | minutes | dev accuracy |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for spec in opts.runs:
        acc, minutes, info = run(spec, base, opts, cached[0], cached[1])
        if spec.startswith("plain"):
            print(f"| {spec} | 32 | {opts.plain_lr:g} | — | {info['steps']} | — | {minutes:.1f} | {acc:.4f} |",
                  flush=True)
        else:
            print(f"| {spec} | {info['batch']} | {info['lr']:g} | {info['sigma']:.3f} | {info['steps']} | "
                  f"{info['eps']:.3f} | {minutes:.1f} | {acc:.4f} |", flush=True)


if __name__ == "__main__":
    main()
