"""Operators, pseudonyms and the scan / anonymize pass over columns."""
from __future__ import annotations

import re

import pytest

from privacy.pii import detect
from privacy.pii.anonymize import EmptyDataset, anonymize_columns, masked_example, scan_columns
from privacy.pii.checksums import iban_ok, luhn_ok, ssn_ok
from privacy.pii.columns import propose_columns
from privacy.pii.operators import (Context, Operator, apply, generalize_date, mask, parse_date,
                                   replace_value, shift_date, shift_days)
from privacy.pii.policy import parse_policy
from privacy.pii.pseudonym import Pseudonymizer

KEY_A, KEY_B = b"a" * 32, b"b" * 32


def run(text: str, **ops: Operator) -> str:
    return apply(text, detect(text), ops, Context(pseudonymizer=Pseudonymizer(KEY_A)))[0]


def test_keep_redact_tag_mask() -> None:
    text = "Maria Lopez paid with 4929 5785 6933 9117"
    assert run(text, PERSON=Operator("keep"), CREDIT_CARD=Operator("keep")) == text
    assert run(text, PERSON=Operator("redact")) == " paid with 4929 5785 6933 9117"
    assert run(text, PERSON=Operator("tag"), CREDIT_CARD=Operator("tag")) == \
        "<PERSON> paid with <CREDIT_CARD>"
    assert run(text, CREDIT_CARD=Operator("mask", {"keep_last": 4})) == \
        "Maria Lopez paid with **** **** **** 9117"
    assert mask("AB-12", 0, "#") == "##-##"
    assert run(text, PERSON=Operator("tag", {"label": "NAME"})).startswith("<NAME> paid")


def test_apply_reports_the_changed_spans_in_the_new_text() -> None:
    new, spans = apply("call Maria Lopez now", detect("call Maria Lopez now"),
                       {"PERSON": Operator("tag")}, Context())
    assert new == "call <PERSON> now" and [new[a:b] for a, b in spans] == ["<PERSON>"]


def test_pseudonyms_are_consistent_realistic_and_keyed() -> None:
    a, b = Pseudonymizer(KEY_A), Pseudonymizer(KEY_B)
    assert a.surrogate("PERSON", "Maria Lopez") == a.surrogate("PERSON", "maria  lopez")
    assert a.surrogate("PERSON", "Mrs. Maria Lopez") == "Mrs. " + a.surrogate("PERSON", "Maria Lopez")
    assert a.surrogate("PERSON", "Maria Lopez") != b.surrogate("PERSON", "Maria Lopez")
    assert a.surrogate("PERSON", "Maria Lopez") != a.surrogate("PERSON", "Mario Lopez")
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", a.surrogate("PERSON", "Maria Lopez"))
    card = a.surrogate("CREDIT_CARD", "4929 5785 6933 9117")
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", card) and luhn_ok(card.replace(" ", ""))
    assert card != "4929 5785 6933 9117"
    iban = a.surrogate("IBAN", "GB42HRSI56613285431668")
    assert iban.startswith("GB") and len(iban) == 22 and iban_ok(iban)
    ssn = a.surrogate("US_SSN", "196-20-7761")
    area, group, serial = ssn.split("-")
    assert int(area) >= 900 and not ssn_ok(area, group, serial)  # never a real, issued number
    assert "@" in a.surrogate("EMAIL", "ann@corp.com") and a.surrogate("EMAIL", "ann@corp.com") \
        .endswith("@example.org")
    assert a.surrogate("EMPLOYEE_ID", "EMP-1") == a.surrogate("EMPLOYEE_ID", "EMP-1") != \
        a.surrogate("EMPLOYEE_ID", "EMP-2")


def test_pseudonym_is_not_a_plain_hash_of_the_value() -> None:
    import hashlib

    surrogate = Pseudonymizer(KEY_A).surrogate("EMPLOYEE_ID", "EMP-1")
    assert hashlib.sha256(b"EMP-1").hexdigest()[:6] not in surrogate
    with pytest.raises(ValueError):
        Pseudonymizer(b"short")


def test_dates_generalize_and_shift_per_person() -> None:
    assert parse_date("3/14/2013")[0].isoformat() == "2013-03-14"
    assert parse_date("14.03.2013")[0].isoformat() == "2013-03-14"  # dots: day first
    assert generalize_date("3/14/2013") == "2013-03"
    assert generalize_date("March 3, 2020", "year") == "2020"
    assert shift_date("3/14/2013", 10) == "03/24/2013"
    assert shift_date("2013-03-14 12:53", -14) == "2013-02-28 12:53"
    p = Pseudonymizer(KEY_A)
    first, second = shift_days(p, "patient-1", 30), shift_days(p, "patient-2", 30)
    assert first == shift_days(p, "patient-1", 30) and first != 0 and -30 <= first <= 30
    assert len({shift_days(p, f"patient-{i}", 30) for i in range(50)}) > 10
    ctx = Context(pseudonymizer=p, person="patient-1")
    op = Operator("shift_date", {"max_days": 30})
    # Same person, two dates: the gap between them survives the shift.
    from datetime import date
    d1 = parse_date(replace_value("2020-01-01", "DATE", op, ctx))[0]
    d2 = parse_date(replace_value("2020-01-11", "DATE", op, ctx))[0]
    assert (d2 - d1).days == 10 and d1 != date(2020, 1, 1)
    assert replace_value("sometime", "DATE", Operator("generalize_date"), ctx) == "<DATE>"


@pytest.mark.parametrize("value, month, year", [
    ("3 March 2024", "2024-03", "2024"),  # was 2000-03: "March 20" read out of "March 2024"
    ("March 2024", "2024-03", "2024"),
    ("5th of May 2020", "2020-05", "2020"),
    ("3. März 1985", "1985-03", "1985"),  # detected since the European month names
    ("1er février 1990", "1990-02", "1990"),
    ("5 de mayo de 2001", "2001-05", "2001"),
    ("Dec 5th", "December", None),  # no year: none is made up (it was 2000-12)
    ("5 May 10:30", "May", None),  # the 10 of 10:30 is no day
])
def test_written_dates_generalize_with_their_own_year(value: str, month: str,
                                                      year: str | None) -> None:
    assert generalize_date(value) == month and generalize_date(value, "year") == year


def test_masked_examples_hide_the_value() -> None:
    assert masked_example("Maria Lopez") == "M**** L****"
    assert masked_example("4929 5785 6933 9117") == "**** **** **** ****"
    assert masked_example("a@b.com") == "*@*.***"
    assert masked_example("+44 7700 900123") == "*** **** ******"  # not " ** ..."


def table() -> dict[str, list]:
    return {
        "patient_id": ["P1", "P2", "P1"],
        "email": ["ann@corp.com", "bob@corp.com", "ann@corp.com"],
        "note": ["Maria Lopez was seen on 3/14/2013, call (978)645-9740",
                 "no personal data here", "Maria Lopez returned on 3/20/2013"],
        "label": ["a", "b", "a"],
    }


def test_scan_report_counts_per_type_and_column_and_share_changed() -> None:
    report = scan_columns(table(), label_column="label")
    assert report.rows == 3 and "label" not in report.columns_scanned
    assert report.by_column["note"]["PERSON"] == 2 and report.by_column["note"]["DATE"] == 2
    assert report.by_column["email"]["EMAIL"] == 3 and report.counts["PHONE"] == 1
    assert 0 < report.share_changed < 1
    assert all("Maria" not in e for es in report.examples.values() for e in es)
    proposed = {p.column: (p.entity, p.action) for p in report.proposals}
    assert proposed["email"] == ("EMAIL", "pseudonym") and proposed["patient_id"][0] == "ID"
    assert "note" not in proposed


def test_anonymize_columns_under_a_policy() -> None:
    policy = parse_policy("""
        [entities]
        PERSON = "pseudonym"
        DATE = { action = "shift_date", max_days = 20 }
        PHONE = "redact"
        [columns]
        email = "drop"
        patient_id = "pseudonym"
        [date_shift]
        key_column = "patient_id"
    """)
    result = anonymize_columns(table(), policy, Pseudonymizer(KEY_A), label_column="label")
    out = result.columns
    assert "email" not in out and result.dropped == ["email"]
    assert out["label"] == ["a", "b", "a"]
    assert out["patient_id"][0] == out["patient_id"][2] != out["patient_id"][1] != "P2"
    assert "Maria" not in out["note"][0] and "(978)" not in out["note"][0]
    name0 = out["note"][0].split(" was seen")[0]
    assert out["note"][2].startswith(name0 + " returned")  # the same person, the same surrogate
    d0 = parse_date(out["note"][0])[0]
    d2 = parse_date(out["note"][2])[0]
    assert (d2 - d0).days == 6  # P1's two visits keep their interval
    assert out["note"][1] == "no personal data here"
    # Another workspace key: other surrogates for the same people.
    other = anonymize_columns(table(), policy, Pseudonymizer(KEY_B), label_column="label")
    assert other.columns["note"][0].split(" was seen")[0] != name0


def test_an_empty_identifier_cell_stays_empty() -> None:
    # Every empty cell became one invented person ("ID_7f3c48", "Debra Todd"): as the person
    # column of DP training, all those rows read as one person's.
    policy = parse_policy("""
        [columns]
        customer_id = "pseudonym"
        first_name = { action = "pseudonym", entity = "PERSON" }
    """)
    columns = {"customer_id": ["C-1", "", "  ", None, "C-1"],
               "first_name": ["Maria", "", "Ann", None, "Maria"],
               "text": ["a", "b", "c", "d", "e"], "label": ["x", "y", "x", "y", "x"]}
    out = anonymize_columns(columns, policy, Pseudonymizer(KEY_A), label_column="label").columns
    assert out["customer_id"][1:4] == ["", "  ", None] and out["first_name"][1] == ""
    assert out["customer_id"][0] == out["customer_id"][4] not in ("C-1", "")
    assert out["first_name"][2] not in ("Ann", "")


def test_empty_table_is_refused() -> None:
    with pytest.raises(EmptyDataset, match="no rows"):
        scan_columns({"text": []})


def test_propose_identifier_columns_from_content() -> None:
    cols = {"contact": ["ann@corp.com", "bob@x.org", "eve@y.net"],
            "c7": ["4929578569339117", "5210402405591275", "4532213254254426"],
            "free": ["a long complaint that mentions nothing personal at all, really, nothing"] * 3}
    proposed = {p.column: p.entity for p in propose_columns(cols)}
    assert proposed == {"contact": "PERSON", "c7": "CREDIT_CARD"}


def test_german_french_and_spanish_column_names_are_proposed_too() -> None:
    # A German CRM export: none of these was proposed, so "anonymized" left them all as written.
    words = ["ein Wort"] * 3
    cols = {name: words for name in ("Kundennummer", "Kunden-Nr.", "Ansprechpartner", "E-Mail",
                                     "Straße", "PLZ", "Geburtsdatum", "Telefon", "Prénom",
                                     "Courriel", "Teléfono", "Nachricht", "Kategorie", "Ort")}
    proposed = {p.column: p.entity for p in propose_columns(cols)}
    assert proposed == {"Kundennummer": "ID", "Kunden-Nr.": "ID", "Ansprechpartner": "PERSON",
                        "E-Mail": "EMAIL", "Straße": "STREET_ADDRESS", "PLZ": "ZIP",
                        "Geburtsdatum": "DATE", "Telefon": "PHONE", "Prénom": "PERSON",
                        "Courriel": "EMAIL", "Teléfono": "PHONE"}


def test_words_that_are_ambiguous_across_languages_propose_nothing_by_name() -> None:
    # French "nombre" is a number, "Nom du produit" a product; English "portable" a yes/no.
    cols = {name: ["12", "3", "7"] for name in ("Nombre de commandes", "Nom du produit",
                                                  "portable", "Handy")}
    assert propose_columns(cols) == []
    assert [p.entity for p in propose_columns({"Nom": ["Dupont", "Martin", "Bernard"]})] == ["PERSON"]


def test_a_percent_sign_beside_a_date_stays_text() -> None:
    # The text around a date went into strftime's format: "100%d" next to a date became
    # "100" + the day, and Windows refused a stray "%" outright (the anonymization stopped).
    from privacy.pii.operators import generalize_date, shift_date

    assert shift_date("done 100%d on 2020-03-01, 5% left", 10) == "done 100%d on 2020-03-11, 5% left"
    assert shift_date("50% by 03/01/2020", 1) == "50% by 03/02/2020"
    assert generalize_date("100% on 2020-03-01") == "2020-03"
    assert generalize_date("Dec 5th") == "December"  # no year: the month, named in English


@pytest.mark.parametrize(("value", "days", "shifted"), [
    ("1. Januar 2020", 1, "2. Januar 2020"),          # German stays German
    ("3 avril 2021", 25, "28 avril 2021"),            # French, lower case as written
    ("5 de mayo de 2001", 11, "16 de mayo de 2001"),  # Spanish, with its "de"
    ("1er mars 2022", 8, "9 mars 2022"),              # "1er" is the 1st only
    ("5. April 2020", 30, "5. Mai 2020"),             # a full stop after the day: German
    ("April 5, 2020", 30, "May 5, 2020"),             # English first for a shared name
    ("3rd of March, 2020", 2, "5th of March, 2020"),  # the ordinal follows the day
    ("JANUARY 2020", 40, "FEBRUARY 2020"),
    ("05 mei 2020", 30, "04 juni 2020"),              # Dutch, the leading zero kept
    ("Dec 5th", 30, "Jan 4th"),                       # an abbreviation stays one
    # Names several languages share, told by how they are written (case, "de"):
    ("3 mai 2021", 29, "1 juin 2021"),                # French writes months in lower case
    ("3 Mai 2021", 29, "1 Juni 2021"),                # German capitalizes them
    ("3 april 2021", -3, "31 maart 2021"),            # Dutch, lower case
    ("3 marzo 2021", -3, "28 febbraio 2021"),         # Italian: no "de"
    ("3 de marzo de 2021", -3, "28 de febrero de 2021"),  # Spanish
    ("3 marca 2024", 30, "2 kwietnia 2024"),          # Polish, in the genitive a date uses
    ("3 Mart 2024", 30, "2 Nisan 2024"),              # Turkish
])
def test_a_shifted_written_date_keeps_its_language_and_layout(value: str, days: int, shifted: str) -> None:
    # It came out in English ("April 28, 2021") inside German, French and Spanish training text.
    assert shift_date(value, days) == shifted
