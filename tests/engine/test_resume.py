"""Cancel, checkpoint, resume: a resumed run ends exactly where an uninterrupted one does."""
from __future__ import annotations

import contextlib
import dataclasses
import errno
from pathlib import Path

import torch

from engine.events import Cancelled, CancelToken, CheckpointSaved, Failed, FailureKind, Finished, Started, Step
from engine.models.weights import load_model
from engine.runs import RunStatus, load_run
from engine.training import TrainConfig, resume, resume_on_rows, train, train_on_rows
from engine.training.checkpoint import checkpoint_key, from_bytes, load_checkpoint, to_bytes
from tests.engine.tiny_model import store_rows, tiny_bert, toy_rows, toy_splits, workspace  # noqa: F401

torch.set_num_threads(1)
N = 120
TEXTS, LABELS = toy_rows(N, seed=7)
SPLITS = toy_splits(N, seed=7)


def config(model: Path, **changes) -> TrainConfig:
    # Dropout stays on (the default 0.1): resuming must restore the RNG, not just the weights.
    base = TrainConfig(dataset="toy", model_path=str(model), epochs=3, batch_size=8, learning_rate=2e-3,
                       max_length=32, early_stopping_patience=None, select_best=False, grad_accumulation=2)
    return dataclasses.replace(base, **changes)


def cancel_during_epoch_two(events, token: CancelToken) -> list:
    seen = []
    for event in events:
        seen.append(event)
        if isinstance(event, Step) and 1.3 < event.epoch < 2.0:
            token.cancel()
    return seen


def assert_same_weights(ws, run_a: str, run_b: str) -> None:
    a, _ = load_model(ws, f"runs/{run_a}/model")
    b, _ = load_model(ws, f"runs/{run_b}/model")
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert torch.equal(sa[name], sb[name]), name


def test_resumed_run_ends_with_the_same_weights(workspace, tiny_bert) -> None:
    cfg = config(tiny_bert)
    straight = list(train_on_rows(workspace, cfg, TEXTS, LABELS, splits=SPLITS))
    assert isinstance(straight[-1], Finished)

    token = CancelToken()
    first = cancel_during_epoch_two(train_on_rows(workspace, cfg, TEXTS, LABELS, splits=SPLITS, cancel=token), token)
    cancelled = first[-1]
    assert isinstance(cancelled, Cancelled), first[-1]
    run_id = first[0].run_id
    per_epoch = first[0].total_steps // 3
    assert per_epoch < cancelled.step < 2 * per_epoch  # really mid-epoch 2
    assert load_run(workspace, run_id).status is RunStatus.CANCELLED

    second = list(resume_on_rows(workspace, run_id, TEXTS, LABELS, splits=SPLITS))
    assert isinstance(second[0], Started) and second[0].resumed_from_step == cancelled.step
    assert isinstance(second[-1], Finished), second[-1]
    assert [e.step for e in second if isinstance(e, Step)][0] == cancelled.step + 1
    assert_same_weights(workspace, straight[-1].run_id, run_id)
    # the curves match too: every logged loss, before and after the interruption
    history_a = load_run(workspace, straight[-1].run_id).history
    history_b = load_run(workspace, run_id).history
    assert history_a == history_b
    assert second[-1].metrics == straight[-1].metrics


def test_cancel_keeps_a_resumable_checkpoint(workspace, tiny_bert) -> None:
    token = CancelToken()
    events = cancel_during_epoch_two(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS,
                                                   splits=SPLITS, cancel=token), token)
    cancelled = events[-1]
    assert cancelled.checkpoint_key == checkpoint_key(events[0].run_id)
    ckpt = load_checkpoint(workspace, events[0].run_id)
    assert ckpt.progress.global_step == cancelled.step
    assert ckpt.progress.epoch == 1 and 0 < ckpt.progress.batch_in_epoch
    assert not any(isinstance(e, Finished) for e in events)


def test_a_resume_cancelled_while_tokenizing_keeps_the_run_and_its_checkpoint(workspace, tiny_bert,
                                                                              monkeypatch) -> None:
    from engine.events import Progress
    from engine.training import data, inputs

    token = CancelToken()
    events = cancel_during_epoch_two(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS,
                                                   splits=SPLITS, cancel=token), token)
    run_id, step = events[0].run_id, events[-1].step
    monkeypatch.setattr(inputs, "PROGRESS_AFTER_SECONDS", 0.0)  # as if tokenizing were slow
    monkeypatch.setattr(data, "_TOKENIZE_CHUNK", 16)
    again = CancelToken()
    stopped = []
    for event in resume_on_rows(workspace, run_id, TEXTS, LABELS, splits=SPLITS, cancel=again):
        stopped.append(event)
        if isinstance(event, Progress):
            again.cancel()
    assert isinstance(stopped[0], Progress) and len(stopped) == 2
    assert stopped[-1] == Cancelled(step=step, checkpoint_key=checkpoint_key(run_id), run_id=run_id)
    assert load_run(workspace, run_id).status is RunStatus.CANCELLED
    assert load_checkpoint(workspace, run_id).progress.global_step == step
    finished = list(resume_on_rows(workspace, run_id, TEXTS, LABELS, splits=SPLITS))[-1]
    assert isinstance(finished, Finished) and finished.run_id == run_id


def test_checkpoint_bytes_round_trip(workspace, tiny_bert) -> None:
    token = CancelToken()
    events = cancel_during_epoch_two(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS,
                                                   splits=SPLITS, cancel=token), token)
    ckpt = load_checkpoint(workspace, events[0].run_id)
    again = from_bytes(to_bytes(ckpt))
    assert again.progress == ckpt.progress
    assert all(torch.equal(again.model_state[k], v) for k, v in ckpt.model_state.items())
    for idx, slots in ckpt.optimizer_state["state"].items():
        for slot, value in slots.items():
            assert torch.equal(again.optimizer_state["state"][idx][slot], value)
    assert again.optimizer_state["param_groups"] == ckpt.optimizer_state["param_groups"]
    assert again.scheduler_state == ckpt.scheduler_state
    assert torch.equal(again.rng["torch"], ckpt.rng["torch"])
    assert again.rng["python"] == ckpt.rng["python"]


class _DiskFull:
    """Wraps the workspace edge: writes under ``prefix`` fail with ENOSPC once armed."""

    def __init__(self, ws, prefix: str) -> None:
        self._ws, self.prefix, self.armed = ws, prefix, False

    def write_bytes(self, key: str, data: bytes) -> None:
        if self.armed and key.startswith(self.prefix):
            raise OSError(errno.ENOSPC, "No space left on device")
        self._ws.write_bytes(key, data)

    @contextlib.contextmanager
    def open_write(self, key: str):
        """A streamed write that runs out of space after its first few bytes, once armed."""
        with self._ws.open_write(key) as out:
            if not (self.armed and key.startswith(self.prefix)):
                yield out
                return

            class _Filling:
                written = 0

                def write(self, data) -> None:  # noqa: ANN001
                    self.written += len(data)
                    if self.written > 1024:
                        raise OSError(errno.ENOSPC, "No space left on device")
                    out.write(data)

            yield _Filling()

    def __getattr__(self, name: str):
        return getattr(self._ws, name)


def test_disk_full_while_checkpointing_keeps_the_previous_checkpoint(workspace, tiny_bert) -> None:
    full = _DiskFull(workspace, "runs/")
    events = []
    for event in train_on_rows(full, config(tiny_bert), TEXTS, LABELS, splits=SPLITS):
        events.append(event)
        if isinstance(event, CheckpointSaved):
            full.armed = True  # the disk fills up after the first checkpoint
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.kind is FailureKind.DISK
    assert "disk is full" in failed.message and "(the previous checkpoint is kept)" in failed.message
    # Which disk: a full disk met mid-run named no folder (an administrator guessed).
    assert f"the workspace ({workspace.root}) could not be written" in failed.message
    assert failed.message.endswith(f"then continue with `cloister resume {events[0].run_id}`")
    first_ckpt = next(e for e in events if isinstance(e, CheckpointSaved))
    kept = load_checkpoint(workspace, events[0].run_id)
    assert kept.progress.global_step == first_ckpt.step and kept.progress.epoch == 1
    # once space is back, the run continues from that checkpoint and finishes
    resumed = list(resume_on_rows(workspace, events[0].run_id, TEXTS, LABELS, splits=SPLITS))
    assert resumed[0].resumed_from_step == first_ckpt.step
    assert isinstance(resumed[-1], Finished)


def test_a_run_that_fails_before_its_first_checkpoint_promises_no_resume(workspace, tiny_bert) -> None:
    # It said "(the previous checkpoint is kept) ... `cloister resume RUN`": no checkpoint
    # existed, and RUN was printed as it stands.
    full = _DiskFull(workspace, "runs/")
    full.armed = True
    events = list(train_on_rows(full, config(tiny_bert), TEXTS, LABELS, splits=SPLITS))
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.kind is FailureKind.DISK
    assert "disk is full" in failed.message and f"({workspace.root})" in failed.message
    assert "checkpoint" not in failed.message and "resume" not in failed.message
    assert failed.message.endswith("Free some space on it, then train again")


def test_resume_through_the_vault_dataset(workspace, tiny_bert) -> None:
    store_rows(workspace, "toy", TEXTS, LABELS)
    token = CancelToken()
    cfg = config(tiny_bert, epochs=2)
    first = cancel_during_epoch_two(train(workspace, cfg, cancel=token), token)
    assert isinstance(first[-1], Cancelled)
    second = list(resume(workspace, first[0].run_id))
    assert isinstance(second[-1], Finished), second[-1]
    assert load_run(workspace, first[0].run_id).status is RunStatus.FINISHED


def test_resume_refuses_a_finished_or_unknown_run(workspace, tiny_bert) -> None:
    done = list(train_on_rows(workspace, config(tiny_bert, epochs=1), TEXTS, LABELS, splits=SPLITS))[-1]
    (failed,) = list(resume_on_rows(workspace, done.run_id, TEXTS, LABELS, splits=SPLITS))
    assert failed.kind is FailureKind.BAD_SETTING and "already finished" in failed.message
    (unknown,) = list(resume(workspace, "20990101-000000-ffff"))
    assert isinstance(unknown, Failed) and "no run '20990101-000000-ffff'" in unknown.message


def test_a_damaged_checkpoint_is_refused_clearly(workspace, tiny_bert) -> None:
    token = CancelToken()
    events = cancel_during_epoch_two(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS,
                                                   splits=SPLITS, cancel=token), token)
    run_id = events[0].run_id
    workspace.write_bytes(checkpoint_key(run_id), b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    (failed,) = list(resume_on_rows(workspace, run_id, TEXTS, LABELS, splits=SPLITS))
    assert failed.kind is FailureKind.BAD_SETTING
    assert f"the checkpoint of run {run_id} is damaged" in failed.message


def test_a_resume_the_disk_cannot_hold_says_to_resume_again(workspace, tiny_bert, monkeypatch) -> None:
    # It said "free space on that disk ..., then train again": a new run, losing the epochs done.
    from collections import namedtuple

    token = CancelToken()
    events = cancel_during_epoch_two(train_on_rows(workspace, config(tiny_bert), TEXTS, LABELS,
                                                   splits=SPLITS, cancel=token), token)
    run_id = events[0].run_id
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("engine.training.disk_room.shutil.disk_usage",
                        lambda _p: usage(10**9, 10**9 - 4096, 4096))
    (failed,) = list(resume_on_rows(workspace, run_id, TEXTS, LABELS, splits=SPLITS))
    assert isinstance(failed, Failed) and failed.kind is FailureKind.DISK
    assert f"then resume it with `cloister resume {run_id}`" in failed.message
    assert "train again" not in failed.message
    assert load_run(workspace, run_id).status is RunStatus.CANCELLED  # as it was
