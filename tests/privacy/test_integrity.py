"""Issue #13: each attack from the security review, reproduced on a real workspace, and the
refusal asserted. Files are cut, deleted and put back with plain file operations, exactly as
someone with write access to the folder (or an old backup) would."""
from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from privacy.errors import ContainerError, IntegrityError
from privacy.vault.anchor import mirror_path
from privacy.vault.audit import RESTORE_ACTION, TAMPER_ACTION, AuditTampered
from privacy.vault.workspace import (
    AUDIT_FILE,
    AUDIT_HEAD_FILE,
    INDEX_BACKUP_FILE,
    INDEX_FILE,
    Workspace,
)
from tests.privacy.conftest import PASSPHRASE
from tests.privacy.test_audit import records  # the audit log split into its length-prefixed records


def snapshot(root: Path, *names: str) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in names}


def put_back(root: Path, saved: dict[str, bytes]) -> None:
    for name, data in saved.items():
        (root / name).write_bytes(data)


@pytest.fixture
def logged(workspace: Workspace) -> Workspace:
    for i in range(4):
        workspace.audit("dataset.imported", dataset=f"set{i}")
    return workspace  # 5 entries: vault.created + 4


# ----- 1. the audit log cannot lose its tail -------------------------------------------------
def test_a_cut_tail_is_one_finding_not_two(logged: Workspace) -> None:
    # The head and the vault's anchor both record the count: each said the cut in its words,
    # "the log ends after 3 entries but 5 were written ...; the log ends after 3 entries, but
    # the vault records that 5 were written ...", one fact read as two.
    path = logged.root / AUDIT_FILE
    path.write_bytes(b"".join(records(path)[:-2]))
    problems = logged.verify_audit().problems
    assert [p for p in problems if "ends after 3 entries" in p] == [
        "the log ends after 3 entries, but the vault records that 5 were written: the log was "
        "deleted, cut, or replaced by an older copy"]


def test_tail_cut_then_append_is_refused_and_recorded(logged: Workspace) -> None:
    path = logged.root / AUDIT_FILE
    path.write_bytes(b"".join(records(path)[:-2]))  # cut 2 of 5
    with pytest.raises(AuditTampered, match="cut off the end|vault records that 5"):
        logged.audit("dataset.deleted", dataset="set0")
    report = logged.verify_audit()
    assert not report.ok  # the review's probe: after one append it used to verify ok
    assert [e.action for e in report.entries] == ["vault.created", "dataset.imported",
                                                   "dataset.imported", TAMPER_ACTION]
    assert "dataset.deleted" not in {e.action for e in report.entries}
    with pytest.raises(AuditTampered):  # it keeps refusing, and records the refusal only once
        logged.audit("dataset.deleted", dataset="set0")
    assert [e.action for e in logged.verify_audit().entries].count(TAMPER_ACTION) == 1


def test_cut_into_the_last_recorded_entry_is_not_dropped_silently(logged: Workspace) -> None:
    path = logged.root / AUDIT_FILE
    path.write_bytes(path.read_bytes()[:-10])  # partway into entry 4, which the head names
    with pytest.raises(AuditTampered):
        logged.audit("dataset.deleted", dataset="set0")
    assert not logged.verify_audit().ok


def test_log_and_head_deleted_is_detected(logged: Workspace) -> None:
    (logged.root / AUDIT_FILE).unlink()
    (logged.root / AUDIT_HEAD_FILE).unlink()
    problems = logged.verify_audit().problems
    assert any("log is missing or empty, but the vault records that 5 were written" in p
               for p in problems)
    with pytest.raises(AuditTampered):
        logged.audit("dataset.imported", dataset="x")
    with pytest.raises(IntegrityError, match="failed its integrity check.*5 were written"):
        Workspace.unlock(logged.root, PASSPHRASE)


def test_head_alone_deleted_is_refused_once_then_repaired_with_a_trace(logged: Workspace) -> None:
    (logged.root / AUDIT_HEAD_FILE).unlink()  # the log still reaches what the vault records
    with pytest.raises(AuditTampered, match="head record is missing"):
        logged.audit("dataset.imported", dataset="x")
    logged.audit("dataset.imported", dataset="y")  # nothing was lost: it goes on
    report = logged.verify_audit()
    assert report.ok and [e.action for e in report.entries][-2:] == [TAMPER_ACTION,
                                                                     "dataset.imported"]


def test_old_log_and_head_pair_restored_is_detected(logged: Workspace) -> None:
    old = snapshot(logged.root, AUDIT_FILE, AUDIT_HEAD_FILE)
    logged.audit("dataset.deleted", dataset="set1")
    logged.audit("run.exported", run="r1")
    put_back(logged.root, old)  # a consistent pair: the head alone cannot tell
    report = logged.verify_audit()
    assert any("the log ends after 5 entries, but the vault records that 7" in p
               for p in report.problems)
    with pytest.raises(IntegrityError, match="7 were written"):
        Workspace.unlock(logged.root, PASSPHRASE)


def test_whole_workspace_restored_from_an_old_backup_is_caught_by_the_mirror(
        logged: Workspace, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    shutil.copytree(logged.root, backup)  # vault file, index, log and head, all consistent
    logged.write_bytes("datasets/new/table", b"newer data")
    logged.audit("dataset.imported", dataset="new")
    shutil.rmtree(logged.root)
    shutil.copytree(backup, logged.root)
    with pytest.raises(IntegrityError, match="older than the record kept outside it") as refused:
        Workspace.unlock(logged.root, PASSPHRASE)
    assert "To keep this copy, accept it" in str(refused.value)  # one cause, one way on
    # An old backup whose log was also cut is more than an older copy: every problem is said.
    path = logged.root / AUDIT_FILE
    path.write_bytes(b"".join(records(path)[:2]))
    with pytest.raises(IntegrityError) as refused:
        Workspace.unlock(logged.root, PASSPHRASE)
    said = str(refused.value)
    assert "older than the record kept outside it" in said and "the log ends after 2 entries" in said
    assert "To keep this copy, accept it" not in said and "failed its integrity check" in said


def test_a_second_copy_in_use_is_named_not_taken_for_a_restored_backup(
        logged: Workspace, tmp_path: Path) -> None:
    # An administrator copied the workspace to try something: once the copy was changed, the
    # original (never rolled back) was refused as "restored from an older copy or backup".
    copy = tmp_path / "copy"
    shutil.copytree(logged.root, copy)
    other = Workspace.unlock(copy, PASSPHRASE)
    other.audit("dataset.imported", dataset="in-the-copy")
    other.lock()
    with pytest.raises(IntegrityError) as refused:
        Workspace.unlock(logged.root, PASSPHRASE)
    said = str(refused.value)
    assert f"another copy of this workspace, in {copy.resolve()}, was changed on this computer" in said
    assert "restored from an older copy" not in said
    # The same folder put back from a backup is still called what it is.
    backup = tmp_path / "backup"
    shutil.copytree(copy, backup)
    again = Workspace.unlock(copy, PASSPHRASE)
    again.audit("dataset.imported", dataset="newer")
    again.lock()
    shutil.rmtree(copy)
    shutil.copytree(backup, copy)
    with pytest.raises(IntegrityError, match="restored from an older copy or backup"):
        Workspace.unlock(copy, PASSPHRASE)


def test_mirror_lagging_after_a_crash_is_tolerated_and_brought_forward(logged: Workspace) -> None:
    mirror = mirror_path(logged._require().vault_id)
    mirror.unlink()  # as if the process died between the vault file and the mirror write
    ws = Workspace.unlock(logged.root, PASSPHRASE)
    assert ws.verify_audit().ok and mirror.exists()
    assert json.loads(mirror.read_text())["audit_seq"] == 4


def test_edited_mirror_is_reported(logged: Workspace) -> None:
    mirror = mirror_path(logged._require().vault_id)
    doc = json.loads(mirror.read_text())
    doc["audit_seq"] = 1  # pretend fewer entries were written, to cover a cut
    mirror.write_text(json.dumps(doc))
    assert any("was altered" in p for p in logged.verify_audit().problems)


def test_accept_restore_is_explicit_and_leaves_a_trace(logged: Workspace) -> None:
    old = snapshot(logged.root, AUDIT_FILE, AUDIT_HEAD_FILE)
    logged.audit("dataset.deleted", dataset="set1")
    put_back(logged.root, old)
    ws = Workspace.unlock(logged.root, PASSPHRASE, check_integrity=False)
    accepted = ws.accept_restore()
    assert accepted and any("6 were written" in p for p in accepted)
    ws = Workspace.unlock(logged.root, PASSPHRASE)  # accepted: opens again
    report = ws.verify_audit()
    assert report.ok and report.entries[-1].action == RESTORE_ACTION
    assert any("6 were written" in p for p in report.entries[-1].details["problems"])
    # Accepting again, with nothing to accept, records nothing (an auditor reads the entry as
    # a rollback).
    assert ws.accept_restore() == [] and len(ws.verify_audit().entries) == len(report.entries)


# ----- 2. no silent rollback of entries or of the index ------------------------------------
def test_old_entry_object_restored_is_refused_by_name(workspace: Workspace) -> None:
    workspace.write_bytes("datasets/sms/meta.json", b'{"rows": 1}')
    old_path = workspace.file_of("datasets/sms/meta.json")
    old_bytes = old_path.read_bytes()
    workspace.write_bytes("datasets/sms/meta.json", b'{"rows": 2}')
    new_path = workspace.file_of("datasets/sms/meta.json")
    assert new_path != old_path and not old_path.exists()  # versions do not share a name
    new_path.write_bytes(old_bytes)  # the authentic older version, where the index looks
    with pytest.raises(IntegrityError, match="'datasets/sms/meta.json'.*not the version the "
                                             "workspace index records"):
        workspace.read_bytes("datasets/sms/meta.json")
    assert any("datasets/sms/meta.json" in p for p in workspace.verify_entries())
    new_path.unlink()
    old_path.parent.mkdir(parents=True, exist_ok=True)
    old_path.write_bytes(old_bytes)  # or under its own old name: then the current one is missing
    with pytest.raises(ContainerError, match="'datasets/sms/meta.json'.*missing"):
        workspace.read_bytes("datasets/sms/meta.json")


def test_old_index_pair_restored_loses_nothing_and_collects_nothing(workspace: Workspace) -> None:
    workspace.write_bytes("datasets/a/table", b"a")
    old = snapshot(workspace.root, INDEX_FILE, INDEX_BACKUP_FILE)
    workspace.write_bytes("datasets/b/table", b"newer entry")
    newer = workspace.file_of("datasets/b/table")
    current = snapshot(workspace.root, INDEX_FILE, INDEX_BACKUP_FILE)
    put_back(workspace.root, old)
    aged = time.time() - 3600  # well past the garbage collector's grace period
    os.utime(newer, (aged, aged))

    with pytest.raises(IntegrityError, match="index is older than the vault records"):
        workspace.list()  # the review's probe: this used to return ['datasets/a/table']
    assert any("index is older" in p for p in workspace.verify_entries())
    with pytest.raises(IntegrityError):
        workspace.collect_garbage()
    with pytest.raises(IntegrityError, match="index is older"):
        Workspace.unlock(workspace.root, PASSPHRASE)  # unlock runs collect_garbage: not now
    Workspace.unlock(workspace.root, PASSPHRASE, check_integrity=False).lock()
    assert newer.exists()  # the newer object survived every attempt

    put_back(workspace.root, current)  # the real index comes back: nothing was lost
    ws = Workspace.unlock(workspace.root, PASSPHRASE)
    assert ws.read_bytes("datasets/b/table") == b"newer entry"


def test_rename_keeps_the_recorded_salt(workspace: Workspace) -> None:
    workspace.write_bytes("datasets/a/table", b"a1")
    assert workspace.rename_prefix("datasets/a/", "datasets/b/") == 1
    assert workspace.read_bytes("datasets/b/table") == b"a1"  # the salt moved with the key
    old_bytes = workspace.file_of("datasets/b/table").read_bytes()
    workspace.write_bytes("datasets/b/table", b"a2")
    workspace.file_of("datasets/b/table").write_bytes(old_bytes)
    with pytest.raises(IntegrityError, match="'datasets/b/table'"):
        workspace.read_bytes("datasets/b/table")


# ----- 4. file modes --------------------------------------------------------------------------
def _modes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): stat.S_IMODE(p.stat().st_mode)
            for p in [root, *root.rglob("*")]}


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_workspace_folders_are_0700_and_files_0600(tmp_path: Path, fast_kdf,
                                                   monkeypatch) -> None:
    monkeypatch.setenv("CLOISTER_ANCHOR_DIR", str(tmp_path / "config" / "anchors"))  # not there yet
    old_umask = os.umask(0o022)  # the usual desktop umask, which gave 0755/0644 before
    try:
        ws = Workspace.create(tmp_path / "ws", PASSPHRASE, kdf=fast_kdf)
        ws.write_bytes("datasets/a/table", b"a")
        ws.audit("dataset.imported", dataset="a")
        modes = _modes(ws.root)
    finally:
        os.umask(old_umask)
    assert {AUDIT_FILE, ".lock", "cloister.vault", INDEX_FILE, "objects"} <= set(modes)
    for name, mode in modes.items():
        is_dir = (ws.root / name).is_dir() if name != "." else True
        assert mode == (0o700 if is_dir else 0o600), (name, oct(mode))
    mirror = mirror_path(ws._require().vault_id)
    assert stat.S_IMODE(mirror.stat().st_mode) == 0o600
    assert stat.S_IMODE(mirror.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(mirror.parent.parent.stat().st_mode) == 0o700


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_unlock_tightens_a_workspace_written_with_open_modes(workspace: Workspace) -> None:
    workspace.write_bytes("datasets/a/table", b"a")
    os.chmod(workspace.root, 0o755)
    os.chmod(workspace.root / AUDIT_FILE, 0o644)
    os.chmod(workspace.root / "objects", 0o755)
    Workspace.unlock(workspace.root, PASSPHRASE).lock()
    assert stat.S_IMODE(workspace.root.stat().st_mode) == 0o700
    assert stat.S_IMODE((workspace.root / AUDIT_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE((workspace.root / "objects").stat().st_mode) == 0o700


def test_a_refusal_says_to_restore_from_a_backup_once(workspace) -> None:
    # "... restore the workspace from a backup. Restore the workspace from a backup; ..."
    said = str(workspace._refusal(["entry x is missing; restore the workspace from a backup"]))
    assert said.lower().count("restore the workspace from a backup") == 1
    said = str(workspace._refusal(["the audit log was cut"]))
    assert "the audit log was cut. Restore the workspace from a backup; 'cloister audit --verify'" in said
