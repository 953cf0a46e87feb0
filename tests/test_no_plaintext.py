"""The canary test: user data must not exist in plaintext anywhere on disk after import.

A CSV with unique canary strings in its texts, its label names and the dataset name goes
through ``cloister import`` (in-process, as a user's command would); then every file under the
workspace, the temp folder and the HF / datasets / XDG caches is scanned for the canaries.
Later stages (training, prediction, export) extend this file with their own steps.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.cli import main as cli
from tests.canary import assert_no_canaries, find_canaries

TEXT_CANARIES = [f"zqxcanarytext{i:02d}" for i in range(8)]
LABEL_CANARIES = ["zqxcanarylabelalpha", "zqxcanarylabelbeta"]
NAME_CANARY = "zqxcanarydatasetname"
PASSPHRASE = "canary passphrase"
RENAMED_CANARY = "zqxcanaryrenamed"
ALL_CANARIES = [*TEXT_CANARIES, *LABEL_CANARIES, NAME_CANARY, RENAMED_CANARY]


def canary_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *,
                 rows: int = 40) -> tuple[Path, Path, Path]:
    """A workspace (cheap KDF) holding the canary dataset, imported through the CLI, plus a
    tiny BERT folder. Returns (the user's own folder, never scanned; the source CSV in it;
    the model folder)."""
    import torch

    from tests.engine.tiny_model import make_tiny_bert

    torch.set_num_threads(1)
    user = tmp_path / "user_documents"
    user.mkdir()
    source = write_canary_csv(user / "canary_source.csv", rows=rows)
    model_folder = make_tiny_bert(tmp_path / "models" / "tiny-bert")
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", NAME_CANARY]) == 0
    return user, source, model_folder


def write_canary_csv(path: Path, *, rows: int = 40) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for i in range(rows):
            text = f"message {i} mentions {TEXT_CANARIES[i % len(TEXT_CANARIES)]} in passing"
            writer.writerow([text, LABEL_CANARIES[i % 2]])
    return path


@pytest.fixture
def source_csv(tmp_path: Path) -> Path:
    # Outside every scanned folder: the user's own file is theirs, we only must not copy it.
    outside = tmp_path / "user_documents"
    outside.mkdir()
    return write_canary_csv(outside / "canary_source.csv")


def test_scanner_finds_planted_canaries(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "leak.bin").write_bytes(b"xx" + "zqxcanarytext03".encode("utf-16-le"))
    (tmp_path / "a" / "zqxcanarydatasetname.tmp").write_bytes(b"")
    hits = find_canaries([tmp_path / "a"], ALL_CANARIES)
    assert {(p.name, c) for p, c in hits} == {
        ("leak.bin", "zqxcanarytext03"),
        ("zqxcanarydatasetname.tmp", "zqxcanarydatasetname"),
    }
    with pytest.raises(AssertionError, match="zqxcanarytext03"):
        assert_no_canaries([tmp_path / "a"], ALL_CANARIES)


def test_import_leaves_no_plaintext(source_csv: Path, isolated_dirs: dict[str, Path],
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    workspace = isolated_dirs["CLOISTER_WORKSPACE"]
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source_csv), "--name", NAME_CANARY]) == 0
    assert cli(["datasets"]) == 0
    assert cli(["show", NAME_CANARY, "--rows", "3"]) == 0
    assert cli(["import", str(source_csv), "--name", "second"]) == 0
    assert cli(["rename", "second", RENAMED_CANARY]) == 0
    assert cli(["audit"]) == 0
    assert cli(["audit", "--verify"]) == 0
    out = capsys.readouterr().out
    # The data really went in (the commands decrypt it for the terminal) ...
    assert NAME_CANARY in out and LABEL_CANARIES[0] in out and TEXT_CANARIES[0] in out
    assert RENAMED_CANARY in out  # the audit listing names the renamed dataset
    # ... yet nothing on disk holds it in plaintext.
    scanned = assert_no_canaries(isolated_dirs, ALL_CANARIES)
    assert scanned >= 6  # vault, index, audit log and head, meta and table objects
    assert sum(1 for p in workspace.rglob("*") if p.is_file()) >= 6
