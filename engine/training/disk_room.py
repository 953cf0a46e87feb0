"""Room on the workspace's disk for a run, checked before it trains.

A run writes its checkpoint (the weights and the optimizer's two moments: three copies of the
weights) at every epoch, and its model at the end. The vault writes atomically, so while a
checkpoint is replaced the old one and the new one are both on disk. A full disk used to show
only after training, at the first save: the whole run was lost to a message that said nothing
of how much was needed.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from engine.events import FailureKind
from engine.failures import TrainingFailure
from engine.units import human_size

_BYTES_PER_WEIGHT = 4  # float32, as checkpoints and models are stored
# The model, and two checkpoints of three copies each while one replaces the other.
_COPIES = 1 + 2 * 3
_MARGIN = 64 << 20  # the run record, its report, the index and audit writes


def bytes_needed(approx_parameters: int) -> int:
    return approx_parameters * _BYTES_PER_WEIGHT * _COPIES + _MARGIN


def check_disk_room(workspace: Path, approx_parameters: int, *, resuming: str = "") -> None:
    """``TrainingFailure`` (DISK) when the workspace's disk cannot hold the run's saves
    (``resuming``: the id of the run to be continued, which the message says to resume)."""
    try:
        free = shutil.disk_usage(workspace).free
    except OSError:  # not a local folder the system can measure: the writes will tell
        return
    needed = bytes_needed(approx_parameters)
    if free < needed:
        raise TrainingFailure(
            FailureKind.DISK,
            f"the disk that holds the workspace ({workspace}) has {human_size(free)} free, and "
            f"this run needs about {human_size(needed)} for its checkpoints and the model it "
            "saves: free space on that disk (or move the workspace), then "
            + (f"resume it with `cloister resume {resuming}`" if resuming else "train again")
            + ". Nothing was trained or changed")
