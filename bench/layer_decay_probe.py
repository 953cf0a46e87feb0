"""Probe: does a layer-wise learning-rate decay lift AG News toward its 0.92 target?

Every lever tried on AG News (`bench/RESULTS.md`: epochs, rates, markup, a mean-pooled head,
keeping the last weights) moved it by less than a 1,000-row test tenth's noise. This probe runs
``bench/bench_quality.py`` unchanged, except that the optimizer gives each encoder layer the rate
of the layer above times ``--decay`` (the top layer, the pooler and the head at the full rate,
the embeddings below the bottom layer): the upper layers, which the task reshapes most, move
most, and the lower ones keep more of what pre-training learnt (Howard & Ruder 2018; Sun et al.
2019, "How to fine-tune BERT for text classification"). Everything else is the automatic
settings, so each seed pairs with its row in the four-seed table::

    .venv/bin/python bench/layer_decay_probe.py --decay 0.8 --sets ag_news --seeds 14 16 --lr 2e-4

Arguments other than ``--decay`` go to ``bench_quality.py``. A research probe, not a path the
app takes: the engine's optimizer is patched in this process only.
"""
from __future__ import annotations

import argparse
import re
import runpy
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
_LAYER = re.compile(r"encoder\.layer\.(\d+)\.")


def layer_groups(model: Any, weight_decay: float, decay: float) -> list[dict[str, Any]]:
    """The optimizer's groups: one per depth below the top and per weight decay, each with
    ``lr_scale`` = ``decay`` to the power of its depth (0: the top layer, pooler and head)."""
    from engine.training.optim import _NO_DECAY

    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    top = max((int(m.group(1)) for n, _ in named if (m := _LAYER.search(n))), default=0)
    groups: dict[tuple[int, float], list[Any]] = {}
    for name, param in named:
        m = _LAYER.search(name)
        depth = top - int(m.group(1)) if m else (top + 1 if "embeddings" in name else 0)
        wd = 0.0 if any(k in name for k in _NO_DECAY) else weight_decay
        groups.setdefault((depth, wd), []).append(param)
    return [{"params": params, "weight_decay": wd, "lr_scale": decay ** depth}
            for (depth, wd), params in sorted(groups.items())]


def patch(decay: float) -> None:
    import torch

    import engine.training.optim as optim

    class ScaledAdamW(torch.optim.AdamW):
        def __init__(self, groups: list[dict[str, Any]], lr: float, **kwargs: Any) -> None:
            for group in groups:
                group["lr"] = lr * group.pop("lr_scale", 1.0)
            super().__init__(groups, lr=lr, **kwargs)

    optim.param_groups = lambda model, wd: layer_groups(model, wd, decay)  # type: ignore[assignment]
    torch.optim.AdamW = ScaledAdamW  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, add_help=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decay", type=float, required=True,
                        help="each layer's rate is the one above times this (0 < decay <= 1)")
    opts, rest = parser.parse_known_args()
    if not 0 < opts.decay <= 1:
        parser.error(f"--decay {opts.decay}: use a factor in (0, 1], such as 0.8")
    sys.path[:0] = [str(BENCH), str(BENCH.parent)]
    patch(opts.decay)
    print(f"layer-wise learning-rate decay {opts.decay} (top layer, pooler and head at the full rate)",
          flush=True)
    sys.argv = [str(BENCH / "bench_quality.py"), *rest]
    runpy.run_path(str(BENCH / "bench_quality.py"), run_name="__main__")


if __name__ == "__main__":
    main()
