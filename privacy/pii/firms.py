"""Firms' names as registers and complaint exports write them, for the name rules
(``privacy.pii.names``): "Forster & Garbus LLP", "Credit Karma, LLC", "CULLEN/FROST BANKERS,
INC.", "Tower Loan of Mississippi, Inc.", "John C. Heath, Attorney at Law, PLLC".

Such a name is often made of people's names and places, and the name rules took those for a
PERSON or a LOCATION inside the firm ("<PERSON> & Garbus LLP", "Credit <PERSON>, LLC"). A chain
of capitalised words that holds a legal form or a firm's word is an ORGANIZATION as a whole, so
the policy's ORGANIZATION action decides what happens to all of it, names included.

A chain is capitalised words joined by a space, a hyphen, "/", " & ", "dba", an initial's full
stop, or a comma that a legal form follows ("Karma, LLC") or that lists names before " & "
("Lockhart, Morris & Montgomery Inc."). It is a firm when it holds, after its first word:

- a legal form (``LEGAL_FORMS``: "Inc.", "LLC", "Co.", "LLP", "PLLC", "Bancorp"), or
- a firm's word (``firm_word``: "Bank", "Financial", "Services", "Capital", "Credit Union",
  "Associates", "Motor", "Attorney at Law") and a word that is no everyday word (a name, a
  place, an acronym): "Customer Service" and "Fair Credit" are no firms;

and only places or more such words follow its last one ("Hyundai Capital America", "Tower Loan
of Mississippi, Inc."). A title never joins a chain: "Mr. Ford", "Ms. Montgomery" and "Karma
Smith called" are people as before. A redaction mark ("XXXX Credit") joins none, and the words
that open a sentence ("Then", "Dear", "As") are left before it. In a stretch of capitals, where
case cannot tell a verb from a name, a chain without a legal form needs a listed name or a place
("PROSPER CREDIT", not "EQUITY LOAN" or "ACH PAYMENTS") and sheds the everyday words it opens
with ("SAID TOWNE MORTGAGE").

A person's name is no firm's first words: "Loan officer Brian Walsh Mortgage Services", "Maria
Garcia Wells Fargo Home Mortgage", "Susan Park Bank of America" are a PERSON and then what
is left of the chain, a firm if it is one. A person opens a chain with a listed given name and a
surname (an initial between), or with a name after a role ("Representative Laura Chen", "agent
..."). The chain stays one firm when a listed firm opens it ("Mercedes Benz Financial
Services"), when a legal form follows the name, or " & " or a comma with a legal form in the
chain ("John Smith LLC", "Nelson Cruz & Associates LLC", "John C. Heath, Attorney at Law,
PLLC"), or when the given name is an everyday word and the chain holds a legal form ("Spring
Oaks Capital, LLC"). Kept whole under a policy that keeps firms, a person's name would be
stored as written; split, a firm named after a person loses only its first words to the
PERSON action, so where in doubt the name is a person's ("Park Hill Holdings").

``state_code_after`` reads the town of "Denver, CO" as a place: "Denver" is a given name too.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from privacy.pii.addresses import US_STATE_CODES_PATTERN
from privacy.pii.capitals import MASK
from privacy.pii.lexicon import LEGAL_FORMS
from privacy.pii.name_cues import BUSINESS_WORDS, DETERMINERS, KNOWN_ORGS, TITLES

# Business words that open or sit inside firms' names far more than they end them ("Home
# Depot", "Federal ...", "Customer ...", "East ..."): no anchor on their own.
_NOT_ENDING = frozenset({"east", "west", "north", "south", "customer", "customers", "home",
                         "homes", "health", "federal", "auto", "pay", "mobile", "law", "media",
                         "store", "stores", "shop", "research", "union", "community"})
# Places a firm's name may end in ("Hyundai Capital America", "Ally Bank USA").
_FIRM_PLACES = frozenset({"america", "usa", "us", "u.s", "na", "n.a"})
_JOINS = (" ", "-", "/", " & ")
# Company words of other languages that are English words too ("AS", "AB", "OY").
_WORDS_TOO = frozenset({"as", "ab", "oy"})
# Words that open a sentence before a firm's name, not part of it.
_OPENERS = DETERMINERS | {"then", "yesterday", "today", "now", "also", "so", "but", "and", "when",
                          "after", "since", "because", "if", "finally", "later", "recently",
                          "however", "unfortunately", "once", "while", "dear", "thanks", "hi",
                          "hello", "as", "in", "on", "at", "for", "with", "from", "to", "by"}
# A US state's code after a town and a comma ("Denver, CO"); those that are words or degrees too
# ("OK", "ME", "IN", "MD" after a doctor's name) need a ZIP code after them or a listed place.
US_STATE_CODES = frozenset(US_STATE_CODES_PATTERN.split("|"))
AMBIGUOUS_STATE_CODES = frozenset({"OK", "ME", "IN", "OR", "OH", "HI", "LA", "MA", "PA", "MD", "MS",
                                   "AL", "ID", "DE"})
ZIP_AT = re.compile(r",?\s\d{5}(?:-\d{4})?(?!\d)")
# A person's role or job before their name: "Loan officer Brian Walsh", "Representative Laura Chen".
_ROLES = frozenset({"representative", "rep", "officer", "agent", "advisor", "adviser", "manager",
                    "supervisor", "specialist", "collector", "broker", "banker", "adjuster",
                    "underwriter", "processor", "lawyer", "attorney", "associate", "teller",
                    "employee", "counselor", "consultant", "negotiator", "investigator", "clerk",
                    "director", "president", "ceo", "owner", "salesman", "salesperson", "analyst"})
# What a firm named after a lawyer puts after the name: "John C. Heath, Attorney at Law".
_AFTER_NAMES = frozenset({"attorney", "attorneys"})


class Word(Protocol):
    """A token as the name rules read it (``names._Tok``)."""

    start: int
    end: int
    text: str
    folded: str
    shouted: bool  # written in capitals, before a stretch of them was read title-cased


def _cap(word: Word) -> bool:
    return word.text[:1].isupper()


def _letter(text: str, word: Word) -> bool:
    """A letter alone that starts no firm's name: no initial ("I.C.", "C. Heath") nor "M & T"
    ("CONSUMER 'S CREDIT")."""
    return len(word.text) == 1 and text[word.end:word.end + 1] != "." \
        and text[word.end:word.end + 3] != " & "


class FirmFinder:
    """Finds firms' chains of words; ``everyday`` says which words are plain English, ``place``
    which are places (or words of them), ``name`` which a name list holds, ``given`` which are
    listed given names, ``suffixes`` the name rules' company words ("Group", "Partners")."""

    def __init__(self, everyday: Callable[[str], bool], place: Callable[[str], bool],
                 name: Callable[[str], bool], given: Callable[[str], bool],
                 suffixes: frozenset[str]) -> None:
        self._everyday, self._place, self._name, self._given = everyday, place, name, given
        self._suffixes = suffixes
        self._anchors = (BUSINESS_WORDS | suffixes | LEGAL_FORMS) - _NOT_ENDING - _WORDS_TOO

    def firm_word(self, words: Sequence[Word], k: int) -> bool:
        """Whether ``words[k]`` makes a firm: a legal form, a business word, the "Union" of
        "Credit Union", or the "Law" of "Attorney at Law"."""
        folded = words[k].folded.rstrip(".")
        if folded in self._anchors:
            return True
        if folded == "union":
            return k > 0 and words[k - 1].folded == "credit"
        return folded == "law" and k >= 2 and words[k - 1].folded == "at" \
            and words[k - 2].folded in ("attorney", "attorneys")

    def _joined(self, text: str, words: Sequence[Word], k: int) -> bool:
        """Whether ``words[k]`` continues the chain that ``words[k - 1]`` is in."""
        left, right = words[k - 1], words[k]
        gap = text[left.end:right.start]
        if left.folded in TITLES or right.folded in TITLES \
                or MASK.fullmatch(left.text) or MASK.fullmatch(right.text):
            return False  # a redaction mark ("XXXX Credit") is no part of a firm's name
        if right.folded == "at" and gap == " " and k + 1 < len(words) \
                and words[k + 1].folded == "law" and left.folded in ("attorney", "attorneys"):
            return True  # "Attorney at Law"
        if right.folded in _OPENERS:
            return False  # "... Remedies Dear Hyundai Motors Finance": the firm starts after it
        if right.folded == "dba" or left.folded == "dba":
            return gap == " "
        if right.folded == "of" or left.folded == "of":
            return gap == " " and (left.folded == "of" and self._place(right.folded)
                                   or right.folded == "of" and self.firm_word(words, k - 1))
        if not _cap(right):
            return False
        if gap in _JOINS or (gap == ". " and len(left.text) == 1) \
                or (gap == "." and len(left.text) == len(right.text) == 1
                    and (left.folded, right.folded) not in (("i", "e"), ("e", "g"))):
            return True  # "John C. Heath", "I.C. Systems"
        if gap != ", ":
            return False
        written_state = len(right.text) == 2 and right.shouted \
            and text[right.end:right.end + 1] != "."  # "Denver, CO": a state, not "Co."
        if right.folded in LEGAL_FORMS and not written_state:
            return True
        if right.folded in ("attorney", "attorneys"):
            return self.firm_word(words, k + 2) if k + 2 < len(words) else False
        # "Lockhart, Morris & Montgomery Inc.": a name listed before the one joined by "&".
        return k + 1 < len(words) and text[right.end:words[k + 1].start] == " & " \
            and (k < 2 or not self._joined(text, words, k - 1))

    def spans(self, text: str, words: Sequence[Word]) -> dict[int, tuple[int, int, str]]:
        """The firms in ``words``, and the people whose names opened their chains: for a span's
        first word's index, the index after its last word, where it ends in ``text`` (with the
        full stop of "Inc." or "Co.") and its type, ORGANIZATION or PERSON."""
        found: dict[int, tuple[int, int, str]] = {}
        k = 0
        while k < len(words):
            if not _cap(words[k]) or words[k].folded in TITLES or MASK.fullmatch(words[k].text):
                k += 1
                continue
            end = k + 1
            while end < len(words) and self._joined(text, words, end):
                end += 1
            while end - 1 > k and not _cap(words[end - 1]):
                end -= 1  # a chain ends on a capitalised word ("... Systems of")
            self._read(text, words, k, end, found)
            k = end
        return found

    def _read(self, text: str, words: Sequence[Word], first: int, end: int,
              found: dict[int, tuple[int, int, str]]) -> None:
        span = self._firm(text, words, first, end)
        if not span:
            return
        person = self._person(text, words, *span)
        if person:  # "Maria Garcia Wells Fargo Home Mortgage": a person, then maybe a firm
            found[person[0]] = person[1], words[person[1] - 1].end, "PERSON"
            self._read(text, words, person[1], end, found)
            return
        last = words[span[1] - 1]
        dot = text[last.end:last.end + 1] == "." and last.folded in self._suffixes
        found[span[0]] = span[1], last.end + 1 if dot else last.end, "ORGANIZATION"

    def _name_word(self, words: Sequence[Word], k: int) -> bool:
        """Whether ``words[k]`` may be a word of a person's name: capitalised, no firm's word,
        legal form, role or acronym ("FS"), and a listed name or no everyday word."""
        word = words[k]
        folded = word.folded.rstrip(".")
        if not _cap(word) or len(word.text) < 2 or MASK.fullmatch(word.text) \
                or (word.text.isupper() and (len(word.text) < 3 or not self._name(folded))):
            return False
        return folded not in BUSINESS_WORDS and folded not in self._suffixes \
            and folded not in LEGAL_FORMS and folded not in _ROLES and folded not in TITLES \
            and not self.firm_word(words, k) and (self._name(folded) or not self._everyday(folded))

    def _known(self, words: Sequence[Word], first: int, end: int) -> bool:
        """Whether a listed firm opens ``words[first:end]`` ("Mercedes Benz", "Wells Fargo")."""
        return any(" ".join(w.folded for w in words[first:k]) in KNOWN_ORGS
                   for k in range(first + 1, end + 1))

    def _person(self, text: str, words: Sequence[Word], first: int,
                end: int) -> tuple[int, int] | None:
        """The person's name that opens the firm's chain ``words[first:end]``, as its first
        word's index and the index after its last; None if there is none, or if the chain is a
        firm named after a person ("John Smith LLC", "Nelson Cruz & Associates LLC")."""
        def gap(k: int) -> str:
            return text[words[k - 1].end:words[k].start]
        role = first > 0 and words[first - 1].folded in _ROLES and gap(first) == " "
        start = first if role or self._given(words[first].folded) else None
        # "Representative Laura Chen Navient Solutions": the name after the role.
        after_role = next((k + 1 for k in range(first, end - 2) if words[k].folded in _ROLES
                           and gap(k + 1) == " " and self._name_word(words, k + 1)), None)
        if after_role is not None:
            start, role = after_role, True
        if start is None or start + 1 >= end or not self._name_word(words, start) \
                or gap(start + 1) != " " or self._known(words, first, end) \
                or self._known(words, start, end):
            return None
        k = start + 1
        if len(words[k].text) == 1 and k + 1 < end and gap(k + 1) == ". ":
            k += 1  # "John C. Heath"
        if not self._name_word(words, k):
            return None
        k += 1
        while k < end and gap(k) == "-" and self._name_word(words, k):
            k += 1  # "Maria Garcia-Lopez"
        if k + 1 < end and gap(k) == " " and self._name_word(words, k) \
                and self._name(words[k].folded) and not self._known(words, k, end):
            k += 1  # "Mary Ann Smith", not "Maria Garcia Wells Fargo"
        legal = any(w.folded.rstrip(".") in LEGAL_FORMS for w in words[k:end])
        if k >= end or not role and self._everyday(words[start].folded) and (legal or all(
                self._everyday(w.folded) for w in words[start:k])):
            return None  # "Spring Oaks Capital, LLC": a given name that is a word too, a firm's
        after = words[k].folded.rstrip(".")
        if gap(k) == " " and after in LEGAL_FORMS:
            return None  # "John Smith LLC": a firm named after a person
        if gap(k) in (" & ", ", ", "/") and (after in _AFTER_NAMES or legal):
            return None  # "Nelson Cruz & Associates LLC", "John C. Heath, Attorney at Law"
        return start, k

    def _firm(self, text: str, words: Sequence[Word], first: int, end: int) -> tuple[int, int] | None:
        if end - first < 2:
            return None
        while first < end - 1 and (words[first].folded in _OPENERS or _letter(text, words[first]) or (
                words[first].shouted and self._everyday(words[first].folded)
                and not self._place(words[first].folded) and not self.firm_word(words, first))):
            # "Then Mercedes Benz Financial Services repossessed it"; in capitals, where case
            # tells no verb from a name, "SAID TOWNE MORTGAGE" (but "NEW YORK COMMUNITY BANCORP").
            first += 1
        anchors = [k for k in range(first + 1, end) if self.firm_word(words, k)]
        if not anchors:
            return None
        last = anchors[-1]
        if any(words[k].folded not in ("of", "at") and (len(words[k].text) == 1 or (
                not self._place(words[k].folded) and words[k].folded.rstrip(".") not in _FIRM_PLACES))
               for k in range(last + 1, end)):
            return None  # "The Fair Credit Reporting Act": an act, no firm
        legal = any(words[k].folded.rstrip(".") in LEGAL_FORMS for k in anchors)
        plain = all(self._everyday(w.folded) or self.firm_word(words, k)
                    or w.folded in ("of", "at", "&") for k, w in enumerate(words) if first <= k < end)
        if not legal and plain and not self._known(words, first, end):
            return None  # "Customer Service", "Credit Union": words, not a named firm
        if not legal and all(w.shouted for w in words[first:end] if len(w.text) > 1) and not any(
                len(w.text) > 1 and not self.firm_word(words, k) and (
                    self._name(w.folded) or self._place(w.folded) or w.folded in _FIRM_PLACES)
                for k, w in enumerate(words) if first <= k < end):
            return None  # in capitals "EQUITY LOAN", "ACH PAYMENTS": no name says a firm
        return first, end


def state_code_after(text: str, end: int, code: str, shouted: bool, place: bool) -> bool:
    """Whether the word ``code``, written in capitals (``shouted``), is a US state's code after a
    comma right after ``text[:end]``: "Denver, CO" is a town, no person. Codes that are words or
    degrees too ("OK", "ME", "IN", "MD", "PA") count only before a ZIP code or after a listed
    ``place``: "John Smith, MD" is a doctor."""
    start = text.find(code, end)
    code = code.upper()  # "Co" where a stretch in capitals ("DENVER, CO") was read title-cased
    if text[end:start] not in (",", ", ") or not shouted or code not in US_STATE_CODES:
        return False
    return code not in AMBIGUOUS_STATE_CODES or bool(ZIP_AT.match(text, start + len(code))) \
        or place
