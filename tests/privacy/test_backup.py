"""``back_up``: a workspace copied while another Cloister changes it is whole and opens; a backup
that fails leaves nothing; what it must not do is refused. (An admin's walk found that copying
the folder file by file during an import gave a copy refused as tampered, or one silently
missing a dataset.)"""
from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest

from privacy.vault import file_lock
from privacy.vault.backup import PARTIAL_SUFFIX, BackupError, back_up
from privacy.vault.workspace import LOCK_FILE, Workspace
from tests.privacy.conftest import PASSPHRASE


def _opened(folder: Path, anchors: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    # A copy is checked as a restore on another computer would be: with its own anchor folder
    # (this one's records follow the live workspace, which may have moved on since).
    monkeypatch.setenv("CLOISTER_ANCHOR_DIR", str(anchors))
    return Workspace.unlock(folder, PASSPHRASE)  # refuses a copy whose log or index is not whole


def _change_in_progress(workspace: Workspace) -> tuple[threading.Thread, threading.Event]:
    """Another Cloister holding the workspace's lock (between writing a file and recording
    it) until the returned event is set."""
    holding, release = threading.Event(), threading.Event()

    def change() -> None:
        with file_lock.held(workspace.root / LOCK_FILE):
            holding.set()
            release.wait(10)

    other = threading.Thread(target=change)
    other.start()
    holding.wait(10)
    return other, release


def test_a_backup_is_a_whole_owner_only_copy_that_opens(workspace: Workspace, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    workspace.write_bytes("datasets/a/table", b"x" * 5000)
    workspace.audit("dataset.imported", dataset="a")
    (workspace.root / ".training").mkdir()
    (workspace.root / ".training" / "claim").write_bytes(b"")  # a run training now holds it
    made = back_up(workspace.root, tmp_path / "copy")
    assert made.folder == (tmp_path / "copy").resolve() and made.files >= 6 and made.bytes > 5000
    assert not (tmp_path / "copy" / LOCK_FILE).exists()
    assert not (tmp_path / "copy" / ".training").exists()  # a live claim is locked on Windows
    for path in (tmp_path / "copy").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    copy = _opened(tmp_path / "copy", tmp_path / "anchors", monkeypatch)
    assert copy.read_bytes("datasets/a/table") == b"x" * 5000
    assert copy.verify_audit().ok and [e.action for e in copy.verify_audit().entries][-1] == \
        "dataset.imported"


def test_on_windows_a_folder_held_for_a_moment_is_renamed_once_it_is_let_go(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An antivirus or the indexer opens what was just written: the finished copy's rename was
    refused there, and the whole backup (or export) thrown away. It is retried for a moment."""
    import os

    from privacy.vault import atomic

    real, refusals = os.replace, []

    def held_twice(source, target) -> None:
        if Path(source).is_dir() and len(refusals) < 2:
            refusals.append(source)
            raise PermissionError(13, "Access is denied", str(source))
        real(source, target)

    monkeypatch.setattr(atomic, "_RENAME_REFUSALS_PASS", True)  # as on Windows
    monkeypatch.setattr(os, "replace", held_twice)
    workspace.write_bytes("datasets/a/table", b"x" * 100)
    back_up(workspace.root, tmp_path / "copy")
    assert len(refusals) == 2 and (tmp_path / "copy" / "cloister.vault").is_file()
    monkeypatch.setattr(atomic, "_RENAME_REFUSALS_PASS", False)  # elsewhere: a real refusal
    refusals.clear()
    with pytest.raises(BackupError, match="Access is denied"):
        back_up(workspace.root, tmp_path / "again")
    assert not (tmp_path / "again").exists() and not list(tmp_path.glob(f"*{PARTIAL_SUFFIX}"))


def test_a_backup_waits_for_a_change_in_progress(workspace: Workspace, tmp_path: Path) -> None:
    other, release = _change_in_progress(workspace)
    waited: list[float] = []
    timer = threading.Timer(1.5, release.set)
    timer.start()
    started = time.monotonic()
    back_up(workspace.root, tmp_path / "copy", on_wait=lambda: waited.append(time.monotonic()))
    other.join()
    assert waited and time.monotonic() - started >= 1.5  # it said so, and copied only after


def test_copies_taken_while_entries_are_written_all_open_whole(workspace: Workspace, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        live = Workspace.unlock(workspace.root, PASSPHRASE)
        i = 0
        while not stop.is_set():
            live.write_bytes(f"datasets/d{i}/table", bytes(3000))
            live.audit("dataset.imported", dataset=f"d{i}")
            written.append(i)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    copies = 0
    deadline = time.monotonic() + 120
    try:
        # Copies while the writer writes; past 40 the writer (slow on a loaded machine: it once
        # wrote fewer than 12 entries in 40 copies) is waited for, not outrun.
        while len(written) < 12 and time.monotonic() < deadline:
            if copies < 40:
                back_up(workspace.root, tmp_path / f"copy{copies}")
                copies += 1
            else:
                time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert len(written) >= 12 and copies >= 2
    for n in range(copies):
        copy = _opened(tmp_path / f"copy{n}", tmp_path / f"anchors{n}", monkeypatch)
        tables = copy.list("datasets/")
        assert copy.verify_audit().ok and copy.verify_entries() == []
        logged = sum(e.action == "dataset.imported" for e in copy.verify_audit().entries)
        assert len(tables) in (logged, logged + 1)  # at most the one written, not yet logged
        copy.lock()


def test_a_folder_filled_by_another_backup_meanwhile_is_said_so(workspace: Workspace,
                                                                 tmp_path: Path) -> None:
    # Two backups to one folder at once: the second said "could not be written to the parent
    # folder (Directory not empty) ... Free some space".
    other, release = _change_in_progress(workspace)
    dest = tmp_path / "copy"

    def another_backup_lands() -> None:  # while this one waits for the workspace's lock
        dest.mkdir()
        (dest / "vault.json").write_text("{}")
        release.set()

    with pytest.raises(BackupError, match=r"was filled by something else while this backup was "
                                          r"copied \(another backup to the same folder\?\)"):
        back_up(workspace.root, dest, on_wait=another_backup_lands)
    other.join()
    assert [p.name for p in dest.iterdir()] == ["vault.json"]  # theirs, untouched
    assert not list(tmp_path.glob(f"*{PARTIAL_SUFFIX}"))


def test_a_failed_backup_leaves_nothing(workspace: Workspace, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from privacy.vault import backup

    real, calls = backup._copy_one, []

    def full_disk(source: Path, copy: Path) -> int:
        calls.append(source)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(copy))
        return real(source, copy)

    monkeypatch.setattr(backup, "_copy_one", full_disk)
    with pytest.raises(BackupError, match=r"could not be written to .*\(No space left on device\); "
                                          r"nothing was left there"):
        back_up(workspace.root, tmp_path / "copy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_env", "ws"]  # no copy, no partial one
    assert not list(tmp_path.glob(f"*{PARTIAL_SUFFIX}"))


def test_the_objects_are_copied_before_the_lock_is_waited_for(workspace: Workspace,
                                                              tmp_path: Path) -> None:
    # The lock was held for the whole copy: every import and checkpoint waited minutes on a
    # large workspace. Objects never change once written, so only the rest needs the lock.
    for i in range(5):
        workspace.write_bytes(f"datasets/d{i}/table", bytes(2000))
    other, release = _change_in_progress(workspace)
    staged: list[int] = []

    def waiting() -> None:  # called while the lock is another's
        (partial,) = tmp_path.glob(f".copy.*{PARTIAL_SUFFIX}")
        staged.append(sum(1 for p in (partial / "objects").rglob("*") if p.is_file()))
        staged.append(sum(1 for p in partial.iterdir() if p.is_file()))
        release.set()

    back_up(workspace.root, tmp_path / "copy", on_wait=waiting)
    other.join()
    objects = sum(1 for p in (workspace.root / "objects").rglob("*") if p.is_file())
    assert staged == [objects, 0]  # every object before the lock, nothing at the top yet


def test_deletions_meanwhile_and_a_linked_objects_folder_do_not_spoil_a_backup(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A file deleted between listing and copying failed the whole backup ("could not be
    # written ... Free some space"); a symlinked objects/ was left out, and the backup said
    # it had succeeded with no dataset in it.
    workspace.write_bytes("datasets/kept/table", b"kept rows")
    objects = workspace.root / "objects"
    moved = tmp_path / "other-disk" / "objects"
    moved.parent.mkdir()
    objects.rename(moved)
    objects.symlink_to(moved, target_is_directory=True)
    stop = threading.Event()

    def churn() -> None:
        live = Workspace.unlock(workspace.root, PASSPHRASE)
        i = 0
        while not stop.is_set():
            live.write_bytes(f"datasets/t{i}/table", bytes(50_000))
            live.delete(f"datasets/t{i}/table")
            i += 1

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for n in range(8):
            back_up(workspace.root, tmp_path / f"copy{n}")
    finally:
        stop.set()
        thread.join()
    for n in range(8):
        copy = _opened(tmp_path / f"copy{n}", tmp_path / f"anchors{n}", monkeypatch)
        assert not (tmp_path / f"copy{n}" / "objects").is_symlink()
        assert copy.read_bytes("datasets/kept/table") == b"kept rows"
        assert copy.verify_entries() == []
        copy.lock()


def test_a_read_only_workspace_is_copied_without_its_lock(workspace: Workspace, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # A read-only snapshot could not be backed up: the lock file could not be opened for
    # writing, and the error blamed the destination. Nothing can change such a workspace.
    import errno
    import os

    from privacy.vault import backup

    real = os.open

    def read_only(path, flags, *args):  # noqa: ANN001, ANN002
        if str(path).endswith(LOCK_FILE) and flags & (os.O_RDWR | os.O_WRONLY):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real(path, flags, *args)

    monkeypatch.setattr(backup.os, "open", read_only)
    monkeypatch.setattr(backup.file_lock, "held", lambda *a, **k: pytest.fail("locked"))
    assert back_up(workspace.root, tmp_path / "copy").files >= 5


def test_what_a_backup_must_not_do_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(BackupError, match="already exists and is not an empty folder"):
        back_up(workspace.root, tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    with pytest.raises(BackupError, match="is inside the workspace"):
        back_up(workspace.root, workspace.root / "objects" / "copy")
    with pytest.raises(BackupError, match="does not exist; create it first"):
        back_up(workspace.root, tmp_path / "no" / "such" / "copy")
    with pytest.raises(BackupError, match="is not a Cloister workspace"):
        back_up(tmp_path / "full", tmp_path / "copy")
    (tmp_path / "empty").mkdir()  # an empty folder made for it is used
    assert back_up(workspace.root, tmp_path / "empty").files >= 5


def test_a_killed_backups_partial_copy_goes_with_the_next_backup_to_its_folder(
        workspace: Workspace, tmp_path: Path) -> None:
    # kill -9 mid-backup left `.NAME.cloister-backup-partial` (encrypted rows an erasure
    # since cannot reach) until a backup to that same name.
    import os
    import time

    workspace.write_bytes("datasets/a/table", b"x" * 100)
    hour_ago = time.time() - 3600
    killed = tmp_path / f".monday{PARTIAL_SUFFIX}"
    at_work = tmp_path / f".tuesday{PARTIAL_SUFFIX}"  # another backup, copying for an hour now
    for partial in (killed, at_work):
        (partial / "objects" / "ab").mkdir(parents=True)
        (partial / "objects" / "ab" / "old").write_bytes(b"ciphertext")
        for path in (partial / "objects" / "ab" / "old", partial / "objects" / "ab",
                     partial / "objects", partial):
            os.utime(path, (hour_ago, hour_ago))
    (at_work / "objects" / "ab" / "new").write_bytes(b"written this moment, deep inside")
    os.utime(at_work / "objects" / "ab", (hour_ago, hour_ago))
    back_up(workspace.root, tmp_path / "wednesday")
    assert not killed.exists()
    assert (at_work / "objects" / "ab" / "new").is_file()  # its folder's own time is old
    assert (tmp_path / "wednesday" / "cloister.vault").is_file()


def test_a_link_planted_where_a_backup_is_built_is_not_followed(workspace: Workspace,
                                                                tmp_path: Path) -> None:
    # The copy was built in `.NAME.cloister-backup-partial`, a name anyone could guess: another
    # user of a shared folder put a link there to a folder of theirs, and the whole workspace
    # was copied into it, with DEST a link to it.
    import stat

    workspace.write_bytes("datasets/a/table", b"x" * 100)
    shared = tmp_path / "shared"
    theirs = tmp_path / "theirs"
    shared.mkdir()
    theirs.mkdir()
    (shared / f".bk{PARTIAL_SUFFIX}").symlink_to(theirs, target_is_directory=True)
    back_up(workspace.root, shared / "bk")
    assert list(theirs.iterdir()) == []
    dest = shared / "bk"
    assert not dest.is_symlink() and (dest / "cloister.vault").is_file()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in dest.rglob("*") if p.is_file())


def test_a_folder_that_cannot_be_written_is_said_so(workspace: Workspace, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def refused(*_args, **_kwargs):  # noqa: ANN002, ANN003 - tests run as root: chmod would not stop it
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refused)
    with pytest.raises(BackupError, match=r"could not be written to .*\(Permission denied\); "
                                          r"nothing was left there\. Choose a folder you can write to"):
        back_up(workspace.root, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
