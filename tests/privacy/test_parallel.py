"""The AES-GCM thread pool: order kept, and still working in a forked child."""
from __future__ import annotations

import multiprocessing

from privacy import parallel
from privacy.parallel import parallel_map


def test_results_keep_their_order() -> None:
    assert parallel_map(lambda i: i * i, range(50)) == [i * i for i in range(50)]
    assert parallel_map(lambda i: -i, range(2)) == [0, -1]  # small batches run inline


def _child(queue) -> None:
    queue.put(parallel_map(lambda i: i + 1, range(20)))


def test_pool_works_in_a_forked_child(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "WORKERS", max(2, parallel.WORKERS))  # the pool path, always
    parallel_map(lambda i: i, range(10))  # the parent's pool exists before the fork
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(queue,))
    child.start()
    child.join(timeout=30)
    if child.is_alive():  # a hang is the failure this guards against
        child.kill()
    assert child.exitcode == 0
    assert queue.get(timeout=5) == list(range(1, 21))
