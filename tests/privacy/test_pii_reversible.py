"""Reversible pseudonyms in the privacy layer: the policy option, what is recorded (and when
nothing is), and turning surrogates in a text back into the originals."""
from __future__ import annotations

from pathlib import Path

import pytest

from privacy.pii.anonymize import anonymize_columns, scan_columns
from privacy.pii.operators import Context, Operator, replace_value
from privacy.pii.policy import PolicyError, parse_policy
from privacy.pii.pseudonym import Pseudonymizer
from privacy.pii.reversible import PseudonymMap

KEY = b"k" * 32
REVERSIBLE = """
[entities]
PERSON = { action = "pseudonym", reversible = true }
EMAIL = "pseudonym"
default = "tag"
[columns]
customer = { action = "pseudonym", entity = "PERSON", reversible = true }
"""
COLUMNS = {"text": ["Mrs. Maria Lopez wrote from maria.lopez@example.com",
                    "Maria Lopez called again", "The app crashes on start"],
           "customer": ["Maria Lopez", "Maria Lopez", "Jonas Berg"]}


def test_the_policy_option_is_off_by_default_and_per_action() -> None:
    assert not parse_policy('[entities]\nPERSON = "pseudonym"\n').reversible
    assert not parse_policy('[entities]\nPERSON = { action = "pseudonym", reversible = false }\n'
                            ).reversible
    assert parse_policy(REVERSIBLE).reversible
    assert parse_policy('[columns]\nc = { action = "pseudonym", reversible = true }\n').reversible
    assert parse_policy('[entities]\ndefault = { action = "pseudonym", reversible = true }\n'
                        ).reversible
    assert parse_policy(REVERSIBLE).entities["PERSON"].params == {"reversible": True}


@pytest.mark.parametrize("text, message", [
    ('[entities]\nPERSON = "tag"\nEMAIL = { action = "pseudonym", reversable = true }\n',
     r"^p.toml line 3: entities.EMAIL: 'pseudonym' takes no setting 'reversable' "
     r"\(it takes \['reversible'\]\)"),
    ('[entities]\nPERSON = { action = "pseudonym", reversible = "yes" }\n',
     r"^p.toml line 2: entities.PERSON: reversible must be true or false"),
    ('[entities]\nPERSON = { action = "mask", reversible = true }\n',
     r"^p.toml line 2: entities.PERSON: 'mask' takes no setting 'reversible'"),
    ('[columns]\nname = { action = "pseudonym", entity = "PERSON", reversible = 1 }\n',
     r"^p.toml line 2: columns.name: reversible must be true or false"),
])
def test_bad_reversible_settings_name_the_line(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(text, source="p.toml")


def test_anonymizing_records_only_the_reversible_pseudonyms() -> None:
    policy = parse_policy(REVERSIBLE)
    result = anonymize_columns(COLUMNS, policy, Pseudonymizer(KEY), keep_mapping=True)
    pseudonyms = result.pseudonyms
    assert pseudonyms is not None
    originals = {pseudonyms.original(s) for s in pseudonyms.to_json()["pairs"]}
    # Titled and untitled forms of one person are separate surrogates; the e-mail's pseudonym
    # is not reversible, so it is not recorded at all.
    assert originals == {("PERSON", "Mrs. Maria Lopez"), ("PERSON", "Maria Lopez"),
                         ("PERSON", "Jonas Berg")}
    assert "Maria" not in result.columns["text"][1] and "Lopez" not in result.columns["customer"][0]
    back = [pseudonyms.reidentify(t).text for t in result.columns["text"]]
    assert back[0].startswith("Mrs. Maria Lopez wrote from ") and "@example.org" in back[0]
    assert back[1:] == COLUMNS["text"][1:]
    assert [pseudonyms.reidentify(c).text for c in result.columns["customer"]] == COLUMNS["customer"]


def test_scans_previews_and_one_way_policies_collect_nothing() -> None:
    assert anonymize_columns(COLUMNS, parse_policy(REVERSIBLE), Pseudonymizer(KEY)).pseudonyms is None
    one_way = parse_policy('[entities]\nPERSON = "pseudonym"\n')
    assert anonymize_columns(COLUMNS, one_way, Pseudonymizer(KEY),
                             keep_mapping=True).pseudonyms is None
    seen: list[tuple[str, str, str]] = []
    ctx = Context(pseudonymizer=Pseudonymizer(KEY), record=lambda *pair: seen.append(pair))
    replace_value("Maria Lopez", "PERSON", Operator("pseudonym"), ctx)
    assert seen == []
    fake = replace_value("Maria Lopez", "PERSON", Operator("pseudonym", {"reversible": True}), ctx)
    assert seen == [("PERSON", "Maria Lopez", fake)]
    assert scan_columns(COLUMNS, parse_policy(REVERSIBLE)).rows == 3  # a scan still works


def test_reidentify_matches_whole_surrogates_longest_first() -> None:
    m = PseudonymMap()
    m.record("PERSON", "Maria", "Hill")
    m.record("PERSON", "Maria Lopez", "Anna Hill")
    m.record("PHONE", "(978)645-9740", "(123)456-7890")
    out = m.reidentify("Anna Hill met Hill, not Hillary or AHill; call (123)456-7890.")
    assert out.text == "Maria Lopez met Maria, not Hillary or AHill; call (978)645-9740."
    assert out.replaced == {"PERSON": 2, "PHONE": 1} and out.total == 3 and out.ambiguous == 0
    assert m.reidentify("").text == "" and PseudonymMap().reidentify("Hill").text == "Hill"


def test_a_surrogate_of_two_values_is_left_as_it_is() -> None:
    m = PseudonymMap()
    m.record("PERSON", "Maria Lopez", "Anna Hill")
    m.record("PERSON", "maria  LOPEZ", "Anna Hill")  # the same person: still one value
    assert m.reidentify("Anna Hill").text == "Maria Lopez"
    m.record("PERSON", "Jonas Berg", "Anna Hill")  # a collision: two people, one surrogate
    out = m.reidentify("Anna Hill wrote")
    assert out.text == "Anna Hill wrote" and out.ambiguous == 1 and out.total == 0


def test_the_mapping_survives_json_and_malformed_json_is_refused() -> None:
    m = PseudonymMap()
    m.record("PERSON", "Maria Lopez", "Anna Hill")
    m.record("EMAIL", "m@x.com", "a.b1@example.org")
    again = PseudonymMap.from_json(m.to_json())
    assert again.to_json() == m.to_json() and len(again) == 2
    for bad in (None, [], {"format": 2, "pairs": {}}, {"format": 1, "pairs": {"x": [["P"]]}},
                {"format": 1, "pairs": {"": [["P", "v"]]}}, {"format": 1, "pairs": {"x": "v"}}):
        with pytest.raises(ValueError):
            PseudonymMap.from_json(bad)


def test_the_commented_example_lines_parse() -> None:
    example = Path(__file__).resolve().parents[2] / "resources" / "anonymize-policy.example.toml"
    lines = [line[2:] for line in example.read_text(encoding="utf-8").splitlines()
             if line.startswith("# ") and line.endswith("reversible = true }")]
    assert len(lines) == 2
    policy = parse_policy(f"[entities]\n{lines[0]}\n[columns]\n{lines[1]}\n")
    assert policy.reversible and policy.entities["PERSON"].params == {"reversible": True}
    assert policy.columns["customer_name"].operator.params == {"reversible": True}
