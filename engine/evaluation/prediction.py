"""Prediction with a trained classifier: single texts (all probabilities, top-k) and batches.

Speed comes from three things the generic ``transformers.pipeline`` does not do: the fast
tokenizer encodes a whole chunk of texts in one Rust call, texts are sorted by token length
inside each chunk so a batch pads only to its own longest row, and nothing but the logits
leaves ``torch.inference_mode``. Results are put back in input order.

``engine.evaluation.file_prediction.predict_file`` runs a predictor over a whole file.
"""
from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import InputError, Stopped
from engine.events import CancelToken

if TYPE_CHECKING:
    from engine.vault import Vault

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

# Texts tokenized together before sorting by length. Big enough that sorting removes most of
# the padding, small enough that the token lists of a million-row file are never all in memory.
SORT_CHUNK = 8192
# Texts read at a time when each is anonymized first (``_as_read``): a few seconds' work.
ANONYMIZED_CHUNK = 512
WINDOW_CHUNK = 256  # texts tokenized at a time when a text is read in windows
WINDOW_GROUP = 4  # batches of windows per answer yielded: progress and cancel stay frequent


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
        label_delimiter: str = "|",
        run_id: str | None = None,
        text_column: str | None = None,
        text_columns: Sequence[str] = (),
        separator: str = "\n",
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
        # Several labels are written as the training data wrote them ('billing;urgent'): a
        # file's predictions sit beside its own labels, and a label may hold a '|'.
        self.label_delimiter = label_delimiter or "|"
        self.run_id = run_id
        self.texts_cut = 0  # set by each ``iter_proba``: texts longer than what the model reads
        # The training data's text columns, joined by its separator: the default for files
        # that have columns so named (``text_column``: the one, when training read one).
        self.text_columns = tuple(text_columns) or ((text_column,) if text_column else ())
        self.separator = separator
        self.text_column = self.text_columns[0] if len(self.text_columns) == 1 else None
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        params = inspect.signature(self.model.forward).parameters
        # DistilBERT has no segment embeddings; BERT-like models get explicit zeros.
        self._takes_token_types = "token_type_ids" in params
        # A model trained on texts cleaned of web markup (``--strip-markup``) sees them cleaned.
        from engine.data.markup import MARKUP, TEXT_CLEANING_KEY

        self.strips_markup = getattr(getattr(model, "config", None), TEXT_CLEANING_KEY, None) == MARKUP
        # A run trained on an anonymized copy reads raw texts anonymized as the copy's rows
        # were (``engine.data.anonymized_inputs``); set by ``from_run``, cleared for rows
        # that are stored anonymized already.
        self.anonymize: Callable[[list[str]], list[str]] | None = None
        # The last single text read, with the anonymizer that read it: Try it asks for a typed
        # text's prediction, its length and what was read, which anonymized it three times.
        self._last_read: tuple[Any, str, str] | None = None
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
        from engine.runs import load_run, no_model_yet, still_training
        from engine.training.checkpoint import has_checkpoint

        record = load_run(ws, run_id)
        if still_training(record):
            log.warning("%s; these predictions use it as it is now", still_training(record))
        key = f"runs/{run_id}/model"
        if not model_exists(ws, key):
            raise InputError(no_model_yet(record, resumable=has_checkpoint(ws, record.run_id)))
        device = device or best_device()
        model, tokenizer = load_model(ws, key, device=device)
        config = dict(getattr(record, "config", {}) or {})
        from engine.data.anonymized_inputs import training_anonymizer

        predictor = cls(
            model,
            tokenizer,
            record.labels,
            device=device,
            max_length=int(config.get("max_length", 128)),
            batch_size=batch_size,
            multi_label=bool(config.get("multi_label", False)),
            label_delimiter=str(config.get("label_delimiter") or "|"),
            run_id=run_id,
            **_read_as_trained(ws, record),
        )
        predictor.anonymize = training_anonymizer(ws, record)
        return predictor

    @property
    def tokens_read(self) -> int:
        """How many tokens of a text count: the max length, or with windows what they reach."""
        if self.window_overlap is None:
            return self.max_length
        from engine.training.windows import reach

        return reach(self.max_length, self.window_overlap)

    # -- scoring -------------------------------------------------------------------------

    def cut_said(self, texts_cut: int) -> str:
        """What a batch's ``texts_cut`` means, in a sentence ("" for none), as Try it says it
        of one text: the model read only the start of those texts."""
        if not texts_cut:
            return ""
        return (f"{texts_cut:,} {'text was' if texts_cut == 1 else 'texts were'} longer than the "
                f"model reads: only the first {self.read_said} of "
                f"{'it' if texts_cut == 1 else 'each'} counted, as in training.")

    @property
    def read_said(self) -> str:
        """How much of a text the model reads, in words: "512 tokens (its max length)"."""
        return (f"{self.tokens_read:,} tokens (16 windows of its max length)"
                if self.window_overlap is not None else f"{self.tokens_read:,} tokens (its max length)")

    def tokens_if_cut(self, text: str) -> int | None:
        """``text``'s length in tokens when the model reads only its start (more tokens than
        ``tokens_read``), else None; a text too short to be cut is not tokenized again."""
        limit = self.tokens_read
        if len(_as_text(text).encode("utf-8")) + 2 <= limit:  # even a token a byte, and [CLS]/[SEP], fits
            return None
        tokens = self.token_count(text)
        return tokens if tokens > limit else None

    def token_count(self, text: str) -> int:
        """How many tokens ``text`` is, untruncated, as this model reads it (markup stripped
        when the run was trained so): above ``max_length``, only the start counts."""
        return len(self.tokenizer(self._as_read([text])[0], truncation=False, verbose=False)["input_ids"])

    def _as_read(self, texts: Sequence[Any]) -> list[str]:
        """The texts as the model reads them: text, with markup stripped when the run was
        trained so, then anonymized as its training rows were (import's order)."""
        if self.anonymize is None:
            return self._stripped(texts)
        if len(texts) == 1 and isinstance(texts[0], str):
            last = self._last_read
            if last is not None and last[0] is self.anonymize and last[1] == texts[0]:
                return [last[2]]
            read = self.anonymize(self._stripped(texts))
            self._last_read = (self.anonymize, texts[0], read[0])
            return read
        return self.anonymize(self._stripped(texts))

    def _stripped(self, texts: Sequence[Any]) -> list[str]:
        read = [_as_text(t) for t in texts]
        if self.strips_markup:
            from engine.data.markup import strip_texts

            read = strip_texts(read)
        return read

    def anonymized(self, text: str) -> str | None:
        """``text`` as the model reads it where anonymizing it changed it (a run trained on an
        anonymized copy), else None: what `predict --text` and Try it show, so that a user sees
        that '<PHONE>' and pseudonyms were read, not the number and names typed."""
        if self.anonymize is None:
            return None
        read = self._as_read([text])[0]
        return read if read != self._stripped([text])[0] else None

    def iter_proba(self, texts: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(row_indices, probabilities)`` per batch, in length order.

        The batch granularity lets callers report progress and honour a cancel token.
        """
        import torch

        from engine.training.data import encode_texts  # as training tokenized: packed, unpadded

        self.texts_cut = 0  # of these texts, those the model read only the start of
        if self.window_overlap is not None:
            yield from self._iter_windows(texts)
            return
        # Read (and anonymized) a chunk at a time: anonymizing is ~5 ms a complaint-sized
        # text, so a whole file done first gave no progress and no cancel for minutes.
        size = ANONYMIZED_CHUNK if self.anonymize is not None else SORT_CHUNK
        with torch.inference_mode():
            for start in range(0, len(texts), size):
                chunk = self._as_read(texts[start : start + size])
                encoded = encode_texts(self.tokenizer, chunk, max_length=self.max_length)
                lengths = encoded.lengths
                self.texts_cut += self._longer(chunk, lengths)
                order = np.argsort(-lengths, kind="stable")  # longest first: fail fast on memory
                for b in range(0, len(order), self.batch_size):
                    rows = order[b : b + self.batch_size]
                    probs = self._forward(*encoded.padded(rows, int(lengths[rows].max())))
                    yield rows + start, probs

    def _longer(self, texts: Sequence[str], lengths: np.ndarray) -> int:
        """How many of ``texts``, encoded to ``lengths`` tokens (truncated at the max length,
        special tokens included), had more tokens than that: those at the max length are
        encoded again up to one token more, since a text exactly that long is read whole."""
        at_limit = np.flatnonzero(lengths >= self.max_length)
        if not len(at_limit):
            return 0
        again = self.tokenizer([texts[int(i)] for i in at_limit], truncation=True,
                               max_length=self.max_length + 1, padding=False,
                               return_attention_mask=False, return_token_type_ids=False)
        return sum(len(ids) > self.max_length for ids in again["input_ids"])

    def _iter_windows(self, texts: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``iter_proba`` for a model trained on windows: each text's probabilities are the mean
        of its windows' (``engine.training.windows``), a few hundred texts at a time."""
        import torch

        from engine.training.windows import encode_windows, mean_by_text

        overlap = int(self.window_overlap or 0)  # only called with windows
        with torch.inference_mode():
            for start in range(0, len(texts), WINDOW_CHUNK):
                chunk = self._as_read(texts[start : start + WINDOW_CHUNK])
                windows = encode_windows(self.tokenizer, chunk, max_length=self.max_length,
                                         overlap=overlap)
                encoded, lengths = windows.encoded, windows.encoded.lengths
                source = np.asarray(windows.source)
                # Past the last window read (a text that ends just where it does is read whole).
                self.texts_cut += int(windows.cut.sum())
                # A few batches of windows per answer, not the whole chunk's (up to 16 windows
                # a text): progress and a cancel came only every ~4,000 windows, a minute apart.
                ends = np.searchsorted(source, np.arange(len(chunk)), side="right")
                first = 0
                while first < len(chunk):
                    budget = int(ends[first - 1]) if first else 0
                    last = int(np.searchsorted(ends, budget + WINDOW_GROUP * self.batch_size, side="right"))
                    last = min(len(chunk), max(last, first + 1))
                    group = np.arange(budget, int(ends[last - 1]))  # these texts' windows
                    probs = np.zeros((len(group), len(self.labels)), dtype=np.float32)
                    order = np.argsort(-lengths[group], kind="stable")
                    for b in range(0, len(order), self.batch_size):
                        rows = order[b : b + self.batch_size]
                        width = int(lengths[group[rows]].max())
                        probs[rows] = self._forward(*encoded.padded(group[rows], width))
                    texts_here = np.arange(first, last)
                    yield texts_here + start, mean_by_text(probs, source[group], texts_here)
                    first = last

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
            # In the labels' own order, as a predicted file writes them (by probability, a
            # typed text got 'b|a' where the same text in a file got 'a|b').
            chosen = tuple(label for label, p in zip(self.labels, row) if p >= self.threshold)
            return Prediction(self.label_delimiter.join(chosen), float(row[best]), probabilities,
                              chosen)
        return Prediction(self.labels[best], float(row[best]), probabilities, (self.labels[best],))

    def _forward(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Probabilities for one batch of padded ids (int64) and its attention mask."""
        import torch

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


def training_columns(ws: Vault, record: Any) -> dict[str, Any] | None:
    """How the run's training data named its columns (``ColumnMapping.as_dict``: the text
    columns, their separator, the label column): the run record's own copy, else (runs from
    before it was kept) the dataset's, under its name now; None where it is gone."""
    recorded = getattr(record, "dataset_columns", None)
    if recorded and recorded.get("text_columns"):
        return dict(recorded)
    from engine.data.store import dataset_info
    from engine.runs import dataset_name_now

    try:
        return dataset_info(ws, dataset_name_now(ws, record)).mapping.as_dict()
    except InputError:
        return None  # the dataset was deleted since training; inference will do


def columns_to_read(trained: Sequence[str], separator: str, names: Sequence[str],
                    given: str | Sequence[str] | None) -> dict[str, Any]:
    """The text columns of a file to read (``ColumnMapping.choose``'s arguments): those
    ``given``, else the training data's when the file has them all (however it encodes their
    accents), joined as training joined them; else None, inferred. A model trained on a subject
    and a body was given the body alone."""
    from engine.data.columns import same_column

    wanted = [given] if isinstance(given, str) else list(given or ())
    if not wanted and trained:
        found = [same_column(c, list(names)) for c in trained]
        wanted = found if all(c in names for c in found) else []
    return {"text_columns": wanted or None, "separator": separator}


def _read_as_trained(ws: Vault, record: Any) -> dict[str, Any]:
    columns = training_columns(ws, record) or {}
    return {"text_columns": tuple(columns.get("text_columns") or ()),
            "separator": str(columns.get("separator", "\n"))}
