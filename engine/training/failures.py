"""Turning whatever went wrong into one ``Failed`` event with an actionable message."""
from __future__ import annotations

import errno
import logging

from privacy.errors import PrivacyError

from engine.errors import InputError
from engine.events import Failed, FailureKind

log = logging.getLogger(__name__)


class TrainingFailure(Exception):
    """A failure the trainer has already put into words for the user."""

    def __init__(self, kind: FailureKind, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


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


def to_failed(exc: BaseException, *, batch_size: int | None = None, device: str = "") -> Failed:
    """The ``Failed`` event for ``exc``. The detail names the exception type, never rows."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TrainingFailure):
        return Failed(exc.kind, exc.message, exc.detail or detail)
    if _is_oom(exc):
        where = "GPU" if device.startswith(("cuda", "mps")) else "system"
        if batch_size and batch_size > 1:
            hint = (
                f"try {max(1, batch_size // 2)} or enable gradient accumulation "
                f"(--grad-accumulation 2), or use a shorter max length"
            )
        else:
            hint = "use a shorter max length or a smaller base model"
        return Failed(
            FailureKind.OUT_OF_MEMORY,
            f"out of {where} memory at batch size {batch_size}: {hint}",
            detail,
        )
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Failed(
            FailureKind.DISK,
            "the disk is full: the workspace could not be written (the previous checkpoint is "
            "kept). Free some space, then continue with `cloister resume RUN`",
            detail,
        )
    if isinstance(exc, OSError):
        return Failed(
            FailureKind.DISK,
            f"the workspace could not be written or read ({exc.strerror or exc}): check the disk "
            "and its permissions, then continue with `cloister resume RUN`",
            detail,
        )
    if isinstance(exc, InputError):
        return Failed(FailureKind.BAD_SETTING, str(exc), detail)
    if isinstance(exc, PrivacyError):
        # A vault entry that fails authentication or cannot be read: the message says which.
        return Failed(FailureKind.BAD_DATA, str(exc), detail)
    log.error("training failed with an internal error", exc_info=exc)
    return Failed(
        FailureKind.INTERNAL,
        f"training stopped by an internal error ({type(exc).__name__}: {exc}); the last "
        "checkpoint is kept. Please report this with the log",
        detail,
    )
