"""DATE, DATE_TIME and AGE. Dates are numeric (2/4/1958, 14.03.2013, 2013-03-14), written
(March 3, 2020; 3 Mar 2020; March 2020) or weekdays; a time next to a date makes DATE_TIME.
German, French, Spanish, Italian and Dutch written dates count with their year ("3. März 1985",
"12 janvier 1990", "5 de mayo de 2001", "März 1985"): a birth date has one, and without it
"mai", "mars" or "mayo" are as often words."""
from __future__ import annotations

import re
from collections.abc import Iterator

from privacy.pii.findings import Finding
from privacy.pii.registry import Detector, register

MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
          "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_TIME = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?(?:\s?[AaPp]\.?[Mm]\.?)?(?:\s?(?:Z|UTC|[+-]\d{2}:?\d{2}))?"
_NUMERIC = (r"(?:\d{4}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])"
            r"|(?:0?[1-9]|[12]\d|3[01])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-](?:\d{4}|\d{2})"
            r"|\d{4}/(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))")
_WRITTEN = (rf"(?:(?:(?:{WEEKDAYS}),?\s)?(?:(?:{MONTHS})\.?\s(?:[0-3]?\d)(?:st|nd|rd|th)?(?:,?\s\d{{4}})?"
            rf"|(?:[0-3]?\d)(?:st|nd|rd|th)?\s(?:of\s)?(?:{MONTHS})\.?(?:,?\s\d{{4}})?"
            rf"|(?:{MONTHS})\.?,?\s\d{{4}}))")
# German, French, Spanish, Italian, Dutch (with and without accents), Polish and Turkish, with their numbers: what
# detection looks for, and what date actions read (``privacy.pii.operators.parse_date``).
EUROPEAN_MONTH_NUMBERS: dict[str, int] = {
    **dict(zip(("januar", "februar", "märz", "april", "mai", "juni", "juli", "august",
                "september", "oktober", "november", "dezember"), range(1, 13))),
    "jänner": 1, "maerz": 3,
    **dict(zip(("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                "septembre", "octobre", "novembre", "décembre"), range(1, 13))),
    "fevrier": 2, "aout": 8, "decembre": 12,
    **dict(zip(("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                "septiembre", "octubre", "noviembre", "diciembre"), range(1, 13))),
    "setiembre": 9,
    **dict(zip(("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
                "agosto", "settembre", "ottobre", "novembre", "dicembre"), range(1, 13))),
    **dict(zip(("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
                "september", "oktober", "november", "december"), range(1, 13))),
    # Polish as a date writes it (the genitive: "3 marca 2024"), and Turkish ("3 Mart 2024").
    **dict(zip(("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
                "września", "października", "listopada", "grudnia"), range(1, 13))),
    **dict(zip(("ocak", "şubat", "mart", "nisan", "mayıs", "haziran", "temmuz", "ağustos", "eylül",
                "ekim", "kasım", "aralık"), range(1, 13))),
}
_EUROPEAN_MONTHS = "|".join(sorted(EUROPEAN_MONTH_NUMBERS, key=len, reverse=True))
# Found from the year back: a four-digit number, the month name just before it, then the day
# before that. A pattern opening with the month alternation is tried at every position of every
# text and cost as much as every other date pattern together.
_YEAR = re.compile(r"(?<![\w/.-])\d{4}(?![\w/-]|\.\d)")
_MONTH_BEFORE = re.compile(rf"(?i)(?<![\w/.-])(?:{_EUROPEAN_MONTHS}|{MONTHS})\.?"
                           rf"(?:\s(?:de\s)?|,\s?)$")
_DAY_BEFORE = re.compile(r"(?i)(?<![\w/.-])[0-3]?\d(?:\.|er|º|°)?\s(?:de\s)?$")
_DATE = re.compile(rf"(?i)(?<![\w/.-])(?:{_NUMERIC}|{_WRITTEN})(?![\w/-]|\.\d)")
_DATE_TIME = re.compile(rf"(?i)(?<![\w/.-])(?:{_NUMERIC}|{_WRITTEN})(?:,?\s|T)(?:at\s)?{_TIME}(?![\w:])")
_TIME_ONLY = re.compile(rf"(?<![\w:.]){_TIME}(?![\w:])")


def _weekday_re() -> re.Pattern[str]:
    names = WEEKDAYS.split("|")
    return re.compile(r"(?<!\w)(?:" + "|".join(n.title() for n in names) + r")s?(?!\w)")


@register
class DateDetector(Detector):
    name = "date"
    types = ("DATE", "DATE_TIME")
    _weekday = _weekday_re()

    def find(self, text: str) -> Iterator[Finding]:
        for m in _DATE_TIME.finditer(text):
            yield Finding(m.start(), m.end(), "DATE_TIME", 0.9, self.name)
        for year in _YEAR.finditer(text):
            month = _MONTH_BEFORE.search(text, max(0, year.start() - 18), year.start())
            if month is None:
                continue
            day = _DAY_BEFORE.search(text, max(0, month.start() - 8), month.start())
            if day is None and month.group()[:4].lower() == "mars":  # "Mars 2020": the planet
                continue
            start = day.start() if day else month.start()
            yield Finding(start, year.end(), "DATE", 0.85, self.name)
        for m in _DATE.finditer(text):
            value = m.group()
            # "may 5" in lowercase prose is usually the verb; ask for a capital or digits first.
            if value[:3].lower() == "may" and value[0] == "m" and not value[-4:].isdigit():
                continue
            yield Finding(m.start(), m.end(), "DATE", 0.85, self.name)
        if ":" in text:
            for m in _TIME_ONLY.finditer(text):
                yield Finding(m.start(), m.end(), "DATE_TIME", 0.6, self.name)
        for m in self._weekday.finditer(text):
            yield Finding(m.start(), m.end(), "DATE_TIME", 0.5, self.name)


@register
class AgeDetector(Detector):
    name = "age"
    types = ("AGE",)
    _re = re.compile(r"(?i)(?<!\w)(?:(?:aged?|age:)\s?(\d{1,3})(?!\d)|(\d{1,3})[\s-]?(?:years?|yrs?)"
                     r"[\s-]?old\b|(\d{1,3})\s?(?:y/o|yo)\b|(\d{1,3})-year-old)")

    def find(self, text: str) -> Iterator[Finding]:
        for m in self._re.finditer(text):
            number = next(g for g in m.groups() if g)
            if int(number) <= 125:
                yield Finding(m.start(), m.end(), "AGE", 0.85, self.name)
