"""A small shared thread pool for AES-GCM work.

``cryptography`` releases the GIL inside AES-GCM, so the chunks of one file can be opened on
several cores at once. The pool is created on first use; with one CPU (or a batch too small to
be worth handing out) the work runs inline. Sealing does not use it: ``encrypt_into`` of a
64 KiB chunk is cheaper than the hand-off (see ``Encryptor._seal_batch``).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")
WORKERS = max(1, min(4, os.cpu_count() or 1))
_MIN_BATCH = 4
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _forget_pool_after_fork() -> None:
    # A forked child (e.g. a DataLoader worker) inherits the pool object but not its threads;
    # submitting to it would hang forever. The child builds its own pool on first use.
    global _pool, _lock
    _pool = None
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def parallel_map(fn: Callable[[int], _T], indices: range) -> list[_T]:
    """``[fn(i) for i in indices]``, possibly computed on several threads; order is kept."""
    global _pool
    if WORKERS == 1 or len(indices) < _MIN_BATCH:
        return [fn(i) for i in indices]
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cloister-aead")
    return list(_pool.map(fn, indices))
