"""``cloister train --dp`` end to end: train, list with ε, export a card with the privacy section."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from engine.cli import main as cli
from tests.engine.test_train_cli import ready, small  # noqa: F401
from tests.engine.tiny_model import tiny_bert  # noqa: F401

torch.set_num_threads(1)


def test_dp_training_through_the_cli(ready, tiny_bert, capsys, tmp_path: Path) -> None:
    args = small(tiny_bert, "--dp", "--epsilon", "3", "--logical-batch-size", "16",
                 "--max-grad-norm", "0.5", "--accountant", "rdp", "--dp-trainable", "top-2", "--json")
    assert cli(args) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    steps = [e for e in events if e["event"] == "step"]
    assert steps and all(0 < e["epsilon"] <= 3.0 for e in steps)
    run_id = events[-1]["run_id"]

    assert cli(["runs", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    dp = record["privacy"]
    assert record["config"]["dp"] is True and dp["max_grad_norm"] == 0.5
    assert dp["epsilon_spent"] == steps[-1]["epsilon"] and dp["accountant"] == "rdp"
    assert cli(["runs"]) == 0
    listing = capsys.readouterr().out
    assert "epsilon" in listing.splitlines()[0] and f"{dp['epsilon_spent']:.2f} (δ" in listing

    # Without --json the run ends saying its guarantee, and evaluate says its metrics are not.
    assert cli([a for a in args if a != "--json"]) == 0
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith("differential privacy: ε = ") and " spent of 3, δ = " in said
    assert "protecting each row" in said and "validation and test metrics are not private" in said
    assert cli(["evaluate", run_id]) == 0
    assert "trained with differential privacy; these metrics" in capsys.readouterr().err

    out = tmp_path / "export"
    assert cli(["export", run_id, "--out", str(out), "--plaintext"]) == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "### Differential privacy" in card and "**one training row**" in card
    # The settings table agrees with the privacy section: no batch clipping DP-SGD did not
    # apply, and the δ the run used rather than "None".
    assert "| grad_clip |" not in card and "| dp_delta | None |" not in card
    # What the card itself and the automatic settings read from every row is said uncovered.
    assert "label counts and split sizes are read outside the noisy steps and not counted" in card
    assert f"| dp_delta | {dp['delta']}" in card
    assert "per training row" in card
    for words in (f"| ε spent | {dp['epsilon_spent']:.4f} |", "| ε target | 3 |", "| accountant | rdp |",
                  f"| noise multiplier σ | {dp['noise_multiplier']:.4f} |", "| clipping norm C (per row) | 0.5 |",
                  f"| steps | {dp['steps']} of {dp['planned_steps']} planned |", "Poisson, rate",
                  "validation and test rows",
                  "drawn from a secret of this run kept in the vault, not from the seed",
                  f"| weights trained | the top 2 encoder layers, the pooler and the head "
                  f"({dp['trainable_parameters']:,} values) |"):
        assert words in card, words


def test_dp_flags_without_dp_are_refused(ready, tiny_bert, capsys) -> None:
    assert cli(small(tiny_bert, "--epsilon", "3")) == 2
    assert "--epsilon only applies with --dp" in capsys.readouterr().err


def test_non_dp_runs_show_no_epsilon(ready, tiny_bert, capsys) -> None:
    assert cli(small(tiny_bert)) == 0
    capsys.readouterr()
    assert cli(["runs"]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert "epsilon" in header and " - " in row


def test_a_dry_run_refuses_what_the_run_would_refuse_and_shows_the_noise(ready, tiny_bert, capsys) -> None:
    """100 rows: 80 train. --dry-run used to approve these and print an estimate; the run then
    failed, and some of them left a failed run behind."""
    refusals = [
        (("--delta", "0.5"), "δ = 0.5 is not below 1/N = 0.0125 for N = 80 training rows"),
        (("--delta", "-1"), "δ = -1 is not a probability above 0 and below 1"),
        (("--logical-batch-size", "100000"), "logical batch of 100000 rows is larger than the 80 training rows"),
        (("--epsilon", "0.01"), "ε = 0.01 is too small for training to make progress"),
        (("--epsilon", "inf"), "ε is inf: use a positive, finite budget"),
        (("--dp-trainable", "top-99"), "--dp-trainable top-99: the model has only 2 layers"),
    ]
    for flags, words in refusals:
        for dry in (("--dry-run",), ()):
            assert cli(small(tiny_bert, "--dp", *flags, *dry)) == 2, flags
            assert words in capsys.readouterr().err, flags
    if not torch.cuda.is_available():  # a GPU asked for on a machine without one
        assert cli(small(tiny_bert, "--device", "cuda", "--dry-run")) == 2
        assert "no CUDA GPU is available" in capsys.readouterr().err
    assert cli(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # refused before any run was recorded
    assert cli(small(tiny_bert, "--dp", "--logical-batch-size", "16", "--dry-run")) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("differential privacy:"))
    assert "ε = 8, δ = " in line and "per training row, over 80 training rows" in line
    assert "5 steps of about 16 (sampling rate 0.2)" in line and "noise σ = " in line
    # What DP changes is said, not left out: few rows learn little; class weights go off.
    assert "warning: 80 training rows are few for DP" in line
    assert "  class_weights = off: differential privacy: weighting rows by class" in out
    assert "dry run: nothing was trained" in out
    # Above half the rows, Poisson sampling takes each row with probability 1/2 whatever the
    # batch: the line says how many rows a step will hold, and that it is not what was asked.
    assert cli(small(tiny_bert, "--dp", "--logical-batch-size", "60", "--dry-run")) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("differential privacy:"))
    assert "steps of about 40 rather than 60: each of the 80 training rows joins a step with " \
           "probability 1/2 (a logical batch of 40 says so exactly)" in line


def test_resume_ends_saying_the_guarantee_as_train_does(ready, tiny_bert, capsys) -> None:
    import os

    from engine.events import Cancelled, CancelToken, Step
    from engine.training import TrainConfig, train
    from privacy.vault.workspace import Workspace

    config = TrainConfig(dataset="toy", model_path=str(tiny_bert), epochs=2, batch_size=8,
                         max_length=32, dp=True, dp_epsilon=3.0, dp_logical_batch_size=16,
                         dp_accountant="rdp")
    token = CancelToken()
    with Workspace.unlock(Path(os.environ["CLOISTER_WORKSPACE"]), os.environ["CLOISTER_PASSPHRASE"]) as ws:
        events = []
        for event in train(ws, config, cancel=token):
            events.append(event)
            if isinstance(event, Step) and event.step == 2:
                token.cancel()
    assert isinstance(events[-1], Cancelled)
    assert cli(["resume", events[0].run_id]) == 0
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith("differential privacy: ε = ") and " spent of 3, δ = " in said


def test_another_dp_run_on_the_same_rows_is_told_what_earlier_runs_spent(ready, tiny_bert, capsys) -> None:
    """Each DP run's ε covers its own model; nothing said so where a user starts another."""
    dp = ("--dp", "--epsilon", "3", "--logical-batch-size", "16", "--accountant", "rdp")
    assert cli(small(tiny_bert, *dp, "--dry-run")) == 0
    assert "earlier runs on this dataset" not in capsys.readouterr().out  # the first: nothing before
    assert cli(small(tiny_bert, *dp)) == 0
    assert cli(small(tiny_bert)) == 0  # and one without DP
    capsys.readouterr()
    assert cli(["runs", "--json"]) == 0
    spent = next(r["privacy"]["epsilon_spent"] for r in json.loads(capsys.readouterr().out) if r["privacy"])
    assert cli(small(tiny_bert, *dp, "--dry-run")) == 0
    out = capsys.readouterr().out
    assert (f"note: earlier runs on this dataset: 1 with DP spent ε = {spent:.2f} ({spent:.2f} in all); "
            "1 without DP, whose models carry no guarantee. This run's ε counts only its own model"
            ) in out
