"""STREET_ADDRESS and ZIP (postal codes).

A street address is a house number and a street name ending in a street word ("12 Baker
Street", "4 rue de la Paix", "Grote Baan 477", "Vesturgata 66"), optionally followed by a unit
("Apt. 502", "Suite 568"), and by a city / state / postal code on the same or the next lines.
A postal code on its own is found only where it cannot be a plain number: UK and Canadian
shapes, or five digits next to a state abbreviation or a word such as "zip" or "postcode".
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from privacy.pii.findings import Finding
from privacy.pii.registry import Detector, register

STREET_WORDS = (
    "street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|place|pl|square|sq|"
    "terrace|way|parkway|pkwy|highway|hwy|circle|cir|crescent|close|alley|row|walk|trail|plaza|"
    "str|strasse|straße|stra[sß]e|weg|gasse|platz|allee|ring|laan|baan|straat|plein|gracht|"
    "vej|gade|gata|gatan|vägen|väg|vei|veien|tie|katu|utca|út|ulica|ul|rue|avenida|av|calle|"
    "via|viale|piazza|rua|carrer|camino|paseo|estrada|odos|leoforos")
_CAP = r"[^\W\d_][\w'’.-]*"
_NUM = r"\d{1,5}[A-Za-z]?(?:[-/]\d{1,4})?"
_UNIT = r"(?:,?\s*(?:apt\.?|apartment|suite|ste\.?|unit|flat|floor|fl\.?|#)\s?[\w-]{1,6})"
# House number first: "12 Baker Street", "221B Baker St.", "4 rue de la Paix".
_NUMBER_FIRST = re.compile(
    rf"(?i)(?<![\w.,-]){_NUM}\s(?:{_CAP}\s){{0,4}}?(?:{STREET_WORDS})\b\.?{_UNIT}?",
    re.UNICODE)
_ROMANCE_FIRST = re.compile(
    rf"(?i)(?<![\w.,-]){_NUM},?\s(?:rue|avenue|av\.|via|calle|rua|viale|piazza|avenida|carrer)"
    rf"(?:\s{_CAP}){{1,5}}{_UNIT}?")
# Street first, number after: "Grote Baan 477", "Vesturgata 66", "Joaquin Suarez 2906".
# Street words that end compound names ("Hauptstraße", "Vesturgata", "Grote Baan" is two words):
# only these may be glued to the word before them. A short English one glued to a word is
# usually no street: "card 4929" ends in "rd", "forward 12" too.
_COMPOUND_STREET_WORDS = (
    "str|strasse|straße|stra[sß]e|weg|gasse|platz|allee|ring|laan|baan|straat|plein|gracht|"
    "vej|gade|gata|gatan|vägen|väg|vei|veien|tie|katu|utca|ulica|way")
_STREET_WORD = rf"(?:[\w'’-]*?(?:{_COMPOUND_STREET_WORDS})|(?:{STREET_WORDS}))"
_STREET_FIRST_NAME = re.compile(
    rf"(?<![\w-])(?-i:(?=[A-ZÀ-ÖØ-Þ]))(?:{_CAP}\s){{0,3}}(?<![\w'’-]){_STREET_WORD}\.?\s$",
    re.IGNORECASE | re.UNICODE)
_STREET_WORD_END = re.compile(rf"(?:(?<![\w'’-]){_STREET_WORD}|[\w'’-]*?(?:{_COMPOUND_STREET_WORDS}))\.?",
                              re.IGNORECASE)
_HOUSE_NUMBER = re.compile(rf"(?<=\s){_NUM}(?![\w-]){_UNIT}?", re.IGNORECASE)
_CITY_TAIL = re.compile(r"(?:,?[ \t]*\n?[ \t]*(?:[^\W\d_][\w'’.-]*[ \t]?){1,3})?,?[ \t]*\n?[ \t]*"
                        r"(?:[A-Z]{2}[ \t]+)?\d{5}(?:-\d{4})?(?!\d)")
# "57 Veslebakken 48", "22 Castelao 71": house number, one to three words, number (Europe).
_NUMBER_WORDS_NUMBER = re.compile(
    rf"(?<![\w.,-])\d{{1,5}}\s(?:(?-i:[A-ZÀ-ÖØ-Þ])[\w'’.-]*\s){{1,3}}\d{{1,5}}[A-Za-z]?(?![\w-]|\.\d)")
# US military mail: "PSC 4296, Box 4371 APO AA 03140", "USS Napolitani FPO AP 70381".
_MILITARY = re.compile(r"(?<!\w)(?:PSC|Unit|CMR|USNS|USNV|USS|USCGC)\s[\w ,]{1,30}?\s*\n?\s*"
                       r"(?:APO|FPO|DPO)\s(?:AA|AE|AP)\s\d{5}(?!\d)")
# What may follow an address, part by part: a unit, a city / region / country line, a postal
# code, a town with its postal code ("London NW1 6XE": the town was left out, and the name rules
# took "London" for a person). Each part must end at a comma, a line end or a full stop, so a
# following sentence ("... Warszawa, last night we") is not swallowed; a part joined by a plain
# space must be a unit, a postal code or a known place.
_PART = re.compile(
    r"(?P<sep>[ \t]*[,\n][ \t>?]*|[ \t]+)(?:"
    r"(?P<unit>(?i:apt\.?|apartment|suite|ste\.|unit|flat|p\.?\s?o\.?\s?box|box)\s?[\w-]{1,6})"
    r"|(?P<zip>\d{4,5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})"
    r"|(?P<words>[^\W\d_][\w'’.-]*(?:[ \t][^\W\d_][\w'’.-]*){0,4})"
    r"(?:[ \t]+(?P<zip2>\d{4,5}|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}|[A-Z]\d[A-Z]\s\d[A-Z]\d))?"
    r")(?=[ \t]*(?:[,\n.?!;:)]|$))")
_PO_BOX = re.compile(r"(?i)(?<!\w)p\.?\s?o\.?\s?box\s\d{1,6}(?!\w)")
_UNIT_ONLY = re.compile(r"(?i)(?<!\w)(?:apt\.?|apartment|suite|ste\.)\s?\d{1,5}[A-Za-z]?(?!\w)")

US_STATE_CODES_PATTERN = ("AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|"
              "NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR")
_ZIP_US_STATE = re.compile(rf"(?<![\w])(?:{US_STATE_CODES_PATTERN}),?\s{{1,3}}(\d{{5}}(?:-\d{{4}})?)(?!\d)")
_ZIP_CONTEXT = re.compile(r"(?i)\b(?:zip|zip code|zipcode|postal code|postcode|post code|"
                          r"plz|cp|code postal)\b[\s:#]*(?:is\s)?(\d{4,5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d)(?!\d)")
_ZIP_UK = re.compile(r"(?<![\w])(?:[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})(?![\w])")
_ZIP_CA = re.compile(r"(?<![\w])[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s\d[ABCEGHJ-NPRSTV-Z]\d(?![\w])")


# "15 U.S.C. 1681", "1681 Section 604", "Flight BA 117": number-words-number that is no street.
_NOT_STREET_WORDS = frozenset({"section", "sect", "article", "art", "chapter", "part", "page",
                               "rule", "title", "code", "room", "flight", "level", "grade",
                               "year", "years", "day", "days", "items", "and", "or", "to"})


def _not_a_street(value: str) -> bool:
    words = value.split()[1:-1]
    return any(w.casefold().rstrip(".") in _NOT_STREET_WORDS or (len(w) > 1 and w.isupper())
               or w.count(".") > 1 for w in words)


@register
class StreetAddressDetector(Detector):
    name = "street_address"
    types = ("STREET_ADDRESS",)

    def __init__(self) -> None:
        from privacy.pii.lexicon import lexicon

        self.lex = lexicon()

    def _continue(self, text: str, end: int) -> int:
        for _ in range(6):
            m = _PART.match(text, end)
            if m is None:
                break
            words = m.group("words")
            if words is not None:
                folded = words.casefold()
                if words.isdigit() or folded in self.lex.common:
                    break
                if "\n" not in m.group("sep") and "," not in m.group("sep") and not (
                        self.lex.is_place(folded) or m.group("zip2")):
                    break
            end = m.end()
        return end

    def find(self, text: str) -> Iterator[Finding]:
        for m in _HOUSE_NUMBER.finditer(text):
            # "Grote Baan 477", "Vesturgata 66": the number first, then a street name before it.
            # Cheap test first: does the word right before the number end in a street word?
            space = m.start() - 1
            word_start = max(text.rfind(" ", 0, space), text.rfind("\n", 0, space)) + 1
            if not _STREET_WORD_END.fullmatch(text, word_start, space):
                continue
            name = _STREET_FIRST_NAME.search(text, max(0, m.start() - 70), m.start())
            if name is not None:
                yield Finding(name.start(), self._continue(text, m.end()), "STREET_ADDRESS", 0.7,
                              self.name)
        for pattern, score in ((_NUMBER_FIRST, 0.8), (_ROMANCE_FIRST, 0.8),
                               (_NUMBER_WORDS_NUMBER, 0.6), (_MILITARY, 0.9), (_PO_BOX, 0.7)):
            for m in pattern.finditer(text):
                if pattern is _NUMBER_WORDS_NUMBER and _not_a_street(m.group()):
                    continue
                end = m.end()
                if text[end - 1] == "." and len(re.findall(r"\w+\.$", m.group())[0]) > 5:
                    end -= 1  # the sentence's full stop after "Street", not "St."
                tail = _CITY_TAIL.match(text, end)
                if tail:
                    end = tail.end()
                yield Finding(m.start(), self._continue(text, end), "STREET_ADDRESS", score,
                              self.name)
        for m in _UNIT_ONLY.finditer(text):
            yield Finding(m.start(), self._continue(text, m.end()), "STREET_ADDRESS", 0.5, self.name)


_FOUR_FIVE = re.compile(r"(?<=[^\W\d_] )\d{4,5}(?![\w-])")
_WORDS_BEFORE = re.compile(r"(?:[^\W\d_][\w'’.-]*)(?: [^\W\d_][\w'’.-]*){0,3} $")


@register
class PostalCodeDetector(Detector):
    name = "postal_code"
    types = ("ZIP",)

    def __init__(self) -> None:
        from privacy.pii.lexicon import lexicon

        self.lex = lexicon()

    def find(self, text: str) -> Iterator[Finding]:
        for pattern in (_ZIP_US_STATE, _ZIP_CONTEXT):
            for m in pattern.finditer(text):
                yield Finding(m.start(1), m.end(1), "ZIP", 0.8, self.name)
        for pattern in (_ZIP_UK, _ZIP_CA):
            for m in pattern.finditer(text):
                yield Finding(m.start(), m.end(), "ZIP", 0.7, self.name)
        # "Argentina 96165", "São Paulo 01310": 4-5 digits right after a known country or city.
        # Found number first, then the words before it: far cheaper than a regex over all words.
        for m in _FOUR_FIVE.finditer(text):
            before = _WORDS_BEFORE.search(text, max(0, m.start() - 50), m.start())
            if before is None:
                continue
            words = before.group().casefold().split()
            if any(self.lex.is_place(" ".join(words[-k:])) for k in range(1, len(words) + 1)):
                yield Finding(m.start(), m.end(), "ZIP", 0.7, self.name)
