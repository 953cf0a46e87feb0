"""Prediction with a trained classifier: single texts (all probabilities, top-k) and batches.

Speed comes from three things the generic ``transformers.pipeline`` does not do: the fast
tokenizer encodes a whole chunk of texts in one Rust call, texts are sorted by token length
inside each chunk so a batch pads only to its own longest row, and nothing but the logits
leaves ``torch.inference_mode``. Results are put back in input order.

``predict_file`` runs a predictor over a CSV/TSV/JSONL/XLSX file and writes the same format
back with the predictions added, as a generator of ``engine.events``.
"""
from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import CloisterError, InputError, Stopped, refuse_odd_output
from engine.events import Cancelled, CancelToken, Event, Failed, FailureKind, Finished, Progress
from engine.failures import log_internal_error

if TYPE_CHECKING:
    from engine.vault import Vault

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

# Texts tokenized together before sorting by length. Big enough that sorting removes most of
# the padding, small enough that the token lists of a million-row file are never all in memory.
SORT_CHUNK = 8192
WINDOW_CHUNK = 256  # texts at a time when a text is read in windows: progress stays frequent


@dataclass(frozen=True)
class Prediction:
    """One text's prediction.

    ``probabilities`` maps label -> probability, highest first (only the top k when asked).
    Single-label: ``label`` is the most probable label and ``labels == (label,)``.
    Multi-label: ``labels`` are those at or above the threshold, ``label`` joins them with
    "|" (empty when none passes) and ``confidence`` is the highest probability.
    """

    label: str
    confidence: float
    probabilities: dict[str, float]
    labels: tuple[str, ...] = ()


def best_device() -> str:
    """CUDA, then Apple MPS, then CPU: the same order training uses."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


class Predictor:
    """A trained model, its tokenizer and label names, ready to score texts.

    Not thread-safe: use one predictor per worker thread.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        labels: Sequence[str],
        *,
        device: str = "cpu",
        max_length: int = 128,
        batch_size: int = 64,
        multi_label: bool = False,
        threshold: float = 0.5,
        run_id: str | None = None,
        text_column: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise InputError(f"batch size must be at least 1, got {batch_size}")
        if max_length < 2:
            raise InputError(f"max length must be at least 2 tokens, got {max_length}")
        self.labels = tuple(str(label) for label in labels)
        num_labels = getattr(getattr(model, "config", None), "num_labels", len(self.labels))
        if num_labels != len(self.labels):
            raise InputError(
                f"the model has {num_labels} outputs but {len(self.labels)} label names were given"
            )
        self.device = device
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        # Models reserve a couple of positions (RoBERTa's offset); never ask beyond the limit.
        self.max_length = min(max_length, limit) if limit else max_length
        self.batch_size = batch_size
        self.multi_label = multi_label
        self.threshold = threshold
        self.run_id = run_id
        # The training data's text column: the default for files that have a column so named.
        self.text_column = text_column
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        params = inspect.signature(self.model.forward).parameters
        # DistilBERT has no segment embeddings; BERT-like models get explicit zeros.
        self._takes_token_types = "token_type_ids" in params
        # A model trained on texts cleaned of web markup (``--strip-markup``) sees them cleaned.
        from engine.data.markup import MARKUP, TEXT_CLEANING_KEY

        self.strips_markup = getattr(getattr(model, "config", None), TEXT_CLEANING_KEY, None) == MARKUP
        # A model trained on long texts read in windows reads its input in the same windows.
        from engine.training.windows import WINDOW_OVERLAP_KEY

        overlap = getattr(getattr(model, "config", None), WINDOW_OVERLAP_KEY, None)
        # Within half a window of the length read here (the model's limit may have lowered it).
        self.window_overlap: int | None = (None if overlap is None
                                           else min(int(overlap), self.max_length // 2))

    @classmethod
    def from_run(
        cls, ws: Vault, run_id: str, *, device: str | None = None, batch_size: int = 64
    ) -> Predictor:
        """The best model of a finished run, decrypted from the workspace into memory."""
        from engine.models.weights import load_model, model_exists
        from engine.runs import load_run

        record = load_run(ws, run_id)
        key = f"runs/{run_id}/model"
        if not model_exists(ws, key):
            raise InputError(
                f"run {run_id!r} has no trained model (status: {_status(record)}); "
                "train it to the end or resume it first"
            )
        device = device or best_device()
        model, tokenizer = load_model(ws, key, device=device)
        config = dict(getattr(record, "config", {}) or {})
        return cls(
            model,
            tokenizer,
            record.labels,
            device=device,
            max_length=int(config.get("max_length", 128)),
            batch_size=batch_size,
            multi_label=bool(config.get("multi_label", False)),
            run_id=run_id,
            text_column=_training_text_column(ws, record.dataset),
        )

    @property
    def tokens_read(self) -> int:
        """How many tokens of a text count: the max length, or with windows what they reach."""
        if self.window_overlap is None:
            return self.max_length
        from engine.training.windows import reach

        return reach(self.max_length, self.window_overlap)

    # -- scoring -------------------------------------------------------------------------

    def token_count(self, text: str) -> int:
        """How many tokens ``text`` is, untruncated, as this model reads it (markup stripped
        when the run was trained so): above ``max_length``, only the start counts."""
        return len(self.tokenizer(self._as_read([text])[0], truncation=False, verbose=False)["input_ids"])

    def _as_read(self, texts: Sequence[Any]) -> list[str]:
        """The texts as the model reads them: text, with markup stripped when the run was
        trained so."""
        read = [_as_text(t) for t in texts]
        if self.strips_markup:
            from engine.data.markup import strip_texts

            read = strip_texts(read)
        return read

    def iter_proba(self, texts: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(row_indices, probabilities)`` per batch, in length order.

        The batch granularity lets callers report progress and honour a cancel token.
        """
        import torch

        texts = self._as_read(texts)
        if self.window_overlap is not None:
            yield from self._iter_windows(texts)
            return
        with torch.inference_mode():
            for start in range(0, len(texts), SORT_CHUNK):
                chunk = texts[start : start + SORT_CHUNK]
                encoded = self.tokenizer(
                    chunk,
                    truncation=True,
                    max_length=self.max_length,
                    padding=False,
                    return_attention_mask=False,
                    return_token_type_ids=False,
                )["input_ids"]
                lengths = np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(encoded))
                order = np.argsort(-lengths, kind="stable")  # longest first: fail fast on memory
                for b in range(0, len(order), self.batch_size):
                    rows = order[b : b + self.batch_size]
                    probs = self._forward([encoded[i] for i in rows], int(lengths[rows].max()))
                    yield rows + start, probs

    def _iter_windows(self, texts: list[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``iter_proba`` for a model trained on windows: each text's probabilities are the mean
        of its windows' (``engine.training.windows``), a few hundred texts at a time."""
        import torch

        from engine.training.windows import encode_windows, mean_by_text

        overlap = int(self.window_overlap or 0)  # only called with windows
        with torch.inference_mode():
            for start in range(0, len(texts), WINDOW_CHUNK):
                chunk = texts[start : start + WINDOW_CHUNK]
                windows = encode_windows(self.tokenizer, chunk, max_length=self.max_length,
                                         overlap=overlap)
                ids, lengths = windows.encoded.input_ids, windows.encoded.lengths
                probs = np.zeros((len(ids), len(self.labels)), dtype=np.float32)
                order = np.argsort(-lengths, kind="stable")
                for b in range(0, len(order), self.batch_size):
                    rows = order[b : b + self.batch_size]
                    probs[rows] = self._forward([ids[i] for i in rows], int(lengths[rows].max()))
                rows = np.arange(len(chunk))
                yield rows + start, mean_by_text(probs, windows.source, rows)

    def predict_proba(self, texts: Sequence[str], *, cancel: CancelToken | None = None) -> np.ndarray:
        """Probabilities, shape (len(texts), number of labels), in input order; ``cancel``
        set stops between batches (raising ``Stopped``)."""
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for rows, probs in self.iter_proba(texts):
            if cancel is not None and cancel.cancelled:
                raise Stopped("stopped before every row was scored")
            out[rows] = probs
        return out

    def predict(self, texts: Sequence[str], *, top_k: int | None = None) -> list[Prediction]:
        if top_k is not None and top_k < 1:
            raise InputError(f"top-k must be at least 1, got {top_k}")
        probs = self.predict_proba(texts)
        return [self.prediction_from_row(row, top_k=top_k) for row in probs]

    def prediction_from_row(self, row: np.ndarray, *, top_k: int | None = None) -> Prediction:
        order = np.argsort(-row, kind="stable")
        shown = order if top_k is None else order[:top_k]
        probabilities = {self.labels[i]: float(row[i]) for i in shown}
        best = int(order[0])
        if self.multi_label:
            chosen = tuple(self.labels[i] for i in order if row[i] >= self.threshold)
            return Prediction("|".join(chosen), float(row[best]), probabilities, chosen)
        return Prediction(self.labels[best], float(row[best]), probabilities, (self.labels[best],))

    def _forward(self, ids: list[list[int]], width: int) -> np.ndarray:
        import torch

        input_ids = np.full((len(ids), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for r, row in enumerate(ids):
            input_ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        inputs: dict[str, torch.Tensor] = {
            "input_ids": torch.from_numpy(input_ids).to(self.device),
            "attention_mask": torch.from_numpy(mask).to(self.device),
        }
        if self._takes_token_types:
            inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
        logits = self.model(**inputs).logits.float()
        probs = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
        return probs.cpu().numpy()


def _as_text(value: object) -> str:
    # Spreadsheet cells can be numbers or empty; a prediction still needs a string.
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    return value if isinstance(value, str) else str(value)


def _training_text_column(ws: Vault, dataset: str) -> str | None:
    from engine.data.store import dataset_info

    try:
        columns = dataset_info(ws, dataset).mapping.text_columns
    except InputError:
        return None  # the dataset was deleted since training; inference will do
    return columns[0] if len(columns) == 1 else None


def _status(record: Any) -> str:
    status = getattr(record, "status", "unknown")
    return getattr(status, "value", str(status))



# -- batch prediction over a file ---------------------------------------------------------

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
    text_column: str | None = None,
    header: bool | None = None,
    cancel: CancelToken | None = None,
    ws: Vault | None = None,
) -> Iterator[Event]:
    """Predict every row of a CSV/TSV/JSON(L)/XLSX/Parquet file; write it back with predictions.

    The output keeps every input column and adds ``predicted_label``, ``confidence`` and one
    ``prob_<label>`` column per label (existing columns of those names are replaced). It is
    written atomically, in the format of its suffix, only after every row is predicted: a
    failure or a cancel leaves whatever was at ``output_path`` untouched. Writing a plaintext
    file here is the user's explicit choice of path.

    ``text_column`` defaults to the training data's text column when the file has it, else
    it is inferred. ``header`` says whether the first row holds column names (default:
    detected; in a one-column text file, only a first line that is a text column's name, such
    as "text", is taken for one). ``ws``: the
    workspace whose audit log records the file written (predictions leave the vault in
    plaintext at the user's request), with the write: a stop between them waits for both.

    Yields ``Progress`` per batch, then ``Finished`` (metrics: rows) — or ``Failed`` /
    ``Cancelled``; never raises.
    """
    started = time.perf_counter()
    cancel = cancel or CancelToken()
    try:
        input_path, output_path = Path(input_path), Path(output_path)
        from engine.data.columns import ColumnMapping, text_array
        from engine.data.importing import read_table

        imported = read_table(input_path, header=header, tidy=False)  # a prediction for every row
        if header is None and _first_line_is_a_text(imported, predictor, text_column):
            imported = read_table(input_path, header=False, tidy=False)
        fmt = output_format(output_path, fallback=imported.format)
        if not output_path.parent.is_dir():
            what = ("is a file, not a folder; pick another output path"
                    if output_path.parent.exists() else "does not exist; create it or pick another output path")
            raise InputError(f"the folder {output_path.parent} {what}")
        refuse_odd_output(output_path)
        if output_path.is_dir():  # checked before predicting, not after every row is done
            raise InputError(f"{output_path} is a folder: give a file name for the predictions, "
                             f"such as {output_path / ('predictions.' + fmt)}")
        if fmt == "xlsx":  # what a sheet cannot hold is refused before predicting, not after
            from engine.evaluation.xlsx_write import check_fits

            check_fits(imported.table)
        if output_path.exists() and output_path.samefile(input_path):
            raise InputError(f"{output_path} is the input file: writing the predictions there "
                             "would replace your data; choose another output file")
        if text_column is None and predictor.text_column in imported.column_names:
            text_column = predictor.text_column
        mapping = ColumnMapping.choose(imported, text_columns=[text_column] if text_column else None)
        texts = text_array(imported.table, mapping).to_pylist()
        total = len(texts)
        # Which column was read is said: a file of several text columns gets one chosen for it.
        column = " + ".join(repr(c) for c in mapping.text_columns)
        yield Progress(0, total, f"predicting {total} rows of {input_path.name}, texts from "
                                 f"column {column}")
        probs = np.zeros((total, len(predictor.labels)), dtype=np.float32)
        done = 0
        for rows, batch in predictor.iter_proba(texts):
            if cancel.cancelled:
                yield Cancelled(step=done)
                return
            probs[rows] = batch
            done += len(rows)
            yield Progress(done, total, f"predicted {done} of {total} rows, texts from column {column}")
        table = _with_predictions(imported.table, predictor, probs)
        data = _encode_table(table, fmt)
        from privacy.interrupts import interrupts_held
        from privacy.vault.atomic import atomic_write_bytes

        with interrupts_held():
            atomic_write_bytes(output_path, data)
            if ws is not None:
                try:
                    ws.audit("predict-file", run=predictor.run_id, rows=total,
                             output=output_path.name[:200])
                except BaseException:  # plaintext rows outside the vault must never go unlogged
                    output_path.unlink(missing_ok=True)
                    raise
        log.info("predicted %d rows (%s -> %s)", total, input_path.name, output_path.name)
        yield Finished(run_id=predictor.run_id or "", duration_seconds=time.perf_counter() - started,
                       metrics={"rows": float(total)})
    except Exception as exc:  # noqa: BLE001 - the worker boundary: report, never raise
        yield _failed(exc, output_path)


def _first_line_is_a_text(imported: Any, predictor: Predictor, text_column: str | None) -> bool:
    """A one-column text file whose first line was taken for a column name although it reads
    as a text ("hello there": words and spaces, no word of a text column's name such as
    "review_text" or "Consumer complaint narrative"): a list of texts, each to predict. A line
    naming the column asked for, or the training data's own, stays the header."""
    from engine.data.importing.header_names import TEXT_NAMES, name_score

    if imported.format not in ("csv", "tsv") or len(imported.column_names) != 1:
        return False
    name = str(imported.column_names[0])
    named = {n.casefold() for n in (text_column, predictor.text_column) if n}
    if name.casefold() in named or name_score(name, TEXT_NAMES)[0] > 0:
        return False
    return any(c.isspace() for c in name.strip()) or len(name) > 40


def _failed(exc: Exception, output_path: Any) -> Failed:
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, CloisterError):
        return Failed(FailureKind.BAD_DATA, str(exc), detail)
    if isinstance(exc, OSError):
        return Failed(FailureKind.DISK, f"could not write {output_path}: {exc.strerror or exc}; "
                      "check the folder exists, is writable and has free space", detail)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return Failed(FailureKind.OUT_OF_MEMORY, "ran out of memory while predicting; use a "
                      "smaller batch size or split the file", detail)
    log_internal_error(log, "batch prediction", exc)
    return Failed(FailureKind.INTERNAL, f"batch prediction failed unexpectedly ({type(exc).__name__})"
                  "; the details are in the log", detail)


def _with_predictions(table: Any, predictor: Predictor, probs: np.ndarray) -> Any:
    import pyarrow as pa

    if predictor.multi_label:
        chosen = probs >= predictor.threshold
        predicted = ["|".join(l for l, on in zip(predictor.labels, row) if on) for row in chosen]
    else:
        predicted = [predictor.labels[i] for i in probs.argmax(axis=1)] if len(probs) else []
    added = {"predicted_label": pa.array(predicted, pa.string()),
             "confidence": pa.array(probs.max(axis=1) if len(probs) else [], pa.float64())}
    for j, label in enumerate(predictor.labels):
        added[f"prob_{label}"] = pa.array(probs[:, j].astype(np.float64), pa.float64())
    for name, column in added.items():
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, column)
    return table


def _encode_table(table: Any, fmt: str) -> bytes:
    """The whole output file in memory, so writing it is one atomic replace."""
    import pyarrow as pa

    if fmt in ("csv", "tsv"):
        from pyarrow import csv

        sink = pa.BufferOutputStream()
        csv.write_csv(table, sink, csv.WriteOptions(delimiter="," if fmt == "csv" else "\t"))
        return sink.getvalue().to_pybytes()
    if fmt == "parquet":
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        return sink.getvalue().to_pybytes()
    if fmt == "xlsx":  # not pandas' to_excel: openpyxl stages each sheet in a temporary file
        from engine.evaluation.xlsx_write import xlsx_bytes

        return xlsx_bytes(table)
    text = table.to_pandas().to_json(orient="records", lines=fmt == "jsonl", force_ascii=False)
    return (text if text.endswith("\n") or fmt == "json" else text + "\n").encode("utf-8")
