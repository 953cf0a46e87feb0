"""Passphrase files saved by Windows tools (a byte-order mark, UTF-16): read for the passphrase
alone, and a workspace made from one before the mark was dropped still opens from it. (Split
from test_vault_cli.py.)"""
from __future__ import annotations

from pathlib import Path

import pytest

from privacy.vault.workspace import Workspace
from tests.engine.test_vault_cli import run


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_a_passphrase_file_saved_by_windows_tools_holds_just_the_passphrase(
        tmp_path: Path, monkeypatch, capsys, encoding: str) -> None:
    """Notepad's "UTF-8 with BOM" and Windows PowerShell 5.1's `>` (UTF-16) start the file with
    a byte-order mark. Read as UTF-8 it became part of the passphrase: the workspace made from
    the file then refused the passphrase typed in the app."""
    monkeypatch.delenv("CLOISTER_PASSPHRASE", raising=False)
    secret = tmp_path / "pass.txt"
    secret.write_bytes(("Correct-Horse-Battery-9\r\n").encode(encoding))
    secret.chmod(0o600)
    if encoding == "utf-16-be":  # Python's utf-16-be writes no mark: put one, as Windows does
        secret.write_bytes(b"\xfe\xff" + secret.read_bytes())
    target = tmp_path / "made-on-windows"
    code, _, err = run(capsys, "init", "--kdf-cost", "10", "--workspace", str(target),
                       "--passphrase-file", str(secret))
    assert code == 0, err
    assert Workspace.unlock(target, "Correct-Horse-Battery-9").list() == []  # as typed


def test_a_workspace_made_from_a_marked_file_before_the_mark_was_dropped_still_opens(
        tmp_path: Path, monkeypatch, capsys) -> None:
    """Up to 2026-12-07 a passphrase file's byte-order mark was read as part of the passphrase:
    a workspace made so holds it. The same file, read now without the mark, opens it all the
    same (said, with the way out), and `passwd` sets a passphrase without the mark."""
    import codecs

    monkeypatch.delenv("CLOISTER_PASSPHRASE", raising=False)
    target = tmp_path / "made-before"
    Workspace.create(target, "\ufeffCorrect-Horse-Battery-9", kdf=_fast_kdf()).lock()
    marked = tmp_path / "pass.txt"
    marked.write_bytes(codecs.BOM_UTF8 + b"Correct-Horse-Battery-9\r\n")
    marked.chmod(0o600)
    code, _, err = run(capsys, "datasets", "--workspace", str(target), "--passphrase-file", str(marked))
    assert code == 0 and "invisible byte-order mark" in err and "cloister passwd" in err
    new = tmp_path / "new.txt"
    new.write_text("Another-Horse-Battery-10\n", encoding="utf-8")
    new.chmod(0o600)
    code, _, err = run(capsys, "passwd", "--workspace", str(target), "--passphrase-file", str(marked),
                       "--new-passphrase-file", str(new), "--kdf-cost", "10")
    assert code == 0, err
    assert Workspace.unlock(target, "Another-Horse-Battery-10").list() == []
    # A wrong passphrase in a marked file is still wrong.
    marked.write_bytes(codecs.BOM_UTF8 + b"Not-The-Passphrase-11\n")
    code, _, err = run(capsys, "datasets", "--workspace", str(target), "--passphrase-file", str(marked))
    assert code == 2 and "byte-order mark" not in err


def _fast_kdf():  # noqa: ANN202
    from privacy.vault.kdf import ScryptParams

    return ScryptParams(log2_n=10)
