"""Web markup in texts: found, cleaned at import by `--strip-markup`, and cleaned again at
prediction for a model trained on cleaned texts. Real rows: the AG News excerpt in tests/data,
whose texts keep the HTML of the news feeds they came from."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import torch

from engine.cli import main as cli
from engine.data.fix_suggest import suggest_fixes
from engine.data.fixes import StripMarkup, apply_fixes
from engine.data.markup import MARKUP, TEXT_CLEANING_KEY, has_markup, strip_columns, strip_markup, strip_texts
from tests.engine.tiny_model import tiny_bert  # noqa: F401

torch.set_num_threads(1)
PASS = "markup test passphrase"


def ag_rows(real_data: Path) -> list[tuple[str, str]]:
    with (real_data / "ag_news" / "dev.tsv").open(encoding="utf-8", newline="") as handle:
        return [(row[0], row[1]) for row in csv.reader(handle, delimiter="\t")]


def test_real_feed_markup_is_found_and_removed(real_data: Path) -> None:
    texts = [text for text, _ in ag_rows(real_data)]
    hit = has_markup(pa.array(texts))
    assert 50 < hit.sum() < len(texts)  # about a quarter of the excerpt
    cleaned = strip_texts(texts)
    assert not has_markup(pa.array(cleaned)).any()  # nothing left to find
    # A second pass changes nothing, even where the first pass decoded a tag out of entities.
    assert all(strip_markup(c) == c for c, h in zip(cleaned, hit) if h)
    assert all(c == t for c, t, h in zip(cleaned, texts, hit) if not h)  # the rest untouched

    quote = next(i for i, t in enumerate(texts) if "Kimberly-Clark" in t)
    assert "&lt;A HREF=" in texts[quote]
    assert "Kimberly-Clark Corp. KMB.N said on Monday it is targeting" in cleaned[quote]
    assert "HREF" not in cleaned[quote] and "<" not in cleaned[quote]
    # Entities that lost their "&" on the way ("#39;s", " quot;") are decoded as well.
    apostrophe = next(i for i, t in enumerate(texts) if " #39;" in t)
    assert "#39;" not in cleaned[apostrophe] and "'" in cleaned[apostrophe]


@pytest.mark.parametrize("text, expected", [
    ("Tom &amp; Jerry", "Tom & Jerry"),
    ("it&#39;s &quot;fine&quot;", 'it\'s "fine"'),
    ("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; text", "bold text"),  # escaped twice
    ("line one<br>line two<br/>", "line one line two"),
    ('one<br />two <img src="a.png" alt="x"/> <b >three</b >', "one two three"),
    ('<p class="x">Refund&nbsp;&nbsp;please</p>', "Refund please"),
    ("wait #151; what", "wait \u2014 what"),
    ("&amp;amp;amp;lt;i&amp;amp;amp;gt;four times", "four times"),
    ("<i<b>>text", "text"),  # a tag revealed by removing one
    # Only full entities are decoded: a URL's "&current=" and "&para=" are not "¤t" and "¶".
    ("<b>Note</b> see ?region=eu&current=1&para=2", "Note see ?region=eu&current=1&para=2"),
    ("caf&eacute; &copy; 2024", "caf\u00e9 \u00a9 2024"),
])
def test_entities_and_tags(text: str, expected: str) -> None:
    assert has_markup(pa.array([text])).tolist() == [True]
    assert strip_markup(text) == expected


@pytest.mark.parametrize("text", [
    "a < b and c > d", "AT&T and Q&A", "I <3 this", "#1 seed", "C# is fun; really",
    "R&D; budgets", "see section 4; #12 too", "price 5 < 7>",
    # Code, placeholders and ticket numbers that look like tags or entities, and are not.
    "List<String> names", "std::vector<int> v;", "if x<y and y>z then", "Press <Enter> to go on",
    "Dear <customer name>,", "Re: ticket #4521; please advise", "refs #12; and #123; too",
    "int *p = &count;", "see ?region=eu&current=1&notify=2", "x\u00a0#39;s",
    # Prose comparisons whose first word happens to be an HTML element's name.
    "a<b and c>d", "if x<i then y>z", "when n<p and q>r",
])
def test_ordinary_text_is_not_markup(text: str) -> None:
    assert has_markup(pa.array([text])).tolist() == [False]
    assert strip_texts([text]) == [text]


def test_what_is_found_is_what_is_removed() -> None:
    """The count a Fix button shows and the rows the fix changes are the same rows."""
    texts = ["int *p = &count;", "a &amp; b", "&hello; there", "<Enter>", "ok #39;s", "List<b>x</b>"]
    hit = has_markup(pa.array(texts))
    assert [strip_markup(t) != t for t in texts] == hit.tolist() == [False, True, False, False, True, True]


def test_columns_clean_only_the_rows_with_markup() -> None:
    table = pa.table({"text": ["plain", "a &amp; b", None, "<i>x</i>"], "n": [1, 2, 3, 4]})
    assert has_markup(table.column("text")).tolist() == [False, True, False, True]
    assert not has_markup(table.column("n")).any()
    cleaned, changed = strip_columns(table, ["text"])
    assert changed == 2
    assert cleaned.column("text").to_pylist() == ["plain", "a & b", None, "x"]
    assert cleaned.column("n").to_pylist() == [1, 2, 3, 4]


def test_the_fix_is_offered_with_its_count_and_runs_first(real_data: Path) -> None:
    from engine.data.columns import ColumnMapping
    from engine.data.importing.table import ImportedTable
    from engine.data.validation import validate

    rows = ag_rows(real_data)
    table = pa.table({"text": [t for t, _ in rows], "label": [lab for _, lab in rows]})
    mapping = ColumnMapping(text_columns=("text",), label_column="label")
    imported = ImportedTable(table=table, source=real_data / "ag_news" / "dev.tsv", format="tsv")
    problems = validate(imported, mapping)
    markup = [p for p in problems if p.code == "markup-in-text"]
    expected = int(has_markup(table.column("text")).sum())
    assert markup and all(p.fix == "--strip-markup" and not p.blocking for p in markup)
    assert f"{expected:,} rows in all" in markup[-1].message
    (option,) = [o for o in suggest_fixes(table, mapping, problems) if isinstance(o.fix, StripMarkup)]
    assert option.rows_changed == expected and option.rows_removed == 0 and not option.refused
    # A row that was nothing but markup becomes empty before the empty rows are dropped.
    only = pa.table({"text": ["<br/>", "good one", "bad one", "good two", "bad two"],
                     "label": ["a", "a", "b", "a", "b"]})
    from engine.data.fixes import fixes_from_options

    fixed, report = apply_fixes(only, mapping, fixes_from_options(strip_markup=True, drop_empty=True))
    assert fixed.num_rows == 4 and [s.kind for s in report.steps] == ["strip-markup", "drop-empty"]


@pytest.fixture
def ag_file(real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASS)
    source = tmp_path / "news.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("text", "label"), *ag_rows(real_data)[:80]])
    assert cli(["init", "--kdf-cost", "10"]) == 0
    return source


def _train(tiny: Path, name: str, capsys) -> str:
    capsys.readouterr()
    assert cli(["train", name, "--model", str(tiny), "--epochs", "1", "--batch-size", "16",
                "--max-length", "32", "--lr", "1e-3", "--json"]) == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]


def test_import_cleans_and_prediction_cleans_the_same_way(ag_file: Path, tiny_bert, capsys,  # noqa: F811
                                                          tmp_path: Path) -> None:
    from engine.data.store import load_dataset
    from engine.evaluation.prediction import Predictor
    from engine.models.weights import load_config
    from privacy.vault.workspace import Workspace

    assert cli(["inspect", str(ag_file)]) == 0  # a warning: trainable as it is
    out = capsys.readouterr().out
    assert "holds web markup" in out and "fix: --strip-markup" in out
    source_bytes = ag_file.read_bytes()
    assert cli(["import", str(ag_file), "--name", "clean", "--strip-markup"]) == 0
    assert "fixed: removed web markup (HTML tags, entities such as &amp;) from" in capsys.readouterr().out
    assert ag_file.read_bytes() == source_bytes
    assert cli(["import", str(ag_file), "--name", "raw"]) == 0
    clean_run, raw_run = _train(tiny_bert, "clean", capsys), _train(tiny_bert, "raw", capsys)

    raw_text = next(t for t, _ in csv.reader(ag_file.open(encoding="utf-8")) if "&lt;" in t)
    with Workspace.unlock(Path(os.environ["CLOISTER_WORKSPACE"]), PASS) as ws:
        stored = load_dataset(ws, "clean")
        assert not has_markup(pa.array([str(t) for t in stored.texts])).any()
        assert [s["kind"] for s in stored.info.history] == ["strip-markup"]
        assert getattr(load_config(ws, f"runs/{clean_run}/model"), TEXT_CLEANING_KEY) == MARKUP
        assert getattr(load_config(ws, f"runs/{raw_run}/model"), TEXT_CLEANING_KEY, None) is None
        cleaned_model = Predictor.from_run(ws, clean_run, device="cpu")
        as_trained = Predictor.from_run(ws, raw_run, device="cpu")
        assert cleaned_model.strips_markup and not as_trained.strips_markup
        both = cleaned_model.predict_proba([raw_text, strip_markup(raw_text)])
        np.testing.assert_allclose(both[0], both[1], atol=1e-6)

    out_dir = tmp_path / "export"
    assert cli(["export", clean_run, "--out", str(out_dir), "--plaintext"]) == 0
    card = (out_dir / "README.md").read_text(encoding="utf-8")
    assert "had web markup removed at import" in card
    assert json.loads((out_dir / "config.json").read_text())[TEXT_CLEANING_KEY] == MARKUP


def test_a_resumed_run_still_says_its_texts_were_cleaned(tmp_path: Path) -> None:
    """The mark lives in the model config: a run cancelled and resumed (the config built again
    from the base model) must carry it into the model it finally saves."""
    from engine.data.columns import ColumnMapping
    from engine.data.fixes import fixes_from_options
    from engine.data.importing.table import ImportedTable
    from engine.data.store import save_dataset
    from engine.events import Cancelled, CancelToken, Finished
    from engine.models.weights import load_config
    from engine.training import TrainConfig, resume, train
    from tests.engine.test_resume import cancel_during_epoch_two
    from tests.engine.tiny_model import make_tiny_bert, make_workspace, toy_rows

    texts, labels = toy_rows(60, seed=3)
    texts = [f"{t} &amp; <br>" if i % 3 == 0 else t for i, t in enumerate(texts)]
    table = pa.table({"text": texts, "label": labels})
    mapping = ColumnMapping(text_columns=("text",), label_column="label")
    fixed, report = apply_fixes(table, mapping, fixes_from_options(strip_markup=True))
    ws = make_workspace(tmp_path / "ws")
    try:
        save_dataset(ws, "toy", ImportedTable(table=fixed, source=Path("toy.csv"), format="csv"), mapping,
                     history=report.history())
        config = TrainConfig(dataset="toy", model_path=str(make_tiny_bert(tmp_path / "tiny")), epochs=2,
                             batch_size=8, max_length=32, learning_rate=1e-3, early_stopping_patience=None,
                             select_best=False)  # the resumed trainer saves the final model itself
        token = CancelToken()
        first = cancel_during_epoch_two(train(ws, config, cancel=token), token)
        assert isinstance(first[-1], Cancelled), first[-1]
        run_id = first[0].run_id
        events = list(resume(ws, run_id))
        assert isinstance(events[-1], Finished), events[-1]
        assert getattr(load_config(ws, f"runs/{run_id}/model"), TEXT_CLEANING_KEY) == MARKUP
    finally:
        ws.lock()
