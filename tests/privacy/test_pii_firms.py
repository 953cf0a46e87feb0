"""Firms' names as the CFPB's Company column writes them: people's names and places inside a
firm's name are the firm's ('Forster & Garbus LLP' became '<PERSON> & Garbus LLP', 'Credit
Karma, LLC' 'Credit <PERSON>, LLC'), a town before a state's code is a place ('Denver, CO' was a
person), and people are still people beside them (those tests guard the rules' other side:
they passed before as they pass now)."""
from __future__ import annotations

from pathlib import Path

import pytest

from privacy.pii import detect
from privacy.pii.anonymize import anonymize_columns
from privacy.pii.policy import parse_policy
from privacy.pii.pseudonym import Pseudonymizer

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "anonymize-policy.example.toml"

# Values of the Company column of the CFPB export that the rules put a PERSON or LOCATION in.
FIRMS = [
    "CAINE & WEINER COMPANY, INC.", "CULLEN/FROST BANKERS, INC.", "Credit Karma, LLC",
    "Eastern Account Systems of Connecticut, Inc.", "FORD MOTOR CREDIT CO.",
    "Federal Cash Advance, LLC of Oklahoma", "Forster & Garbus LLP",
    "Genesis FS Card Services, Inc.", "HYUNDAI CAPITAL AMERICA",
    "John C. Heath, Attorney at Law, PLLC", "KBR INC DBA RASH CURTIS & ASSOCIATES",
    "Lockhart, Morris & Montgomery Inc.", "Mercedes Benz Financial Services",
    "NEW YORK COMMUNITY BANCORP INC", "Nelson Cruz & Associates LLC", "Prosper Marketplace, Inc.",
    "RIA FINANCIAL", "Ricart Financial Services", "Tower Loan of Mississippi, Inc.",
    "Williams & Fudge, Inc",
]


def spans(text: str) -> list[tuple[str, str]]:
    return [(f.type, f.text(text)) for f in detect(text) if f.score >= 0.5]


@pytest.mark.parametrize("firm", FIRMS)
def test_a_firms_name_is_one_organization_whatever_names_it_holds(firm: str) -> None:
    assert spans(firm) == [("ORGANIZATION", firm)]


@pytest.mark.parametrize("text, firm", [
    ("I owe Forster & Garbus LLP for a card", "Forster & Garbus LLP"),
    ("A letter from Williams & Fudge, Inc about my loan", "Williams & Fudge, Inc"),
    ("I spoke to Mr. Ford of FORD MOTOR CREDIT CO. yesterday", "FORD MOTOR CREDIT CO."),
    ("Then Mercedes Benz Financial Services repossessed it", "Mercedes Benz Financial Services"),
])
def test_a_firm_in_a_sentence_is_the_firm_alone(text: str, firm: str) -> None:
    found = spans(text)
    assert ("ORGANIZATION", firm) in found
    assert [t for kind, t in found if kind == "PERSON"] == (["Mr. Ford"] if "Mr." in text else [])


@pytest.mark.parametrize("text, person", [
    ("Mr. Ford said the loan was late", "Mr. Ford"),
    ("Karma Smith called me back", "Karma Smith"),
    ("Ms. Montgomery wrote back", "Ms. Montgomery"),
    ("Sarah Banks called about the loan", "Sarah Banks"),
    ("John Smith, MD signed the form", "John Smith"),  # a doctor, not a town in Maryland
    ("Please call Jane, OK?", "Jane"),
])
def test_people_stay_people(text: str, person: str) -> None:
    found = spans(text)
    assert ("PERSON", person) in found and not [k for k, _ in found if k == "ORGANIZATION"]


@pytest.mark.parametrize("text", [
    "Customer Service was rude",                      # everyday words are no firm's name
    "The Fair Credit Reporting Act says otherwise",   # an act, not a firm
])
def test_everyday_words_with_a_firms_word_are_no_firm(text: str) -> None:
    assert not [t for kind, t in spans(text) if kind == "ORGANIZATION"]


@pytest.mark.parametrize("text, town", [
    ("AC AutoPay LLC, Denver, CO Branch", "Denver"),
    ("I moved to Denver, CO last year", "Denver"),
    ("I LIVE IN DENVER, CO NOW", "DENVER"),
    ("Pittsburgh, PA 15222", "Pittsburgh"),  # a code that is a word or degree, with a ZIP code
])
def test_a_town_before_a_states_code_is_a_place(text: str, town: str) -> None:
    found = spans(text)
    assert ("LOCATION", town) in found and not [k for k, _ in found if k == "PERSON"], found


@pytest.mark.parametrize("action, expected", [
    ("keep", FIRMS), ("tag", ["<ORGANIZATION>"] * len(FIRMS))])
def test_the_organization_action_decides_for_the_whole_firm(action: str,
                                                             expected: list[str]) -> None:
    # A law firm named after people is a firm: kept whole or tagged whole, as the policy says,
    # never a firm with invented people in it.
    policy = parse_policy(f'[entities]\nPERSON = "tag"\nLOCATION = "tag"\nORGANIZATION = "{action}"')
    result = anonymize_columns({"Company": list(FIRMS)}, policy, None)
    assert result.columns["Company"] == expected


# A person's name before a firm's word, as complaints write it: the chain of capitalised words
# read as one firm kept the name whole under the example policy (ORGANIZATION = "keep").
PEOPLE_BEFORE_FIRMS = [
    ("Loan officer Brian Walsh Mortgage Services promised a refund.", "Brian Walsh", None),
    ("Representative Laura Chen Navient Solutions said they would call back.", "Laura Chen",
     "Navient Solutions"),
    ("My account was closed by Peter Brown Services team.", "Peter Brown", None),
    ("Please call Jennifer Lopez Financial advisor", "Jennifer Lopez", None),
    ("David Miller Capital called me", "David Miller", None),
    ("My loan officer Maria Garcia Wells Fargo Home Mortgage called me.", "Maria Garcia",
     "Wells Fargo Home Mortgage"),
    ("I spoke with Susan Park Bank of America about the fee.", "Susan Park", "Bank of America"),
]


@pytest.mark.parametrize("text, person, firm", PEOPLE_BEFORE_FIRMS)
def test_a_persons_name_before_a_firms_word_is_a_person(text: str, person: str,
                                                        firm: str | None) -> None:
    found = spans(text)
    assert ("PERSON", person) in found, found
    assert not [t for kind, t in found if kind == "ORGANIZATION" and person in t], found
    if firm:
        assert ("ORGANIZATION", firm) in found, found


@pytest.mark.parametrize("text, firm", [
    ("Spring Oaks Capital, LLC sent a letter", "Spring Oaks Capital, LLC"),  # "Spring" is a word
    ("John Smith LLC sued me", "John Smith LLC"),  # a legal form right after the name
    ("Wells Fargo Home Mortgage called me.", "Wells Fargo Home Mortgage"),  # a listed firm
])
def test_a_firm_named_as_people_are_stays_one_firm(text: str, firm: str) -> None:
    found = spans(text)
    assert ("ORGANIZATION", firm) in found and not [k for k, _ in found if k == "PERSON"], found


def test_names_joined_by_and_sign_without_a_legal_form_are_people() -> None:
    found = spans("Brian Walsh & Jennifer Lopez Financial called")
    assert ("PERSON", "Brian Walsh") in found and ("PERSON", "Jennifer Lopez") in found, found


def test_the_example_policy_stores_no_name_met_before_a_firms_word() -> None:
    policy = parse_policy(EXAMPLE.read_text(encoding="utf-8"))
    texts = [text for text, _, _ in PEOPLE_BEFORE_FIRMS]
    result = anonymize_columns({"narrative": texts}, policy, Pseudonymizer(b"k" * 32))
    for (_, person, _), out in zip(PEOPLE_BEFORE_FIRMS, result.columns["narrative"]):
        assert not set(person.split()) & set(out.replace(".", " ").split()), out


def test_a_town_after_a_street_or_before_a_postcode_is_part_of_the_address_not_a_person() -> None:
    # "I live at 12 Baker Street, London NW1 6XE": the address stopped at the street, and
    # "London" (a given name in Faker's lists, and in none of its city lists) became a person.
    def people(text: str, **kw: object) -> list[str]:
        return [text[f.start:f.end] for f in detect(text, **kw) if f.type == "PERSON"]

    def address(text: str) -> list[str]:
        return [text[f.start:f.end] for f in detect(text) if f.type == "STREET_ADDRESS"]

    for text in ("I live at 12 Baker Street, London NW1 6XE", "12 Baker Street, Paris NW1 6XE",
                 "Ship to: 5 High St, Berlin SW1A 1AA", "12 Baker Street, Sydney NW1 6XE."):
        assert people(text) == [], text
        street = text[text.index(next(c for c in text if c.isdigit())):].rstrip(".")
        assert address(text) == [street], text
    # The name rules alone say so too, where no street is found to swallow the town.
    for text, town in (("I live at 12 Baker Street, London NW1 6XE", "London"),
                       ("22 Deansgate, Manchester M3 4LQ", "Manchester"),
                       ("Send it to 10 Downing Street, London SW1A 2AA please.", "London"),
                       ("12 Baker Street\nSydney\nNW1 6XE", "Sydney"),
                       ("Write to 4 Elm Road, Paris.", "Paris"),
                       ("Ship to: 5 High St, Berlin", "Berlin")):
        found = [(text[f.start:f.end], f.type) for f in detect(text, detectors=["names"])
                 if f.type in ("PERSON", "LOCATION") and f.score >= 0.5]
        assert (town, "LOCATION") in found and town not in people(text), (text, found)
    # A person stays a person: named elsewhere in the sentence, beside a street without a house
    # number, or with a surname before the postcode.
    assert people("I met Sydney at 12 Baker Street, London NW1 6XE.") == ["Sydney"]
    assert people("We went to court, Margaret.") == ["Margaret"]
    assert "Charlotte" in people("12 Baker Street, Charlotte said hi", detectors=["names"])
    assert people("London Breed, NW1 6XE") == ["London Breed"]
