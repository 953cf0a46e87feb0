"""A full disk cannot leave a change made but not logged: the room for the change and its audit
entry is checked before the change commits; and if another program fills the disk between the
two, the error says the change was made. Disk space is the edge faked here (a real full disk
needs a mount), at the one call that measures it."""
from __future__ import annotations

import errno
from collections import namedtuple
from pathlib import Path

import pytest

from privacy.errors import ChangeNotLogged
from privacy.vault import index
from privacy.vault.audit import AuditLog
from privacy.vault.workspace import Workspace
from tests.privacy.conftest import PASSPHRASE

Usage = namedtuple("Usage", "total used free")


def _state(ws: Workspace) -> tuple[list[str], list[str], list[str]]:
    # The files too: a refused write left its encrypted file, taking the room it was refused
    # for, until an unlock ten minutes later collected it.
    files = sorted(str(p.relative_to(ws.root)) for p in (ws.root / "objects").rglob("*") if p.is_file())
    return sorted(ws.list()), [e.action for e in ws.verify_audit().entries], files


def _disk_with(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    monkeypatch.setattr(index.shutil, "disk_usage", lambda _p: Usage(10**9, 10**9 - free, free))


def test_a_change_without_room_for_its_entry_is_refused_before_it_commits(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace.write_bytes("datasets/a", b"kept")
    workspace.write_bytes("datasets/b", b"also kept")
    workspace.audit("dataset.imported", dataset="a")
    before = _state(workspace)
    _disk_with(monkeypatch, 100 * 1024)
    for change in (lambda: workspace.write_bytes("datasets/c", b"new"),
                   lambda: workspace.rename_prefix("datasets/a", "datasets/d")):
        with pytest.raises(OSError) as refused:
            change()
        assert refused.value.errno == errno.ENOSPC
        assert "has 100 KiB free" in str(refused.value) and "Nothing was changed" in str(refused.value)
        assert _state(workspace) == before
    assert workspace.read_bytes("datasets/a") == b"kept"
    # Deleting is how a full vault is freed: it needs room for its entry only...
    workspace.delete("datasets/a")
    assert "datasets/a" not in workspace.list()
    # ...which it must still have.
    _disk_with(monkeypatch, 8 * 1024)
    with pytest.raises(OSError, match="Nothing was changed"):
        workspace.delete("datasets/b")
    assert workspace.read_bytes("datasets/b") == b"also kept"
    _disk_with(monkeypatch, 10**8)
    workspace.write_bytes("datasets/c", b"new")  # with room, the same change goes through
    assert "datasets/c" in workspace.list()


def test_a_passphrase_change_without_room_keeps_the_old_passphrase(
        tmp_path: Path, workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    _disk_with(monkeypatch, 10 * 1024)
    with pytest.raises(OSError, match="Nothing was changed"):
        workspace.change_passphrase(PASSPHRASE, "a new passphrase, long enough 42")
    workspace.lock()
    Workspace.unlock(workspace.root, PASSPHRASE).lock()  # the old one still opens it


def test_an_entry_refused_after_its_change_says_the_change_was_made(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # The command used to say only "No space left on device", though the dataset was renamed
    # (or the passphrase changed): a user then retried, or thought the old passphrase still held.
    def full(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(AuditLog, "append", full)
    with pytest.raises(ChangeNotLogged) as said:
        workspace.change_passphrase(PASSPHRASE, "a new passphrase, long enough 42")
    assert str(said.value).startswith("the audit entry 'vault.passphrase_changed' could not be "
                                      "written (No space left on device): the change it records "
                                      "was made")
    workspace.lock()
    Workspace.unlock(workspace.root, "a new passphrase, long enough 42").lock()


def test_a_read_only_workspace_opens_without_a_warning_about_an_interruption(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # Every command on a read-only mount warned "could not clean up after an earlier
    # interruption", though nothing had been interrupted. (Root ignores file modes here, so the
    # read-only mount is simulated at the housekeeping it stops.)
    import logging

    root = workspace.root
    workspace.lock()

    def read_only(_self) -> None:  # noqa: ANN001
        raise OSError(errno.EROFS, "Read-only file system", str(root / ".lock"))

    monkeypatch.setattr(Workspace, "_refresh_anchor", read_only)
    with caplog.at_level(logging.INFO, logger="privacy.vault.workspace"):
        opened = Workspace.unlock(root, PASSPHRASE)
    assert [r.levelno for r in caplog.records if "workspace" in r.getMessage()] == [logging.INFO]
    assert "opened for reading only" in caplog.text and "interruption" not in caplog.text
    opened.lock()


def test_an_init_without_room_leaves_no_vault_and_a_retry_with_room_succeeds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # On a disk with a few KiB free, init wrote the vault file, then refused its index with
    # "Nothing was changed": a retry said "a workspace already exists", and its audit log never
    # got its "vault.created" entry.
    from tests.privacy.conftest import FAST_KDF

    root = tmp_path / "new"
    _disk_with(monkeypatch, 12 * 1024)
    with pytest.raises(OSError, match="Nothing was changed") as refused:
        Workspace.create(root, PASSPHRASE, kdf=FAST_KDF)
    assert refused.value.errno == errno.ENOSPC
    assert not Workspace.vault_exists(root)
    assert not root.exists() or not [p.name for p in root.iterdir() if p.name != ".lock"]
    _disk_with(monkeypatch, 10**8)
    ws = Workspace.create(root, PASSPHRASE, kdf=FAST_KDF)
    assert [e.action for e in ws.verify_audit().entries] == ["vault.created"]
    ws.lock()


def test_an_entry_in_the_log_whose_head_the_disk_refused_is_not_said_unwritten(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # On a full disk the entry still fitted in the log file's last block, but the head (a new
    # file) did not: the command said "the audit log will not show it" of an entry it shows,
    # and `cloister scan`, which changes nothing, failed without its report.
    import logging

    real = Workspace._audit_log

    def head_refused(self: Workspace, *args, **kwargs) -> AuditLog:  # noqa: ANN002, ANN003
        log_ = real(self, *args, **kwargs)

        def full(_head: dict) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        log_._write_head = full  # type: ignore[method-assign]
        return log_

    workspace.audit("dataset.imported", dataset="a")
    monkeypatch.setattr(Workspace, "_audit_log", head_refused)
    with caplog.at_level(logging.WARNING):
        workspace.audit("dataset.scanned", dataset="a")  # no ChangeNotLogged
    assert "audit entry 2 was written" in caplog.text and "No space left on device" in caplog.text
    monkeypatch.setattr(Workspace, "_audit_log", real)
    assert [e.action for e in workspace.verify_audit().entries][-2:] == ["dataset.imported",
                                                                         "dataset.scanned"]
    root = workspace.root
    workspace.lock()
    reopened = Workspace.unlock(root, PASSPHRASE)  # what a crash there leaves: it opens
    reopened.audit("dataset.renamed", dataset="a")
    report = reopened.verify_audit()
    assert report.ok and [e.action for e in report.entries][-1] == "dataset.renamed"
    reopened.lock()
