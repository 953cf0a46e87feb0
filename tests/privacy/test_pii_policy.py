"""The policy file: what it accepts, and a clear message naming the line or setting for each
kind of mistake. Also user patterns and deny-lists, with the guard against slow patterns."""
from __future__ import annotations

from pathlib import Path

import pytest

from privacy.pii import detect
from privacy.pii.custom import CustomPattern, DenyList, PatternError
from privacy.pii.policy import PolicyError, load_policy, parse_policy

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "anonymize-policy.example.toml"


def test_the_commented_example_in_resources_parses() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.entities["PERSON"].action == "pseudonym"
    assert policy.entities["CREDIT_CARD"].params == {"keep_last": 4}
    # As shipped it names no column, so it applies to any data; its column lines, uncommented,
    # are a valid [columns] table.
    assert policy.columns == {}
    text = EXAMPLE.read_text(encoding="utf-8")
    for line in ('# ssn = "drop"', '# customer_name = { action = "pseudonym", entity = "PERSON" }'):
        assert line in text
        text = text.replace(line, line[2:])
    columns = parse_policy(text).columns
    assert columns["ssn"].operator.action == "drop" and columns["customer_name"].entity == "PERSON"
    assert {d.entity for d in policy.detectors} == {"EMPLOYEE_ID", "WARD"}
    assert policy.default.action == "tag"


@pytest.mark.parametrize("text, message", [
    ('[entities]\nPERSON = "pseudonym"\nPERSNO = "tag"\n', r"line 3: \[entities\] PERSNO: unknown entity type 'PERSNO'"),
    ('[entities]\nPERSON = "blur"\n', r"line 2: entities.PERSON: unknown action 'blur'"),
    ('[entities\nPERSON = "tag"\n', r"not valid TOML: .*line 1"),
    ('[entities]\nPERSON = "tag"\nEMAIL = \n', r"not valid TOML: .*line 3"),
    ("[[patterns]]\nentity = \"EMP\"\nregex = '(EMP'\n", r"line 3: patterns\[0\]: '\(EMP' is not a valid regular expression"),
    ("[[patterns]]\nentity = \"EMP\"\nregex = '(a|aa)+$'\n", r"took longer than .*catastrophic"),
    ("[[patterns]]\nentity = \"EMP\"\nregex = 'x*'\n", r"matches the empty string"),
    ('colums = {}\n', r"line 1: unknown setting 'colums'"),
    ('[columns]\nssn = "shred"\n', r"line 2: columns.ssn: unknown action 'shred'"),
    ('[entities]\nPERSON = { action = "mask", keep_first = 2 }\n', r"'mask' takes no setting 'keep_first'"),
    ('[entities]\nDATE = { action = "generalize_date", to = "week" }\n', r"'to' must be"),
    ('[entities]\nDATE = { action = "generalize_date", day_first = "yes" }\n', r"'day_first' must be true"),
    ('min_score = 3\n', r"line 1: min_score must be between 0 and 1"),
    ('[[deny_lists]]\nentity = "WARD"\nterms = []\n', r"the list is empty"),
])
def test_bad_policies_name_the_line_or_setting(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as info:
        parse_policy(text, source="p.toml")
    assert str(info.value).startswith("p.toml")


def test_unknown_column_is_reported_against_the_data() -> None:
    policy = parse_policy('[columns]\nemial = "drop"\n', source="p.toml")
    with pytest.raises(PolicyError, match=r"p.toml line 2: columns names column 'emial'.*'email'"):
        policy.check_columns(["email", "text"])
    parse_policy('[columns]\nemail = "drop"\n').check_columns(["email"])  # no error


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy(tmp_path / "nope.toml")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_policy_saved_by_windows_tools_is_read(tmp_path: Path, encoding: str) -> None:
    """`cloister example-policy > policy.toml` in Windows PowerShell 5.1 writes UTF-16 with a
    byte-order mark, and Notepad's "UTF-8 with BOM" starts with one: both were refused, the
    first as undecodable, the second as TOML with an odd first name."""
    path = tmp_path / "policy.toml"
    path.write_text('[columns]\nemail = "drop"\n', encoding=encoding)
    assert load_policy(path).columns.keys() == {"email"}
    path.write_bytes(b"\xff\xfe\x00\xd8")  # a UTF-16 mark, then half a character
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(path)


def test_custom_pattern_and_deny_list_win_over_builtins() -> None:
    emp = CustomPattern("EMPLOYEE_ID", r"EMP-\d{6}")
    ward = DenyList("WARD", ["Rosewood Ward", "St Mary"])
    text = "EMP-123456 moved from Rosewood Ward to st mary today"
    got = [(f.type, f.text(text)) for f in detect(text, extra=[emp, ward])]
    # "Rosewood Ward" alone would be a PERSON ("Ward" is a surname): the user's list wins.
    assert got == [("EMPLOYEE_ID", "EMP-123456"), ("WARD", "Rosewood Ward"), ("WARD", "st mary")]
    assert ("PERSON", "Ward") in [(f.type, f.text(text)) for f in detect(text)]


def test_slow_pattern_is_stopped_on_real_text_too() -> None:
    with pytest.raises(PatternError, match="catastrophic"):
        CustomPattern("X", r"(a|aa)+$")


def test_a_new_action_is_one_function_and_one_decorator() -> None:
    """The policy parser, its settings' checks and the operators all read the registry."""
    from privacy.pii import operators
    from privacy.pii.operators import Context, action, apply

    @action("initials", params=("upper",),
            check=lambda p: None if isinstance(p.get("upper", True), bool) else "upper: true/false")
    def _initials(value, _entity, p, _ctx):  # noqa: ANN001, ANN202
        out = "".join(word[0] for word in value.split())
        return out.upper() if p.get("upper", True) else out.lower()

    try:
        policy = parse_policy('[entities]\nPERSON = { action = "initials", upper = false }\n')
        text = "call Maria Lopez today"
        findings = [f for f in policy.find(text) if f.type == "PERSON"]
        assert apply(text, findings, policy.entities, Context())[0] == "call ml today"
        with pytest.raises(PolicyError, match="upper: true/false"):
            parse_policy('[entities]\nPERSON = { action = "initials", upper = "yes" }\n')
        with pytest.raises(PolicyError, match="'initials' takes no setting 'lower'"):
            parse_policy('[entities]\nPERSON = { action = "initials", lower = true }\n')
    finally:
        del operators._REGISTRY["initials"]
    with pytest.raises(PolicyError, match="unknown action 'initials'"):
        parse_policy('[entities]\nPERSON = "initials"\n')


def test_day_first_reads_european_numeric_dates_as_they_are_written() -> None:
    # "la facture du 05/03/2024" is 5 March in France; it was generalised to May, while
    # 14/02/1975 in the same file was read day first: one file, two orders.
    from privacy.pii.anonymize import anonymize_columns

    texts = ["la facture du 05/03/2024", "née le 14/02/1975", "am 03.04.2024 bezahlt"]
    us = anonymize_columns({"text": texts}, parse_policy('[entities]\nDATE = "generalize_date"\n'
                                                         'default = "keep"\n'), None)
    eu = anonymize_columns({"text": texts}, parse_policy(
        '[entities]\nDATE = { action = "generalize_date", day_first = true }\ndefault = "keep"\n'), None)
    assert us.columns["text"] == ["la facture du 2024-05", "née le 1975-02", "am 2024-04 bezahlt"]
    assert eu.columns["text"] == ["la facture du 2024-03", "née le 1975-02", "am 2024-04 bezahlt"]
    # Day first decides what is ambiguous only: a US date it cannot be stays a date.
    us_date = anonymize_columns({"text": ["paid 3/14/2013"]}, parse_policy(
        '[entities]\nDATE = { action = "generalize_date", day_first = true }\ndefault = "keep"\n'), None)
    assert us_date.columns["text"] == ["paid 2013-03"]


def test_a_policy_typed_with_combining_accents_matches_composed_data() -> None:
    from unicodedata import normalize

    from privacy.pii.policy import parse_policy

    nfd = normalize("NFD", '[[deny_lists]]\nentity = "WARD"\nterms = ["Station Löwenzahn"]\n\n'
                           '[columns]\n"Assuré" = "mask"\n')
    policy = parse_policy(nfd)
    assert "Assuré" in policy.columns  # the key as the data spells it (NFC)
    found = [f for f in policy.find("Zimmer auf Station Löwenzahn frei") if f.type == "WARD"]
    assert found, "an NFD deny-list term found nothing in NFC text"


def test_a_bare_column_name_with_an_accent_says_to_quote_it() -> None:
    from privacy.pii.policy import PolicyError, parse_policy

    with pytest.raises(PolicyError, match=r'a name with accents or spaces must be in quotes: "Assuré" = \.\.\.'):
        parse_policy('[columns]\nAssuré = "mask"\n')


def test_a_cell_a_date_rule_cannot_read_is_tagged_a_date_and_named_by_row() -> None:
    # 'dob = "generalize_date"' turned "unknown" into <ID> and said nothing: the rule's cells
    # are dates, and the report now names the column and rows it could not read.
    from privacy.pii.anonymize import UNREAD_ROWS_LISTED, anonymize_columns
    from privacy.pii.pseudonym import Pseudonymizer

    key = Pseudonymizer(b"\x01" * 32)
    columns = {"text": ["a", "b", "c", "d", "e", "f"],
               "dob": ["1990-03-14", "unknown", "3/14/2013", "31/02/2020", None, " "]}
    for rule in ('"generalize_date"', '{ action = "shift_date", max_days = 30 }'):
        result = anonymize_columns(columns, parse_policy(f"[columns]\ndob = {rule}\n"), key)
        dob = result.columns["dob"]
        assert dob[1] == dob[3] == "<DATE>" and dob[4:] == [None, " "], dob  # empty stays empty
        assert dob[0] != "1990-03-14" and "<" not in dob[0] + dob[2]
        report = result.report
        assert report.unread_cells == {"dob": 2} and report.unread_rows["dob"] == [2, 4]
        warning = report.unread_warning()
        assert warning is not None and "'dob': 2 cells (rows 2, 4)" in warning
        assert "<DATE>" in warning and rule.split('"')[1] in warning
        assert report.to_json()["unread_cells"] == {"dob": {"cells": 2, "rows": [2, 4],
                                                            "tag": "<DATE>"}}
    # An entity the policy names is its word; a rule that reads every cell says nothing.
    said = anonymize_columns(columns, parse_policy(
        '[columns]\ndob = { action = "generalize_date", entity = "ID" }\n'), key)
    assert said.columns["dob"][1] == "<ID>" and "<ID>" in (said.report.unread_warning() or "")
    masked = anonymize_columns(columns, parse_policy('[columns]\ndob = "mask"\n'), key)
    assert masked.report.unread_warning() is None and masked.report.to_json()["unread_cells"] == {}
    # Many such cells: all counted, the first rows named.
    many = {"text": ["x"] * 40, "dob": ["n/a"] * 40}
    report = anonymize_columns(many, parse_policy('[columns]\ndob = "generalize_date"\n'), key).report
    assert report.unread_cells["dob"] == 40
    assert report.unread_rows["dob"] == list(range(1, UNREAD_ROWS_LISTED + 1))
    assert "40 cells (rows 1, 2, 3, 4, 5, ...)" in (report.unread_warning() or "")
