"""Predictor on a tiny random BERT: batching and length sorting never change the answers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import InputError
from engine.events import Cancelled, CancelToken, Failed, FailureKind, Finished, Progress
from engine.evaluation.file_prediction import predict_file
from engine.evaluation.prediction import Predictor
from tests.engine.tiny_model import make_tiny_bert, make_workspace

SPAM_WORDS = ("free cash prize", "win now", "urgent call claim", "txt reply stop")
HAM_WORDS = ("see you tomorrow", "hello lunch", "sorry late home", "thanks ok meeting")


def write_sms_csv(path: Path, *, rows: int = 40, extra: str = "") -> Path:
    """A small labelled CSV with a spam/ham signal a tiny model can learn in seconds."""
    lines = ["id,text,label"]
    for i in range(rows):
        words, label = (SPAM_WORDS, "spam") if i % 2 else (HAM_WORDS, "ham")
        lines.append(f"{i},{words[i % 4]} {extra} {i},{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train_tiny_run(root: Path, *, dataset: str = "sms", extra: str = "", labels_csv: Path | None = None):
    """A real run: tiny BERT trained by the engine on an imported CSV. -> (ws, run_id, csv)."""
    from engine.data.columns import infer_mapping
    from engine.data.importing import read_table
    from engine.data.store import save_dataset
    from engine.training import TrainConfig, train

    torch.set_num_threads(1)
    folder = make_tiny_bert(root / "tiny-bert")
    ws = make_workspace(root / "workspace")
    csv = labels_csv or write_sms_csv(root / "source.csv", extra=extra)
    imported = read_table(csv)
    save_dataset(ws, dataset, imported, infer_mapping(imported))
    config = TrainConfig(dataset=dataset, model_path=str(folder), epochs=2, batch_size=8,
                         max_length=32, learning_rate=1e-3)
    events = list(train(ws, config))
    assert isinstance(events[-1], Finished), events[-1]
    return ws, events[-1].run_id, csv

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
    import engine.evaluation.prediction as prediction

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
        # In the labels' own order, as a predicted file writes them.
        chosen = tuple(label for label, p in zip(LABELS, row) if p >= 0.5)
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


def test_a_text_exactly_as_long_as_the_model_reads_is_not_counted_cut(tiny) -> None:
    """A file's texts of exactly max length tokens ([CLS] and [SEP] included), and under
    windows a text ending exactly where the 16th window does, were counted "longer than the
    model reads"; Try it said nothing of the same text."""
    model, tokenizer = tiny
    predictor = Predictor(model, tokenizer, LABELS, max_length=16)

    def words(tokens: int) -> str:  # "the" is one token; [CLS] and [SEP] make the other two
        text = " ".join(["the"] * (tokens - 2))
        assert predictor.token_count(text) == tokens
        return text

    predictor.predict_proba([words(15), words(16), words(16)])
    assert predictor.texts_cut == 0
    predictor.predict_proba([words(16), words(17), words(40)])
    assert predictor.texts_cut == 2
    predictor.window_overlap = 4  # as a model trained on windows reads
    reach = predictor.tokens_read
    predictor.predict_proba([words(reach - 1), words(reach)])
    assert predictor.texts_cut == 0
    predictor.predict_proba([words(reach), words(reach + 1), words(reach + 30)])
    assert predictor.texts_cut == 2


# -- a predictor from a stored run, and batch prediction over files ------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    ws, run_id, csv = train_tiny_run(tmp_path_factory.mktemp("run"))
    return ws, run_id, csv


def test_from_run_loads_the_trained_model_and_labels(run) -> None:
    from engine.models.weights import load_model
    from engine.runs import load_run

    ws, run_id, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    assert predictor.labels == load_run(ws, run_id).labels == ("ham", "spam")
    assert predictor.run_id == run_id and predictor.max_length == 32
    model, tokenizer = load_model(ws, f"runs/{run_id}/model")
    expected = _one_by_one(model, tokenizer, TEXTS, max_length=32)
    np.testing.assert_allclose(predictor.predict_proba(TEXTS), expected, atol=1e-5)


def test_from_run_without_a_model_says_so(run) -> None:
    from engine.runs import RunRecord, save_run

    ws, _, _ = run
    from dataclasses import replace

    from engine.runs import RunStatus

    record = RunRecord(run_id="20260101-000000-dead", dataset="sms", config={}, labels=("a", "b"))
    from engine.run_claims import claim_run

    save_run(ws, replace(record, status=RunStatus.RUNNING))
    # Still training: waited for, not "resumed" (which would be refused while it trains).
    with claim_run(ws, record.run_id), pytest.raises(
            InputError, match=r"has no trained model yet \(status: running\); it is still "
                              r"training: wait until it finishes"):
        Predictor.from_run(ws, "20260101-000000-dead")
    save_run(ws, replace(record, status=RunStatus.CANCELLED))
    with pytest.raises(InputError, match=r"stopped before its first checkpoint: train again"):
        Predictor.from_run(ws, "20260101-000000-dead")  # resume would refuse: nothing to resume
    from engine.training.checkpoint import checkpoint_key

    ws.write_bytes(checkpoint_key(record.run_id), b"a checkpoint")
    with pytest.raises(InputError, match=r"resume it \(`cloister resume 20260101-000000-dead`\)"):
        Predictor.from_run(ws, "20260101-000000-dead")
    ws.delete(checkpoint_key(record.run_id))
    with pytest.raises(InputError, match="no run 'nope'"):
        Predictor.from_run(ws, "nope")


def _read_back(path: Path):
    import pandas as pd

    suffix = path.suffix
    if suffix == ".xlsx":
        return pd.read_excel(path, dtype={"text": str, "label": str})
    if suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype={"text": str, "label": str})
    return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype={"text": str, "label": str},
                       keep_default_na=False)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".xlsx"])
def test_predict_file_adds_columns_in_the_same_format(run, tmp_path: Path, suffix: str, monkeypatch) -> None:
    import pandas as pd

    ws, run_id, csv = run
    source = pd.read_csv(csv, dtype=str, keep_default_na=False)
    source.loc[3, "text"] = "a text with, a comma\nand a new line"
    input_path = tmp_path / f"in{suffix}"
    if suffix == ".xlsx":
        source.to_excel(input_path, index=False)
    elif suffix == ".jsonl":
        source.to_json(input_path, orient="records", lines=True)
    else:
        source.to_csv(input_path, sep="\t" if suffix == ".tsv" else ",", index=False)
    output = tmp_path / f"out{suffix}"
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=16)
    # The rows reach disk only as the file asked for: no temporary file staged anywhere
    # (openpyxl, behind pandas' to_excel, writes each sheet to one first).
    from tests.engine.test_xlsx_write import forbid_temp_files

    forbid_temp_files(monkeypatch)
    events = list(predict_file(predictor, input_path, output))
    monkeypatch.undo()
    beside = {p.name for p in tmp_path.iterdir()} - {"_env"}  # (the fixture's own folder)
    assert beside == {input_path.name, output.name}  # no stray part file either

    assert isinstance(events[-1], Finished), events[-1]
    assert events[-1].metrics["rows"] == len(source)
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    assert progress[-1].done == progress[-1].total == len(source)
    result = _read_back(output)
    assert list(result.columns) == ["id", "text", "label", "predicted_label", "confidence", "prob_ham", "prob_spam"]
    assert list(result["text"]) == list(source["text"])  # row order and awkward cells kept
    expected = predictor.predict(list(source["text"]))
    assert list(result["predicted_label"]) == [p.label for p in expected]
    np.testing.assert_allclose(result["confidence"], [p.confidence for p in expected], atol=1e-6)
    np.testing.assert_allclose(result["prob_ham"] + result["prob_spam"], 1.0, atol=1e-5)


def test_predict_file_text_column_choice_and_bad_column(run, tmp_path: Path) -> None:
    ws, run_id, csv = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    output = tmp_path / "out.csv"
    events = list(predict_file(predictor, csv, output, text_column="missing"))
    assert isinstance(events[-1], Failed) and events[-1].kind is FailureKind.BAD_DATA
    assert "'missing'" in events[-1].message and "source.csv" in events[-1].message
    assert not output.exists()


def test_predict_file_cancel_and_failures_leave_the_output_untouched(run, tmp_path: Path, monkeypatch) -> None:
    import engine.evaluation.file_prediction as prediction

    ws, run_id, csv = run
    predictor = Predictor.from_run(ws, run_id, device="cpu", batch_size=4)
    output = tmp_path / "out.csv"
    output.write_text("previous results\n")
    token = CancelToken()
    events = []
    for event in predict_file(predictor, csv, output, cancel=token):
        events.append(event)
        if isinstance(event, Progress) and event.done >= 8:
            token.cancel()
    assert isinstance(events[-1], Cancelled) and 8 <= events[-1].step < 40
    assert output.read_text() == "previous results\n"

    def disk_full(*args, **kwargs):  # the output's disk refuses the write
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("privacy.vault.atomic.atomic_writer", disk_full)
    last = list(predict_file(predictor, csv, output))[-1]
    assert isinstance(last, Failed) and last.kind is FailureKind.DISK
    assert "No space left" in last.message and "out.csv" in last.message
    assert output.read_text() == "previous results\n"

    monkeypatch.setattr(prediction, "_with_predictions", lambda *a: 1 / 0)
    last = list(predict_file(predictor, csv, output))[-1]
    assert isinstance(last, Failed) and last.kind is FailureKind.INTERNAL
    assert "ZeroDivisionError" in last.detail


@pytest.mark.parametrize(
    ("name", "message"),
    [("out.docx", "unknown suffix '.docx'"), ("no/such/dir/out.csv", "does not exist")],
)
def test_predict_file_refuses_bad_output_paths_before_predicting(run, tmp_path: Path, name: str, message: str) -> None:
    ws, run_id, csv = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    events = list(predict_file(predictor, csv, tmp_path / name))
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert message in events[0].message


def test_predict_file_refuses_a_folder_or_the_input_itself_as_output(run, tmp_path: Path) -> None:
    ws, run_id, csv = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    before = csv.read_bytes()
    events = list(predict_file(predictor, csv, csv))
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert "is the input file: writing the predictions there would replace your data" in events[0].message
    assert csv.read_bytes() == before
    events = list(predict_file(predictor, csv, csv.parent / "." / csv.name))  # the same file, spelt otherwise
    assert isinstance(events[0], Failed) and "is the input file" in events[0].message
    folder = tmp_path / "results"
    folder.mkdir()
    events = list(predict_file(predictor, csv, folder))
    assert len(events) == 1 and isinstance(events[0], Failed)  # before any row is predicted
    assert f"{folder} is a folder: give a file name for the predictions" in events[0].message
    assert str(folder / "predictions.csv") in events[0].message


def test_predict_file_on_a_missing_input(run, tmp_path: Path) -> None:
    ws, run_id, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    events = list(predict_file(predictor, tmp_path / "nope.csv", tmp_path / "out.csv"))
    assert isinstance(events[-1], Failed) and "nope.csv does not exist" in events[-1].message


def test_predict_file_prefers_the_training_text_column_and_reads_headerless_files(run, tmp_path: Path) -> None:
    import pandas as pd

    ws, run_id, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    assert predictor.text_column == "text"
    # "notes" is longer and would win inference; the training data's column name wins.
    table = tmp_path / "mixed.csv"
    table.write_text("notes,text\n" + "".join(
        f"a long note about the weather and nothing else at all {i},free cash prize {i}\n" for i in range(6)))
    out = tmp_path / "mixed-out.csv"
    assert isinstance(list(predict_file(predictor, table, out))[-1], Finished)
    expected = [p.label for p in predictor.predict([f"free cash prize {i}" for i in range(6)])]
    assert list(pd.read_csv(out)["predicted_label"]) == expected

    bare = tmp_path / "bare.csv"
    bare.write_text("free cash now\nhello there\nsee you tomorrow\n")
    out = tmp_path / "bare-out.csv"
    events = list(predict_file(predictor, bare, out, header=False))
    assert isinstance(events[-1], Finished) and events[-1].metrics["rows"] == 3
    written = pd.read_csv(out)
    assert list(written.iloc[:, 0]) == ["free cash now", "hello there", "see you tomorrow"]


def test_an_unexpected_failure_is_logged_without_its_message_which_may_quote_a_row(
        run, tmp_path: Path, monkeypatch, caplog) -> None:
    import logging

    from engine.evaluation import file_prediction as prediction

    ws, run_id, csv = run

    def choke(table, fmt, **_like):  # as a library does: its message quotes the row it choked on
        raise ValueError(f"cannot store {table.column('text')[0].as_py()!r} in a cell")

    monkeypatch.setattr(prediction, "_encode_table", choke)
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    with caplog.at_level(logging.ERROR):
        events = list(predict_file(predictor, csv, tmp_path / "out.csv"))
    assert isinstance(events[-1], Failed) and events[-1].kind is FailureKind.INTERNAL
    assert "batch prediction failed unexpectedly (ValueError)" in events[-1].message
    import pandas as pd

    row = pd.read_csv(csv, dtype=str)["text"][0]
    assert row not in events[-1].message and row not in caplog.text
    assert "ValueError (its message is left out: it may quote data)" in caplog.text
    assert "in choke" in caplog.text  # where it happened is still there
    assert not (tmp_path / "out.csv").exists()


def test_an_xlsx_output_that_could_not_hold_a_cell_is_refused_before_predicting(run, tmp_path: Path) -> None:
    ws, run_id, _ = run
    source = tmp_path / "long.csv"
    source.write_text("text\nshort\n" + "word " * 7000 + "\n", encoding="utf-8")
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    events = list(predict_file(predictor, source, tmp_path / "out.xlsx"))
    assert isinstance(events[-1], Failed) and events[-1].kind is FailureKind.BAD_DATA
    assert events[-1].message.startswith("row 2, column 'text': 35,000 characters")
    assert not any(isinstance(e, Progress) and e.done for e in events)  # nothing predicted first
    assert not (tmp_path / "out.xlsx").exists()


def test_token_count_reads_the_text_as_the_model_does(run) -> None:
    from engine.data.markup import strip_texts

    ws, run_id, _ = run
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    text = "Prices rose &lt;A HREF=\"http://www.investor.reuters.com/FullQuote.aspx\"&gt;KMB.N&lt;/A&gt; today " * 3
    raw = len(predictor.tokenizer(text)["input_ids"])
    assert predictor.token_count(text) == raw
    predictor.strips_markup = True  # a run trained with --strip-markup reads the cleaned text
    cleaned = strip_texts([text])[0]
    assert cleaned != text and predictor.token_count(text) == len(predictor.tokenizer(cleaned)["input_ids"]) < raw
