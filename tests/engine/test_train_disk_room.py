"""A run is refused before it trains when the workspace's disk cannot hold its checkpoints and
model: it used to train to the end and then fail at the first save, losing the whole run."""
from __future__ import annotations

import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from engine.cli import main as cli
from engine.models.folders import check_model_folder
from engine.training.disk_room import bytes_needed
from tests.engine.test_train_cli import ready, small  # noqa: F401
from tests.engine.tiny_model import tiny_bert  # noqa: F401

Usage = namedtuple("Usage", "total used free")


def test_a_run_the_disk_cannot_hold_is_refused_before_training(
        ready, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    real = shutil.disk_usage
    needed = bytes_needed(check_model_folder(tiny_bert).approx_parameters)

    def nearly_full(path):  # noqa: ANN001, ANN202 - the disk is the edge a test cannot fill
        return Usage(real(path).total, real(path).used, needed - 1)

    monkeypatch.setattr("engine.training.disk_room.shutil.disk_usage", nearly_full)
    assert cli(small(tiny_bert)) != 0
    _, err = capsys.readouterr()
    assert "the disk that holds the workspace" in err and "needs about" in err
    assert "Nothing was trained or changed" in err
    assert "training / " not in err and "validation at step" not in err  # refused before a step
    assert cli(["runs", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"  # no run recorded

    monkeypatch.setattr("engine.training.disk_room.shutil.disk_usage",
                        lambda path: Usage(real(path).total, real(path).used, needed))
    assert cli(small(tiny_bert)) == 0  # exactly enough room: it trains
