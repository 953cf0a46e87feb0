"""A run trained on an anonymized copy reads raw texts anonymized as the copy's rows were: in
`predict`, and scored on the raw file. A walk-through measured accuracy 1.00 on the stored copy
and 0.97 on the very same rows raw, and `predict --text` gave another probability for a text
with a phone number than for the same text with '<PHONE>', which is what the model had seen."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from engine.cli import main as cli
from tests.engine.tiny_model import tiny_bert  # noqa: F401

POLICY = """
[entities]
PHONE = "tag"
EMAIL = "tag"
default = "keep"
"""


@pytest.fixture
def trained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_bert, capsys) -> dict:  # noqa: F811
    monkeypatch.setenv("CLOISTER_PASSPHRASE", "anonymized inputs")
    assert cli(["init", "--kdf-cost", "10"]) == 0
    rows = [(f"please call me back on 415-555-{i:04d} about order {i}", "contact") if i % 2 else
            (f"the parcel {i} arrived broken and late", "damage") for i in range(80)]
    source = tmp_path / "tickets.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *rows])
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    assert cli(["import", str(source), "--name", "anon", "--anonymize", str(policy)]) == 0
    assert cli(["import", str(source), "--name", "raw"]) == 0
    runs = {}
    for name in ("anon", "raw"):
        assert cli(["train", name, "--model", str(tiny_bert), "--epochs", "1", "--batch-size", "8",
                    "--max-length", "32", "--json"]) == 0
        capsys.readouterr()
        assert cli(["runs", "--json"]) == 0
        runs[name] = next(r["run_id"] for r in json.loads(capsys.readouterr().out) if r["dataset"] == name)
    return {"source": source, "runs": runs}


def test_raw_texts_are_read_as_the_training_rows_were(trained, capsys) -> None:
    from engine.evaluation.evaluate import evaluate_run
    from engine.evaluation.prediction import Predictor
    from privacy.vault.workspace import Workspace, default_workspace_dir

    raw_text = "please call me back on 415-555-0132 about order 7"
    with Workspace.unlock(default_workspace_dir(), os.environ["CLOISTER_PASSPHRASE"]) as ws:
        predictor = Predictor.from_run(ws, trained["runs"]["anon"])
        (read,) = predictor._as_read([raw_text])
        assert "415-555-0132" not in read and "<PHONE>" in read
        tagged = read
        raw_proba = predictor.predict_proba([raw_text])
        assert (raw_proba == predictor.predict_proba([tagged])).all()  # the same input
        # Scored on the raw file, the rows read as the stored copy's: the same figures.
        on_file = evaluate_run(ws, trained["runs"]["anon"], data=trained["source"])
        on_copy = evaluate_run(ws, trained["runs"]["anon"], dataset="anon")
        assert on_file.n == on_copy.n == 80 and on_file.accuracy == on_copy.accuracy
        assert on_file.ece == pytest.approx(on_copy.ece) and on_file.roc_auc == pytest.approx(on_copy.roc_auc)
        # A run on rows that were never anonymized reads texts as they are.
        plain = Predictor.from_run(ws, trained["runs"]["raw"])
        assert plain.anonymize is None and plain._as_read([raw_text]) == [raw_text]
    capsys.readouterr()
    assert cli(["predict", trained["runs"]["anon"], "--text", raw_text, "--json"]) == 0
    (said,) = json.loads(capsys.readouterr().out)
    assert cli(["predict", trained["runs"]["anon"], "--text", tagged, "--json"]) == 0
    (tagged_said,) = json.loads(capsys.readouterr().out)
    assert tagged_said["probabilities"] == said["probabilities"]


def test_the_export_says_to_anonymize_its_input(trained, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    assert cli(["export", trained["runs"]["anon"], "--out", str(out), "--plaintext"]) == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "anonymize its input by the same policy before use" in card
    plain = tmp_path / "plain"
    assert cli(["export", trained["runs"]["raw"], "--out", str(plain), "--plaintext"]) == 0
    assert "anonymize its input" not in (plain / "README.md").read_text(encoding="utf-8")


def test_the_policy_stays_with_the_run_once_its_dataset_is_deleted(trained, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The run keeps its rows' policy from training: deleting the anonymized copy afterwards
    (to save room, or after an erasure) used to feed the model raw texts again, and its card
    said "not known". Loading the model no longer verifies the whole audit log either."""
    from engine.evaluation.prediction import Predictor
    from engine.runs import load_run
    from privacy.vault.workspace import Workspace, default_workspace_dir

    assert cli(["rm", "anon", "--yes"]) == 0
    raw_text = "please call me back on 415-555-0132 about order 7"
    with Workspace.unlock(default_workspace_dir(), os.environ["CLOISTER_PASSPHRASE"]) as ws:
        kept = load_run(ws, trained["runs"]["anon"]).anonymization
        assert kept and len(kept["policy_sha256"]) == 64 and "PHONE" in kept["policy"]
        assert load_run(ws, trained["runs"]["raw"]).anonymization == {}
        verified: list[int] = []
        real = Workspace.verify_audit
        monkeypatch.setattr(Workspace, "verify_audit", lambda self, *a, **k: verified.append(1) or real(self, *a, **k))
        predictor = Predictor.from_run(ws, trained["runs"]["anon"])
        (read,) = predictor._as_read([raw_text])
        assert "415-555-0132" not in read and "<PHONE>" in read
        assert Predictor.from_run(ws, trained["runs"]["raw"]).anonymize is None
        assert verified == []
    out = tmp_path / "exported"
    assert cli(["export", trained["runs"]["anon"], "--out", str(out), "--plaintext"]) == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "the training rows were anonymized before training" in card and "not known" not in card


def test_a_large_file_is_anonymized_a_chunk_at_a_time(trained, tmp_path: Path) -> None:
    """Anonymizing is ~5 ms a complaint-sized text: a file's texts were all anonymized before
    the first batch, minutes without progress or a way to cancel. They are now read a chunk at
    a time, so progress comes between chunks."""
    from engine.evaluation.file_prediction import predict_file
    from engine.evaluation.prediction import ANONYMIZED_CHUNK, Predictor
    from engine.events import Finished, Progress
    from privacy.vault.workspace import Workspace, default_workspace_dir

    rows = 2 * ANONYMIZED_CHUNK + 10
    source = tmp_path / "many.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text",), *[(f"call 415-555-{i % 10000:04d} about {i}",) for i in range(rows)]])
    seen: list[str] = []
    with Workspace.unlock(default_workspace_dir(), os.environ["CLOISTER_PASSPHRASE"]) as ws:
        predictor = Predictor.from_run(ws, trained["runs"]["anon"])
        real = predictor.anonymize
        assert real is not None

        def recorded(texts: list[str]) -> list[str]:
            seen.append(f"anonymized {len(texts)}")
            return real(texts)
        predictor.anonymize = recorded
        for event in predict_file(predictor, source, tmp_path / "out.csv", ws=ws):
            if isinstance(event, Progress) and event.done:
                seen.append("progress")
            assert not isinstance(event, Finished) or event.metrics["rows"] == rows
    assert seen[0] == f"anonymized {ANONYMIZED_CHUNK}" and seen[-1].startswith("progress")
    assert seen.count(f"anonymized {ANONYMIZED_CHUNK}") == 2 and "anonymized 10" in seen
    assert seen.index("progress") < seen.index("anonymized 10")  # progress before the end
    with (tmp_path / "out.csv").open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert len(written) == rows and "415-555-0007" in written[7]["text"]  # the file's own text


def test_predict_says_what_the_model_read(trained, capsys) -> None:
    """A text typed with a phone number is read with '<PHONE>' by a run trained on an
    anonymized copy: `predict --text` says so, and what was read, instead of leaving the user
    to wonder why the number made no difference."""
    raw_text = "please call me back on 415-555-0132 about order 7"
    assert cli(["predict", trained["runs"]["anon"], "--text", raw_text]) == 0
    err = capsys.readouterr().err
    assert "anonymized as the run's training rows were before the model read it" in err
    assert "<PHONE>" not in err and "0132" not in err  # no text on stderr: it goes to log files
    assert cli(["predict", trained["runs"]["anon"], "--text", raw_text, "--json"]) == 0
    (said,) = json.loads(capsys.readouterr().out)
    assert said["read_as"] == "please call me back on <PHONE> about order 7"
    assert cli(["predict", trained["runs"]["anon"], "--text", "the parcel arrived broken", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["read_as"] is None  # nothing to anonymize
    assert cli(["predict", trained["runs"]["raw"], "--text", raw_text]) == 0
    assert "anonymized" not in capsys.readouterr().err


def test_a_policy_that_shifts_dates_by_a_key_column_still_anonymizes_typed_text(trained) -> None:
    """A copy made with `[date_shift] key_column = "customer_id"`: a typed text has no such
    column, and every prediction of its runs failed naming it."""
    from engine.data.anonymized_inputs import anonymizer_for
    from privacy.pii.policy import parse_policy
    from privacy.vault.workspace import Workspace, default_workspace_dir

    policy = parse_policy('[entities]\nPHONE = "tag"\nDATE = "shift_date"\ndefault = "keep"\n'
                          '[date_shift]\nkey_column = "customer_id"\n', source="policy.toml")
    with Workspace.unlock(default_workspace_dir(), os.environ["CLOISTER_PASSPHRASE"]) as ws:
        anonymize = anonymizer_for(ws, policy, ("text",))
        (read,) = anonymize(["call 415-555-0132 about the visit on 2024-03-05"])
    assert "<PHONE>" in read and "415-555-0132" not in read
    assert "2024-03-05" not in read and read.startswith("call <PHONE> about the visit on ")


def test_a_typed_text_is_anonymized_once_for_its_answer_length_and_note(trained) -> None:
    """Try it asks for a typed text's prediction, its length in tokens and what was read: each
    anonymized it again (three scans a pause in typing, at the name model's ~100 rows a second)."""
    from engine.evaluation.prediction import Predictor
    from privacy.vault.workspace import Workspace, default_workspace_dir

    with Workspace.unlock(default_workspace_dir(), os.environ["CLOISTER_PASSPHRASE"]) as ws:
        predictor = Predictor.from_run(ws, trained["runs"]["anon"])
    real, calls = predictor.anonymize, []
    assert real is not None
    predictor.anonymize = lambda texts: calls.append(len(texts)) or real(texts)
    text = "please call me back on 415-555-0132 about order 7"
    predictor.predict([text])
    predictor.tokens_if_cut(text)
    assert predictor.anonymized(text) == "please call me back on <PHONE> about order 7"
    assert calls == [1]
    assert predictor.anonymized("call 415-555-0199 now") == "call <PHONE> now" and calls == [1, 1]
