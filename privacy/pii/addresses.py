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

_STREET_WORDS = (
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
    rf"(?i)(?<![\w.,-]){_NUM}\s(?:{_CAP}\s){{0,4}}?(?:{_STREET_WORDS})\b\.?{_UNIT}?",
    re.UNICODE)
_ROMANCE_FIRST = re.compile(
    rf"(?i)(?<![\w.,-]){_NUM},?\s(?:rue|avenue|av\.|via|calle|rua|viale|piazza|avenida|carrer)"
    rf"(?:\s{_CAP}){{1,5}}{_UNIT}?")
# Street first, number after: "Grote Baan 477", "Vesturgata 66", "Joaquin Suarez 2906".
_STREET_FIRST = re.compile(
    rf"(?<![\w-])(?-i:(?=[A-ZÀ-ÖØ-Þ]))(?:{_CAP}\s){{0,3}}[\w'’-]*?(?:{_STREET_WORDS})\.?\s{_NUM}"
    rf"(?![\w-]){_UNIT}?", re.IGNORECASE | re.UNICODE)
_CITY_TAIL = re.compile(r"(?:,?[ \t]*\n?[ \t]*(?:[^\W\d_][\w'’.-]*[ \t]?){1,3})?,?[ \t]*\n?[ \t]*"
                        r"(?:[A-Z]{2}[ \t]+)?\d{5}(?:-\d{4})?(?!\d)")
_UNIT_ONLY = re.compile(r"(?i)(?<!\w)(?:apt\.?|apartment|suite|ste\.)\s?\d{1,5}[A-Za-z]?(?!\w)")

_US_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|"
              "NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR")
_ZIP_US_STATE = re.compile(rf"(?<![\w])(?:{_US_STATES}),?\s{{1,3}}(\d{{5}}(?:-\d{{4}})?)(?!\d)")
_ZIP_CONTEXT = re.compile(r"(?i)\b(?:zip|zip code|zipcode|postal code|postcode|post code|"
                          r"plz|cp|code postal)\b[\s:#]*(?:is\s)?(\d{4,5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d)(?!\d)")
_ZIP_UK = re.compile(r"(?<![\w])(?:[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})(?![\w])")
_ZIP_CA = re.compile(r"(?<![\w])[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s\d[ABCEGHJ-NPRSTV-Z]\d(?![\w])")


@register
class StreetAddressDetector(Detector):
    name = "street_address"
    types = ("STREET_ADDRESS",)

    def find(self, text: str) -> Iterator[Finding]:
        for pattern, score in ((_NUMBER_FIRST, 0.8), (_ROMANCE_FIRST, 0.8), (_STREET_FIRST, 0.7)):
            for m in pattern.finditer(text):
                end = m.end()
                if text[end - 1] == "." and len(re.findall(r"\w+\.$", m.group())[0]) > 5:
                    end -= 1  # the sentence's full stop after "Street", not "St."
                tail = _CITY_TAIL.match(text, end)
                if tail:
                    end = tail.end()
                yield Finding(m.start(), end, "STREET_ADDRESS", score, self.name)
        for m in _UNIT_ONLY.finditer(text):
            yield Finding(m.start(), m.end(), "STREET_ADDRESS", 0.5, self.name)


@register
class PostalCodeDetector(Detector):
    name = "postal_code"
    types = ("ZIP",)

    def find(self, text: str) -> Iterator[Finding]:
        for pattern in (_ZIP_US_STATE, _ZIP_CONTEXT):
            for m in pattern.finditer(text):
                yield Finding(m.start(1), m.end(1), "ZIP", 0.8, self.name)
        for pattern in (_ZIP_UK, _ZIP_CA):
            for m in pattern.finditer(text):
                yield Finding(m.start(), m.end(), "ZIP", 0.7, self.name)
