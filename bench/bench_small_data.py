"""Very little data: the default MiniLM trained on a few dozen seeded, balanced sst2 rows, with
the batch size the automatic settings choose against fixed ones, each run scored on the same
600 seeded rows of sst2/dev.tsv (the run's own test split holds 2-8 rows: no measure at all).

    .venv/bin/python bench/bench_small_data.py [--rows 20 40 80] [--seeds 1 2 3] [--batches auto 16 4]

Every run goes through the command line as a user's would (`cloister import`, `cloister train`,
`cloister evaluate RUN --data dev`), in a throw-away workspace, one at a time. The table gives
each batch's mean accuracy over the seeds and its difference from the automatic choice's.
"""
from __future__ import annotations

import scratch_anchors  # noqa: F401 - first: this run's workspaces leave no anchors behind
import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOISTER = [sys.executable, "-m", "engine.cli"]


def _rows(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()[1:]  # header: sentence <TAB> label
    return [(text, "pos" if label == "1" else "neg")
            for text, _, label in (line.rpartition("\t") for line in lines)]


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    return path


def _cloister(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CLOISTER, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"cloister {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "sst2")
    parser.add_argument("--rows", type=int, nargs="+", default=[20, 40, 80])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--batches", nargs="+", default=["auto", "16", "4"])
    opts = parser.parse_args()
    train, dev = _rows(opts.data / "train.tsv"), _rows(opts.data / "dev.tsv")
    with tempfile.TemporaryDirectory(prefix="cloister-small-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "CLOISTER_WORKSPACE": str(folder / "ws"),
               "CLOISTER_SETTINGS_DIR": str(folder / "settings"),
               "CLOISTER_PASSPHRASE": "small data benchmark passphrase", "HF_HUB_OFFLINE": "1"}
        _cloister(env, "init")
        _cloister(env, "import", str(_write(folder / "dev.csv", random.Random(7).sample(dev, 600))),
                  "--name", "dev")
        scores: dict[tuple[int, str], list[float]] = {}
        for rows in opts.rows:
            for seed in opts.seeds:
                rng = random.Random(seed)
                pick = (rng.sample([r for r in train if r[1] == "pos"], rows // 2)
                        + rng.sample([r for r in train if r[1] == "neg"], rows // 2))
                rng.shuffle(pick)
                name = f"s{rows}_{seed}"
                _cloister(env, "import", str(_write(folder / f"{name}.csv", pick)), "--name", name)
                for batch in opts.batches:
                    extra = [] if batch == "auto" else ["--batch-size", batch]
                    events = [json.loads(line) for line in
                              _cloister(env, "train", name, *extra, "--json").splitlines()]
                    run_id = next(e["run_id"] for e in events if e["event"] == "started")
                    scored = json.loads(_cloister(env, "evaluate", run_id, "--data", "dev", "--json"))
                    scores.setdefault((rows, batch), []).append(scored["accuracy"])
                    print(f"rows {rows} seed {seed} batch {batch}: {scored['accuracy']:.4f}",
                          file=sys.stderr, flush=True)
    print(f"\n{'rows':>5} {'batch':>6} {'seeds':>5} {'mean accuracy':>14} {'vs automatic':>13}")
    for rows in opts.rows:
        auto = statistics.mean(scores.get((rows, "auto"), [float("nan")]))
        for batch in opts.batches:
            mean = statistics.mean(scores[(rows, batch)])
            print(f"{rows:>5} {batch:>6} {len(scores[(rows, batch)]):>5} {mean:>14.4f} "
                  f"{(mean - auto) * 100:>+12.1f}p")


if __name__ == "__main__":
    main()
