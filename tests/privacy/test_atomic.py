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
