"""Run history: every training run's config, status, timing, metrics and curves, in the vault.

Each run lives under ``runs/<run_id>/`` (``run.json`` here, plus ``model/`` and ``checkpoints/``
written by the trainer). Metrics and label names come from user data, so they stay encrypted.
"""
from __future__ import annotations

import datetime as _dt
import enum
import logging
import secrets
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TYPE_CHECKING

from engine.errors import InputError
from privacy.errors import ContainerError, PrivacyError
from privacy.interrupts import interrupts_held

from engine.run_claims import RunClaimed, claim_run, is_being_trained, release_claim_file

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from engine.vault import Vault


class RunStatus(str, enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    dataset: str
    config: dict[str, Any]
    status: RunStatus = RunStatus.CREATED
    created: str = ""  # ISO 8601, UTC
    finished: str | None = None
    duration_seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)  # test split, headline numbers
    history: list[dict[str, Any]] = field(default_factory=list)  # curve points
    labels: tuple[str, ...] = ()
    device: str = ""
    best_step: int | None = None
    error: str | None = None
    validation_metrics: dict[str, float] = field(default_factory=dict)  # best validation point
    # DP runs: ε spent and target, δ, accountant, noise, C, sampling rate, steps, unit of privacy.
    privacy: dict[str, Any] | None = None
    test_rows: int | None = None  # how many rows ``metrics`` were measured on (their precision)
    # Test rows grouped by person: what they are worth as independent rows (``report.py``).
    test_effective_rows: float | None = None
    # The digest of the dataset as trained on: a dataset imported again under the same name is
    # not the one this run's split, report and card describe (``prepare.stored_for_run``).
    dataset_sha256: str | None = None
    # Which columns were its text and label (``ColumnMapping.as_dict``): the same file imported
    # again with another text or label column has the same digest but is other data.
    dataset_columns: dict[str, Any] | None = None
    # The file the dataset was imported from and when (UTC): once its name holds another
    # import, which export the run trained on ("customers (an earlier import, jan.csv)").
    dataset_source: str | None = None
    dataset_imported: str | None = None
    # How its rows were anonymized before training (``anonymized_inputs.anonymization_for_run``:
    # the policy; {} where they were not), for prediction to anonymize its input the same way
    # after the dataset is gone. None: a run from before records kept it (the audit log says).
    anonymization: dict[str, Any] | None = None
    # What its dataset's fixes did to labels (``engine.data.label_fixes``): 'Student loan' ->
    # 'other' (merged), '' (dropped). Other data is scored as trained. None: an older run.
    label_fixes: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["labels"] = list(self.labels)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["status"] = RunStatus(values.get("status", "created"))
        values["labels"] = tuple(values.get("labels", ()))
        return cls(**values)

    @property
    def has_model(self) -> bool:
        """Finished: a trained model and its test report exist (Results, Try it, export)."""
        return self.status is RunStatus.FINISHED

    @property
    def resumable(self) -> bool:
        """Stopped part-way with a checkpoint to continue from."""
        return self.status in (RunStatus.CANCELLED, RunStatus.FAILED)

    def updated(self, **changes: Any) -> RunRecord:
        return replace(self, **changes)


def still_training(record: RunRecord) -> str:
    """What to say of using a run's model while it is trained ('' when it is not): the model
    stored then is the best point so far, and a script that exported "the newest run" shipped a
    half-trained model with exit 0."""
    if record.status is not RunStatus.RUNNING:
        return ""
    return (f"run {record.run_id} is still being trained: its model is the best point so far and "
            "changes until the run ends")


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    """Sortable by time, unique without coordination: ``20261125-153012-a1b2c3d4``.

    32 random bits: two runs started in the same second collide with odds of one in 4 billion
    (16 bits gave 2% for 50 ids in one second).
    """
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(4)}"


def run_key(run_id: str) -> str:
    return f"runs/{run_id}/run.json"


def save_run(ws: Vault, record: RunRecord) -> None:
    ws.write_json(run_key(record.run_id), record.to_dict())


def resolve_run_id(ws: Vault, given: str) -> str:
    """The run id ``given`` names: itself, or the one stored id it starts or ends with (the
    start of "20261206-070625-c146169a", or its last part, "c146169a"), so that a user need not
    copy all of it. Several such ids, or none, is an InputError saying which."""
    if _valid_id(given) and ws.has(run_key(given)):
        return given
    ids = stored_run_ids(ws)
    matches = sorted(i for i in ids if given and (i.startswith(given) or i.endswith(given)))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InputError(f"'{given}' names {len(matches)} runs ({', '.join(matches[:5])}"
                         f"{', ...' if len(matches) > 5 else ''}): give more of the run id")
    known = ", ".join(r.run_id for r in list_runs(ws)[:5]) or "none yet"
    raise InputError(f"no run '{given}' in this workspace (recent runs: {known}); see `cloister runs`")


def stored_run_ids(ws: Vault) -> list[str]:
    """The id of every run with a record, readable or not."""
    return [key[len("runs/"):-len("/run.json")] for key in ws.list("runs/")
            if key.endswith("/run.json") and key.count("/") == 2]


def load_run(ws: Vault, run_id: str) -> RunRecord:
    run_id = resolve_run_id(ws, run_id)
    return _as_seen(ws, RunRecord.from_dict(ws.read_json(run_key(run_id))))


def _as_seen(ws: Vault, record: RunRecord) -> RunRecord:
    """A record saved as running that no live process trains (``engine.run_claims``) was left so
    by a process that was killed, crashed or lost power: show it as failed, which it is, and
    resumable from its last checkpoint, instead of "running" forever."""
    if record.status is not RunStatus.RUNNING or is_being_trained(ws, record.run_id) is not False:
        return record
    from engine.training.checkpoint import checkpoint_key

    then = ("resume it from its last checkpoint, or delete it"
            if ws.has(checkpoint_key(record.run_id))
            else "it had not saved a checkpoint yet, so start a new run (and delete this one)")
    seen = record.updated(status=RunStatus.FAILED, error=(
        "stopped without finishing: the app or command training it ended before it could say "
        f"so (it was killed, crashed, or the computer shut down); {then}"))
    _record_the_stop(ws, seen)
    return seen


def _record_the_stop(ws: Vault, seen: RunRecord) -> None:
    """Save the end a killed run's process could not, once: its record as failed, and its
    ``run.ended`` entry (status ``killed``), so that the audit log does not show the run as
    started and never ended. Under the run's claim, so a trainer resuming it at that instant
    is not overwritten; a workspace that cannot be written (read-only media) keeps showing it."""
    try:
        with claim_run(ws, seen.run_id):
            now = RunRecord.from_dict(ws.read_json(run_key(seen.run_id)))  # read again, held
            if now.status is not RunStatus.RUNNING:
                return  # another process recorded its end meanwhile
            with interrupts_held():
                # The record first: on a disk too full for it (its write checks for room, the
                # log's does not), the entry first was written again at every look.
                save_run(ws, now.updated(status=seen.status, error=seen.error))
                try:
                    ws.audit("run.ended", run=seen.run_id, status="killed")
                except (OSError, PrivacyError):  # the record says it; as ``_audit_end`` does
                    log.warning("could not add the end of run %s to the audit log", seen.run_id)
    except RunClaimed:
        return  # a trainer took it up just now: it is running again
    except (OSError, PrivacyError) as exc:
        log.info("could not record the end of run %s that stopped unseen: %s", seen.run_id, exc)


def _valid_id(run_id: str) -> bool:
    return bool(run_id) and "/" not in run_id and ".." not in run_id


# What reading a run's record raises when the record itself is damaged (not when the disk or
# the workspace is): a file that fails authentication or is missing, or JSON that is not a run.
UNREADABLE_RECORD = (ContainerError, KeyError, TypeError, ValueError)


def unreadable_record(run_id: str, exc: Exception | str) -> str:
    """What to say of a run whose record cannot be read, and what to do about it."""
    return (f"the record of run {run_id} cannot be read ({exc}), so it is left out, and what it "
            "was trained on cannot be told (its model and report may hold rows of any dataset, and "
            f"a DP run's spent ε is not counted); delete it with `cloister rm-run {run_id} "
            "--force`, or restore the whole workspace from a backup")


def list_runs(ws: Vault) -> list[RunRecord]:
    """Every run, newest first. A record that cannot be read is left out with a warning that
    says how to delete it (once a process: the app lists runs often): one damaged run blocked
    listing runs, deleting any dataset (which looks for the runs on it) and erasing a person's
    rows."""
    records, unreadable = read_runs(ws)
    for run_id, why in unreadable:
        if run_id not in _UNREADABLE_SAID:
            _UNREADABLE_SAID.add(run_id)
            log.warning(unreadable_record(run_id, why))
    return records


_UNREADABLE_SAID: set[str] = set()


def read_runs(ws: Vault) -> tuple[list[RunRecord], list[tuple[str, str]]]:
    """Every readable run, newest first, and the id of each run whose record cannot be read,
    with why (the app names them, and offers to delete them)."""
    records, unreadable = [], []
    for run_id in stored_run_ids(ws):
        try:
            record = RunRecord.from_dict(ws.read_json(run_key(run_id)))
        except UNREADABLE_RECORD as exc:
            unreadable.append((run_id, str(exc)))
            continue
        records.append(_as_seen(ws, record))
    records.sort(key=lambda r: (r.created, r.run_id), reverse=True)
    return records, sorted(unreadable)


def no_model_yet(record: Any, *, resumable: bool = True) -> str:
    """Why a run has no model to use yet, and what to do: a running run is waited for, a
    stopped one resumed (``resumable``: it saved a checkpoint), others trained again."""
    status = getattr(record.status, "value", str(record.status))
    if status == RunStatus.RUNNING.value:
        advice = "it is still training: wait until it finishes (`cloister runs` shows it)"
    elif status == RunStatus.CREATED.value:
        advice = "it never started training: train again (`cloister train`)"
    elif status in (RunStatus.FAILED.value, RunStatus.CANCELLED.value) and not resumable:
        advice = "it stopped before its first checkpoint: train again (`cloister train`)"
    elif status in (RunStatus.FAILED.value, RunStatus.CANCELLED.value):
        advice = (f"it stopped before its first model was saved: resume it (`cloister resume "
                  f"{record.run_id}`) or train again")
    else:
        advice = "train it to the end first"
    return f"run {record.run_id!r} has no trained model yet (status: {status}); {advice}"


def used_settings(record: Any) -> dict[str, Any]:
    """The settings that shaped a run: the dp_ ones only when it trained with DP (a plain run's
    config still holds their unused defaults). The run list, comparison and card show these."""
    config = record.config or {}
    used = {k: v for k, v in config.items() if config.get("dp") or not k.startswith("dp_")}
    # Settings that shaped nothing: a single-label run's label delimiter, a cut run's window
    # overlap (a card listed "label_delimiter |" and "window_overlap None" for every run).
    if not config.get("multi_label"):
        used.pop("label_delimiter", None)
    if config.get("long_texts", "cut") != "windows":
        used.pop("window_overlap", None)
    if config.get("dp"):
        # DP-SGD clips each row's gradient at C (dp_max_grad_norm) instead of the batch's at
        # grad_clip, and the δ the run used is the one worked out when none was given: a card
        # read "grad_clip 1.0" beside "C 0.1", and "dp_delta None" beside "δ 0.00557".
        used.pop("grad_clip", None)
        delta = (getattr(record, "privacy", None) or {}).get("delta")
        if used.get("dp_delta") is None and delta is not None:
            used["dp_delta"] = delta
    return used


def privacy_said(privacy: dict[str, Any] | None) -> str:
    """A DP run's guarantee in one line, as the CLI, the Results page and Runs say it; "" for
    a run without differential privacy."""
    if not privacy:
        return ""
    unit = (f"each person (column '{privacy['person_column']}')" if privacy.get("person_column")
            else "each row")
    steps = privacy.get("steps")
    planned = privacy.get("planned_steps")
    taken = f", {steps:,} of {planned:,} planned steps" if steps is not None and planned else ""
    return (f"differential privacy: ε = {privacy['epsilon_spent']:.2f} spent of "
            f"{privacy['epsilon_target']:g}, δ = {privacy['delta']:.3g}, protecting {unit}"
            f"{taken}; validation and test metrics are not private")


def compare_runs(records: list[RunRecord], named: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Rows for a side-by-side table: the dataset as named now (``named``, from
    ``datasets_named_now``: "customers (an earlier import)"), the settings that differ, the
    privacy spent (DP runs), then the test metrics and how many test rows they were measured
    on."""
    settings = [used_settings(r) for r in records]
    keys = sorted({k for s in settings for k in s})
    differing = [k for k in keys if len({repr(s.get(k)) for s in settings}) > 1]
    # Accuracy and macro-F1 first, as the list of runs shows them; the rest by name.
    metric_names = sorted({m for r in records for m in r.metrics},
                          key=lambda m: (m not in ("accuracy", "macro_f1"), m != "accuracy", m))
    any_dp = any(r.privacy for r in records)
    rows = []
    for r, s in zip(records, settings):
        row: dict[str, Any] = {"run": r.run_id, "status": r.status.value,
                               "dataset": (named or {}).get(r.run_id, r.dataset)}
        row.update({k: s.get(k) for k in differing})
        if any_dp:
            row["epsilon_spent"] = (r.privacy or {}).get("epsilon_spent")
        row.update({m: r.metrics.get(m) for m in metric_names})
        row["test_rows"] = r.test_rows
        row["duration_s"] = round(r.duration_seconds, 1)
        rows.append(row)
    return rows


def scored_alike(records: list[RunRecord]) -> bool:
    """Whether the runs' test metrics come from the same test rows: the same dataset contents
    (digest), split with the same seed into as many test rows. Runs of two imports of one
    name showed side by side as "dataset customers" with nothing to say they were not."""
    def split_by(r: RunRecord) -> tuple[Any, ...]:  # what the split's rows depend on
        used = used_settings(r)
        multi = bool(used.get("multi_label"))  # None in records from before the setting
        return (r.dataset_sha256 or r.dataset, used.get("seed"), r.test_rows, multi,
                used.get("label_delimiter") if multi else None,
                int(used.get("split_rule", 1)) if multi else None, used.get("dp_person_column"))

    keys = {split_by(r) for r in records}
    return len(keys) <= 1


def runs_on(ws: Vault, dataset: str, sha256: str | None = None) -> list[RunRecord]:
    """The runs trained on the contents ``dataset`` holds now (``current_dataset``), and those
    of earlier imports under its name whose contents no dataset holds any more, newest first;
    not those of another dataset that holds the same contents under its own name. ``sha256``
    is not needed; kept for callers."""
    from engine.data.store import list_datasets

    return runs_among(list_runs(ws), list_datasets(ws), dataset)


def runs_by_dataset(ws: Vault, names: list[str]) -> dict[str, list[RunRecord]]:
    """``runs_on`` for each of ``names``, from one reading of the runs and the datasets: read
    for each, an erasure across 157 datasets and 300 runs took minutes."""
    if not names:
        return {}
    from engine.data.store import list_datasets

    records, datasets = list_runs(ws), list_datasets(ws)
    return {name: runs_among(records, datasets, name) for name in names}


def runs_among(records: list[RunRecord], datasets: list[Any], dataset: str) -> list[RunRecord]:
    """``runs_on`` over runs and datasets already read."""
    out = []
    for record in records:
        now = current_dataset(record, datasets)
        if now == dataset or (now is None and record.dataset == dataset):
            out.append(record)
    return out


def current_dataset(record: Any, datasets: list[Any]) -> str | None:
    """The dataset (of ``datasets``, their infos) that holds what ``record``'s run trained on:
    the one of its recorded name, unless imported again since (other contents or columns);
    else one the same contents were renamed to (a rename keeps the digest while the run still
    carries the old name); else None."""
    from engine.training.prepare import columns_changed

    trained_on = getattr(record, "dataset_sha256", None)
    columns = getattr(record, "dataset_columns", None)

    def same(info: Any) -> bool:
        return (not trained_on or not info.sha256 or info.sha256 == trained_on) \
            and not columns_changed(columns, info.mapping.as_dict())

    named = next((d for d in datasets if d.name == record.dataset), None)
    if named is not None and same(named):
        return named.name
    if not trained_on:
        return None
    return next((d.name for d in datasets if d.sha256 == trained_on and same(d)), None)


def dataset_name_now(ws: Vault, record: Any) -> str:
    """The name ``record``'s run's dataset has now (``current_dataset``), else the one it
    recorded (gone, or imported again since: messages still name it)."""
    from engine.data.store import list_datasets

    return current_dataset(record, list_datasets(ws)) or record.dataset


def datasets_named_now(ws: Vault, records: list[Any]) -> dict[str, str]:
    """Each run's dataset as the app and `cloister runs` name it now: by the name
    it has now (a rename keeps the contents; the run kept the old name), and marked where the
    vault no longer holds what the run trained on (deleted, or imported again since)."""
    from engine.data.store import list_datasets

    datasets = list(list_datasets(ws))
    names = {info.name for info in datasets}
    labels: dict[str, str] = {}
    for record in records:
        now = current_dataset(record, datasets)
        if now == record.dataset:
            labels[record.run_id] = record.dataset
        elif now is not None:
            labels[record.run_id] = f"{now} (was {record.dataset})"
        else:
            # Not "deleted": renamed, then fixed or imported again, reads the same from here.
            what = "an earlier import" if record.dataset in names else "no longer stored"
            source = getattr(record, "dataset_source", None)
            labels[record.run_id] = f"{record.dataset} ({what}{', ' + source if source else ''})"
    return labels


def check_deletable(ws: Vault, records: list[RunRecord], *, force: bool = False,
                    how: str = "--force") -> None:
    """Refuse, before any is deleted, when one of ``records`` is being trained by a live process
    (even with ``force``: it would write the run back as it went on), or is recorded as running
    where this process cannot tell whether one is (unless ``force``)."""
    running = [r.run_id for r in records if r.status is RunStatus.RUNNING]
    live = [run_id for run_id in running if is_being_trained(ws, run_id)]
    if live:
        raise RunClaimed(f"run {', '.join(live)} is being trained right now by a Cloister window or "
                         "`cloister` command: cancel it there first, then delete it")
    if running and not force:
        raise InputError(f"run {', '.join(running)} is recorded as running: cancel it first; if no "
                         "Cloister is training it (the app or a command was killed), delete it "
                         f"with {how}")


def delete_run(ws: Vault, run_id: str, *, force: bool = False) -> int:
    """Unlink every entry of a run (record, model, report with its test texts, checkpoint) and
    return how many: a model and its report hold what was learnt from, and shown of, the data,
    so erasing a dataset for good means erasing its runs too.

    A run recorded as running is refused unless ``force``: it may be training right now (a run
    left "running" by a crash has no such owner, and ``force`` clears it).
    """
    run_id = resolve_run_id(ws, run_id)
    try:
        record: RunRecord | None = load_run(ws, run_id)
    except UNREADABLE_RECORD as exc:
        if not force:  # whether it is being trained cannot be read from it: the user says
            raise InputError(f"the record of run {run_id} cannot be read ({exc}); delete the "
                             f"run with `cloister rm-run {run_id} --force`") from None
        record = None
    if record is not None:
        check_deletable(ws, [record], force=force)
    # Held while deleting: a resume starting meanwhile waits, then finds no run to resume.
    with claim_run(ws, run_id) if record is None or record.status is not RunStatus.RUNNING \
            else nullcontext(), interrupts_held():  # the deletion and its entry, or neither
        count = ws.delete_prefix(f"runs/{run_id}/")
        ws.audit("run.deleted", run=run_id, dataset=record.dataset if record else None)
    release_claim_file(ws, run_id)
    return count


def carry_runs_without_digest(ws: Vault, old: str, new: str) -> None:
    """Runs trained before run records kept their dataset's digest (2026-12-05) find their
    dataset by its name alone: renamed, it read as deleted, and ``forget --with-runs`` no longer
    named them. They take the new name, as newer runs follow their dataset by its digest."""
    for record in list_runs(ws):
        if record.dataset == old and not record.dataset_sha256:
            save_run(ws, replace(record, dataset=new))
