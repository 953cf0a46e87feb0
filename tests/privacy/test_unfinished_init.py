"""An init killed before its vault file was in place left only its part file (or its lock file)
in the new folder: every command then said there was no workspace and to run 'cloister init',
and init said the folder held other files and to choose an empty one, a circle; with the
default folder, which the user never chose, the app could not start until they found a hidden
file. What Cloister itself left is now cleared by init, which finishes the job."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.cli import main as cli
from privacy.errors import FolderUnusable, VaultExists, VaultNotFound
from privacy.vault import folders
from privacy.vault.keyfile import VAULT_FILE_NAME
from privacy.vault.workspace import Workspace
from tests.privacy.conftest import FAST_KDF, PASSPHRASE

REPO = Path(__file__).resolve().parents[2]
# An init killed outright (SIGKILL) just as its vault file was written, before its rename.
_KILLED_INIT = r"""
import os, signal, sys
from privacy.vault import atomic
from privacy.vault.container import ScryptParams
from privacy.vault.workspace import Workspace
atomic.sync_to_disk = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
Workspace.create(sys.argv[1], "correct horse battery staple", kdf=ScryptParams(log2_n=10, r=8, p=1))
"""


def _aged(*paths: Path) -> None:
    """Left an hour ago: not another init's, at work now."""
    hour_ago = time.time() - 3600
    for path in paths:
        os.utime(path, (hour_ago, hour_ago))


def _left_by_a_killed_init(root: Path) -> list[str]:
    result = subprocess.run([sys.executable, "-c", _KILLED_INIT, str(root)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stderr[-2000:]
    return sorted(p.name for p in root.iterdir())


def test_a_killed_init_is_finished_by_init_not_refused(tmp_path: Path, monkeypatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "wsi"
    [left] = _left_by_a_killed_init(root)
    assert left.startswith(".tmp-") and left.endswith(".part")
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["datasets", "--workspace", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"no Cloister workspace at {root}: a 'cloister init' of this folder was interrupted" in err
    assert "run 'cloister init' for it again, which finishes it" in err
    monkeypatch.setattr(folders, "_INIT_AT_WORK_S", 0.05)  # it was killed a moment ago
    assert cli(["init", "--kdf-cost", "10", "--workspace", str(root)]) == 0
    assert "Created an encrypted workspace" in capsys.readouterr().out
    assert not (root / left).exists() and Workspace.exists(root)
    assert cli(["datasets", "--workspace", str(root)]) == 0


@pytest.mark.parametrize("left", [[".tmp-ab12CD_4.part"], [".lock"],
                                  [".lock", ".tmp-ab12cd34.part", ".DS_Store"]])
def test_a_folder_of_cloisters_own_leftovers_initialises(tmp_path: Path, left: list[str]) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    for name in left:
        (root / name).write_bytes(b'{"format": "cloister-vault"}' if name.endswith(".part") else b"")
    _aged(*(root / name for name in left))
    assert "was interrupted" in Workspace.not_found_message(root)
    with pytest.raises(VaultNotFound, match="a 'cloister init' of this folder was interrupted"):
        Workspace.unlock(root, PASSPHRASE)
    Workspace.create(root, PASSPHRASE, kdf=FAST_KDF).lock()
    assert Workspace.unlock(root, PASSPHRASE).list() == []
    # The part files are gone; a lock file is the workspace's own now.
    assert not [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("other", ["notes.txt", ".tmp-notours.partial", ".tmp-zz99zz99.part/",
                                   ".lock/", "data/"])
def test_anything_else_beside_them_is_still_refused_and_kept(tmp_path: Path, other: str) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    for name in {".lock", ".tmp-ab12cd34.part"} - {other.rstrip("/")}:
        (root / name).write_bytes(b"")
    kept = root / other.rstrip("/")
    kept.mkdir() if other.endswith("/") else kept.write_text("mine")
    _aged(*root.iterdir())
    before = sorted(p.name for p in root.iterdir())
    with pytest.raises(FolderUnusable, match="already holds other files"):
        Workspace.create(root, PASSPHRASE, kdf=FAST_KDF)
    assert sorted(p.name for p in root.iterdir()) == before  # nothing removed, nothing written
    said = Workspace.not_found_message(root)
    assert said == f"no Cloister workspace at {root}; create one with 'cloister init'"


def test_a_part_file_of_another_init_at_work_is_waited_out_not_removed(tmp_path: Path,
                                                                       monkeypatch) -> None:
    # Another init is writing its vault file now: its part file is no leftover. If that init
    # made the vault while this one waited, this one is refused as a second vault would be.
    root = tmp_path / "ws"
    root.mkdir()
    theirs = root / ".tmp-n0wb3ing.part"
    theirs.write_bytes(b"being written")
    monkeypatch.setattr(folders, "_INIT_AT_WORK_S", 0.5)
    waited: list[float] = []
    real_sleep = time.sleep

    def the_other_init_finishes(seconds: float) -> None:
        if waited:  # any later wait (a lock's) is a plain one
            return real_sleep(seconds)
        waited.append(seconds)
        os.replace(theirs, root / VAULT_FILE_NAME)

    monkeypatch.setattr(folders.time, "sleep", the_other_init_finishes)
    with pytest.raises(VaultExists):
        Workspace.create(root, PASSPHRASE, kdf=FAST_KDF)
    assert waited and 0 < waited[0] <= 0.5
    assert (root / VAULT_FILE_NAME).read_bytes() == b"being written"  # theirs, untouched
