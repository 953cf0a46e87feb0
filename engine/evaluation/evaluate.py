"""Evaluate a trained run again: on its own test split (the same seeded split as training) or on
other labelled data, a dataset of the vault or a file; the metrics are ``report.compute_report``'s.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.data.label_fixes import DROPPED
from engine.errors import InputError
from engine.evaluation.report import EvaluationReport, compute_report, save_report

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from engine.evaluation.label_columns_read import FromColumns
    from engine.events import CancelToken
    from engine.vault import Vault


def evaluate_run(
    ws: Vault,
    run_id: str,
    *,
    data: str | Path | None = None,
    text_column: str | Sequence[str] | None = None,
    label_column: str | None = None,
    device: str | None = None,
    dataset: str | None = None,
    cancel: CancelToken | None = None,
    sheet: str | None = None,
    header: bool | None = None,
    label_columns: Sequence[str] | None = None,
) -> EvaluationReport:
    """Evaluate a run's model on its own test split (``data=None``; the report is stored
    again), on another dataset of the workspace (by name) or on a labelled file (a path).
    ``dataset`` names a stored dataset outright (``data`` reads a name that is also a path
    as the file, as the command line means it). ``cancel`` set stops it (``Stopped``).
    ``sheet`` picks the worksheet of a workbook given as ``data``; ``header`` says whether its
    first row names the columns (default: detected). A multi-label run reads a file's labels
    from one 0/1 column each (``label_columns``: ``--label-columns``; by default where the file
    has the run's labels' columns and no label column: ``label_columns_read``).

    Rows whose label the model was not trained on make it refuse, naming those labels and
    the data, since the model cannot predict them and the metrics would be meaningless. Rows
    of other data without text are not scored (``rows_without_text``): a model asked about
    nothing answers its prior, which would count as a mistake or a hit by chance.
    """
    from engine.evaluation.prediction import Predictor
    from engine.runs import load_run, still_training

    record = load_run(ws, run_id)
    config = dict(record.config or {})
    multi_label = bool(config.get("multi_label", False))
    delimiter = str(config.get("label_delimiter", "|"))
    groups = None
    unread: tuple[int, str] = (0, "")  # rows of a --data file that could not be read, and which
    from_columns: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # 0/1 columns read, left out
    own_split = data is None and dataset is None  # rescored, and its report stored again
    if still_training(record) and own_split:  # its report would describe weights that change
        raise InputError(f"{still_training(record)}; its test report is written when it "
                         "finishes: score it then, or on other labelled rows with --data")
    if dataset is not None:
        texts, raw_labels, source = _stored_rows(ws, dataset, delimiter if multi_label else None)
    elif data is None:
        texts, raw_labels, groups, source, repeated = _test_split(ws, record, config)
    else:
        texts, raw_labels, source, unread, from_columns = _labelled_rows(
            ws, data, text_column, label_column, record, sheet, header, label_columns)
    # The run's own split is scored as it trained (its blank rows, imported with --force, too).
    blank = [] if own_split else [i + 1 for i, t in enumerate(texts) if not str(t).strip()]
    if blank and len(blank) == len(texts):
        raise InputError(f"{source}: no row has any text to score; check the text column "
                         "(--text-column)")
    kept = np.flatnonzero([bool(str(t).strip()) for t in texts]) if blank else np.arange(len(texts))
    if blank:
        texts, raw_labels = [texts[i] for i in kept], [raw_labels[i] for i in kept]
    # Labels the run's dataset merged or dropped at import or `cloister fix`: read as trained.
    fixed = {} if own_split or multi_label else _as_fixed(raw_labels, record)
    dropped_rows = 0
    if fixed:
        scored = [i for i, label in enumerate(raw_labels) if fixed.get(label) != DROPPED]
        if not scored:
            raise InputError(f"{source}: every row's label is one the run's dataset left out "
                             f"({', '.join(repr(k) for k, v in sorted(fixed.items()) if v == DROPPED)}), "
                             "so the model was not trained on it: nothing to score")
        dropped_rows = len(raw_labels) - len(scored)
        texts, kept = [texts[i] for i in scored], kept[scored]
        raw_labels = [fixed.get(raw_labels[i]) or raw_labels[i] for i in scored]
    spellings = _spelled_otherwise(raw_labels, record.labels, multi_label=multi_label,
                                   delimiter=delimiter)
    truth = _encode_truth(raw_labels, record.labels, source, multi_label=multi_label,
                          delimiter=delimiter, spellings=spellings)
    predictor = Predictor.from_run(ws, run_id, device=device)
    if own_split or (predictor.anonymize is not None and _stored_anonymized(
            ws, dataset if dataset is not None else data)):
        predictor.anonymize = None  # rows stored anonymized already: not twice
    report = compute_report(truth, predictor.predict_proba(texts, cancel=cancel), record.labels, texts,
                            multi_label=multi_label, groups=groups,
                            label_delimiter=predictor.label_delimiter)
    if not own_split:
        from engine.evaluation.overlap import rows_seen_in_training

        report = replace(report, trained_rows=rows_seen_in_training(ws, record, texts),
                         rows_not_read=unread[0], rows_not_read_text=unread[1],
                         rows_without_text=tuple(blank),
                         labels_read_as=tuple(sorted(spellings.items())),
                         labels_fixed_as=tuple(sorted(fixed.items())), rows_of_dropped_labels=dropped_rows,
                         label_columns=from_columns[0], columns_ignored=from_columns[1])
        if blank or dropped_rows:  # mistakes keep the row numbers of the data given
            report = replace(report, misclassified=tuple(replace(m, row=int(kept[m.row]))
                                                         for m in report.misclassified))
    else:
        report = replace(report, repeated_in_training=repeated)
        _store_again(ws, run_id, record, report)
    return report


def _store_again(ws: Vault, run_id: str, record: Any, report: EvaluationReport) -> None:
    """The own split's report stored again, as scored now. A workspace on read-only media or a
    full disk keeps the one it has (each write is atomic): the scores are still shown, since
    a look at them changes nothing (the command used to fail, showing none)."""
    from engine.runs import save_run  # the run list reads the interval's rows from the record

    try:
        save_report(ws, run_id, report)
        save_run(ws, record.updated(test_rows=report.n, test_effective_rows=report.effective_rows))
    except OSError as exc:
        log.warning("the report was not stored again (%s): the workspace could not be written "
                    "(%s); the one stored before is kept", exc.strerror or exc,
                    exc.filename or ws.root)


def _test_split(ws: Vault, record: Any, config: dict[str, Any]
                ) -> tuple[list[str], list[str], list[str] | None, str, int]:
    """The run's test rows, who each is about when the run was split by person, and how many
    repeat a text it trained or validated on."""
    from engine.evaluation.overlap import repeated_test_rows
    from engine.training.prepare import stored_for_run, stored_people, stored_splits

    dataset = record.dataset
    stored = stored_for_run(ws, record)
    # The same seeded, stratified split as training: these are exactly the held-out rows.
    people = stored_people(stored, config)
    train, validation, test = stored_splits(stored, config, people)
    if len(test) == 0:
        raise InputError(f"dataset '{dataset}' has no test rows; evaluate on a file with --data")
    _refuse_another_split(ws, record, len(test))
    return ([stored.texts[i] for i in test], [stored.labels[i] for i in test],
            None if people is None else [people[i] for i in test], f"dataset '{dataset}'",
            repeated_test_rows(stored.texts, train, validation, test))


def test_split_dataset_rows(ws: Vault, run_id: str) -> list[int] | None:
    """The dataset row (from 1, as ``show`` counts) of each row of a run's test split, in the
    order its report numbers them; None when the dataset is gone or was imported again since."""
    from engine.runs import load_run
    from engine.training.prepare import stored_for_run, stored_people, stored_splits

    from engine.errors import CloisterError

    record = load_run(ws, run_id)
    config = dict(record.config or {})
    try:  # a dataset gone, imported again or damaged: the rows are then not placed
        stored = stored_for_run(ws, record)
        _, _, test = stored_splits(stored, config, stored_people(stored, config))
        _refuse_another_split(ws, record, len(test))
    except CloisterError:
        return None
    return [int(i) + 1 for i in test]


def _refuse_another_split(ws: Vault, record: Any, test_rows: int) -> None:
    """A run trained before run records kept their dataset's digest (2026-12-05) cannot show
    that its dataset is unchanged (``stored_for_run``); a test split of another size than the
    one it was scored on shows that it changed (a fix or an erasure since), and its rows would
    be partly the run's training rows: scored, and the report stored over the run's own."""
    from engine.evaluation.report import load_report

    if getattr(record, "dataset_sha256", None):
        return
    scored = record.test_rows
    if scored is None:
        try:
            scored = load_report(ws, record.run_id).n
        except (InputError, ValueError, KeyError, TypeError):
            return  # nothing to compare with
    if scored != test_rows:
        raise InputError(
            f"dataset '{record.dataset}' changed since run {record.run_id} trained on it (its test "
            f"split would have {test_rows:,} rows, not the {scored:,} the run was scored on), so "
            "the run's test split cannot be taken from it: evaluate on a labelled file or dataset "
            "with --data; the report stored at training still stands "
            f"(`cloister evaluate {record.run_id} --stored` prints it)")


def _labelled_rows(ws: Vault, data: str | Path, text_column: str | Sequence[str] | None,
                   label_column: str | None, record: Any, sheet: str | None = None,
                   header: bool | None = None, label_columns: Sequence[str] | None = None
                   ) -> tuple[list[str], list[str], str, tuple[int, str],
                              tuple[tuple[str, ...], tuple[str, ...]]]:
    """A file's (or a stored dataset's) texts and labels, what they are called in messages, how
    many of the file's rows could not be read (with which), since they are not scored, and the
    0/1 columns read as a multi-label run's labels and those left out (``label_columns_read``)."""
    path = Path(data).expanduser()
    columns: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if path.exists():
        from engine.data.columns import ColumnMapping, texts_and_labels
        from engine.data.importing import read_table

        imported = read_table(path, sheet=sheet, header=header)
        from engine.evaluation.prediction import columns_to_read, training_columns

        # Unnamed columns default to the training data's names where the file has them:
        # names are a better guide than inference on a few rows.
        trained = training_columns(ws, record) or {}
        to_read = columns_to_read(trained.get("text_columns") or (),
                                  str(trained.get("separator", "\n")), imported.column_names,
                                  text_column)
        read = _read_label_columns(imported, record, label_columns, label_column,
                                   trained.get("label_column"), to_read["text_columns"] or ())
        if read is not None:
            imported, label_column = read.imported, read.label_column
            columns = (read.columns, read.ignored)
        mapping = ColumnMapping.choose(imported, **to_read, label_column=_label_as_trained(
            trained, imported.column_names, label_column))
        if mapping.label_column is None:
            raise InputError(f"{path} has no column that looks like labels; name it with "
                             "--label-column")
        texts, labels = texts_and_labels(imported.table, mapping)
        sheet_read = f"sheet {imported.sheet!r}, " if imported.sheet and len(imported.sheets) > 1 else ""
        source = f"{path} ({sheet_read}column {mapping.label_column!r})"
        if columns[0]:
            from engine.data.label_columns import shown

            source = f"{path} (0/1 columns {shown(columns[0])})"
    elif sheet is not None:
        raise InputError(f"--sheet picks a worksheet of a workbook file; {data} is not a file")
    else:
        from engine.data.store import dataset_info

        try:
            dataset_info(ws, str(data))
        except InputError:
            raise InputError(f"{data} is neither a file nor a dataset in this workspace; give a "
                             "labelled file's path or a name from `cloister datasets`") from None
        multi = bool((record.config or {}).get("multi_label", False))
        delimiter = str((record.config or {}).get("label_delimiter") or "|") if multi else None
        return (*_stored_rows(ws, str(data), delimiter), (0, ""), columns)
    return (*_checked_labels(texts, labels, source),
            (imported.skipped_rows, imported.skipped_rows_text()), columns)


def _read_label_columns(imported: Any, record: Any, given: Sequence[str] | None,
                        label_column: str | None, trained_label: Any, text_columns: Sequence[str]
                        ) -> FromColumns | None:
    """``label_columns_read.read_run_label_columns`` for a multi-label run; ``--label-columns``
    for a single-label one refused (it reads several labels a row)."""
    config = record.config or {}
    if not config.get("multi_label", False):
        if given:
            raise InputError(f"--label-columns reads several labels a row, one 0/1 column each; "
                             f"run {record.run_id} is single-label (trained without "
                             "--multi-label): give its label column with --label-column")
        return None
    from engine.evaluation.label_columns_read import read_run_label_columns

    return read_run_label_columns(
        imported, record.labels, str(config.get("label_delimiter") or "|"), given=given,
        label_column=label_column, trained_label=str(trained_label) if trained_label else None,
        text_columns=text_columns, run=f"run {record.run_id}")


def _stored_anonymized(ws: Vault, data: str | Path | None) -> bool:
    """Whether ``data`` names a stored dataset made by anonymization (a file never is)."""
    from engine.data.anonymize import privacy_reviews

    if data is None or Path(data).expanduser().exists() or not hasattr(ws, "verify_audit"):
        return False
    return privacy_reviews(ws).get(str(data), ("",))[0] == "dataset.anonymized"


def _stored_rows(ws: Vault, name: str, delimiter: str | None = None
                 ) -> tuple[list[str], list[str], str]:
    """A stored dataset's texts and labels. ``delimiter``: a multi-label run's; a dataset that
    separates its labels otherwise ('billing;refund' against the run's '|') has them re-joined
    with it, since the dataset says its own (read by it, 'billing;refund' was refused as a
    label the model never saw)."""
    from engine.data.store import load_dataset

    stored = load_dataset(ws, name)
    labels = list(stored.labels)
    own = stored.info.label_delimiter
    if delimiter is not None and own and own != delimiter:
        # A row of none of the labels (the delimiter alone, as --label-columns stores a row of
        # 0s) stays one, in the run's delimiter: re-joined to '', it was refused as unlabelled.
        labels = [(delimiter.join(p.strip() for p in str(label).split(own) if p.strip())
                   or delimiter) if str(label).strip() else "" for label in labels]
    return _checked_labels(stored.texts, labels, f"dataset '{name}'")


def _checked_labels(texts: Sequence[Any], labels: Sequence[Any], source: str
                    ) -> tuple[list[str], list[str], str]:
    missing = [i + 1 for i, label in enumerate(labels) if not str(label).strip()]
    if missing:
        rows = ", ".join(map(str, missing[:5])) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise InputError(f"{source}: rows {rows} have no label; fill them in or remove them")
    return [str(t) for t in texts], [str(v).strip() for v in labels], source


def _label_as_trained(trained: dict[str, Any], names: Sequence[str], given: str | None) -> str | None:
    label = trained.get("label_column")
    return given if given is not None or label not in names else label


def _label_parts(raw: str, *, multi_label: bool, delimiter: str) -> list[str]:
    return [p.strip() for p in raw.split(delimiter) if p.strip()] if multi_label else [raw]


def _as_fixed(raw: Sequence[str], record: Any) -> dict[str, str]:
    """The labels of ``raw`` that the model does not know and its dataset's fixes merged into
    one it knows or dropped (``RunRecord.label_fixes``), with what they became ('' dropped)."""
    fixes = getattr(record, "label_fixes", None) or {}
    known = set(record.labels)
    return {label: fixes[label] for label in set(raw) - known
            if label in fixes and (fixes[label] == DROPPED or fixes[label] in known)}


def _spelled_otherwise(raw: Sequence[str], labels: Sequence[str], *, multi_label: bool,
                       delimiter: str) -> dict[str, str]:
    """Labels of the data the model knows under another spelling ('1.0' for '1', 'SPAM ' for
    'spam': ``engine.data.labels.spelling_key``, as import's --merge-label-variants reads them),
    each with the model's label; only where one of the model's labels has that spelling."""
    from engine.data.labels import spelling_key

    known = set(labels)
    by_key: dict[str, list[str]] = {}
    for label in labels:
        by_key.setdefault(spelling_key(label), []).append(label)
    unseen = {p for r in raw for p in _label_parts(r, multi_label=multi_label, delimiter=delimiter)
              if p not in known}
    return {p: by_key[k][0] for p in unseen if len(by_key.get(k := spelling_key(p), ())) == 1}


def _encode_truth(raw: Sequence[str], labels: Sequence[str], source: str, *, multi_label: bool,
                  delimiter: str, spellings: dict[str, str] | None = None) -> np.ndarray:
    """Each row's label ids; ``spellings`` ('1.0' -> '1') are read as the model's labels."""
    index = {label: i for i, label in enumerate(labels)}
    index |= {given: index[known] for given, known in (spellings or {}).items()}
    rows = [_label_parts(r, multi_label=multi_label, delimiter=delimiter) for r in raw]
    unseen = sorted({p for parts in rows for p in parts if p not in index})
    if unseen:
        shown = ", ".join(repr(u) for u in unseen[:10]) + (" ..." if len(unseen) > 10 else "")
        raise InputError(
            f"{source} has labels the model was not trained on: {shown}. The model knows "
            f"{', '.join(repr(label) for label in labels)}; remove those rows or rename the labels"
        )
    if not multi_label:
        return np.array([index[parts[0]] for parts in rows], dtype=np.int64)
    truth = np.zeros((len(rows), len(labels)), dtype=np.int64)
    for r, parts in enumerate(rows):
        truth[r, [index[p] for p in parts]] = 1
    return truth
