"""`cloister fix DATASET`: the import's fixes on a dataset already stored (imported with
--force), without the source file; a refused fix or remaining blocking problems change nothing."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from engine.cli import main as cli
from tests.engine.test_fix_cli import FIXES, digest
from tests.engine.tiny_model import tiny_bert  # noqa: F401


@pytest.fixture
def forced(real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """The CFPB excerpt stored as it is (--force), and the source file then gone."""
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "fix stored test passphrase")
    source = tmp_path / "complaints.csv"
    shutil.copy(real_data / "cfpb_complaints_extract" / "complaints.csv", source)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    assert cli(["import", str(source), "--name", "cfpb", "--force"]) == 0
    source.unlink()
    capsys.readouterr()
    return Path(os.environ["CLOISTER_WORKSPACE"])


def _stored(workspace: Path) -> dict[Path, str]:
    return {p: digest(p) for p in workspace.rglob("*") if p.is_file()}


def _audited_fixes(capsys) -> list[str]:
    capsys.readouterr()
    assert cli(["audit"]) == 0
    return [line.split("fix=")[1].split()[0].strip('"') for line in capsys.readouterr().out.splitlines()
            if "dataset.fixed" in line]


def test_a_forced_dataset_is_fixed_in_place_and_trains(forced: Path, tiny_bert, capsys) -> None:  # noqa: F811
    model = ["--model", str(tiny_bert)]
    assert cli(["train", "cfpb", *model, "--dry-run"]) == 2
    assert "Fix them in the workspace with `cloister fix cfpb`" in capsys.readouterr().err
    assert cli(["show", "cfpb", "--rows", "0"]) == 0
    shown = capsys.readouterr().out
    assert "Blocks training (imported with --force)" in shown and "fix: --drop-empty" in shown
    assert "fix: --min-class-size 2" in shown

    before = _stored(forced)
    assert cli(["fix", "cfpb", "--drop-empty"]) == 2  # the one-example class still blocks
    out, err = capsys.readouterr()
    assert "fixed: dropped 275 rows with an empty text or no label" in out
    assert "not stored: blocking problems remain in 'cfpb' (1 kind)" in err
    assert _stored(forced) == before

    assert cli(["fix", "cfpb", *FIXES]) == 0
    out = capsys.readouterr().out
    assert "376 -> 97 rows, 9 -> 3 classes" in out
    assert "Stored dataset 'cfpb' (97 rows, 3 classes) in place of the rows it had" in out
    assert cli(["show", "cfpb", "--rows", "0"]) == 0
    shown = capsys.readouterr().out
    assert "Blocks training" not in shown and "Fixed: dropped 4 rows repeating an earlier row" in shown
    assert cli(["train", "cfpb", *model, "--dry-run"]) == 0
    assert _audited_fixes(capsys) == ["drop-empty", "drop-duplicates", "small-classes"]

    # A later fix adds to the history; the audit log gains that step alone.
    assert cli(["fix", "cfpb", "--strip-markup"]) == 0
    assert _audited_fixes(capsys) == ["drop-empty", "drop-duplicates", "small-classes", "strip-markup"]


def test_fixed_rows_go_to_a_new_dataset_and_bad_requests_change_nothing(forced: Path, capsys) -> None:
    before = _stored(forced)
    assert cli(["fix", "cfpb"]) == 2  # no fix named
    assert "nothing to fix in 'cfpb' with these options: name a fix" in capsys.readouterr().err
    assert cli(["fix", "cfpb", "--drop-empty", "--min-class-size", "40", "--drop-small"]) == 2
    assert "fewer than two classes" in capsys.readouterr().err.lower()
    assert cli(["fix", "nope", "--drop-empty"]) == 2
    assert "nope" in capsys.readouterr().err
    assert _stored(forced) == before

    assert cli(["fix", "cfpb", *FIXES, "--name", "cfpb-fixed"]) == 0
    out = capsys.readouterr().out
    assert "Stored dataset 'cfpb-fixed' (97 rows, 3 classes) from 'cfpb'" in out
    # Said as it is: the stored dataset stays, it is not "replaced when this is stored".
    assert "('cfpb' is kept as it is; the fixed rows become 'cfpb-fixed')" in out
    assert "replaced only when" not in out
    assert cli(["fix", "cfpb", *FIXES, "--name", "cfpb-fixed"]) == 2  # taken: not replaced
    assert "already exists; choose another --name, or pass --replace" in capsys.readouterr().err
    assert cli(["datasets"]) == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows == {"cfpb": "376", "cfpb-fixed": "97"}  # the original stays as it was
    assert cli(["show", "cfpb", "--rows", "0"]) == 0
    assert "Blocks training" in capsys.readouterr().out


def test_a_name_that_means_something_to_a_shell_is_quoted_in_the_commands_suggested(
        real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_bert, capsys) -> None:  # noqa: F811
    # "fix it here with `cloister fix q$(id>PWNED)`": pasted, the shell runs what the name holds.
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "fix stored test passphrase")
    assert cli(["init", "--kdf-cost", "10"]) == 0
    source = real_data / "cfpb_complaints_extract" / "complaints.csv"
    assert cli(["import", str(source), "--name", "q$(id>PWNED)", "--force"]) == 0
    capsys.readouterr()
    assert cli(["show", "q$(id>PWNED)", "--rows", "0"]) == 0
    assert "fix it here with `cloister fix 'q$(id>PWNED)'`" in capsys.readouterr().out
    assert cli(["train", "q$(id>PWNED)", "--model", str(tiny_bert), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "`cloister fix 'q$(id>PWNED)'` and the fixes `cloister show 'q$(id>PWNED)'` names" in err
