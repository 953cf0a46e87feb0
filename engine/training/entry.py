"""Entry points: ``train`` and ``resume`` on a vault dataset, and the same on in-memory rows.

None of them raises: each returns a generator whose last event is ``Finished``, ``Failed`` or
``Cancelled``. The work starts when the caller first iterates.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TYPE_CHECKING

import numpy as np

from privacy.interrupts import interrupts_held

from engine.data.store import DatasetNotFound
from engine.errors import InputError
from engine.events import Cancelled, CancelToken, Event, Failed, FailureKind, Finished
from engine.run_claims import claim_run
from engine.runs import RunRecord, RunStatus, load_run, new_run_id, save_run, utc_now
from engine.training import checkpoint as ckpt_io
from engine.training.config import TrainConfig
from engine.training.disk_room import check_disk_room
from engine.failures import TrainingFailure, to_failed
from engine.training.inputs import tokenizing
from engine.training.loop import PartsFactory, Trainer
from engine.training.optim import build_training_parts
from engine.training.private import build_private_parts
from engine.training.prepare import Rows, check_settings, columns_changed, load_rows, prepare_rows

if TYPE_CHECKING:
    from engine.vault import Vault

log = logging.getLogger(__name__)
SplitRows = tuple[Sequence[int], Sequence[int], Sequence[int]]


def _guarded(body: Callable[[dict[str, Any]], Iterator[Event]]) -> Iterator[Event]:
    """Run ``body``; turn any exception into a final ``Failed`` and mark the run failed.

    The run's claim (``state["claims"]``) is released only after that: released first, a look
    at the runs in between found a run recorded as running that nobody held, took it for a
    killed one, and its end went into the audit log twice (killed, then failed)."""
    state: dict[str, Any] = {"claims": contextlib.ExitStack()}
    try:
        for event in body(state):
            if isinstance(event, (Finished, Cancelled, Failed)):
                # Before passing it on: a reader (the desktop's worker) stops at the run's last
                # event and closes this generator, so nothing after that yield would run.
                _audit_end(state, type(event).__name__.lower())
            yield event
    except Exception as exc:  # noqa: BLE001 - the thread boundary: nothing may escape unseen
        trainer: Trainer | None = state.get("trainer")
        record: tuple[Any, RunRecord] | None = state.get("record")  # the trainer failed to build
        owner = ((trainer.ws, trainer.run.run_id) if trainer is not None
                 else (record[0], record[1].run_id) if record is not None else None)
        failed = to_failed(exc, batch_size=state.get("batch_size"), device=state.get("device", ""),
                           resumable=owner is not None and ckpt_io.has_checkpoint(*owner),
                           run_id=owner[1] if owner else None,
                           workspace=owner[0].root if owner else None)
        if trainer is not None or record is not None:
            try:
                if trainer is not None:
                    ws, history = trainer.ws, list(trainer.progress.history)
                    trainer.run = run = trainer.run.updated(status=RunStatus.FAILED,
                                                            error=failed.message, history=history)
                else:
                    ws, run = record  # type: ignore[misc]
                    run = run.updated(status=RunStatus.FAILED, error=failed.message)
                save_run(ws, run)
            except Exception:  # noqa: BLE001 - e.g. the disk is still full; the event says it all
                log.warning("could not record the failure in the run record", exc_info=True)
        _audit_end(state, "failed")
        yield failed
    finally:
        state["claims"].close()


def _audit(ws: Vault, action: str, run: RunRecord, config: TrainConfig) -> None:
    """Who trained what: the run, its dataset (name and digest) and whether with DP; no rows."""
    ws.audit(action, run=run.run_id, dataset=run.dataset, dataset_sha256=run.dataset_sha256,
             dp=bool(config.dp), **({"epsilon": config.dp_epsilon} if config.dp else {}))


def _audit_end(state: dict[str, Any], how: str) -> None:
    """The run's end in the audit log (finished, cancelled, failed), if it got a record."""
    record = state.get("record")
    if record is None:
        return
    ws, run = record
    # A DP run's end says the ε it spent (its start says the target): the budget a DPO answers
    # for, read from the log alone. A record that cannot be read leaves it out, not the entry.
    spent: dict[str, float] = {}
    if run.privacy is not None or (run.config or {}).get("dp"):
        try:
            from engine.runs import load_run

            privacy = load_run(ws, run.run_id).privacy or {}
            if "epsilon_spent" in privacy:
                spent = {"epsilon_spent": round(float(privacy["epsilon_spent"]), 4)}
        except Exception:  # noqa: BLE001 - e.g. the full disk that ended the run
            log.warning("could not read the ε a run spent for its end in the audit log")
    try:
        ws.audit("run.ended", run=run.run_id, status=how, **spent)
    except Exception:  # noqa: BLE001 - the run's own record and event already say how it ended
        log.warning("could not add the run's end to the audit log", exc_info=True)


def _start(ws: Vault, config: TrainConfig, rows: Callable[[], Rows], splits: SplitRows | None,
           cancel: CancelToken | None, parts_factory: PartsFactory | None,
           state: dict[str, Any]) -> Iterator[Event]:
    state["batch_size"] = config.batch_size
    info = check_settings(config)
    check_disk_room(ws.root, info.approx_parameters)  # before the data is read and trained
    data = rows()
    prep = prepare_rows(config, info, list(data.texts), list(data.labels), splits=splits,
                        people=data.people)
    if config.dp:  # refused here, as the dry run refuses, before the run has a record
        _check_budget(config, info, prep)
    inputs = yield from tokenizing(prep, cancel)
    if inputs is None:  # before the run has a record: nothing to keep or resume
        yield Cancelled(step=0)
        return
    run = RunRecord(run_id=new_run_id(), dataset=config.dataset, config=config.to_dict(),
                    status=RunStatus.RUNNING, created=utc_now(), labels=prep.coding.names,
                    dataset_sha256=data.sha256, dataset_columns=data.columns,
                    dataset_source=data.source, dataset_imported=data.imported,
                    anonymization=data.anonymization, label_fixes=data.label_fixes)
    # Claimed before it is saved as running: a record that says "running" while no live process
    # holds its claim is one a killed process left (``engine.runs._as_seen``).
    state["claims"].enter_context(claim_run(ws, run.run_id))  # until ``_guarded`` is done
    with interrupts_held():  # the record and its entry, or neither
        save_run(ws, run)
        state["record"] = (ws, run)
        _audit(ws, "run.started", run, config)
    trainer = Trainer(ws, prep, run, cancel=cancel,
                      parts_factory=_factory(config, parts_factory), inputs=inputs)
    _mark_cleaning(trainer, data)
    state["trainer"] = trainer
    state["device"] = trainer.device.description
    trainer.run = trainer.run.updated(device=state["device"])
    yield from trainer.run_loop()


def _check_budget(config: TrainConfig, info: Any, prep: Any) -> None:
    from engine.training.plan import dp_plan_line

    per_person = prep.people is not None and bool(config.dp_person_column)
    units = len(set(np.asarray(prep.people)[prep.train].tolist())) if per_person else len(prep.train)
    try:
        dp_plan_line(config, info, units, per_person)
    except InputError as exc:
        raise TrainingFailure(FailureKind.BAD_SETTING, str(exc)) from exc


def _continue(ws: Vault, run_id: str, rows: Callable[[TrainConfig], Rows], splits: SplitRows | None,
              cancel: CancelToken | None, parts_factory: PartsFactory | None,
              state: dict[str, Any]) -> Iterator[Event]:
    load_run(ws, run_id)  # a run id that is not a run is named before anything is claimed
    # Refused while another window or command trains it; held until ``_guarded`` is done.
    state["claims"].enter_context(claim_run(ws, run_id))
    yield from _continue_claimed(ws, run_id, rows, splits, cancel, parts_factory, state)


def _continue_claimed(ws: Vault, run_id: str, rows: Callable[[TrainConfig], Rows],
                      splits: SplitRows | None, cancel: CancelToken | None,
                      parts_factory: PartsFactory | None, state: dict[str, Any]) -> Iterator[Event]:
    run = load_run(ws, run_id)
    if run.status == RunStatus.FINISHED:
        raise TrainingFailure(FailureKind.BAD_SETTING, f"run {run_id} has already finished: "
                              "nothing to resume; start a new run with `cloister train`")
    config = TrainConfig.from_dict(run.config)
    state["batch_size"] = config.batch_size
    checkpoint = ckpt_io.load_checkpoint(ws, run_id)
    info = check_settings(config)
    check_disk_room(ws.root, info.approx_parameters, resuming=run_id)
    # The dataset that holds what the run trained on now: renamed since, and perhaps another
    # import taken its old name (``engine.runs.current_dataset``, as evaluate and export do).
    renamed = _dataset_now_named(ws, run, config)
    try:
        data = rows(renamed)
    except TrainingFailure as exc:
        if not isinstance(exc.__cause__, DatasetNotFound):
            raise
        raise TrainingFailure(FailureKind.BAD_SETTING, f"run {run.run_id} trained on the dataset "
                              f"'{config.dataset}', which is no longer in the workspace: import "
                              f"the same file again as '{config.dataset}' to resume it, or delete "
                              "the run") from exc
    if renamed.dataset != config.dataset:
        config = renamed  # the record follows the rename, as the dataset's other runs do
        run = run.updated(dataset=config.dataset, config={**run.config, "dataset": config.dataset})
    if run.dataset_sha256 and data.sha256 and data.sha256 != run.dataset_sha256:
        raise TrainingFailure(FailureKind.BAD_DATA, f"dataset '{config.dataset}' was imported "
                              f"again since run {run_id} started (its contents changed): resuming "
                              "would train on other rows; start a new run instead")
    changed = columns_changed(run.dataset_columns, data.columns) if data.columns else ""
    if changed:
        raise TrainingFailure(FailureKind.BAD_DATA, f"dataset '{config.dataset}' was imported "
                              f"again since run {run_id} started, with {changed}: resuming would "
                              "train on other texts or labels; start a new run instead")
    prep = prepare_rows(config, info, list(data.texts), list(data.labels), splits=splits,
                        people=data.people)
    if prep.coding.names != run.labels:
        raise TrainingFailure(FailureKind.BAD_DATA, f"dataset '{config.dataset}' has changed since "
                              f"run {run_id} started (its labels differ): start a new run instead")
    inputs = yield from tokenizing(prep, cancel)
    if inputs is None:  # the run stays as it was, its checkpoint kept for another try
        yield Cancelled(step=checkpoint.progress.global_step,
                        checkpoint_key=ckpt_io.checkpoint_key(run_id), run_id=run_id)
        return
    run = run.updated(status=RunStatus.RUNNING, error=None)
    with interrupts_held():
        save_run(ws, run)
        state["record"] = (ws, run)
        _audit(ws, "run.resumed", run, config)
    trainer = Trainer(ws, prep, run, cancel=cancel, parts_factory=_factory(config, parts_factory),
                      resume_from=checkpoint, inputs=inputs)
    _mark_cleaning(trainer, data)
    state["trainer"] = trainer
    state["device"] = trainer.device.description
    trainer.run = trainer.run.updated(device=state["device"])  # it may resume elsewhere
    yield from trainer.run_loop()


def _mark_cleaning(trainer: Trainer, data: Rows) -> None:
    """Say in the model's config how its training texts were cleaned and read (long ones in
    windows): it is saved with the weights, and prediction reads its input the same way
    (``engine.evaluation.prediction``)."""
    if data.text_cleaning:
        from engine.data.markup import TEXT_CLEANING_KEY

        setattr(trainer.model.config, TEXT_CLEANING_KEY, data.text_cleaning)
    if trainer.config.windows:
        from engine.training.windows import WINDOW_OVERLAP_KEY

        setattr(trainer.model.config, WINDOW_OVERLAP_KEY, trainer.config.overlap_tokens)


def _factory(config: TrainConfig, given: PartsFactory | None) -> PartsFactory:
    """The caller's factory, else DP-SGD parts for a DP config, else plain parts."""
    if given is not None:
        return given
    return build_private_parts if config.dp else build_training_parts


def train(ws: Vault, config: TrainConfig, *, cancel: CancelToken | None = None,
          parts_factory: PartsFactory | None = None) -> Iterator[Event]:
    """Train a classifier on the vault dataset ``config.dataset``; yields events, never raises."""
    return _guarded(lambda state: _start(
        ws, config, lambda: load_rows(ws, config.dataset, config.dp_person_column,
                              label_delimiter=config.label_delimiter if config.multi_label else None), None, cancel,
        parts_factory, state))


def _dataset_now_named(ws: Vault, run: Any, config: TrainConfig) -> TrainConfig:
    """``config`` reading the dataset that holds the run's data now, when a rename gave it
    another name (the same contents through the same columns: one file imported twice with
    other columns has the same digest but is other data); else ``config`` as it is."""
    from engine.data.store import list_datasets
    from engine.runs import current_dataset

    now = current_dataset(run, list_datasets(ws))
    return dataclasses.replace(config, dataset=now) if now and now != config.dataset else config


def resume(ws: Vault, run_id: str, *, cancel: CancelToken | None = None,
           parts_factory: PartsFactory | None = None) -> Iterator[Event]:
    """Continue a cancelled or failed run from its last checkpoint, at the exact step."""
    return _guarded(lambda state: _continue(
        ws, run_id, lambda c: load_rows(ws, c.dataset, c.dp_person_column,
                                label_delimiter=c.label_delimiter if c.multi_label else None), None, cancel,
        parts_factory, state))


def train_on_rows(ws: Vault, config: TrainConfig, texts: Sequence[str], labels: Sequence[str], *,
                  splits: SplitRows | None = None, cancel: CancelToken | None = None,
                  parts_factory: PartsFactory | None = None,
                  people: Sequence[str] | None = None) -> Iterator[Event]:
    """``train`` on rows already in memory (benchmarks, the demo, other front ends).

    ``splits`` gives explicit (train, validation, test) row positions; by default the rows are
    split 80/10/10, stratified and seeded, as for a vault dataset. ``people``: who each row is
    about, for a DP run with ``config.dp_person_column``.
    """
    return _guarded(lambda state: _start(ws, config, lambda: Rows(texts, labels, people), splits,
                                         cancel, parts_factory, state))


def resume_on_rows(ws: Vault, run_id: str, texts: Sequence[str], labels: Sequence[str], *,
                   splits: SplitRows | None = None, cancel: CancelToken | None = None,
                   parts_factory: PartsFactory | None = None,
                   people: Sequence[str] | None = None) -> Iterator[Event]:
    """``resume`` a run started by ``train_on_rows``: pass the same rows, splits and people."""
    return _guarded(lambda state: _continue(ws, run_id, lambda c: Rows(texts, labels, people),
                                            splits, cancel, parts_factory, state))
