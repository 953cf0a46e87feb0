"""Batch prediction over a file: a predictor runs over every row of a CSV/TSV/JSON(L)/XLSX/
Parquet file, and the same format is written back with the predictions added, as a generator
of ``engine.events`` (the desktop's worker and the CLI both consume it).
"""
from __future__ import annotations

import errno
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.formula_cells import count_in_table
from engine.errors import CloisterError, InputError, refuse_odd_output
from engine.events import Cancelled, CancelToken, Event, Failed, FailureKind, Finished, Progress
from engine.evaluation.prediction import Predictor, columns_to_read
from engine.evaluation.prediction_columns import PredictionColumns, top_k_for
from engine.failures import log_internal_error
from privacy.errors import ChangeNotLogged

if TYPE_CHECKING:
    from engine.vault import Vault

log = logging.getLogger(__name__)

OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "tsv", ".jsonl": "jsonl",
                  ".ndjson": "jsonl", ".json": "json", ".xlsx": "xlsx", ".parquet": "parquet"}


def output_format(path: Path, *, fallback: str | None = None) -> str:
    """The format to write ``path`` in, from its suffix; a path without one takes ``fallback``
    (the input's format). An unknown suffix is refused rather than silently mislabelled."""
    found = OUTPUT_FORMATS.get(path.suffix.lower()) if path.suffix else fallback
    if found is None or found not in OUTPUT_FORMATS.values():
        raise InputError(
            f"cannot write predictions to {path.name}: unknown suffix {path.suffix!r}; use one "
            f"of {', '.join(sorted(OUTPUT_FORMATS))}"
        )
    return found


def predict_file(
    predictor: Predictor,
    input_path: str | Path,
    output_path: str | Path,
    *,
    text_column: str | Sequence[str] | None = None,
    header: bool | None = None,
    cancel: CancelToken | None = None,
    ws: Vault | None = None,
    sheet: str | None = None,
    top_k: int | None = None,
    overwrite: bool = True,
) -> Iterator[Event]:
    """Predict every row of a CSV/TSV/JSON(L)/XLSX/Parquet file; write it back with predictions.

    The output keeps every input column and adds ``predicted_label``, ``confidence`` and one
    ``prob_<label>`` column per label, or with ``top_k`` (and on their own for models of over
    ``MANY_LABELS`` labels) each row's ``top_k`` most probable labels as ``top_1_label``,
    ``top_1_prob``, ... (``engine.evaluation.prediction_columns``); existing columns of those
    names are replaced. It is
    written atomically, in the format of its suffix, only after every row is predicted: a
    failure or a cancel leaves whatever was at ``output_path`` untouched. Writing a plaintext
    file here is the user's explicit choice of path.

    ``text_column`` defaults to the training data's text column when the file has it, else
    it is inferred. ``header`` says whether the first row holds column names (default:
    detected; in a one-column text file, only a first line that is a text column's name, such
    as "text", is taken for one). ``ws``: the
    workspace whose audit log records the file written (predictions leave the vault in
    plaintext at the user's request), with the write: a stop between them waits for both.
    ``overwrite=False`` (the CLI without --overwrite): an ``output_path`` that exists is refused
    before predicting, and one that comes to exist while predicting (another prediction to the
    same file) is refused at the write, never replaced.

    Yields ``Progress`` per batch, then ``Finished`` (metrics: rows) — or ``Failed`` /
    ``Cancelled``; never raises.
    """
    started = time.perf_counter()
    cancel = cancel or CancelToken()
    try:
        input_path, output_path = Path(input_path), Path(output_path)
        if top_k is not None and top_k < 1:
            raise InputError(f"top-k must be 1 or more, got {top_k}")
        from engine.data.columns import ColumnMapping, text_array
        from engine.data.importing import NotTabular, read_table

        try:
            # Every row, as written: the output keeps the input's columns byte for byte.
            imported = read_table(input_path, sheet=sheet, header=header, tidy=False, compose=False)
        except NotTabular:
            imported = _lines(input_path)  # a plain list of texts, one a line
        if header is None and _first_line_is_a_text(imported, predictor, text_column):
            imported = read_table(input_path, sheet=sheet, header=False, tidy=False, compose=False)
        fmt = output_format(output_path, fallback=imported.format)
        if not output_path.parent.is_dir():
            what = ("is a file, not a folder; pick another output path"
                    if output_path.parent.exists() else "does not exist; create it or pick another output path")
            raise InputError(f"the folder {output_path.parent} {what}")
        refuse_odd_output(output_path)
        if output_path.is_dir():  # checked before predicting, not after every row is done
            raise InputError(f"{output_path} is a folder: give a file name for the predictions, "
                             f"such as {output_path / ('predictions.' + fmt)}")
        if not overwrite and os.path.lexists(output_path):
            raise output_exists(output_path)
        if fmt == "xlsx":  # what a sheet cannot hold is refused before predicting, not after
            from engine.evaluation.xlsx_write import check_fits

            check_fits(imported.table)
        _check_writable(output_path.parent)
        if output_path.exists() and output_path.samefile(input_path):
            raise InputError(f"{output_path} is the input file: writing the predictions there "
                             "would replace your data; choose another output file")
        mapping = ColumnMapping.choose(imported, **columns_to_read(
            predictor.text_columns, predictor.separator, imported.column_names, text_column))
        texts = text_array(imported.table, mapping).to_pylist()
        total = len(texts)
        # A row without text gets no prediction: the model would still give it a confident
        # label, read from nothing (``--text ""`` is refused for the same reason).
        blank = np.fromiter((not t.strip() for t in texts), dtype=bool, count=total)
        kept = np.flatnonzero(~blank)
        # Which column was read is said: a file of several text columns gets one chosen for it.
        column = " + ".join(repr(c) for c in mapping.text_columns)
        without = f" ({int(blank.sum())} without text get no prediction)" if blank.any() else ""
        yield Progress(0, len(kept), f"predicting {total:,} rows of {input_path.name}"
                                     f"{_which_sheet(imported)}, texts from column {column}{without}")
        columns = PredictionColumns(predictor.labels, total,
                                    k=top_k_for(len(predictor.labels), top_k),
                                    multi_label=predictor.multi_label, threshold=predictor.threshold,
                                    delimiter=predictor.label_delimiter)
        done = 0
        for rows, batch in predictor.iter_proba([texts[i] for i in kept]):
            if cancel.cancelled:
                yield Cancelled(step=done)
                return
            columns.add(kept[rows], batch)
            done += len(rows)
            yield Progress(done, len(kept), f"predicted {done:,} of {len(kept):,} rows, texts from "
                                            f"column {column}")
        added = columns.arrays(blank)
        table, replaced = _with_predictions(_as_typed(imported, input_path, fmt), added,
                                            predictor.labels)
        formulas = count_in_table(table) if fmt in ("csv", "tsv") else 0
        data = (_json_beside(input_path, fmt, added, predictor.labels)
                if imported.format == fmt and fmt in ("json", "jsonl") else None) \
            or _encode_table(table, fmt, like=imported)
        from privacy.interrupts import interrupts_held
        from privacy.vault.atomic import atomic_writer, remove_leftovers

        remove_leftovers(output_path.parent)  # rows a killed earlier write left beside it
        existed = output_path.exists()
        with interrupts_held():
            try:
                with atomic_writer(output_path, replace=overwrite) as handle:
                    handle.write(data)
                    # Logged before the file takes its name: plaintext rows outside the vault
                    # never go unlogged, and a refused entry leaves the file that had the name
                    # (it was replaced, then the new one removed: earlier predictions were lost).
                    if ws is not None:
                        _audit_prediction(ws, predictor.run_id, total, output_path, existed)
            except FileExistsError:  # written there by another prediction since the check
                raise output_exists(output_path) from None
        log.info("predicted %d rows (%s -> %s)", total, input_path.name, output_path.name)
        # Rows the reader could not split into the header's fields are not in the output: a
        # file of predictions one row short of its input must say which, never pass for whole.
        unread = imported.skipped_rows_text()
        yield Finished(run_id=predictor.run_id or "", duration_seconds=time.perf_counter() - started,
                       metrics={"rows": float(total), "rows_without_text": float(blank.sum()),
                                "formula_like_cells": float(formulas),
                                "rows_not_read": float(imported.skipped_rows),
                                "texts_cut": float(predictor.texts_cut)},
                       notes=((f"{unread} They are not in the output: fix them and predict "
                               "again.",) if unread else ()) + ((
                           f"{_names(replaced)} of {input_path.name} held the output's "
                           f"{'names' if len(replaced) > 1 else 'name'}: the predictions took "
                           f"{'their' if len(replaced) > 1 else 'its'} place; rename "
                           f"{'them' if len(replaced) > 1 else 'it'} in the input to keep both.",)
                           if replaced else ()),
                       info=(columns.note(),) if top_k is None and columns.k is not None else ())
    except Exception as exc:  # noqa: BLE001 - the worker boundary: report, never raise
        yield _failed(exc, output_path)


def output_exists(path: Path) -> InputError:
    """The refusal of an output file that exists, when it is not to be replaced."""
    return InputError(f"{path} exists: pass --overwrite to replace it, or choose another "
                      "--output (nothing was written)")


def _names(columns: list[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:5]) + (f" and {len(columns) - 5} more" if len(columns) > 5 else "")
    return f"column{'s' if len(columns) > 1 else ''} {shown}"


def _lines(path: Path) -> Any:
    """A text file that is no table, as a list of texts: one row per line (blank lines kept, so
    the output's rows are the input's lines), in a column named "text"."""
    import pyarrow as pa

    from engine.data.importing import ImportedTable
    from engine.data.importing.source import decode, max_bytes_default, read_bytes

    decoded = decode(path, read_bytes(path, max_bytes=max_bytes_default()), what="text file")
    lines = decoded.text.splitlines()
    return ImportedTable(table=pa.table({"text": pa.array(lines, pa.string())}), source=path,
                         format="tsv", encoding=decoded.encoding, problems=decoded.problems,
                         has_header=False)


def _decimal_commas(table: Any) -> Any:
    """The float columns (confidence, prob_*) written 0,8123 for a semicolon CSV's readers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            text = pc.replace_substring(pc.cast(table.column(i), pa.string()), ".", ",")
            table = table.set_column(i, field.name, text)
    return table


def _which_sheet(imported: Any) -> str:
    """A workbook of several sheets: the one read, and how to read another (it said nothing,
    and a summary sheet in front was classified as if it were the data)."""
    others = [name for name in imported.sheets if name != imported.sheet]
    if not imported.sheet or not others:
        return ""
    return (f" (sheet {imported.sheet!r}; also in it: {', '.join(repr(o) for o in others[:5])}"
            f"{', …' if len(others) > 5 else ''}: --sheet NAME reads another)")


def _check_writable(folder: Path) -> None:
    """Refuse a folder that cannot take the output before predicting, not after every row."""
    import tempfile

    from privacy.vault.atomic import TEMP_PREFIX

    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX, suffix=".part")
    except OSError as exc:
        raise InputError(f"cannot write to the folder {folder}: {exc.strerror or exc}; choose an "
                         "output path in a folder you can write to") from exc
    os.close(fd)
    os.unlink(name)


def _first_line_is_a_text(imported: Any, predictor: Predictor,
                          text_column: str | Sequence[str] | None) -> bool:
    """A one-column text file whose first line was taken for a column name although it reads
    as a text ("hello there": words and spaces, no word of a text column's name such as
    "review_text" or "Consumer complaint narrative"): a list of texts, each to predict. A line
    naming the column asked for, or the training data's own, stays the header."""
    from engine.data.importing.header_names import TEXT_NAMES, name_score

    if imported.format not in ("csv", "tsv") or len(imported.column_names) != 1:
        return False
    name = str(imported.column_names[0])
    given = [text_column] if isinstance(text_column, str) else list(text_column or ())
    named = {n.casefold() for n in (*given, *predictor.text_columns) if n}
    if name.casefold() in named or name_score(name, TEXT_NAMES)[0] > 0:
        return False
    return any(c.isspace() for c in name.strip()) or len(name) > 40


class _AuditNotWritten(Exception):
    """The output's audit entry was refused: the output was not given its name."""


def _audit_prediction(ws: Vault, run_id: str | None, rows: int, output_path: Path,
                      existed: bool) -> None:
    try:
        ws.audit("predict-file", run=run_id, rows=rows, output=output_path.name[:200])
    except BaseException as exc:
        cause = exc.__cause__ if isinstance(exc, ChangeNotLogged) else exc
        if not isinstance(cause, OSError):
            raise
        # The workspace's disk, not the output's: said as what it is.
        root = Path(ws.root)
        what = (f": the workspace ({root}) is on a read-only disk, and predicting a file is "
                "recorded in its audit log; make that disk writable (or copy the workspace to one "
                "that is) and predict again" if cause.errno == errno.EROFS else
                f"; free space on the workspace's disk ({root}) and predict again"
                if cause.errno in (errno.ENOSPC, errno.EDQUOT) else
                f"; check that the workspace ({root}) can be written and predict again")
        kept = f"; {output_path} is as it was" if existed else ""
        raise _AuditNotWritten("the predictions were not kept: the workspace's audit log could "
                               f"not record them ({cause.strerror or cause}){what}{kept}") from exc


def _failed(exc: Exception, output_path: Any) -> Failed:
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, _AuditNotWritten):
        return Failed(FailureKind.DISK, str(exc), f"{detail} ({exc.__cause__!r})")
    if isinstance(exc, CloisterError):
        return Failed(FailureKind.BAD_DATA, str(exc), detail)
    if isinstance(exc, PermissionError) and sys.platform == "win32" and _about(exc, output_path):
        # Windows refuses to replace a file another program has open (Excel, most often, on
        # the predictions of the last run): the folder is fine.
        return Failed(FailureKind.DISK, f"could not replace {output_path}: another program has it "
                      "open (Excel, a viewer); close it there and predict again, or choose another "
                      "output file", detail)
    if isinstance(exc, OSError):
        return Failed(FailureKind.DISK, f"could not write {output_path}: {exc.strerror or exc}; "
                      "check the folder exists, is writable and has free space", detail)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return Failed(FailureKind.OUT_OF_MEMORY, "ran out of memory while predicting; use a "
                      "smaller batch size or split the file", detail)
    log_internal_error(log, "batch prediction", exc)
    return Failed(FailureKind.INTERNAL, f"batch prediction failed unexpectedly ({type(exc).__name__})"
                  "; where it failed is on standard error (run with --verbose, or the app from a "
                  "terminal, to see it); nothing was written", detail)


def _about(exc: OSError, output_path: Any) -> bool:
    """Whether ``exc`` was about replacing ``output_path`` itself (a rename onto it names it
    second), not about the folder or the input."""
    target = os.path.abspath(str(output_path))
    return Path(output_path).exists() and any(
        name is not None and os.path.abspath(str(name)) == target for name in (exc.filename, exc.filename2))


def _with_predictions(table: Any, added: dict[str, Any], labels: tuple[str, ...] = ()
                      ) -> tuple[Any, list[str]]:
    """The table with the prediction columns (``PredictionColumns.arrays``), and the input's
    own columns that were replaced. Input columns of the same names are replaced, and so are
    those an earlier prediction of another layout left (``prob_<label>`` of these labels,
    ``top_N_label``/``top_N_prob``): predicting a file of predictions again must not leave old
    columns beside the new ones. In a file that holds no earlier prediction, a column of such a
    name is the user's own (a "confidence" of their own): it is named, not dropped silently."""
    replaced_by = _replaced_by(added, labels)
    stale = [name for name in table.column_names if replaced_by(name)]
    predicted_before = "predicted_label" in table.column_names or "top_1_label" in table.column_names
    table = table.drop_columns(stale) if stale else table
    for name, column in added.items():
        table = table.append_column(name, column)
    return table, ([] if predicted_before else stale)


def _as_typed(imported: Any, path: Path, fmt: str) -> Any:
    """The input's columns as the output carries them: Parquet written back as Parquet keeps
    its own types (its integers, floats and timestamps came back as text, which broke the
    pipelines that read them); every other pairing, as read (text)."""
    if imported.format != "parquet" or fmt != "parquet":
        return imported.table
    import pyarrow.parquet as pq

    typed = pq.read_table(path)
    same = typed.num_rows == imported.table.num_rows and typed.column_names == imported.table.column_names
    return typed if same else imported.table


def _replaced_by(added: Any, labels: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether an input column of a name gives way to the predictions' columns: one of theirs,
    or one an earlier prediction of another layout wrote. The names are gathered once: asked
    of every key of every JSON object, a set of 5,000 labels' names was built each time."""
    earlier = set(added) | {f"prob_{label}" for label in labels}
    return lambda name: name in earlier or re.fullmatch(r"top_\d+_(label|prob)", name) is not None


def _json_beside(path: Path, fmt: str, added: dict[str, Any], labels: tuple[str, ...]) -> bytes | None:
    """JSON written back as JSON: each object as it was written (numbers, booleans and nested
    objects, not text and "meta.src" keys), with the predictions as keys of its own; None where
    the objects no longer line up with the rows read (then the table is written as read)."""
    from engine.data.importing.jsonfmt import records_of

    records = records_of(path, fmt)
    values = {name: column.to_pylist() for name, column in added.items()}
    if any(len(v) != len(records) for v in values.values()):
        return None
    replaced_by, out = _replaced_by(values, labels), []
    for i, record in enumerate(records):
        row = {k: v for k, v in record.items() if not replaced_by(k)}
        row.update((name, column[i]) for name, column in values.items())
        out.append(row)
    if fmt == "json":
        return (json.dumps(out, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in out).encode("utf-8")


def _encode_table(table: Any, fmt: str, *, like: Any = None) -> bytes:
    """The whole output file in memory, so writing it is one atomic replace. A CSV written for
    a CSV from a spreadsheet keeps that spreadsheet's conventions (``like``: the input read):
    its delimiter, with decimal commas beside semicolons, and a UTF-8 BOM where the input had
    one or was in a legacy encoding, so that Excel opens it as it opened the input."""
    import pyarrow as pa

    if fmt in ("csv", "tsv"):
        from pyarrow import csv

        delimiter = "," if fmt == "csv" else "\t"
        european = fmt == "csv" and like is not None and like.format == "csv" and like.delimiter == ";"
        if european:
            delimiter, table = ";", _decimal_commas(table)
        sink = pa.BufferOutputStream()
        csv.write_csv(table, sink, csv.WriteOptions(delimiter=delimiter))
        data = sink.getvalue().to_pybytes()
        spreadsheet = like is not None and like.format in ("csv", "tsv") and (
            (like.encoding or "").lower() not in ("utf-8", "ascii"))
        return (b"\xef\xbb\xbf" + data) if spreadsheet else data
    if fmt == "parquet":
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        return sink.getvalue().to_pybytes()
    if fmt == "xlsx":  # not pandas' to_excel: openpyxl stages each sheet in a temporary file
        from engine.evaluation.xlsx_write import numeric_columns, xlsx_bytes

        # A workbook written back as one keeps its sheet's name and its number columns as
        # numbers (an amount of 220.5 came back as the text '220.5', on a sheet called Sheet1).
        if like is not None and like.format == "xlsx":
            return xlsx_bytes(table, sheet_name=like.sheet or "Sheet1",
                              numbers=numeric_columns(table))
        return xlsx_bytes(table)
    text = table.to_pandas().to_json(orient="records", lines=fmt == "jsonl", force_ascii=False)
    return (text if text.endswith("\n") or fmt == "json" else text + "\n").encode("utf-8")
