"""Everything checked and gathered before the first step: settings, model folder, data, splits.

Each check raises ``TrainingFailure`` with the kind and message the user sees, so a run that
cannot work fails in seconds, before any model is loaded.
"""
from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TYPE_CHECKING

import numpy as np

from engine.errors import CloisterError, InputError
from engine.events import FailureKind
from engine.models.folders import ModelInfo, check_model_folder, resolve_model_path
from engine.training.config import TrainConfig
from engine.training.data import LabelCoding, code_labels
from engine.failures import TrainingFailure

if TYPE_CHECKING:
    from engine.vault import Vault


@dataclass(frozen=True)
class Prepared:
    config: TrainConfig
    model: ModelInfo
    texts: list[str]
    coding: LabelCoding
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    # Per row, a code for the person it is about (``TrainConfig.dp_person_column``), else None.
    people: np.ndarray | None = None


@dataclass(frozen=True)
class Rows:
    """A dataset's rows as training reads them; ``people`` only with a person column."""

    texts: Sequence[str]
    labels: Sequence[str]
    people: Sequence[str] | None = None
    sha256: str | None = None  # the stored dataset's digest: which version of it was read
    columns: dict[str, Any] | None = None  # its text and label columns (``ColumnMapping.as_dict``)
    # How its texts were cleaned at import (``engine.data.markup.MARKUP``), for prediction to match.
    text_cleaning: str | None = None
    # The file it was imported from and when: which monthly export a run trained on, once the
    # name holds another.
    source: str | None = None
    imported: str | None = None
    # How a stored dataset was anonymized ({} where it was not; None for rows not from the vault).
    anonymization: dict[str, Any] | None = None
    label_fixes: dict[str, str] | None = None  # what its fixes did to labels (``label_fixes``)


def check_settings(config: TrainConfig, *, length_known: bool = True) -> ModelInfo:
    """The settings' problems and the model folder's, before any data is read; ``length_known``
    False while ``max_length`` stands in for the one the data will choose."""
    problems = config.validate(length_known=length_known)
    if problems:
        raise TrainingFailure(FailureKind.BAD_SETTING, "; ".join(p.message for p in problems))
    try:
        info = check_model_folder(resolve_model_path(config.model_path))
    except InputError as exc:
        raise TrainingFailure(FailureKind.BAD_MODEL, str(exc)) from exc
    problems = config.validate(model_max_length=info.max_length, length_known=length_known)
    if problems:
        raise TrainingFailure(FailureKind.BAD_SETTING, "; ".join(p.message for p in problems))
    if config.windows:
        _check_fast_tokenizer(info)
    return info


def _check_fast_tokenizer(info: ModelInfo) -> None:
    """Windows come from the fast tokenizer's overflow: refused before a run is recorded."""
    from engine.models.folders import load_tokenizer

    if not getattr(load_tokenizer(info.path), "is_fast", False):
        raise TrainingFailure(FailureKind.BAD_MODEL, f"the model in {info.path} has no fast "
                              "tokenizer (tokenizer.json), which reading long texts in windows "
                              "needs: cut long texts (--long-texts cut) or use another model")


def load_rows(ws: Vault, name: str, person_column: str | None = None, *,
              label_delimiter: str | None = None) -> Rows:
    """Texts and labels of a vault dataset, refusing one with blocking validation problems;
    with ``person_column``, also who each row is about (``person_ids``). ``label_delimiter``:
    a multi-label run's, for a dataset imported with one label a cell (``--multi-label
    --label-delimiter`` at training): its rows are checked again label by label, since the
    errors kept from its import counted each combination as a class ('billing|refund' with
    one example blocked a run whose every label had dozens)."""
    from engine.data import store

    try:
        stored = store.load_dataset(ws, name)
    except CloisterError as exc:  # not found, damaged, stored by a newer version
        raise TrainingFailure(FailureKind.BAD_DATA, str(exc)) from exc
    blocking = _blocking_problems(stored)
    if blocking and label_delimiter and not stored.info.label_delimiter:
        blocking = _blocking_label_by_label(stored, label_delimiter)
    if blocking:
        raise TrainingFailure(
            FailureKind.BAD_DATA,
            f"dataset '{name}' has problems that block training: {blocking}. Fix them in the "
            f"workspace with `cloister fix {shlex.quote(name)}` and the fixes `cloister show "
            f"{shlex.quote(name)}` names "
            "(such as --drop-empty, or --min-class-size 10 --merge-small-into other) or, in the "
            "app, the dataset's Fix… on the Datasets page; the source file is never changed",
        )
    people = person_ids(stored, person_column) if person_column else None
    from engine.data.anonymized_inputs import anonymization_for_run
    from engine.data.label_fixes import label_fixes
    from engine.data.markup import MARKUP

    cleaned = any(step.get("kind") == MARKUP for step in stored.info.history)
    return Rows([str(t) for t in stored.texts], [str(v) for v in stored.labels], people,
                stored.info.sha256 or None, stored.info.mapping.as_dict(),
                MARKUP if cleaned else None, source=stored.info.source_name,
                imported=stored.info.created.isoformat(timespec="seconds"),
                anonymization=anonymization_for_run(ws, name),
                label_fixes=label_fixes(stored.info.history))


def stored_for_run(ws: Vault, record: Any) -> Any:
    """The dataset a finished run trained on, as stored now, refusing one that was deleted or
    imported again since (its digest differs): its split would not be the run's."""
    from engine.data import store
    from engine.runs import dataset_name_now

    # Renamed since (the same contents under another name): read under its name now.
    name = dataset_name_now(ws, record)
    try:
        stored = store.load_dataset(ws, name)
    except store.DatasetNotFound:
        raise store.DatasetNotFound(
            f"run {record.run_id}'s dataset '{record.dataset}' is no longer in the workspace, "
            "under that name or another (it was deleted, or renamed and then changed): evaluate on a labelled file or dataset "
            f"with --data; `cloister evaluate {record.run_id} --stored` prints the report it made "
            "when it finished") from None
    trained_on = getattr(record, "dataset_sha256", None)
    if trained_on and stored.info.sha256 and stored.info.sha256 != trained_on:
        raise InputError(
            f"dataset '{record.dataset}' was imported again since run {record.run_id} trained on "
            "it (its contents changed), so the run's test split cannot be taken from it: evaluate "
            "on a labelled file or dataset with --data; the report stored at training still stands "
            f"(`cloister evaluate {record.run_id} --stored` prints it)")
    changed = columns_changed(getattr(record, "dataset_columns", None), stored.info.mapping.as_dict())
    if changed:
        raise InputError(
            f"dataset '{record.dataset}' was imported again since run {record.run_id} trained on "
            f"it, with {changed}, so the run's test split cannot be taken from it: evaluate on a "
            "labelled file or dataset with --data; the report stored at training still stands "
            f"(`cloister evaluate {record.run_id} --stored` prints it)")
    return stored


def columns_changed(trained: dict[str, Any] | None, now: dict[str, Any]) -> str:
    """What differs between the columns a run trained with and the dataset's now, in words
    ("" when nothing does, or when the run predates recording them)."""
    if not trained:
        return ""
    out = []
    if list(trained.get("text_columns", ())) != list(now["text_columns"]):
        out.append(f"text column(s) {', '.join(now['text_columns'])} instead of "
                   f"{', '.join(trained.get('text_columns', ()))}")
    if trained.get("label_column") != now["label_column"]:
        out.append(f"label column {now['label_column']} instead of {trained.get('label_column')}")
    if trained.get("separator", "\n") != now["separator"] and len(now["text_columns"]) > 1:
        out.append("another separator between its text columns")
    return " and ".join(out)


def stored_splits(stored: Any, config: dict[str, Any], people: Sequence[str] | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The split a finished run trained with, from its stored config (``cloister evaluate`` and
    the model card re-derive it): seeded, and grouped by person when the run was (``people``,
    when the caller already read them with ``stored_people``)."""
    if people is None:
        people = stored_people(stored, config)
    return split_rows(split_strata(stored.labels, config), seed=int(config.get("seed", 13)),
                      people=people)


def stored_people(stored: Any, config: dict[str, Any]) -> list[str] | None:
    """Who each row is about, for a run that protected people (its stored config), else None."""
    column = config.get("dp_person_column") if config.get("dp") else None
    try:
        return person_ids(stored, column) if column else None
    except TrainingFailure as exc:
        raise InputError(exc.message) from exc


def person_ids(stored: Any, column: str) -> list[str]:
    """The value of ``column`` for every row training reads (incomplete rows left out as the
    dataset says), refusing a column that is missing, is the text or label, or has blanks."""
    from engine.data.columns import complete_rows, label_array, person_values, text_array

    table, mapping, name = stored.table, stored.info.mapping, stored.info.name
    from engine.data.columns import same_column

    column = same_column(column, list(table.column_names))  # an accent typed the macOS way
    if column not in table.column_names:
        raise TrainingFailure(FailureKind.BAD_SETTING, f"dataset '{name}' has no column "
                              f"'{column}' to group one person's rows by; its columns are "
                              f"{', '.join(table.column_names)}")
    if column in mapping.text_columns or column == mapping.label_column:
        role = "label" if column == mapping.label_column else "text"
        raise TrainingFailure(FailureKind.BAD_SETTING, f"'{column}' is the {role} column of "
                              f"dataset '{name}': choose the column that identifies the person "
                              "a row is about, such as a customer or patient id")
    values = person_values(table, column)
    if stored.info.skip_incomplete and mapping.label_column is not None:
        values = values.filter(complete_rows(text_array(table, mapping), label_array(table, mapping)))
    people = [str(v) for v in values.to_pylist()]
    blank = [i + 1 for i, v in enumerate(people) if not v]
    if blank:
        shown = ", ".join(str(r) for r in blank[:5]) + (f" and {len(blank) - 5} more" if len(blank) > 5 else "")
        raise TrainingFailure(FailureKind.BAD_DATA, f"dataset '{name}': {len(blank)} row(s) have no "
                              f"value in the person column '{column}' (rows {shown}): every row "
                              "must say whose it is. Leave those rows out with `cloister fix "
                              f"{shlex.quote(name)} --drop-blank {shlex.quote(column)}` (no need "
                              "for the source file), or train without a person column")
    return people


def _blocking_label_by_label(stored: Any, delimiter: str) -> str:
    """The errors of ``stored``'s rows validated with several labels a row, said as
    ``_blocking_problems`` says the kept ones."""
    from engine.data.validation import validate

    errors = [p for p in validate(stored.as_imported(), stored.info.mapping,
                                  skip_incomplete=stored.info.skip_incomplete,
                                  label_delimiter=delimiter) if p.blocking]
    if not errors:
        return ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    first = errors[0]
    where = first.location()
    return f"{first.severity.value}: {where + ': ' if where else ''}{first.message}".rstrip(". ") + more


def _blocking_problems(stored: Any) -> str:
    """The import-time validation errors kept with the dataset (``--force`` imports keep them).

    ``engine.data.store`` records each problem as its text, ``"<severity>: <where>: <message>"``;
    only errors block training, warnings do not.
    """
    problems = [str(p) for p in getattr(stored.info, "problems", ())]
    errors = [p for p in problems if p.startswith("error:")]
    if not errors:
        return ""
    # The first alone: `cloister show` lists them with their fixes; three made a wall of text.
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return errors[0].rstrip(". ") + more  # said inside a sentence: "... is chosen.." once


def split_strata(labels: Sequence[str], config: TrainConfig | Mapping[str, Any]) -> list[str]:
    """What the run's split is stratified on: the labels, or for a multi-label run made under
    split rule 2 each row's rarest label (``engine.data.splits.multi_label_strata``).
    ``config``: the run's settings, or a stored run's dict (no ``split_rule``: rule 1)."""
    from engine.data.splits import multi_label_strata

    settings = config if isinstance(config, Mapping) else config.to_dict()
    if settings.get("multi_label", False) and int(settings.get("split_rule", 1)) >= 2:
        return multi_label_strata(labels, str(settings.get("label_delimiter") or "|"))
    return list(labels)


def nothing_held_out(validation_rows: int, test_rows: int, *, run_id: str = "RUN",
                     app: bool = False) -> str:
    """What a split with no validation or no test rows means for the run ('' when it has
    both): a class gives a row to each only from three rows up, so data of one- and two-row
    classes trained with no early stopping and ended with an empty "Test metrics:", unsaid."""
    missing = [part for part, rows in (("validation", validation_rows), ("testing", test_rows))
               if not rows]
    if not missing:
        return ""
    said = (f"no rows are held out for {' or '.join(missing)}: a class gives one row to "
            "validation and one to testing only from 3 rows up")
    if not validation_rows:
        said += "; with no validation, training cannot stop early or choose its best point"
    if not test_rows:
        said += "; with no test rows, the run has no test metrics"
    if app:
        return (f"{said}. Add rows to the small classes, or score the run on another labelled "
                "dataset on the Results page.")
    return (f"{said}. Add rows to the small classes, or score the run on other labelled rows "
            f"with `cloister evaluate {run_id} --data NAME|FILE`.")


def split_rows(strata: Sequence[str], *, seed: int, people: Sequence[str] | None = None,
               new_run: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified, seeded train/validation/test positions (80/10/10); with ``people``, each
    person's rows all in one split (``engine.data.splits.split_by_group``). ``new_run``: a
    split that leaves no person for validation or testing is refused (a run's split derived
    again, to evaluate or export it, is what it was)."""
    from engine.data.splits import split_by_group, split_indices

    splits = (split_by_group(list(strata), list(people), seed=seed) if people is not None
              else split_indices(list(strata), train=0.8, validation=0.1, test=0.1, seed=seed))
    if new_run and people is not None and not (splits.validation and splits.test):
        # Each person's rows stay in one part: with a handful of people, none is left to
        # validate or test on, and the run would end with no metrics to judge it by.
        count = len(set(map(str, people)))
        missing = " or ".join(n for n, part in (("validation", splits.validation),
                                                ("testing", splits.test)) if not part)
        raise TrainingFailure(FailureKind.BAD_DATA, (
            f"the person column names only {count} {'person' if count == 1 else 'people'}: with "
            f"each person's rows kept in one part of the split, no one is left for {missing}. "
            "DP per person needs many people (hundreds or more): check the column, or train "
            "without a person column"))
    return tuple(np.asarray(s, dtype=np.int64) for s in (splits.train, splits.validation, splits.test))  # type: ignore[return-value]


def prepare_rows(
    config: TrainConfig,
    info: ModelInfo,
    texts: list[str],
    labels: list[str],
    *,
    splits: tuple[Sequence[int], Sequence[int], Sequence[int]] | None = None,
    people: Sequence[str] | None = None,
) -> Prepared:
    """Label coding and splits for in-memory rows, with the checks that need the data."""
    if len(texts) != len(labels):
        raise TrainingFailure(FailureKind.BAD_DATA, f"{len(texts)} texts but {len(labels)} labels")
    codes = None
    if config.dp_person_column:
        if people is None or len(people) != len(texts):
            raise TrainingFailure(FailureKind.BAD_SETTING, "these rows come without the person "
                                  f"column '{config.dp_person_column}': pass who each row is about")
        codes = np.unique(np.asarray([str(p) for p in people], dtype=object), return_inverse=True)[1]
        codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    if not texts:
        raise TrainingFailure(FailureKind.BAD_DATA, f"dataset '{config.dataset}' has no rows")
    coding = code_labels(labels, multi_label=config.multi_label, delimiter=config.label_delimiter)
    if len(coding.names) < 2:
        raise TrainingFailure(
            FailureKind.BAD_DATA,
            f"dataset '{config.dataset}' has only one label ({', '.join(coding.names) or 'none'}): "
            "a classifier needs at least two; add rows of another class",
        )
    if splits is not None:
        train, validation, test = (np.asarray(s, dtype=np.int64) for s in splits)
    else:
        try:
            # With a person column, a person's rows stay together: the test split then
            # measures the model on people it never saw.
            train, validation, test = split_rows(split_strata(labels, config), seed=config.seed,
                                                 new_run=True,
                                                 people=people if codes is not None else None)
        except InputError as exc:
            raise TrainingFailure(FailureKind.BAD_DATA, str(exc)) from exc
    in_train = None if codes is None else len(np.unique(codes[train]))
    problems = config.validate(train_rows=len(train), people=in_train)
    if problems:
        raise TrainingFailure(FailureKind.BAD_SETTING, "; ".join(p.message for p in problems))
    return Prepared(config, info, texts, coding, train, validation, test, codes)
