"""Names the rules used to leave in the text: written in capitals, after a greeting and a title,
surname first in a record, or a given name no list holds beside a listed surname (a
walk-through's real leaks: "MARGARET THORNBURY complained" was stored as written)."""
from __future__ import annotations

import pytest

from privacy.pii import detect
from privacy.pii.capitals import capitals_as_titles


def people(text: str) -> list[str]:
    return [f.text(text) for f in detect(text) if f.type == "PERSON" and f.score >= 0.5]


@pytest.mark.parametrize("text, name", [
    ("MARGARET THORNBURY complained again", "MARGARET THORNBURY"),
    ("My name is JOHN SMITH", "JOHN SMITH"),
    ("My name is JOHN", "JOHN"),
    ("Mr. THORNBURY called", "Mr. THORNBURY"),
    ("Dear Dr. PATEL,", "Dr. PATEL"),
    ("Dear Mr. Thornbury, thank you", "Mr. Thornbury"),
    ("Hello Mr. THORNBURY", "Mr. THORNBURY"),
    ("I SPOKE TO A MANAGER NAMED KEVIN WHO SAID TO CALL BACK", "KEVIN"),
    ("Thornbury, Margaret - account holder", "Thornbury, Margaret"),
    ("Account:\nThornbury, Margaret", "Thornbury, Margaret"),
    ("Oleksandr Kowalczyk's account was closed", "Oleksandr Kowalczyk"),
])
def test_the_whole_name_is_found(text: str, name: str) -> None:
    assert name in people(text)


def test_a_patient_list_in_capitals_loses_both_names() -> None:
    found = people("PATIENT: SMITH, JOHN, DOB 1987-07-04")
    assert "SMITH" in found and "JOHN" in found


@pytest.mark.parametrize("text", [
    "RE: CREDIT CARD DISPUTE",               # a heading in capitals
    "My FICO score dropped",                  # a lone acronym stays one
    "THE COLLECTION AGENCY KEPT CALLING ME AT WORK",
    "Yesterday Kowalczyk called",             # an everyday word is no given name
    "Notes: Sent, Margaret replied",          # "Sent" is no surname
])
def test_words_in_capitals_and_everyday_words_stay(text: str) -> None:
    extra = {"Yesterday Kowalczyk called": ["Kowalczyk"], "Notes: Sent, Margaret replied": ["Margaret"]}
    assert people(text) == extra.get(text, [])


def test_capitals_are_read_as_titles_in_place() -> None:
    text = "ref AB12CD: MARGARET THORNBURY OF LEEDS, XXXX IRA XXXX, and FICO"
    read = capitals_as_titles(text)
    assert len(read) == len(text)
    # The stretch is title-cased with its small word in lower case; a code, a redaction mark
    # and a lone acronym (with its masks around it) are left as written.
    assert read == "ref AB12CD: Margaret Thornbury of Leeds, XXXX IRA XXXX, and FICO"
    assert capitals_as_titles("no capitals here") == "no capitals here"


@pytest.mark.parametrize("text, firm", [
    ("THANK YOU CHASE FOR NOTHING", "CHASE"),
    ("I BANK WITH USAA AND THEY REFUSED", "USAA"),
    ("I OPENED AN ACCOUNT AT BANK OF AMERICA IN 2019", "BANK OF AMERICA"),
    ("WELLS FARGO CLOSED MY ACCOUNT", "WELLS FARGO"),
    ("ALLY FINANCIAL REPOSSESSED MY CAR", "ALLY FINANCIAL"),
    ("I HAVE A LOAN WITH NAVIENT AND SALLIE MAE", "SALLIE MAE"),
    ("CHASE BANK CLOSED MY ACCOUNT", "CHASE BANK"),
    ("I called Citibank twice", "Citibank"),
])
def test_firms_in_shouted_complaints_are_no_people(text: str, firm: str) -> None:
    # An all-caps complaint had its bank replaced by an invented person's name.
    found = [(f.text(text), f.type) for f in detect(text) if f.score >= 0.5]
    assert (firm, "ORGANIZATION") in found and people(text) == [], found


@pytest.mark.parametrize("text", [
    "I HAVE A LOAN AND MADE A PAYMENT FOR A HOUSE",  # "A LOAN", "MADE A" were people
    "MY RELIGION DOES NOT ALLOW IT",  # an unlisted noun before a verb, once its words are lowered
])
def test_everyday_words_in_capitals_are_no_people(text: str) -> None:
    assert people(text) == []


def test_names_in_capitals_beside_firms_are_still_found() -> None:
    assert people("I SPOKE WITH JOHN SMITH AT WELLS FARGO") == ["JOHN SMITH"]
    assert people("THANK YOU MARGARET THORNBURY") == ["MARGARET THORNBURY"]
    assert people("MY NAME IS MASLIN") == ["MASLIN"]          # a name in no list, after a cue
    assert "YUMIKA" in people("YUMIKA IS VERY RELIABLE. YOU CAN DEPEND ON HER")  # "HER" says so
    assert people("Thank you Chase, you were kind") == ["Chase"]  # as written: maybe a person
