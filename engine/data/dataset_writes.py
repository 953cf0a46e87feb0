"""One writer of datasets at a time, and no stored rows left behind by a crash.

A dataset is replaced in steps (the new table, the new description, the old table's removal),
each atomic on its own. Two commands, or a window and a command, replacing datasets at once
interleaved those steps: the second writer deleted the first's table (both imports of one name
"succeeded" and the dataset was gone), and a fix built from the rows as they were before an
erasure stored them back after it, so the erased row returned. Every dataset write therefore
holds one lock for the workspace's datasets (``writing_datasets``) from its checks to its
clean-up, and a write made from rows it read says so (``made_from``): if those datasets were
stored again meanwhile, nothing is stored and the user is told to run the command again.

A process killed between the steps leaves a table that no description names: the previous
contents after a replace (so an erased row would outlive its erasure, hidden from ``forget``),
or a new import's rows before its description was written. ``sweep_orphan_tables`` removes them,
under the same lock, so never while another process is between its steps.

The lock is an OS file lock (``privacy.vault.file_lock``), dropped by the system when a process
ends however it ends; its file is empty and its name says nothing about the data.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from privacy.vault import file_lock

from engine.errors import InputError, Stopped
from engine.events import thread_cancel

if TYPE_CHECKING:
    from engine.vault import Vault

log = logging.getLogger(__name__)

LOCKS_DIR = ".locks"  # left out of backups (privacy.vault.backup): meaningful only while held
_LOCK_NAME = "datasets"

# Re-entrant per thread: an erasure holds the lock across its searches' check and every save,
# and each save takes it again.
_depth = threading.local()


class DatasetChanged(InputError):
    """A dataset these rows were made from was stored again since it was read."""


def _say_waiting(root: Path) -> None:
    log.warning("waiting for another Cloister (the app or a command) to finish storing a "
                "dataset in this workspace (%s)", root)


class DatasetsBusy(InputError):
    """Another window or command kept the lock longer than a caller on the UI thread waits."""


@contextlib.contextmanager
def writing_datasets(ws: Vault, *, give_up_after: float | None = None) -> Iterator[None]:
    """Hold the workspace's dataset-write lock for the block, waiting for another holder; with
    ``give_up_after`` (seconds: the desktop's rename and delete, which run on the UI thread and
    must not freeze it behind another process's long save), ``DatasetsBusy`` instead."""
    root = str(Path(ws.root).resolve())
    held: dict[str, int] = _depth.__dict__.setdefault("held", {})
    if held.get(root):
        held[root] += 1
        try:
            yield
        finally:
            held[root] -= 1
        return
    folder = Path(root) / LOCKS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    token = thread_cancel()  # a desktop job's: Lock or close stops the wait
    with contextlib.ExitStack() as stack:
        try:  # entered apart from the body: a Busy raised there is not the body's
            stack.enter_context(file_lock.held(
                folder / _LOCK_NAME, give_up_after=give_up_after,
                on_wait=lambda: _say_waiting(Path(root)),
                stop=None if token is None else (lambda: token.cancelled)))
        except file_lock.Busy:
            if token is not None and token.cancelled:
                raise Stopped("stopped while another Cloister window or command was storing a "
                              "dataset: nothing was changed") from None
            raise DatasetsBusy("another Cloister window or command is storing a dataset in this "
                               "workspace right now: try again in a moment (nothing was "
                               "changed)") from None
        held[root] = 1
        try:
            yield
        finally:
            held[root] = 0


def check_unchanged(ws: Vault, made_from: Mapping[str, str]) -> None:
    """Raise ``DatasetChanged`` unless every dataset named in ``made_from`` is still stored with
    the contents (sha256) the caller read. Call while holding ``writing_datasets``."""
    from engine.data.store import DatasetDamaged, DatasetNotFound, dataset_info

    for name, sha256 in made_from.items():
        try:
            now: str | None = dataset_info(ws, name).sha256
        except DatasetNotFound:
            now = None
        except DatasetDamaged:
            raise DatasetChanged(f"dataset {name!r} cannot be read now, though it could when this "
                                 "command or window read it: nothing was stored") from None
        if now != sha256:
            raise changed_since_read(name, deleted=now is None)


def changed_since_read(name: str, *, deleted: bool = False) -> DatasetChanged:
    what = "was deleted or renamed" if deleted else "was stored again"
    return DatasetChanged(
        f"dataset {name!r} {what} by another Cloister window or command since this one read "
        "it: nothing was stored. Look at it as it is now, and try again")


def sweep_orphan_tables(ws: Vault) -> int:
    """Remove every dataset table that no stored description names (a crash between a save's
    steps); return how many. Waits for a write in progress, so never takes its new table."""
    from engine.data.store import PREFIX, meta_key, table_named

    removed = 0
    with writing_datasets(ws):
        tables: dict[str, list[str]] = {}
        for key in ws.list(PREFIX):
            name, _, rest = key[len(PREFIX):].partition("/")
            tables.setdefault(name, [])
            if rest.startswith("table-"):
                tables[name].append(key)
        for name, found in sorted(tables.items()):
            # One table beside its description is what every finished save leaves (a save
            # killed midway leaves two, or a table alone): only those are read, not all 150.
            if not found or (len(found) == 1 and ws.has(meta_key(name))):
                continue
            named = table_named(ws, name)
            if named is None and ws.has(meta_key(name)):
                continue  # an unreadable description: keep what it may name
            for key in found:
                if key != f"{PREFIX}{name}/{named}":
                    ws.delete(key)
                    removed += 1
    if removed:
        log.info("removed %d dataset table(s) left by an interrupted save", removed)
    return removed
