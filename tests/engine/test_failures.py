"""The one exception classifier (engine.failures.to_failed) that training, the demo and every
desktop job share: each kind of error gets one kind and an actionable message."""
from __future__ import annotations

import errno

import pytest

from engine.errors import CloisterError, InputError
from engine.events import FailureKind
from engine.failures import TrainingFailure, to_failed
from privacy.errors import PrivacyError


@pytest.mark.parametrize(("exc", "kind", "words"), [
    (MemoryError(), FailureKind.OUT_OF_MEMORY, "out of system memory"),
    (RuntimeError("CUDA out of memory. Tried to allocate"), FailureKind.OUT_OF_MEMORY, "memory"),
    (OSError(errno.ENOSPC, "No space left on device"), FailureKind.DISK, "the disk is full"),
    (PermissionError(errno.EACCES, "Permission denied"), FailureKind.DISK, "Permission denied"),
    (InputError("column 'Label' is not in d.csv"), FailureKind.BAD_SETTING, "column 'Label' is not in d.csv"),
    (PrivacyError("entry 'x' failed authentication"), FailureKind.BAD_DATA, "failed authentication"),
    (CloisterError("dataset 'x' is damaged"), FailureKind.BAD_DATA, "dataset 'x' is damaged"),
    (TrainingFailure(FailureKind.BAD_MODEL, "no weights in the folder"), FailureKind.BAD_MODEL, "no weights"),
    (ZeroDivisionError("division by zero"), FailureKind.INTERNAL, "ZeroDivisionError: division by zero"),
])
def test_each_error_gets_one_kind_wherever_it_happens(exc: BaseException, kind: FailureKind, words: str) -> None:
    for failed in (to_failed(exc), to_failed(exc, activity="the import job")):
        assert failed.kind is kind and words in failed.message
        assert type(exc).__name__ in failed.detail


def test_the_message_names_the_work_and_says_how_to_go_on() -> None:
    internal = to_failed(KeyError("k"), activity="the export job")
    assert internal.message.startswith("the export job stopped by an internal error")
    assert "checkpoint" not in internal.message
    resumable = to_failed(KeyError("k"), resumable=True)
    assert resumable.message.startswith("training stopped") and "the last checkpoint is kept" in resumable.message
    full = to_failed(OSError(errno.ENOSPC, "full"), resumable=True)
    assert "previous checkpoint is kept" in full.message and "cloister resume RUN" in full.message
    assert "cloister resume" not in to_failed(OSError(errno.ENOSPC, "full")).message


def test_out_of_memory_hints_follow_the_batch_size() -> None:
    assert "try 16 or enable gradient accumulation" in to_failed(MemoryError(), batch_size=32).message
    assert "shorter max length" in to_failed(MemoryError(), batch_size=1).message
    assert "GPU memory" in to_failed(RuntimeError("out of memory"), batch_size=8, device="cuda:0").message
    assert "smaller batch size" in to_failed(MemoryError()).message


def test_an_audit_entry_the_disk_refused_is_a_disk_failure() -> None:
    from privacy.errors import ChangeNotLogged

    failed = to_failed(ChangeNotLogged("the audit entry 'x' could not be written (No space left)"))
    assert failed.kind is FailureKind.DISK and failed.message.startswith("the audit entry 'x'")


def test_a_file_that_cannot_be_written_is_named_and_a_read_only_disk_said() -> None:
    # "the workspace or a file could not be written or read": an administrator guessed which.
    failed = to_failed(OSError(errno.EROFS, "Read-only file system", "/mnt/ws/objects/ab/cd"))
    assert failed.kind is FailureKind.DISK
    assert failed.message.startswith("/mnt/ws/objects/ab/cd could not be written or read "
                                     "(Read-only file system): that disk is mounted read-only")
    denied = to_failed(PermissionError(errno.EACCES, "Permission denied", "/mnt/ws/vault.json"))
    assert denied.message.startswith("/mnt/ws/vault.json could not be written or read")
    assert "check the disk and its permissions" in denied.message
