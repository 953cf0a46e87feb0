"""How one value that identifies a person is written, as an RE2 pattern body
(``engine.data.person_match`` puts the boundaries around it).

Four kinds of value, each with the variations that are the same value and no wider:

- a phone number (7 digits or more starting with +, 00, 0 or a bracket, or any 9 digits or
  more): any spaces, dots,
  dashes, slashes or brackets between its digits ("030 1234567" is "030/123 45 67"), never
  another country's form of it: "+33 6 12 34 56 78" and "06 12 34 56 78" are different numbers
  as often as the same one (a Rome landline, a Spanish mobile), so each form is given by the
  user (``needs_other_form`` says when to remind them);
- an id of digits ("120356", "1203 56"): spaces only between its digits, never the date
  12/03/56;
- a code of letters and digits (an NI number, a DNI, a policy number: "JG103795B"): any one
  space, dot or dash between its characters ("JG 10 37 95 B"), leading zeros optional;
- words (names, addresses): accents or none ("Amelie" finds "Amélie"), German transliterations
  of what was typed with an umlaut or its "ae", "oe", "ue" ("Müller" finds "Mueller" and
  "Muller"; "Mueller" finds "Müller"; "ß" and "ss"; but "Baur" is not "Bauer"), any run of
  spaces between the words.
"""
from __future__ import annotations

import re
import unicodedata

SPACE = r"[\s\pZ]"  # RE2's \s is ASCII only: no-break, narrow and ideographic spaces too
DASHES = "\u2010-\u2015\u2212"  # hyphen, en and em dashes, minus
NUMBER_SEPARATOR = rf"(?:{SPACE}|[./()\-{DASHES}])"
_NUMBERISH = re.compile(rf"[\d\s+./()\-{DASHES}]+")


def kind(value: str) -> str:
    """"email", "phone", "id", "code" or "words"."""
    if "@" in value and " " not in value:
        return "email"  # as written: "müller@" and "mueller@" are two mailboxes
    digits = sum(c.isdigit() for c in value)
    if _NUMBERISH.fullmatch(value) and digits >= 6:
        if (value.startswith(("+", "0", "(")) and digits >= 7) or digits >= 9:
            return "phone"  # nine digits or more are no date, whatever separates them
        if re.fullmatch(r"[\d\s]+", value):
            return "id"
        return "words"  # a date, an amount: as written
    compact = re.sub(r"[\s.\-]", "", value)
    # Letters and digits, but no word of three letters: "JG 10 37 95 B", not "Main Street 12".
    wordless = not any(len(t) >= 3 and t.isalpha() for t in re.split(r"[\s.\-]+", value))
    if compact.isascii() and compact.isalnum() and digits >= 3 and len(compact) >= 6 \
            and any(c.isalpha() for c in compact) and wordless:
        return "code"
    return "words"


def needs_other_form(value: str) -> bool:
    """A phone number: the user should give it with and without its country code, since the
    one does not find the other."""
    return kind(value) == "phone"


def body(value: str) -> str:
    """The pattern of ``value`` itself, without boundaries."""
    of = kind(value)
    if of == "email":
        return re.escape(value)
    if of == "phone":
        # "+49 (0)30 ..." is "+49 30 ...": the (0) is left out where written, optional where read
        digits = re.sub(r"\D", "", value.replace("(0)", ""))
        return rf"(?:{NUMBER_SEPARATOR}|\(0\))*".join(digits)
    if of == "id":
        return (SPACE + "?").join(re.sub(r"\D", "", value))
    if of == "code":
        compact = re.sub(r"[\s.\-]", "", value)
        zeros = "0*" if compact[0].isdigit() else ""
        return zeros + r"[\s.\-]?".join(re.escape(c) for c in compact.lstrip("0") or "0")
    return rf"{SPACE}+".join(spelled(word) for word in value.split())


def _latin_variants() -> dict[str, str]:
    """Each ASCII letter with the Latin letters written as it plus a mark: "e" -> "eéèêë…"."""
    groups: dict[str, str] = {}
    for point in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):  # Vietnamese: Nguyễn
        char = chr(point)
        base = unicodedata.normalize("NFD", char)[0]
        if char.islower() and base.isascii() and base.isalpha() and base != char:
            groups[base] = groups.get(base, base) + char
    for char, base in (("ø", "o"), ("ł", "l"), ("đ", "d"), ("ı", "i"), ("İ", "i")):
        groups[base] = groups.get(base, base) + char
    return groups


_VARIANTS = _latin_variants()
_TRANSLITERATED = {"ä": "ae", "ö": "oe", "ü": "ue"}  # German: Müller is also written Mueller


def spelled(word: str) -> str:
    """``word`` as a pattern that also finds it with other accents and transliterations."""
    # Letter by letter: "İ".lower() is two characters (i and a combining dot).
    out, i, lower = [], 0, "".join(c.lower() if len(c.lower()) == 1 else c for c in word)
    while i < len(lower):
        pair = lower[i:i + 2]
        umlaut = next((u for u, t in _TRANSLITERATED.items() if pair == t), None)
        if umlaut:  # typed "ue": "ue" or "ü"
            out.append(f"(?:{letter(pair[0])}{letter(pair[1])}|{umlaut})")
            i += 2
        elif pair == "ss":
            out.append("(?:ss|ß)")
            i += 2
        elif lower[i] in _TRANSLITERATED:
            # typed "ü": "ü", "u" or "ue" (Müller is Muller and Mueller). A plain "u" stays a u
            # (with its accents): "Baur" is not "Bauer", nor "Kuhn" "Kühn".
            out.append(f"(?:{letter(lower[i])}e?)")  # the class holds u as well as ü
            i += 1
        elif lower[i] == "ß":
            out.append("(?:ß|ss)")
            i += 1
        else:
            out.append(letter(lower[i]))
            i += 1
    return "".join(out)


_APOSTROPHES = "'’ʼ‘`´"  # O'Brien and O’Brien are one name


def letter(char: str) -> str:
    if char in _APOSTROPHES:
        return f"[{_APOSTROPHES}]"
    base = unicodedata.normalize("NFD", char)[0]
    base = next((b for b, v in _VARIANTS.items() if char in v), base)
    if base not in _VARIANTS:
        return re.escape(char)
    return f"[{_VARIANTS[base]}{char if char not in _VARIANTS[base] else ''}]"
