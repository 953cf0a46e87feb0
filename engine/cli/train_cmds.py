"""``cloister train``, ``runs``, ``resume`` and ``demo``: training from the command line.

Progress goes to stderr (a one-line bar on a terminal, a line per epoch otherwise); results go
to stdout. ``--json`` prints one JSON object per event on stdout instead, for scripts. Ctrl-C
cancels cooperatively: the run saves a checkpoint and ``cloister resume RUN`` continues it.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from engine.cli.common import (add_workspace_options, label_delimiter, open_workspace, positive_int,
                               resolve_run)
from engine.errors import InputError
from engine.units import pad, shown_width
from engine.events import CancelToken, Event, Finished, Progress

# The events printed and the stops turned into cancels: engine/cli/run_events.py.
from engine.cli.run_events import (  # noqa: F401 - named here for callers and tests
    EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, _ctrl_c_cancels, _exit_code, _fmt_time,
    _Progress, consume,
)


# ---- commands ---------------------------------------------------------------------------
def _explicit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the user gave on the command line; the rest is chosen for them."""
    given = dict(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                 max_length=args.max_length, grad_accumulation=args.grad_accumulation,
                 class_weights=args.class_weights, long_texts=args.long_texts,
                 window_overlap=args.window_overlap)
    explicit = {k: v for k, v in given.items() if v is not None}
    if args.early_stopping is not None:  # 0 is an explicit "never stop early"
        explicit["early_stopping_patience"] = None if args.early_stopping == 0 else args.early_stopping
    if args.multi_label:
        explicit["multi_label"] = True
    if args.label_delimiter is not None:
        if not args.multi_label:
            raise InputError("--label-delimiter goes with --multi-label: add it to train one "
                             "yes/no output per class")
        explicit["label_delimiter"] = args.label_delimiter
    explicit.update(seed=args.seed, device=args.device)
    return explicit


def cmd_train(args: argparse.Namespace) -> int:
    from engine.training import TrainConfig, train
    from engine.training.plan import plan_training

    # Absolute: the run keeps it, and `cloister resume` from another folder looked for a
    # relative path there.
    model_path = None if args.model in (None, "default") else \
        str(Path(args.model).expanduser().absolute())
    explicit = {**_explicit_settings(args), **_dp_settings(args)}
    # The user's own settings are checked before the passphrase is asked for.
    problems = TrainConfig(dataset=args.dataset, model_path=model_path, **explicit).validate(
        length_known="max_length" in explicit or not args.auto)
    if problems:
        raise InputError("; ".join(p.message for p in problems))
    ws = open_workspace(args)
    token = CancelToken()
    try:
        # Automatic settings from the data (engine.training.auto) under the user's own.
        plan = plan_training(ws, args.dataset, explicit, auto=args.auto, model_path=model_path,
                             strict=True)
        if args.dry_run and args.json:  # one JSON object, as every other --json output
            print(json.dumps({"dry_run": True, **plan.as_dict()}, default=list))
            return EXIT_OK
        if args.dry_run or not args.json:
            out = sys.stdout if args.dry_run else sys.stderr
            for line in plan.lines():
                print(line, file=out)
        if args.dry_run:
            print("dry run: nothing was trained", file=sys.stdout)
            return EXIT_OK
        with _ctrl_c_cancels(token) as received:
            finished: list[str] = []
            code = _exit_code(consume(_noting_end(train(ws, plan.config, cancel=token), finished),
                                      json_mode=args.json), received)
        if not args.json:
            _say_privacy(ws, finished)
        return code
    finally:
        ws.lock()


def _say_privacy(ws: Any, finished: list[str]) -> None:
    """A DP run's guarantee, said once, at the end of `train` and of `resume`."""
    from engine.runs import load_run, privacy_said

    privacy = load_run(ws, finished[0]).privacy if finished else None
    if privacy:
        print(privacy_said(privacy))


def _noting_end(events: Iterable[Event], finished: list[str]) -> Iterator[Event]:
    for event in events:
        if isinstance(event, Finished):
            finished.append(event.run_id)
        yield event


def _dp_settings(args: argparse.Namespace) -> dict[str, Any]:
    dp_flags = ("epsilon", "delta", "max_grad_norm", "logical_batch_size", "dp_trainable", "accountant",
                "dp_person_column")
    if not args.dp:
        given = [f"--{f.replace('_', '-')}" for f in dp_flags if getattr(args, f) is not None]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise InputError(f"{', '.join(given)} only {verb} with --dp: add --dp to train with "
                             "differential privacy")
        return {}
    settings: dict[str, Any] = {"dp": True}
    for flag, key in (("epsilon", "dp_epsilon"), ("delta", "dp_delta"),
                      ("max_grad_norm", "dp_max_grad_norm"),
                      ("logical_batch_size", "dp_logical_batch_size"),
                      ("dp_trainable", "dp_trainable"), ("accountant", "dp_accountant"),
                      ("dp_person_column", "dp_person_column")):
        if getattr(args, flag) is not None:
            settings[key] = getattr(args, flag)
    return settings


def cmd_resume(args: argparse.Namespace) -> int:
    from engine.training import resume

    ws = open_workspace(args)
    args.run = resolve_run(ws, args.run)
    token = CancelToken()
    try:
        finished: list[str] = []
        with _ctrl_c_cancels(token) as received:
            code = _exit_code(consume(_noting_end(resume(ws, args.run, cancel=token), finished),
                                      json_mode=args.json), received)
        if not args.json:
            _say_privacy(ws, finished)
        return code
    finally:
        ws.lock()


def _table(rows: list[dict[str, Any]], out: TextIO) -> None:
    if not rows:
        return
    columns = list(rows[0])
    cells = [[("" if r.get(c) is None else f"{r[c]:.4f}" if isinstance(r.get(c), float) else str(r[c]))
              for c in columns] for r in rows]
    widths = [max(len(c), *(shown_width(row[i]) for row in cells)) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(pad(v, w) for v, w in zip(row, widths)).rstrip() + "\n")


def cmd_runs(args: argparse.Namespace) -> int:
    from engine.runs import compare_runs, datasets_named_now, list_runs, load_run, scored_alike

    chosen = [*(args.compare or ()), *(getattr(args, "run_ids", None) or ())]
    ws = open_workspace(args)
    try:
        records = [load_run(ws, r) for r in chosen] if chosen else list_runs(ws)
        named = datasets_named_now(ws, records)  # "tickets (was sms)" after a rename, "(no longer stored)"
    finally:
        ws.lock()
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2))
        return EXIT_OK
    if chosen:
        # The duration as the list of runs shows it ("0:38"), not "38.5000" seconds.
        _table([{**{k: v for k, v in row.items() if k != "duration_s"},
                 "duration": _fmt_time(row["duration_s"])} for row in compare_runs(records, named)],
               sys.stdout)
        if not scored_alike(records):
            print("note: these runs were not scored on the same test rows (another dataset, "
                  "another import of it, or another seed's split): their metrics differ by that "
                  "too; `cloister evaluate RUN --data NAME` scores each on the same rows",
                  file=sys.stderr)
        return EXIT_OK
    if not records:
        print("No runs yet: train one with `cloister train DATASET`.")
        return EXIT_OK
    rows = [{"run": r.run_id, "dataset": named.get(r.run_id, r.dataset), "status": r.status.value,
             "created": r.created.replace("T", " ")[:16],
             "epochs": _epochs_cell(r), "accuracy": r.metrics.get("accuracy"),
             "macro_f1": r.metrics.get("macro_f1"), "epsilon": _epsilon_cell(r),
             "duration": _fmt_time(r.duration_seconds)}
            for r in records]
    _table(rows, sys.stdout)
    return EXIT_OK


def _epochs_cell(record: Any) -> str:
    """The epochs planned, or "2.5 of 5" for a run that stopped early (or was cancelled)."""
    planned = record.config.get("epochs")
    done = max((float(h.get("epoch", 0)) for h in record.history), default=0.0)
    if planned is None or not done or done >= float(planned) - 1e-6:
        return "-" if planned is None else str(planned)
    return f"{round(done, 2):g} of {planned}"


def _epsilon_cell(record: Any) -> str:
    """ε spent for a DP run (with δ), "-" for a run without differential privacy."""
    dp = record.privacy
    if not dp:
        return "-"
    per = ", per person" if dp.get("person_column") else ""
    return f"{dp['epsilon_spent']:.2f} (δ {dp['delta']:.0e}{per})"


def cmd_demo(args: argparse.Namespace) -> int:
    from engine.demo import demo_config, run_demo, sample_path

    print(f"Demo: a throw-away encrypted workspace, the bundled sample ({sample_path().name}) and "
          "the default MiniLM base model.", file=sys.stderr)
    token = CancelToken()
    with _ctrl_c_cancels(token) as received:
        return _exit_code(consume(run_demo(config=demo_config(epochs=args.epochs,
                                                              dp_trainable=args.dp),
                                           cancel=token), json_mode=args.json), received)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="fine-tune a classifier on a dataset",
                              description="Fine-tune a base model on DATASET (imported with "
                              "`cloister import`); everything it writes is encrypted.")
    p.add_argument("dataset", metavar="DATASET")
    p.add_argument("--model", metavar="PATH|default", default="default",
                   help="local Hugging Face encoder folder (default: the bundled MiniLM-L6)")
    # Unset options (None) are chosen from the data by engine.training.auto unless --no-auto.
    p.add_argument("--epochs", type=positive_int, default=None, help="default: automatic")
    p.add_argument("--batch-size", type=positive_int, default=None,
                   help="default: automatic (16; 4 under 48 training rows)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: automatic)")
    p.add_argument("--max-length", type=positive_int, default=None,
                   help="tokens per text (default: automatic, from the texts' lengths)")
    p.add_argument("--long-texts", choices=("cut", "windows"), default=None,
                   help="texts longer than --max-length: cut (default: their start is kept) or "
                   "windows (each is read in overlapping windows of --max-length, up to 16; a "
                   "text's prediction is the mean of its windows'; the time grows with the windows)")
    p.add_argument("--window-overlap", type=int, default=None, metavar="TOKENS",
                   help="with --long-texts windows: tokens consecutive windows share (default: "
                   "a quarter of --max-length)")
    p.add_argument("--seed", type=int, default=13,
                   help="seeds the split, the new head and the batch order (default 13): the "
                   "same seed and settings give the same run (with --dp, the noise and the DP batches come "
                   "from a secret of each run instead: the seed is public)")
    p.add_argument("--early-stopping", type=int, default=None, metavar="N",
                   help="stop after N evaluations without a better validation macro-F1 (a "
                   "tie whose loss fell 1%% or more counts as better; 0: never; default 2)")
    p.add_argument("--grad-accumulation", type=positive_int, default=None, metavar="N",
                   help="add up N batches' gradients before each step: the effect of an N times "
                   "larger batch in the memory of one (default 1)")
    p.add_argument("--class-weights", action=argparse.BooleanOptionalAction, default=None,
                   help="weight classes by rarity (default: automatic, on when imbalanced)")
    p.add_argument("--multi-label", action="store_true",
                   help="rows carry several labels separated by '|' (or --label-delimiter)")
    p.add_argument("--label-delimiter", metavar="D", type=label_delimiter,
                   help="with --multi-label: what separates the labels (default '|'; the one "
                   "given to `cloister import --label-delimiter`)")
    p.add_argument("--auto", action=argparse.BooleanOptionalAction, default=True,
                   help="choose unset settings from the data (default); --no-auto uses the "
                   "fixed defaults (3 epochs, 5e-5, 128 tokens)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the settings that would be used, why, and the estimate; train nothing")
    p.add_argument("--device", default="auto",
                   help="auto (default: CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    p.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    dp = p.add_argument_group(
        "differential privacy", "DP-SGD through Opacus: the model provably reveals little about "
        "any one training row (or person, with --dp-person-column). --batch-size is then the "
        "physical batch (memory); expect lower accuracy. Tuning on the same data, and "
        "validation/test metrics, are not covered.")
    dp.add_argument("--dp", action="store_true", help="train with differential privacy")
    dp.add_argument("--epsilon", type=float, metavar="EPS",
                    help="privacy budget ε: 1 strong, 3 moderate, 8 standard (default 8)")
    dp.add_argument("--delta", type=float, metavar="D", help="δ, below 1/N (default 1/N^1.1)")
    dp.add_argument("--max-grad-norm", type=float, metavar="C",
                    help="per-row gradient clipping norm C (default: automatic, 0.1; 1.0 with --no-auto)")
    dp.add_argument("--logical-batch-size", type=positive_int, metavar="B",
                    help="rows per DP step, each drawn with probability 1/ceil(N/B): B when B "
                         "divides N, fewer when not (300 rows at 256: 150; the dry run says) "
                         "(default: automatic, about N/30 within 256-1024; 256 with --no-auto)")
    dp.add_argument("--dp-trainable", metavar="top-N|top-N+bias|lora|all",
                    help="the top N layers plus the head (default: automatic, top-2); the same "
                         "and every bias and LayerNorm below them (about 2x the time, half a "
                         "point more on sst2); LoRA adapters on every layer plus the head; or all "
                         "layers (all with --no-auto)")
    dp.add_argument("--accountant", choices=("prv", "rdp"), help="privacy accountant (default prv)")
    dp.add_argument("--dp-person-column", metavar="COLUMN",
                    help="the column naming who a row is about (customer or patient id): protect "
                         "each person, all of their rows, instead of each row. Each step uses one "
                         "row of each person it draws")
    add_workspace_options(p)
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser("runs", help="list or compare training runs")
    # `cloister runs RUN`, as a user types it after seeing the list: those runs, side by side.
    p.add_argument("run_ids", nargs="*", metavar="RUN",
                   help="show these runs side by side (a unique start or end of the id will do)")
    p.add_argument("--compare", nargs="+", metavar="RUN", help="compare these runs side by side")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_workspace_options(p)
    p.set_defaults(func=cmd_runs)

    p = subparsers.add_parser("resume", help="continue a cancelled or failed run")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    add_workspace_options(p)
    p.set_defaults(func=cmd_resume)

    p = subparsers.add_parser("demo", help="the whole flow on the bundled sample, headless",
                              description="Import the bundled SMS spam sample into a throw-away "
                              "workspace, fine-tune the default MiniLM and print test metrics.")
    p.add_argument("--epochs", type=positive_int, default=2, help="epochs to train (default 2)")
    p.add_argument("--dp", nargs="?", const="auto", metavar="top-N|top-N+bias|lora|all",
                   help="train with differential privacy at ε = 8 (the part trained: automatic "
                        "if not given); shows the DP path, not its accuracy: the sample is small")
    p.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    p.set_defaults(func=cmd_demo)
