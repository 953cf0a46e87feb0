"""NATIONAL_ID: European and Chinese identity and tax numbers, each confirmed by its own check
(or, for numbers without one that tells them apart, by the text naming them); their pseudonyms
keep the layout and never pass the check, so they are never a real person's number."""
from __future__ import annotations

import pytest

from privacy.pii import detect
from privacy.pii.columns import propose_columns
from privacy.pii.national_ids import (bsn_ok, cn_resident_id_ok, codice_fiscale_ok, dni_ok,
                                      nir_ok, passes_a_check, steuer_id_ok)
from privacy.pii.pseudonym import Pseudonymizer, normal_form


def ids(text: str) -> list[str]:
    return [text[f.start:f.end] for f in detect(text) if f.type == "NATIONAL_ID"]


def test_each_check_accepts_a_published_example_and_refuses_one_changed_character() -> None:
    assert dni_ok("12345678", "Z") and not dni_ok("12345678", "A")
    assert dni_ok("X1234567", "L") and not dni_ok("X1234568", "L")  # an NIE
    assert nir_ok("2 69 05 49 588 157 80") and not nir_ok("2 69 05 49 588 157 81")
    assert codice_fiscale_ok("RSSMRA85T10A562S") and not codice_fiscale_ok("RSSMRA85T10A562T")
    assert cn_resident_id_ok("11010519491231002X") and not cn_resident_id_ok("110105194912310021")
    assert not cn_resident_id_ok("110105194913310025")  # no 13th month: not a birth date
    assert steuer_id_ok("86095742719") and not steuer_id_ok("86095742718")
    assert bsn_ok("111222333") and not bsn_ok("111222334")


@pytest.mark.parametrize("text, value", [
    ("Mi DNI es 12345678Z, gracias", "12345678Z"),
    ("DNI 12345678 Z", "12345678 Z"),
    ("NIE X-1234567-L", "X-1234567-L"),
    ("n° de sécurité sociale 2 69 05 49 588 157 80", "2 69 05 49 588 157 80"),
    ("codice fiscale RSSMRA85T10A562S", "RSSMRA85T10A562S"),
    ("身份证号11010519491231002X，请核实", "11010519491231002X"),
    ("NINO AB 12 34 56 C", "AB 12 34 56 C"),
    ("my NI number is AB123456C", "AB123456C"),
    ("Steuer-ID: 86095742719", "86095742719"),
    ("BSN 111222333", "111222333"),
])
def test_national_ids_are_found_in_text(text: str, value: str) -> None:
    assert ids(text) == [value]


@pytest.mark.parametrize("text", [
    "order 12345678A shipped",  # the wrong control letter: a code, not a DNI
    "product AB123456C is in stock",  # a NINO's shape, but neither spaced nor named
    "invoice 86095742719 paid",  # a valid Steuer-ID's digits, but the text does not say so
    "ticket 111222333 closed",
    "RSSMRA85T10A562T",
    "Order 40000016 A replacement was sent.",  # a spaced letter is a DNI's only where named
])
def test_numbers_that_fail_their_check_or_are_not_named_are_left(text: str) -> None:
    assert ids(text) == []


def test_chinese_mobiles_and_phone_words_of_other_languages_make_phones() -> None:
    phones = [t[f.start:f.end] for t in ("客户王伟先生致电，手机13800138000",
                                         "Bitte Handy anrufen: 01711234567")
              for f in detect(t) if f.type == "PHONE"]
    assert phones == ["13800138000", "01711234567"]
    assert not [f for f in detect("订单号13800138000") if f.type == "PHONE"]  # an order number


def test_a_pseudonym_keeps_the_layout_and_never_passes_the_check() -> None:
    pseudonymizer = Pseudonymizer(b"k" * 32)
    for value in ("12345678-Z", "RSSMRA85T10A562S", "11010519491231002X", "2 69 05 49 588 157 80"):
        fake = pseudonymizer.surrogate("NATIONAL_ID", value)
        assert fake != value and len(fake) == len(value)
        assert [c.isdigit() for c in fake] == [c.isdigit() for c in value.upper()]
        assert not passes_a_check(fake)
    assert normal_form("NATIONAL_ID", "12345678-z") == normal_form("NATIONAL_ID", "12345678Z")
    # One number, one pseudonym, whatever its layout; an NIE stays an NIE; nothing to replace
    # in a value without letters or digits.
    fakes = {pseudonymizer.surrogate("NATIONAL_ID", v).replace(".", "").replace("-", "")
             for v in ("12345678Z", "12345678-Z", "12.345.678-Z")}
    assert len(fakes) == 1
    assert pseudonymizer.surrogate("NATIONAL_ID", "X-1234567-L")[0] in "XYZ"
    assert pseudonymizer.surrogate("NATIONAL_ID", "") == ""
    assert pseudonymizer.surrogate("NATIONAL_ID", "---") == "---"


def test_identity_number_columns_are_proposed_by_name_or_content() -> None:
    proposals = {p.column: (p.entity, p.action) for p in propose_columns({
        "DNI": ["12345678Z"], "Steuer-ID": ["86095742719"], "codice_fiscale": ["x"],
        "身份证号": ["11010519491231002X", "11010519491231002X"], "ssn": ["536-32-3065"],
        "cf_ratio": ["0.5"]})}
    assert proposals == {"DNI": ("NATIONAL_ID", "drop"), "Steuer-ID": ("NATIONAL_ID", "drop"),
                         "codice_fiscale": ("NATIONAL_ID", "drop"),
                         "身份证号": ("NATIONAL_ID", "drop"), "ssn": ("US_SSN", "drop")}


@pytest.mark.parametrize(("text", "number"), [
    ("Numer PESEL: 44051401359", "44051401359"),
    ("TC Kimlik No: 10000000146", "10000000146"),  # once taken for a phone ("No:")
    ("T.C. Kimlik numaram 10000000146", "10000000146"),
    ("KVNR: A123456780", "A123456780"),            # the German health card's number
    ("Versichertennummer A123456780 bitte prüfen", "A123456780"),
    ("Steuerliche Identifikationsnummer: 65 929 970 489", "65 929 970 489"),
])
def test_polish_turkish_and_german_health_numbers_after_their_names(text: str, number: str) -> None:
    found = [(f.type, text[f.start:f.end]) for f in detect(text)]
    assert found == [("NATIONAL_ID", number)]


@pytest.mark.parametrize("text", ["PESEL 44051401358",          # a wrong check digit
                                  "order 44051401359 shipped",  # no name before it
                                  "KVNR: A123456781", "Rechnung A123456780"])
def test_those_numbers_need_their_check_and_their_name(text: str) -> None:
    assert [f for f in detect(text) if f.type == "NATIONAL_ID"] == []


def test_a_pseudonym_never_passes_the_new_checks() -> None:
    from privacy.pii.national_ids import passes_a_check

    assert passes_a_check("44051401359") and passes_a_check("10000000146") and passes_a_check("A123456780")
    assert not passes_a_check("44051401358") and not passes_a_check("A123456781")
