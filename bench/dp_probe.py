"""Probes of DP-SGD recipes the engine does not offer, on sst2 dev accuracy.

The same seeded rows and settings as ``bench_dp_utility.py`` (one DP configuration, one child
process), with the trainer patched in that child:

* ``--ema-decays D ...``: an exponential moving average of the weights (De et al. 2022), which
  is post-processing and costs no privacy: EMA copies of the trainable weights are kept with
  each decay, and the final weights and each copy are scored on all of ``sst2/dev.tsv``.
* ``--dropout P``: every dropout layer of the model set to P (0: off) for training.
* ``--noise S``: the noise multiplier forced to S (0: clipping without noise, to see what the
  noise itself costs); the ε printed is then not a guarantee.
* ``--lower-lr-scale F``: with ``--trainable top-6+bias`` (every layer), the weight matrices of the
  layers below the top ``--full-rate-layers`` (default 2) learn at F times the rate; their biases
  and LayerNorms, the top layers, the pooler and the head at the full rate. F = 0 is the same
  model as ``top-2+bias``; the question is whether a small step lets the lower layers adapt
  without the noise (which Adam scales to about the rate on every coordinate) wrecking them.
* ``--adam-bc R``: DP-AdamBC (Tang et al. 2024, arXiv:2312.14334): Adam's second moment minus
  the noise's own variance, Φ = (σC/B)², floored at R·Φ. Under DP the second moment is mostly
  Φ, so plain DP-Adam divides every coordinate by about the same number and moves like SGD; the
  correction restores Adam's per-coordinate scaling by the signal.

::

    .venv/bin/python bench/dp_probe.py [--rows 20000] [--epochs 2] [--logical-batch 512] \
        [--ema-decays 0.8 0.9] [--dropout 0]
"""
import argparse
import sys
import time
from pathlib import Path

import bench_dp  # run_side: one training run in a child process
import bench_train  # sample, read_tsv, dev_accuracy, in_child
import full_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DECAYS = (0.8, 0.9, 0.95, 0.98)  # the default --ema-decays


def layered_groups(plain, lr: float, scale: float, full_layers: int):
    """``param_groups`` with the lower layers' weight matrices in their own group at lr x scale."""
    import re

    def groups(model, weight_decay):
        names = {id(p): n for n, p in model.named_parameters()}
        layers = 1 + max(int(m.group(1)) for n in names.values()
                         if (m := re.search(r"\.layer\.(\d+)\.", n)))
        out = []
        for group in plain(model, weight_decay):
            lower = [p for p in group["params"] if p.dim() > 1 and (m := re.search(
                r"\.layer\.(\d+)\.", names[id(p)])) and int(m.group(1)) < layers - full_layers]
            rest = [p for p in group["params"] if all(p is not q for q in lower)]
            out.append({**group, "params": rest})
            if lower:
                out.append({**group, "params": lower, "lr": lr * scale})
        print(f"  layered rates: {sum(p.numel() for g in out if 'lr' in g for p in g['params']):,} "
              f"weights at {lr * scale:g}, the rest at {lr:g}", file=sys.stderr, flush=True)
        return out

    return groups


def bias_corrected_adam(floor: float):
    """An AdamW whose step divides by sqrt(max(v̂ - Φ, floor·Φ)); Φ is set once Opacus has σ."""
    import torch

    class AdamBC(torch.optim.AdamW):
        phi = 0.0

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                (beta1, beta2), lr = group["betas"], group["lr"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    state["step"] += 1
                    t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                    m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                    v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                    second = (v / (1 - beta2 ** t) - self.phi).clamp_(min=floor * self.phi)
                    p.mul_(1 - lr * group["weight_decay"])
                    p.addcdiv_(m / (1 - beta1 ** t), second.sqrt_().add_(group["eps"]), value=-lr)

    return AdamBC


def side(args: dict, queue) -> None:
    """``bench_dp.run_side`` with the trainer patched to keep and score the EMA copies."""
    import torch

    from engine.training import loop, private

    if args["noise"] is not None:
        from privacy.dp import private as dp_private

        plain_make = dp_private.make_private
        dp_private.make_private = lambda *a, **k: plain_make(*a, **{**k, "noise_multiplier": args["noise"]})
        if not args["noise"]:  # no noise, no finite ε: a stand-in so the run reports something
            dp_private.epsilon_for = lambda **_: 1e9
            dp_private.PrivateTraining.epsilon = lambda self: 1e9
    if args["adam_bc"] is not None:
        from privacy.dp import private as dp_private

        torch.optim.AdamW = adam_bc = bias_corrected_adam(args["adam_bc"])
        wrapped_make = dp_private.make_private

        def make(*a, **k):
            made = wrapped_make(*a, **k)
            opt = made.optimizer
            adam_bc.phi = (opt.noise_multiplier * opt.max_grad_norm / opt.expected_batch_size) ** 2
            print(f"  DP-AdamBC: Φ = {adam_bc.phi:.3g}, floor {args['adam_bc']:g}·Φ",
                  file=sys.stderr, flush=True)
            return made

        dp_private.make_private = make
    if args["lower_lr_scale"] is not None:
        private.param_groups = layered_groups(private.param_groups, args["dp_lr"],
                                              args["lower_lr_scale"], args["full_rate_layers"])
    trainer = loop.Trainer
    plain_init, plain_step, plain_finish = trainer.__init__, trainer.train_step, trainer.finish
    decays = tuple(args["ema_decays"])

    def init(self, *a, **k):
        plain_init(self, *a, **k)
        if args["dropout"] is not None:
            for module in self.model.modules():
                if isinstance(module, torch.nn.Dropout):
                    module.p = args["dropout"]

    def train_step(self, group, loss_acc):
        rows = plain_step(self, group, loss_acc)
        if not decays:
            return rows
        params = [p.detach() for p in self.model.parameters() if p.requires_grad]
        if not hasattr(self, "_emas"):
            self._emas = {d: [p.clone() for p in params] for d in decays}
        else:
            for decay, copies in self._emas.items():
                torch._foreach_mul_(copies, decay)
                torch._foreach_add_(copies, params, alpha=1 - decay)
        return rows

    def score(self) -> float:
        return bench_train.dev_accuracy(self.model, self.tokenizer, self.prep.coding.names,
                                        *args["dev"], device="cpu", max_length=args["max_length"])

    def finish(self, elapsed):
        if not decays:  # run_side scores the saved weights itself
            yield from plain_finish(self, elapsed)
            return
        params = [p for p in self.model.parameters() if p.requires_grad]
        final = [p.detach().clone() for p in params]
        print(f"  EMA probe: raw final {score(self):.4f}", file=sys.stderr, flush=True)
        for decay, copies in self._emas.items():
            with torch.no_grad():
                torch._foreach_copy_(params, copies)
            print(f"  EMA probe: decay {decay} {score(self):.4f}", file=sys.stderr, flush=True)
        with torch.no_grad():
            torch._foreach_copy_(params, final)  # the run saves its own final weights
        self.model.train()
        yield from plain_finish(self, elapsed)

    trainer.__init__, trainer.train_step, trainer.finish = init, train_step, finish
    bench_dp.run_side(args, queue)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--logical-batch", type=int, default=512)
    parser.add_argument("--dp-lr", type=float, default=5e-3)
    parser.add_argument("--trainable", default="top-2")
    parser.add_argument("--epsilon", type=float, default=8.0)
    parser.add_argument("--ema-decays", type=float, nargs="*", default=list(DECAYS),
                        help="EMA decays to score (none: only the final weights)")
    parser.add_argument("--dropout", type=float, default=None,
                        help="dropout probability while training (default: the model's, 0.1)")
    parser.add_argument("--lower-lr-scale", type=float, default=None,
                        help="the lower layers' weight matrices learn at this times the rate")
    parser.add_argument("--adam-bc", type=float, default=None,
                        help="DP-AdamBC with its second moment floored at this times Φ")
    parser.add_argument("--full-rate-layers", type=int, default=2)
    parser.add_argument("--noise", type=float, default=None,
                        help="force this noise multiplier (0: clipping only; no privacy)")
    full_data.add_data_argument(parser)
    opts = parser.parse_args()
    data = full_data.require(opts.data, "sst2/train.tsv", "sst2/dev.tsv")
    from engine.models.folders import default_model_path

    train = bench_train.sample(*bench_train.read_tsv(data / "sst2" / "train.tsv"), opts.rows, seed=13)
    dev = bench_train.read_tsv(data / "sst2" / "dev.tsv")
    args = {"train": train, "dev": dev, "model": str(default_model_path()), "threads": 2,
            "logical_batch": opts.logical_batch, "clip": 0.1, "dp_lr": opts.dp_lr,
            "epochs": opts.epochs, "max_length": 64, "grad_sample_mode": "auto", "dp": True,
            "epsilon": opts.epsilon, "trainable": opts.trainable, "ema_decays": opts.ema_decays,
            "dropout": opts.dropout, "lower_lr_scale": opts.lower_lr_scale,
            "full_rate_layers": opts.full_rate_layers, "noise": opts.noise, "adam_bc": opts.adam_bc}
    start = time.perf_counter()
    result = bench_train.in_child(side, args)
    p = result["privacy"]
    print(f"{opts.rows:,} rows, {opts.epochs} epochs, logical batch {opts.logical_batch}, lr "
          f"{opts.dp_lr:g}, {opts.trainable}, ε = {opts.epsilon:g}, dropout "
          f"{'as the model' if opts.dropout is None else opts.dropout}, lower-layer rate scale "
          f"{opts.lower_lr_scale}, AdamBC floor {opts.adam_bc}, noise {'calibrated' if opts.noise is None else opts.noise}: saved (final) weights "
          f"{result['acc']:.4f}, σ {p['noise_multiplier']:.3f}, {p['steps']} steps, "
          f"{(time.perf_counter() - start) / 60:.1f} minutes (the EMA figures are on stderr)")


if __name__ == "__main__":
    main()
