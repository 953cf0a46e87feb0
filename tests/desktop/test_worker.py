"""The one adapter (desktop.worker): failures reach the UI, updates are throttled but complete,
terminal events always arrive last, cancel is cooperative."""
from __future__ import annotations

import time

import pytest

from desktop.worker import Done, Job, JobRegistry
from engine.events import Cancelled, Failed, FailureKind, Finished, Started, Step


def _step(n: int) -> Step:
    return Step(step=n, total_steps=500, epoch=n / 500, loss=1.0 / n, learning_rate=1e-4,
                samples_per_second=10.0, eta_seconds=1.0)


def _collect(job: Job) -> tuple[list[list[object]], list[object]]:
    batches: list[list[object]] = []
    ended: list[object] = []
    job.events.connect(batches.append)
    job.ended.connect(ended.append)
    return batches, ended


@pytest.mark.parametrize("error", [RuntimeError("CUDA error: device-side assert"), ValueError("bad value"),
                                   KeyError("missing")])
def test_a_job_that_raises_ends_failed_with_the_message(qtbot, error):
    def body(cancel):
        yield Started(run_id="r", device="cpu", epochs=1, total_steps=1, train_rows=1,
                      validation_rows=1, labels=("a", "b"))
        raise error

    job = Job(body, name="train")
    batches, ended = _collect(job)
    with qtbot.waitSignal(job.ended, timeout=10_000):
        job.start()
    assert len(ended) == 1 and isinstance(ended[0], Failed)
    assert ended[0].kind is FailureKind.INTERNAL
    assert type(error).__name__ in ended[0].message and str(error.args[0]) in ended[0].message
    assert [type(e) for batch in batches for e in batch] == [Started]  # delivered before the failure


def test_a_failed_jobs_log_says_where_not_the_row_its_error_quoted(qtbot, caplog):
    # The traceback logged at debug level carried the exception's text, which can quote the
    # row a library choked on; the log (stderr, often a file) must not hold user data.
    import logging

    row = "Jane Roe, 555-0142, card blocked"

    def body(cancel):
        raise ValueError(f"could not parse row: {row}")  # the frames show this line, not `row`
        yield  # pragma: no cover

    job = Job(body, name="import")
    with caplog.at_level(logging.DEBUG), qtbot.waitSignal(job.ended, timeout=10_000):
        job.start()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "the import job failed with an internal error: ValueError" in logged
    assert "in body" in logged  # the frames: where it failed
    assert "Jane Roe" not in logged and "555-0142" not in logged


def test_a_job_stopped_by_the_users_input_is_no_internal_error_in_the_log(qtbot, caplog):
    # A CSV with an open quote, a damaged tokenizer: logged at ERROR as "failed with an
    # internal error: InputError", with a traceback, as if the engine had a bug.
    import logging

    from engine.errors import InputError

    def body(cancel):
        raise InputError("d.csv, line 522: a quote opens a field there and is never closed")
        yield  # pragma: no cover

    job = Job(body, name="import")
    ended = _collect(job)[1]
    with caplog.at_level(logging.DEBUG), qtbot.waitSignal(job.ended, timeout=10_000):
        job.start()
    assert ended[0].kind is FailureKind.BAD_SETTING and "line 522" in ended[0].message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "internal error" not in caplog.text and "Traceback" not in caplog.text


def test_out_of_memory_is_classified_and_actionable(qtbot):
    def body(cancel):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        yield  # pragma: no cover

    job = Job(body, name="train")
    _batches, ended = _collect(job)
    with qtbot.waitSignal(job.ended, timeout=10_000):
        job.start()
    assert ended[0].kind is FailureKind.OUT_OF_MEMORY
    assert "batch size" in ended[0].message


def test_steps_are_batched_to_about_ten_deliveries_a_second_and_none_is_lost(qtbot):
    def body(cancel):
        for n in range(1, 501):
            time.sleep(0.001)  # ~1000 steps/s: far faster than a UI can redraw
            yield _step(n)
        yield Finished(run_id="r", duration_seconds=0.5)

    job = Job(body, name="train")
    batches, ended = _collect(job)
    order: list[str] = []
    job.events.connect(lambda _b: order.append("events"))
    job.ended.connect(lambda _t: order.append("ended"))
    started = time.monotonic()
    with qtbot.waitSignal(job.ended, timeout=20_000):
        job.start()
    elapsed = time.monotonic() - started
    steps = [e.step for batch in batches for e in batch]
    assert steps == list(range(1, 501))  # every point for the curves, in order
    assert len(batches) <= elapsed * 10 + 2  # at most ~10 deliveries a second (plus the final flush)
    assert len(batches) < 100
    assert order[-1] == "ended" and order.count("ended") == 1
    assert isinstance(ended[0], Finished)


def test_cancel_is_cooperative_and_ends_cancelled(qtbot):
    def body(cancel):
        for n in range(1, 10_000):
            if cancel.cancelled:
                yield Cancelled(step=n)
                return
            time.sleep(0.005)
            yield _step(n)

    job = Job(body, name="train")
    batches, ended = _collect(job)
    job.start()
    qtbot.waitUntil(lambda: bool(batches), timeout=10_000)
    with qtbot.waitSignal(job.ended, timeout=10_000):
        job.cancel()
    assert isinstance(ended[0], Cancelled) and ended[0].step > 1


def test_a_generator_that_stops_without_a_terminal_event_is_reported(qtbot):
    job = Job(lambda cancel: iter([_step(1)]), name="predict")
    _batches, ended = _collect(job)
    with qtbot.waitSignal(job.ended, timeout=10_000):
        job.start()
    assert isinstance(ended[0], Failed) and "without saying why" in ended[0].message


def test_call_jobs_return_their_value(qtbot):
    job = Job.call(lambda cancel: 6 * 7, name="answer")
    _batches, ended = _collect(job)
    with qtbot.waitSignal(job.ended, timeout=10_000):
        job.start()
    assert ended == [Done(42)]


def test_registry_cancels_and_waits_for_every_job_without_an_event_loop(qtbot):
    def body(cancel):
        while not cancel.cancelled:
            time.sleep(0.01)
            yield _step(1)
        yield Cancelled(step=1)

    registry = JobRegistry()
    jobs = [registry.start(Job(body, name=f"job{i}")) for i in range(2)]
    ended: list[object] = []
    for job in jobs:
        job.ended.connect(ended.append)
    qtbot.waitUntil(lambda: all(job.is_running() for job in jobs), timeout=5_000)
    assert registry.busy()
    assert registry.cancel_all_and_wait(timeout_ms=10_000)
    assert not any(job.is_running() for job in jobs)
    assert [type(e) for e in ended] == [Cancelled, Cancelled]  # delivered synchronously
    assert not registry.busy()


class _Loaded:
    """Stands for what a job hands back (a model loaded for Try it: hundreds of MB)."""


def test_a_finished_job_and_what_it_returned_are_freed_once_nothing_holds_them(qtbot):
    # The registry's "forget me when ended" slot held the job it was connected to: a cycle
    # through Qt that gc cannot see, so every job of a day's session stayed in memory, each
    # Try-it load's model with it (Done(value) was kept as the job's terminal).
    import gc
    import weakref

    registry = JobRegistry()
    results: list[weakref.ref] = []
    for _ in range(3):
        job = Job.call(lambda _cancel: _Loaded(), name="load-model")
        ended: list[object] = []
        job.ended.connect(lambda terminal: (results.append(weakref.ref(terminal.value)),
                                            ended.append(True)))
        registry.start(job)
        qtbot.waitUntil(lambda: bool(ended), timeout=10_000)
        jobs = weakref.ref(job)
        del job
        qtbot.wait(10)
        gc.collect()
        assert jobs() is None
    assert [ref() for ref in results] == [None, None, None]
    assert not registry.busy()


def test_a_kept_job_lets_go_of_what_its_body_closed_over_when_it_ends(qtbot):
    # A page keeps its last job (Try it's last prediction): its body held the predictor, so
    # the model of a run deleted, switched from, or locked away stayed in memory.
    import gc
    import weakref

    model = _Loaded()
    held = weakref.ref(model)
    job = Job.call(lambda _cancel, model=model: type(model).__name__, name="predict")
    del model
    with qtbot.waitSignal(job.ended, timeout=10_000) as ended:
        job.start()
    assert ended.args[0] == Done("_Loaded")
    gc.collect()
    assert held() is None and not job.is_running()
