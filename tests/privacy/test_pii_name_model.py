"""The bundled name model (policy ``names = "model"`` / ``"both"``): real weights, offline."""
from __future__ import annotations

from pathlib import Path

import pytest

from privacy.pii.anonymize import anonymize_columns, scan_columns
from privacy.pii.name_model import NameModelDetector, NameModelError, decode, shared_detector
from privacy.pii.policy import Policy, PolicyError, parse_policy
from privacy.pii.pseudonym import Pseudonymizer

SENTENCE = "I spoke with Sarah Okonkwo from Brightwave Logistics about the refund."


def spans(policy: Policy, text: str) -> list[tuple[str, str, str]]:
    return [(f.type, f.text(text), f.detector) for f in policy.find(text)]


def test_decode_joins_word_pieces_widens_to_words_and_starts_on_a_lone_inside_tag() -> None:
    text = "ask azahara at acme corp"
    offsets = [(0, 0), (0, 3), (4, 6), (6, 10), (10, 11), (12, 14), (15, 19), (20, 24), (0, 0)]
    tags = ["O", "O", "B-PERSON", "I-PERSON", "O", "O", "I-ORGANIZATION", "I-ORGANIZATION", "O"]
    conf = [1.0, 1.0, 0.9, 0.7, 1.0, 1.0, 0.6, 0.8, 1.0]
    got = decode(text, offsets, tags, conf)
    # "azahara" lost its last piece ("a") to O: the span still covers the whole word.
    assert [(text[s:e], kind) for s, e, kind, _ in got] == [("azahara", "PERSON"), ("acme corp", "ORGANIZATION")]
    assert got[0][3] == pytest.approx(0.8) and got[1][3] == pytest.approx(0.7)


def test_the_model_finds_what_the_rules_cannot() -> None:
    rules, model = Policy(), parse_policy('names = "model"')
    assert ("ORGANIZATION", "Brightwave Logistics", "name_model") in spans(model, SENTENCE)
    assert all(kind != "ORGANIZATION" for kind, _, _ in spans(rules, SENTENCE))
    chat = "thanks jiminy, see u at starbucks later"  # lower case, names in no list
    assert spans(rules, chat) == []
    assert ("PERSON", "jiminy", "name_model") in spans(model, chat)


def test_model_mode_replaces_the_name_rules_and_both_keeps_them() -> None:
    text = "the patient was seen by dr kowalczyk on the ward"
    model, both = parse_policy('names = "model"'), parse_policy('names = "both"')
    assert {d for _, _, d in spans(model, text)} == {"name_model"}
    assert ("PERSON", "kowalczyk", "name_model") in spans(both, text)
    assert any(d == "names" for _, _, d in spans(both, text))  # the rules still run


def test_patterns_still_win_beside_the_model() -> None:
    text = "Sarah paid with 4929 5785 6933 9117 at Brightwave Logistics"
    found = spans(parse_policy('names = "both"'), text)
    assert ("CREDIT_CARD", "4929 5785 6933 9117", "credit_card") in found


def test_anonymizing_with_the_model_tags_organizations_and_reads_rows_in_batches(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [SENTENCE, "Wells Fargo closed my account without notice.", "no names here", None]
    columns = {"text": texts, "label": ["a", "b", "a", "b"]}
    policy = parse_policy('names = "both"\n[entities]\nORGANIZATION = "tag"\nPERSON = "redact"')
    # A fresh detector (the real model, an empty cache) that records each batch it reads.
    detector, batches = NameModelDetector(shared_detector().folder), []
    predict = detector._predict
    monkeypatch.setattr(detector, "_predict", lambda batch: batches.append(list(batch)) or predict(batch))
    monkeypatch.setattr("privacy.pii.policy.shared_detector", lambda: detector)
    result = anonymize_columns(columns, policy, Pseudonymizer(b"k" * 32), label_column="label")
    out = result.columns["text"]
    assert "Brightwave" not in out[0] and "<ORGANIZATION>" in out[0] and "Sarah" not in out[0]
    assert out[1].startswith("<ORGANIZATION> closed my account")
    assert out[2] == "no names here" and out[3] is None
    assert result.report.counts["ORGANIZATION"] == 2
    # The rows were read as one batch before the cells were asked for one by one.
    assert batches == [texts[:3]]
    rules_only = scan_columns(columns, Policy(), label_column="label")
    assert rules_only.counts["ORGANIZATION"] == 0


def test_a_bad_names_setting_names_its_line() -> None:
    with pytest.raises(PolicyError, match=r"line 3: names must be one of 'rules', 'model', 'both'"):
        parse_policy('version = 1\nmin_score = 0.5\nnames = "neural"\n', source="p.toml")


def test_a_missing_model_folder_says_what_to_do(tmp_path: Path) -> None:
    detector = NameModelDetector(tmp_path / "gone")
    with pytest.raises(NameModelError, match=r'missing from .*gone: reinstall Cloister, or set names = "rules"'):
        list(detector.find("Sarah from Brightwave"))


def test_the_name_model_loads_without_hub_kernels() -> None:
    # transformers 5 swaps layers for compute kernels fetched from the Hub unless
    # USE_HUB_KERNELS is off; privacy.offline turns it off (the frozen app lacks the package).
    detector = shared_detector()
    assert list(detector.find(SENTENCE))  # loads the model
    assert detector._model is not None and detector._model.use_kernels is False
