"""Atomic replacement when the rename is refused: waited out where refusals pass (Windows, while
a virus scanner or the indexer has the file open), raised at once elsewhere; the old file and no
temporary file are what a refusal leaves. Windows cannot run here, so its refusal is simulated at
the one call it affects."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from privacy.vault import atomic

real_replace = os.replace


def _refusing(times: int | None, calls: list[str]):  # noqa: ANN202
    def replace(src, dst) -> None:  # noqa: ANN001
        calls.append(str(dst))
        if times is None or len(calls) <= times:
            raise PermissionError(13, "The process cannot access the file because it is being "
                                      "used by another process", str(dst))
        real_replace(src, dst)
    return replace


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(atomic.TEMP_PREFIX)]


def test_a_rename_refused_for_a_moment_is_waited_out_where_refusals_pass(tmp_path: Path,
                                                                        monkeypatch) -> None:  # noqa: ANN001
    target = tmp_path / "index.cloister"
    target.write_bytes(b"old")
    calls: list[str] = []
    monkeypatch.setattr(atomic, "_RENAME_REFUSALS_PASS", True)
    monkeypatch.setattr(atomic.os, "replace", _refusing(2, calls))
    atomic.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert len(calls) == 3 and _temps(tmp_path) == []


def test_a_refusal_that_lasts_is_raised_and_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    target = tmp_path / "index.cloister"
    target.write_bytes(b"old")
    calls: list[str] = []
    monkeypatch.setattr(atomic, "_RENAME_REFUSALS_PASS", True)
    monkeypatch.setattr(atomic, "_RENAME_RETRY_S", 0.2)
    monkeypatch.setattr(atomic.os, "replace", _refusing(None, calls))
    with pytest.raises(PermissionError):
        atomic.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert len(calls) > 1 and _temps(tmp_path) == []


def test_elsewhere_a_refused_rename_is_a_real_error_raised_at_once(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    target = tmp_path / "index.cloister"
    target.write_bytes(b"old")
    calls: list[str] = []
    monkeypatch.setattr(atomic, "_RENAME_REFUSALS_PASS", False)
    monkeypatch.setattr(atomic.os, "replace", _refusing(1, calls))
    with pytest.raises(PermissionError):
        atomic.atomic_write_bytes(target, b"new")
    assert calls == [str(target)] and target.read_bytes() == b"old" and _temps(tmp_path) == []


def test_leftovers_of_a_killed_writer_are_removed_once_old_and_others_are_kept(tmp_path: Path) -> None:
    import re
    import time

    old_part = tmp_path / ".tmp-ab12cd34.part"      # a killed write's rows, an hour old
    young_part = tmp_path / ".tmp-ef56gh78.part"    # maybe another writer's, at work now
    staging = tmp_path / ".model.partial-x1y2z3w4"  # the caller's own staging folder
    mine = tmp_path / "results.csv"                  # the user's files are never touched
    lookalike = tmp_path / ".tmp-notours.partial"
    for path in (old_part, young_part, mine, lookalike):
        path.write_bytes(b"rows")
    staging.mkdir()
    (staging / "config.json").write_text("{}")
    young_staging = tmp_path / ".model.partial-n0wb3ing"  # another export, writing now
    young_staging.mkdir()
    hour_ago = time.time() - 3600
    for path in (old_part, staging):
        os.utime(path, (hour_ago, hour_ago))
    removed = atomic.remove_leftovers(tmp_path, also=re.compile(r"\.model\.partial-[a-z0-9_]{8}"))
    assert sorted(removed) == [".model.partial-x1y2z3w4", ".tmp-ab12cd34.part"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "_env") == [
        ".model.partial-n0wb3ing", ".tmp-ef56gh78.part", ".tmp-notours.partial", "results.csv"]


def test_an_old_version_in_use_on_windows_is_left_for_later_not_raised(
        tmp_path, monkeypatch, caplog) -> None:
    # Windows refuses to unlink a file another handle reads (a backup copying it): the change
    # whose old version it was had been made, and was reported as failed.
    from pathlib import Path

    from privacy.vault import atomic

    old = tmp_path / "old-version"
    old.write_bytes(b"ciphertext")
    monkeypatch.setattr(atomic, "_RENAME_RETRY_S", 0.1)

    def in_use(self, missing_ok=False):  # noqa: ANN001
        raise PermissionError(13, "The process cannot access the file", str(self))

    monkeypatch.setattr(Path, "unlink", in_use)
    monkeypatch.setattr(atomic, "_RENAME_REFUSALS_PASS", True)  # as on Windows
    with caplog.at_level("WARNING"):
        assert atomic.remove_durably(old) is True
    assert "removed at a later unlock" in caplog.text and old.exists()
    monkeypatch.setattr(atomic, "_RENAME_REFUSALS_PASS", False)  # elsewhere it means a real fault
    import pytest

    with pytest.raises(PermissionError):
        atomic.remove_durably(old)


def test_on_macos_the_drive_itself_is_asked_to_write(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """macOS's fsync leaves the bytes in the drive's cache, in any order: the vault's writes
    (atomic replace, audit log, backup copies) ask for F_FULLFSYNC there, and fall back to fsync
    where the file system refuses it (some network shares)."""
    import sys

    fcntl = pytest.importorskip("fcntl")  # POSIX: the module the macOS path calls
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(fcntl, "F_FULLFSYNC", 51, raising=False)  # its value on macOS
    monkeypatch.setattr(fcntl, "fcntl", lambda fd, op, *a: calls.append(("fcntl", op)) or 0)
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(("fsync", fd)))
    atomic.atomic_write_bytes(tmp_path / "f", b"data")
    assert calls and all(call == ("fcntl", 51) for call in calls)  # the file, then its folder
    assert (tmp_path / "f").read_bytes() == b"data"

    def refused(fd: int, op: int, *a: object) -> int:
        raise OSError(45, "Operation not supported")  # ENOTSUP, on a share

    calls.clear()
    monkeypatch.setattr(fcntl, "fcntl", refused)
    atomic.sync_to_disk(7)
    assert calls == [("fsync", 7)]


def _no_hard_links(src, dst) -> None:  # noqa: ANN001
    raise PermissionError(1, "Operation not permitted", str(src), None, str(dst))  # vfat's answer


@pytest.mark.parametrize("links", [True, False], ids=["hard links", "no hard links (FAT)"])
def test_a_new_file_never_replaces_one_that_came_while_it_was_written(
        tmp_path: Path, monkeypatch, links: bool) -> None:  # noqa: ANN001
    # Two exports to one name both found it free, and the second's rename replaced the first's
    # file without a word: the name must be taken atomically at the end, or not at all.
    if not links:
        monkeypatch.setattr(atomic.os, "link", _no_hard_links)
    target = tmp_path / "model.cloister-export"
    with pytest.raises(FileExistsError):
        with atomic.atomic_writer(target, replace=False) as handle:
            handle.write(b"second")
            target.write_bytes(b"first")  # the other writer finishes first
    assert target.read_bytes() == b"first" and _temps(tmp_path) == []
    fresh = tmp_path / "fresh.csv"
    atomic.atomic_write_bytes(fresh, b"rows", replace=False)
    assert fresh.read_bytes() == b"rows" and _temps(tmp_path) == []
    assert fresh.stat().st_nlink == 1 and (fresh.stat().st_mode & 0o777) == 0o600
    with pytest.raises(FileExistsError):
        atomic.atomic_write_bytes(fresh, b"again", replace=False)
    assert fresh.read_bytes() == b"rows" and _temps(tmp_path) == []


def test_without_hard_links_a_failed_rename_takes_its_placeholder_back(tmp_path: Path,
                                                                       monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(atomic.os, "link", _no_hard_links)
    monkeypatch.setattr(atomic, "_RENAME_REFUSALS_PASS", False)
    monkeypatch.setattr(atomic.os, "replace", _refusing(None, []))
    target = tmp_path / "out.csv"
    with pytest.raises(PermissionError):
        atomic.atomic_write_bytes(target, b"rows", replace=False)
    assert not target.exists() and _temps(tmp_path) == []
