"""The canary test over evaluation, prediction and export.

Canary texts, label names and the dataset name go in through ``cloister import``; a tiny model
is trained on them; then ``cloister evaluate`` (showing mistakes), ``predict`` (a text and a
file) and ``export`` (sealed) run. The terminal and the files the user explicitly asked for
(``--output``, a ``--plaintext`` export) may hold the data; nothing else on disk may: every
file under the workspace, the temp folder and the caches — and the sealed export itself — is
scanned for the canaries.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main as cli
from engine.events import Finished
from tests.canary import assert_no_canaries, find_canaries
from tests.test_no_plaintext import (
    ALL_CANARIES, LABEL_CANARIES, NAME_CANARY, PASSPHRASE, TEXT_CANARIES, canary_vault,
)


def test_evaluate_predict_export_leave_no_plaintext(
    tmp_path: Path, isolated_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from engine.runs import list_runs
    from engine.training import TrainConfig, train
    from privacy.vault.workspace import Workspace

    user, source, model_folder = canary_vault(tmp_path, monkeypatch)
    secret = user / "export-passphrase.txt"
    secret.write_text("export passphrase\n")

    ws = Workspace.unlock(isolated_dirs["CLOISTER_WORKSPACE"], PASSPHRASE)
    events = list(train(ws, TrainConfig(dataset=NAME_CANARY, model_path=str(model_folder), epochs=1,
                                        batch_size=8, max_length=32)))
    assert isinstance(events[-1], Finished), events[-1]
    (run,) = list_runs(ws)
    ws.lock()
    capsys.readouterr()

    assert cli(["evaluate", run.run_id, "--misclassified", "40"]) == 0
    assert cli(["evaluate", run.run_id, "--data", str(source)]) == 0
    assert cli(["predict", run.run_id, "--text", f"what about {TEXT_CANARIES[0]}"]) == 0
    scored = user / "scored.csv"
    assert cli(["predict", run.run_id, "--input", str(source), "--output", str(scored)]) == 0
    sealed = user / "model.cloister-export"
    assert cli(["export", run.run_id, "--out", str(sealed), "--export-passphrase-file", str(secret)]) == 0
    plain = user / "plain-export"
    assert cli(["export", run.run_id, "--out", str(plain), "--plaintext"]) == 0
    out = capsys.readouterr().out

    # The data really flowed: labels in the terminal and in the files the user asked for ...
    assert LABEL_CANARIES[0] in out and LABEL_CANARIES[1] in out
    assert {c for _, c in find_canaries([scored], ALL_CANARIES)} >= set(LABEL_CANARIES)
    assert {c for _, c in find_canaries([plain / "config.json"], ALL_CANARIES)} == set(LABEL_CANARIES)
    # ... the model card names the dataset but never a row ...
    assert not {c for _, c in find_canaries([plain / "README.md"], TEXT_CANARIES)}
    # ... and nothing else on disk holds any of it, the sealed export included.
    scanned = assert_no_canaries([*isolated_dirs.values(), sealed], ALL_CANARIES)
    assert scanned >= 10
