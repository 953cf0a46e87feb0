"""Thin calls into the engine that the pages hand to ``desktop.worker.Job``.

Every engine import is inside a function: the engine pulls in torch/transformers/pandas, and
the window must appear before any of that is loaded (``tests/test_foundation.py`` checks it).
These functions hold no ML logic; they only adapt arguments and shape results for the views.
Unless noted, they run on a worker thread.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TYPE_CHECKING

from engine.events import CancelToken, Progress
from desktop.worker import Done

if TYPE_CHECKING:
    from engine.vault import Vault


# --- start-up -------------------------------------------------------------------------------
# transformers resolves its names lazily, and two threads resolving them at once can fail
# ("cannot import name 'AutoModelForSequenceClassification'": Try it loading one run while the
# user picked another, or while the warm-up ran). Every job that pulls the stack in takes it
# whole, here, one thread at a time; once imported, this costs nothing.
_IMPORTING = threading.Lock()


def import_ml_stack() -> None:
    with _IMPORTING:
        import engine.evaluation.prediction  # noqa: F401
        import engine.evaluation.file_prediction  # noqa: F401
        import engine.training  # noqa: F401
        import transformers.modeling_utils  # noqa: F401
        from transformers import (  # noqa: F401  (the lazy names the engine asks for)
            AutoConfig,
            AutoModelForSequenceClassification,
            AutoModelForTokenClassification,
            AutoTokenizer,
        )
        from transformers.models.bert import modeling_bert  # noqa: F401  (the default model's code)


def warm_up(_cancel: CancelToken) -> None:
    """Import the training stack after unlock, while the user looks at their data.

    The first ``from_pretrained`` otherwise imports ~1,400 modules (sympy, scipy,
    torch.distributed, ...) on the training thread: 1.8 s during which the import machinery
    holds the GIL for up to ~0.2 s at a time and the window stutters. Nothing is loaded here,
    no model and no data: only modules.
    """
    import_ml_stack()


# --- datasets ---------------------------------------------------------------------------------
def save_draft(ws: Vault, name: str, draft: Any, *, skip_incomplete: bool, cancel: CancelToken,
               overwrite: bool = False) -> Iterator[Any]:
    """Store the draft in the vault, reporting progress; ends with ``Done(DatasetInfo)``.

    ``skip_incomplete`` is the engine's rule (``engine.data.store.save_dataset``): rows with a
    blank text or no label are not stored.
    """
    from engine.data.store import save_dataset

    yield Progress(done=0, total=3, message="preparing")
    if cancel.cancelled:
        from engine.events import Cancelled

        yield Cancelled(step=0)
        return
    yield Progress(done=1, total=3, message="encrypting")
    info = save_dataset(ws, name, draft.imported, draft.mapping, problems=draft.problems,
                        skip_incomplete=skip_incomplete, history=getattr(draft, "history", ()),
                        overwrite=overwrite,
                        label_delimiter=getattr(draft, "label_delimiter", None))
    yield Progress(done=3, total=3, message="stored")
    yield Done(info)


def data_file_filter() -> str:
    """UI thread: the file-dialog filter for every format the engine can read."""
    from engine.data.importing import SUPPORTED_SUFFIXES

    # .txt too: read by what it holds (a tab-separated export saved as text), as importing does.
    patterns = " ".join(f"*{suffix}" for suffix in (*SUPPORTED_SUFFIXES, ".txt"))
    return f"Data files ({patterns});;All files (*)"


def file_suffixes() -> list[str]:
    """UI thread: the main suffix of each file format the engine reads, for the page's hint."""
    from engine.data.importing.registry import registered

    return [reader.suffixes[0] for reader in registered() if reader.suffixes]


def stored_datasets(ws: Vault, damaged: list[tuple[str, str]] | None = None) -> list[Any]:
    """UI thread (small index read). ``damaged``: where the unreadable ones are named."""
    from engine.data.store import list_datasets

    return list(list_datasets(ws, damaged=damaged))


# The UI thread waits this long for another window's or command's dataset write, then says so
# instead of freezing the window behind a long import or erasure (engine.data.dataset_writes).
UI_WAIT_S = 2.0


def rename_dataset(ws: Vault, old: str, new: str) -> None:
    from engine.data.dataset_writes import writing_datasets
    from engine.data.store import rename_dataset as rename

    with writing_datasets(ws, give_up_after=UI_WAIT_S):
        rename(ws, old, new)


def runs_trained_on(ws: Vault, name: str) -> list[Any]:
    """UI thread: the runs trained on what dataset ``name`` holds (or earlier imports of it)."""
    from engine.runs import runs_on

    return runs_on(ws, name)


def delete_dataset(ws: Vault, name: str, *, with_runs: Sequence[Any] = ()) -> None:
    """The runs first, every one checked before any goes (as `cloister rm --with-runs`): a
    failure then leaves the dataset to retry with."""
    from engine.data.dataset_writes import writing_datasets
    from engine.data.store import delete_dataset as delete
    from engine.runs import check_deletable, delete_run

    with writing_datasets(ws, give_up_after=UI_WAIT_S):
        check_deletable(ws, list(with_runs))
        for record in with_runs:
            delete_run(ws, record.run_id)
        delete(ws, name)


def run_exists(ws: Vault, run_id: str) -> bool:
    """Whether ``run_id`` still has its record: one key lookup, nothing decrypted (UI thread)."""
    from engine.runs import run_key

    return ws.has(run_key(run_id))


def delete_runs(ws: Vault, run_ids: list[str], *, force: bool = False,
                seen: dict[str, str] | None = None) -> None:
    """``force``: also runs recorded as running that no job of this window trains (a crash
    left them so); the caller has asked the user first. ``seen``: each run's status as the user
    was shown it when asked: a run that has changed since (a `cloister train` that finished
    while the list said "running", asked about as crashed) is not deleted."""
    from engine.errors import InputError
    from engine.runs import check_deletable, delete_run, load_run

    records = [load_run(ws, run_id) for run_id in run_ids]
    changed = [r for r in records if seen and r.run_id in seen and r.status.value != seen[r.run_id]]
    if changed:
        raise InputError(f"run {changed[0].run_id} is {changed[0].status.value} now, not "
                         f"{seen[changed[0].run_id] if seen else ''} as the list showed it when "
                         "you chose to delete it: the list is brought up to date, and nothing "
                         "was deleted. Look at it again before deleting")
    check_deletable(ws, records, force=force,
                    how="Delete… on the Runs page while this window trains nothing")
    for run_id in run_ids:
        delete_run(ws, run_id, force=force)


# --- models and training ---------------------------------------------------------------------
def check_model(path: Path) -> Any:
    """``ModelInfo`` or raises ``InputError`` with the reason the folder can't be used. On the
    UI thread: it reads the folder's files, not the ML stack (so no ``import_ml_stack``)."""
    from engine.models.folders import check_model_folder

    return check_model_folder(path)


def make_config(**options: Any) -> Any:
    from engine.training import TrainConfig

    return TrainConfig(**options)


def estimate(config: Any, rows: int, mean_tokens: float | None = None, auto: Any = None) -> Any:
    """The engine's estimate; with long texts in windows, ``auto`` (the measured lengths)
    counts the windows and their tokens."""
    import_ml_stack()
    from engine.training import estimate as engine_estimate

    per_text = 1.0
    if auto is not None and config.windows:
        per_text, mean_tokens = auto.windows_at(config.max_length, config.overlap_tokens)
    return engine_estimate(config, rows, mean_tokens=mean_tokens, windows_per_text=per_text)


def count_people(ws: Vault, dataset: str, column: str, seed: int) -> tuple[int, int]:
    """How many people ``column`` names in ``dataset``, and how many of them the run's seeded
    split puts in training (each person's rows on one side); decrypts it in memory. Raises with
    the engine's message for a column that cannot name people."""
    import_ml_stack()
    from engine.data.store import load_dataset
    from engine.training.config import TrainConfig
    from engine.training.plan import as_imported, training_split
    from engine.training.prepare import person_ids, split_strata

    stored = load_dataset(ws, dataset)
    people = person_ids(stored, column)
    # Split as the run will: with what the dataset says about training it (multi-label).
    run = TrainConfig(dataset=dataset, seed=seed, **as_imported(ws, dataset))
    return len(set(people)), training_split(split_strata(stored.labels, run), seed, people)[1]


def auto_settings(ws: Vault, dataset: str, model_path: str | None) -> Any:
    """``engine.training.auto.AutoSettings`` measured on a vault dataset (decrypts it in memory)."""
    import_ml_stack()  # the tokenizer
    from engine.training.plan import plan_training

    return plan_training(ws, dataset, {}, model_path=model_path).auto


def train_events(ws: Vault, config: Any, cancel: CancelToken) -> Iterator[Any]:
    import_ml_stack()
    from engine.training import train

    yield from train(ws, config, cancel=cancel)


def resume_events(ws: Vault, run_id: str, cancel: CancelToken) -> Iterator[Any]:
    import_ml_stack()
    from engine.training import resume

    yield from resume(ws, run_id, cancel=cancel)


# --- runs, results, prediction, export -------------------------------------------------------
def runs(ws: Vault) -> list[Any]:
    """UI thread: run records, newest first."""
    from engine.runs import list_runs

    return sorted(list_runs(ws), key=lambda record: record.created or "", reverse=True)


def runs_and_unreadable(ws: Vault) -> tuple[list[Any], list[tuple[str, str]]]:
    """UI thread: run records, newest first, and (id, why) for each whose record cannot be read
    (the Runs page names those and offers to delete them)."""
    from engine.runs import read_runs

    return read_runs(ws)


def delete_unreadable_runs(ws: Vault, run_ids: list[str]) -> None:
    """Delete runs whose records cannot be read: what they hold (a model, a report quoting test
    rows) cannot be told, and nothing else in the app reaches them."""
    from engine.runs import delete_run, read_runs

    # Only those still unreadable: one put back from a backup since is shown before it goes.
    still = {run_id for run_id, _ in read_runs(ws)[1]}
    for run_id in run_ids:
        if run_id in still:
            delete_run(ws, run_id, force=True)


def dataset_labels(ws: Vault, records: list[Any]) -> dict[str, str]:
    """UI thread (small index reads): each run's dataset as the pages name it now
    (``engine.runs.datasets_named_now``, which `cloister runs` uses too)."""
    from engine.runs import datasets_named_now

    return datasets_named_now(ws, records)


def run_record(ws: Vault, run_id: str) -> Any:
    from engine.runs import load_run

    return load_run(ws, run_id)


def report(ws: Vault, run_id: str) -> Any:
    """The run's evaluation report, or None when it has none (failed or cancelled runs)."""
    from engine.evaluation.report import load_report

    try:
        return load_report(ws, run_id)
    except Exception:  # noqa: BLE001 - the view shows "no report" instead
        return None


def score_on_dataset(ws: Vault, run_id: str, dataset: str, cancel: CancelToken) -> Iterator[Any]:
    """Worker: the run's model scored on a stored dataset (``cloister evaluate RUN --data``),
    ending with ``Done(report)``, or ``Cancelled`` between batches (a lock does not wait for
    the rest); the run's own report is left as it is."""
    import_ml_stack()
    from engine.errors import Stopped
    from engine.evaluation.evaluate import evaluate_run
    from engine.events import Cancelled

    try:
        report = evaluate_run(ws, run_id, dataset=dataset, cancel=cancel)
    except Stopped:
        yield Cancelled(step=0)
        return
    yield Done(report)


def load_predictor(ws: Vault, run_id: str) -> Any:
    import_ml_stack()
    from engine.evaluation.prediction import Predictor

    return Predictor.from_run(ws, run_id)


def predict(predictor: Any, text: str) -> tuple[Any, int | None, float, str | None]:
    """The prediction, the text's length in tokens when the model reads only its start, the
    share of its words the model's vocabulary does not have ([UNK]: its answer says little), and
    the text as read where it was anonymized first (a run trained on an anonymized copy)."""
    from engine.training.auto import vocabulary_fit

    prediction = predictor.predict([text])[0]
    unknown = vocabulary_fit([text], predictor.tokenizer)[0]
    return prediction, predictor.tokens_if_cut(text), unknown, predictor.anonymized(text)


def predict_file_events(ws: Vault, predictor: Any, source: Path, target: Path,
                        cancel: CancelToken, sheet: str | None = None) -> Iterator[Any]:
    """Predict a file (``sheet``: a workbook's sheet); the engine records it in ``ws``'s audit
    log with the write."""
    from engine.evaluation.file_prediction import predict_file

    # overwrite: the Save dialog that chose ``target`` asked before an existing file is replaced.
    yield from predict_file(predictor, source, target, cancel=cancel, ws=ws, sheet=sheet,
                            overwrite=True)


def export_events(ws: Vault, run_id: str, out: Path, *, format: str, plaintext: bool,
                  passphrase: str | None, kdf: Any, cancel: CancelToken) -> Iterator[Any]:
    """Export in one piece (the engine writes all or nothing); ends with ``Done(path written)``."""
    import_ml_stack()
    from engine.export.exporters import export_run

    yield Progress(done=0, total=1, message="exporting")
    if passphrase is not None:
        _refuse_vault_passphrase(ws, passphrase)
    try:
        written = export_run(ws, run_id, out, format=format,
                             plaintext=plaintext, passphrase=passphrase, kdf=kdf)
    except OSError as exc:
        if not _about(exc, out):
            raise  # the workspace's own files: the engine's message says so
        from engine.errors import InputError

        raise InputError(f"could not write the export to {out}: {exc.strerror or exc}; choose a "
                         "folder you can write to, on a disk with free space") from exc
    yield Done(written)


def _refuse_vault_passphrase(ws: Vault, passphrase: str) -> None:
    """The app does not keep the vault's passphrase, so whether the export's is the same is
    asked of the vault file (one key derivation), as `cloister export` compares the two."""
    from engine.errors import InputError
    from privacy.vault.keyfile import VAULT_FILE_NAME, opens_vault

    if opens_vault(Path(ws.root) / VAULT_FILE_NAME, passphrase):
        raise InputError("the export passphrase is the vault's own: whoever is given it to open the "
                         "export could unlock the whole vault; choose another (nothing was written)")


def _about(exc: OSError, out: Path) -> bool:
    """Whether ``exc`` names ``out``, a path inside it or beside it (a part file), or a folder
    on the way to it."""
    target = Path(out).expanduser().absolute()
    for name in (exc.filename, exc.filename2):
        if name:
            path = Path(os.fsdecode(name)).absolute()
            if path == target or target in path.parents or path in target.parents \
                    or path.parent == target.parent:
                return True
    return False
