"""Turning whatever went wrong into one ``Failed`` event with an actionable message."""
from __future__ import annotations

import errno
import logging

from privacy.errors import ChangeNotLogged, PrivacyError

from engine.errors import CloisterError, InputError
from engine.events import Failed, FailureKind

log = logging.getLogger(__name__)


class TrainingFailure(Exception):
    """A failure the trainer has already put into words for the user."""

    def __init__(self, kind: FailureKind, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


def log_internal_error(logger: logging.Logger, activity: str, exc: BaseException) -> None:
    """Log where an unexpected error came from, without its message: a library's message can
    quote the row or label it choked on, and the log (stderr, often redirected to a file) must
    not carry user data. The frames say where; the user-facing message says what."""
    import traceback

    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed with an internal error: %s (its message is left out: it may quote "
                 "data)\n%s", activity, type(exc).__name__, frames.rstrip())


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    try:
        import torch

        if isinstance(exc, torch.cuda.OutOfMemoryError):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def to_failed(exc: BaseException, *, activity: str = "training", batch_size: int | None = None,
              device: str = "", resumable: bool = False, run_id: str | None = None,
              workspace: object = None) -> Failed:
    """The one classifier: the ``Failed`` event for any exception that ends engine work.

    Training, the headless demo and every desktop job (import, prediction, export) use it, so an
    error is the same kind everywhere. ``activity`` names the work in the message ("training",
    "the import job"); ``resumable`` adds how to continue from the last checkpoint. The detail
    names the exception type and text, never rows. ``workspace`` (its folder), where known,
    names the disk a full disk is.
    """
    detail = f"{type(exc).__name__}: {exc}"
    resume = f", then continue with `cloister resume {run_id or 'RUN'}`" if resumable else ""
    if isinstance(exc, TrainingFailure):
        return Failed(exc.kind, exc.message, exc.detail or detail)
    if _is_oom(exc):
        where = "GPU" if device.startswith(("cuda", "mps")) else "system"
        if batch_size and batch_size > 1:
            hint = (
                f"try {max(1, batch_size // 2)} or enable gradient accumulation "
                f"(--grad-accumulation 2), or use a shorter max length"
            )
        elif batch_size:
            hint = "use a shorter max length or a smaller base model"
        else:
            hint = ("try a smaller batch size or maximum length, close other programs, or choose "
                    "the CPU in Settings")
        at = f" at batch size {batch_size}" if batch_size else ""
        return Failed(FailureKind.OUT_OF_MEMORY, f"out of {where} memory{at}: {hint}", detail)
    if isinstance(exc, ChangeNotLogged):  # the disk refused an audit entry: a disk problem
        return Failed(FailureKind.DISK, str(exc), detail)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        kept = " (the previous checkpoint is kept)" if resumable else ""
        # Which disk, where the work knows its workspace: an administrator was told none.
        where = f" ({workspace})" if workspace is not None else ""
        then = resume or (", then train again" if run_id and activity == "training" else "")
        return Failed(
            FailureKind.DISK,
            f"the disk is full: the workspace{where} could not be written{kept}. Free some "
            f"space{' on it' if where else ''}{then}",
            detail,
        )
    if isinstance(exc, OSError):
        # The file, when the error names it: "the workspace or a file" left an administrator to
        # guess which of them was read-only.
        what = f"{exc.filename} could not be written or read" if exc.filename else \
            "the workspace or a file could not be written or read"
        read_only = exc.errno == errno.EROFS
        return Failed(
            FailureKind.DISK,
            f"{what} ({exc.strerror or exc}): "
            + ("that disk is mounted read-only: make it writable or move the workspace to one "
               "that is" if read_only else "check the disk and its permissions") + resume,
            detail,
        )
    if isinstance(exc, InputError):
        # What the user gave (a file, a column name, a setting) must change: the message says how.
        return Failed(FailureKind.BAD_SETTING, str(exc), detail)
    if isinstance(exc, (PrivacyError, CloisterError)):
        # A vault entry that fails authentication, a damaged or missing dataset: the message
        # says which.
        return Failed(FailureKind.BAD_DATA, str(exc), detail)
    log_internal_error(log, activity, exc)
    kept = "; the last checkpoint is kept" if resumable else ""
    return Failed(
        FailureKind.INTERNAL,
        f"{activity} stopped by an internal error ({type(exc).__name__}: {exc}){kept}. Please "
        "report this with the log",
        detail,
    )
