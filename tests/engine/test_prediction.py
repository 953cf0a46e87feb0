"""Predictor on a tiny random BERT: batching and length sorting never change the answers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import InputError
from engine.prediction import Predictor
from tests.engine.tiny_model import make_tiny_bert

LABELS = ("ham", "spam", "other")
TEXTS = [
    "free cash prize call now",
    "hi",
    "see you tomorrow at the meeting, sorry i was late",
    "",
    "the movie was good",
    "urgent! claim your prize now reply stop to stop " * 8,  # longer than max length: truncated
    "ok",
    "thanks",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(1)
    folder = make_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert")
    torch.manual_seed(1)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=len(LABELS))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return model, tokenizer


def _one_by_one(model, tokenizer, texts: list[str], *, max_length: int, sigmoid: bool = False) -> np.ndarray:
    """Reference: each text alone, no padding at all, in input order."""
    rows = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")
            logits = model(**enc).logits
            probs = torch.sigmoid(logits) if sigmoid else torch.softmax(logits, dim=-1)
            rows.append(probs[0].numpy())
    return np.stack(rows)


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_batched_sorted_prediction_equals_one_by_one(tiny, batch_size: int) -> None:
    model, tokenizer = tiny
    predictor = Predictor(model, tokenizer, LABELS, batch_size=batch_size, max_length=32)
    probs = predictor.predict_proba(TEXTS)
    expected = _one_by_one(model, tokenizer, TEXTS, max_length=32)
    assert probs.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_order_is_restored_across_sort_chunks(tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.prediction as prediction

    model, tokenizer = tiny
    monkeypatch.setattr(prediction, "SORT_CHUNK", 3)  # several chunks of mixed lengths
    predictor = Predictor(model, tokenizer, LABELS, batch_size=2, max_length=32)
    texts = TEXTS[::-1] + TEXTS
    np.testing.assert_allclose(
        predictor.predict_proba(texts), _one_by_one(model, tokenizer, texts, max_length=32), atol=1e-5
    )


def test_predict_returns_all_probabilities_or_top_k(tiny) -> None:
    model, tokenizer = tiny
    predictor = Predictor(model, tokenizer, LABELS, max_length=32)
    probs = predictor.predict_proba(TEXTS[:2])
    full, top = predictor.predict(TEXTS[:2]), predictor.predict(TEXTS[:2], top_k=2)
    for row, prediction, short in zip(probs, full, top):
        assert set(prediction.probabilities) == set(LABELS)
        values = list(prediction.probabilities.values())
        assert values == sorted(values, reverse=True)
        assert prediction.label == LABELS[int(row.argmax())]
        assert prediction.confidence == pytest.approx(float(row.max()))
        assert prediction.labels == (prediction.label,)
        assert list(short.probabilities) == list(prediction.probabilities)[:2]
    with pytest.raises(InputError, match="top-k"):
        predictor.predict(["x"], top_k=0)


def test_multi_label_uses_sigmoid_and_threshold(tiny) -> None:
    model, tokenizer = tiny
    predictor = Predictor(model, tokenizer, LABELS, max_length=32, multi_label=True, threshold=0.5)
    probs = predictor.predict_proba(TEXTS)
    np.testing.assert_allclose(probs, _one_by_one(model, tokenizer, TEXTS, max_length=32, sigmoid=True), atol=1e-5)
    for row, prediction in zip(probs, predictor.predict(TEXTS)):
        chosen = tuple(label for label, p in sorted(zip(LABELS, row), key=lambda x: -x[1]) if p >= 0.5)
        assert prediction.labels == chosen
        assert prediction.label == "|".join(chosen)


def test_empty_input_and_odd_cells(tiny) -> None:
    model, tokenizer = tiny
    predictor = Predictor(model, tokenizer, LABELS, max_length=32)
    assert predictor.predict_proba([]).shape == (0, 3)
    # Spreadsheet cells: None and NaN read as empty text, numbers as their string.
    odd = predictor.predict_proba([None, float("nan"), 42])  # type: ignore[list-item]
    np.testing.assert_allclose(odd, predictor.predict_proba(["", "", "42"]), atol=1e-6)


def test_label_count_mismatch_is_refused(tiny) -> None:
    model, tokenizer = tiny
    with pytest.raises(InputError, match="3 outputs but 2 label names"):
        Predictor(model, tokenizer, ("a", "b"))


def test_max_length_is_capped_at_the_model_limit(tiny) -> None:
    model, tokenizer = tiny
    predictor = Predictor(model, tokenizer, LABELS, max_length=10_000)
    assert predictor.max_length == model.config.max_position_embeddings
    # A text longer than the model limit still predicts (truncated), no index error.
    assert predictor.predict_proba(["good " * 500]).shape == (1, 3)
