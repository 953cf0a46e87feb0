"""The canary test over training: checkpoints, the trained model, run records, resume.

Canary texts, label names and the dataset name go in through ``cloister import``; a tiny model
trains on them, is cancelled mid-run (leaving a checkpoint), then resumed through ``cloister
resume`` and listed by ``cloister runs``. At both points every file under the workspace, the
temp folder and the caches is scanned: label names sit in the model config and the metrics,
texts in the misclassified examples, so all of it must be inside encrypted containers.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main as cli
from engine.events import Cancelled, CancelToken, Step
from tests.canary import assert_no_canaries
from tests.test_no_plaintext import ALL_CANARIES, LABEL_CANARIES, NAME_CANARY, PASSPHRASE, canary_vault


def test_training_checkpoint_and_resume_leave_no_plaintext(
    tmp_path: Path, isolated_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from engine.training import TrainConfig, train
    from engine.training.checkpoint import load_checkpoint
    from privacy.vault.workspace import Workspace

    _user, _source, model_folder = canary_vault(tmp_path, monkeypatch, rows=60)

    ws = Workspace.unlock(isolated_dirs["CLOISTER_WORKSPACE"], PASSPHRASE)
    token = CancelToken()
    config = TrainConfig(dataset=NAME_CANARY, model_path=str(model_folder), epochs=2, batch_size=8,
                         max_length=32, early_stopping_patience=None)
    events = []
    for event in train(ws, config, cancel=token):
        events.append(event)
        if isinstance(event, Step) and event.epoch > 1.2:
            token.cancel()
    assert isinstance(events[-1], Cancelled), events[-1]
    run_id = events[0].run_id
    assert load_checkpoint(ws, run_id).progress.global_step == events[-1].step
    ws.lock()
    # Mid-run: checkpoint, best model (config with id2label) and run record all exist now.
    assert_no_canaries(isolated_dirs, ALL_CANARIES)

    assert cli(["resume", run_id]) == 0
    capsys.readouterr()
    assert cli(["runs", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["labels"] == sorted(LABEL_CANARIES)  # the data really went through
    assert records[0]["status"] == "finished" and records[0]["dataset"] == NAME_CANARY
    scanned = assert_no_canaries(isolated_dirs, ALL_CANARIES)
    assert scanned >= 10
    # the tokenizer's scratch folders are gone too
    assert not list(isolated_dirs["TMPDIR"].glob("cloister-tok-*"))
