"""Finding the rows that name one person, for an erasure request (``engine.erasure``).

A value matches case-insensitively wherever it stands as a whole in any column: "Jane Doe" is
found in "Call from jane doe today" but not in "Mary-Jane Doe" or "Jane Doerr", and
"jane@example.com" not in "mary.jane@example.com" or "jane@example.com.au" (a letter, digit, or
one of ``_JOINERS`` next to it continues it; a full stop that ends a sentence does not). Any
run of spaces (no-break and ideographic ones included) stands for the spaces between its words.
A value of mostly digits (a phone or account number) also matches with other spaces, dots,
dashes or brackets between its digits. Chinese and Japanese are written without spaces, so a
value in those scripts matches inside a longer run ("日本太郎さん"). With ``columns``, a value
matches only the whole value of a cell of those columns (a customer id "42" is that id, and so
are "0042" and "00042"), spaces collapsed and case ignored as above. Patterns are RE2
(``pyarrow.compute``).

How people's names are written varies, so a name matches its other spellings: accents or none
("Amelie" finds "Amélie"), German transliterations ("Müller" finds "Mueller" and back, "ß" and
"ss"), and a two-word name written surname first, with its comma ("Doe, Jane"). A phone
number written with its country code ("+44 20 7946 0958") also matches the national form
("020 7946 0958"); a bare id of digits ("120356") only with spaces between them, never as the
date 12/03/56. "Jane Doe <jane@example.com>", as mail programs write it, is two values.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import InputError

# Shorter values would match inside too many other names and words to be about one person.
MIN_VALUE_LENGTH = 3
_SPACE = r"[\s\pZ]"  # RE2's \s is ASCII only: no-break, narrow and ideographic spaces too
_DASHES = "\u2010-\u2015\u2212"  # hyphen, en and em dashes, minus
# Characters that join words into one address, handle or name: "mary.jane@", "Mary-Jane".
_JOINERS = r"_.@+\-"
_NOT_WORD = rf"[^\pL\pN{_JOINERS}]"
_DIGIT_SEPARATORS = rf"(?:{_SPACE}|[./()\-{_DASHES}])*"
# Chinese and Japanese, written without spaces, and Korean, whose particles join the name
# before them ("김민수님이"): a letter beside a name there does not make it another word.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


# Fewer digits than this, alone, are a count, an amount or someone else's id as often as theirs.
MIN_NUMBER_DIGITS = 6
_MAILBOX = re.compile(r"^(.*?)\s*<([^<>\s]+@[^<>\s]+)>$")  # Jane Doe <jane@example.com>


def check_values(values: Iterable[str], *, whole_cells: bool = False) -> tuple[str, ...]:
    """The values, trimmed, NFC (as imports store text) and without repeats, a mailbox split into
    its name and address; InputError for an empty one, or (outside ``whole_cells``) one too
    short, or a number too short, to be about one person."""
    out: list[str] = []
    for raw in values:
        value = " ".join(unicodedata.normalize("NFC", raw).split())
        mailbox = _MAILBOX.match(value)
        parts = [p for p in mailbox.groups() if p.strip(' "')] if mailbox else [value]
        for value in (p.strip(' "') for p in parts):
            _check_one(value, whole_cells)
            if value.casefold() not in {v.casefold() for v in out}:
                out.append(value)
    if not out:
        raise InputError("give at least one value that identifies the person")
    return tuple(out)


def _check_one(value: str, whole_cells: bool) -> None:
    if not value:
        raise InputError("an empty value identifies nobody: give a name, an e-mail address or "
                         "an identifier")
    if whole_cells:
        return
    if len(value) < MIN_VALUE_LENGTH and not _CJK.search(value):
        raise InputError(f"{value!r} is too short to identify one person (it would match "
                         "inside other words and names): give a full name, an e-mail address "
                         "or an identifier, or match it against one column's whole values "
                         "(--column, or 'Where to look' in the app)")
    digits = re.sub(r"\D", "", value)
    if digits and len(digits) < MIN_NUMBER_DIGITS and not re.search(r"[^\W\d_]", value):
        raise InputError(f"{value!r} is a short number: in a text it may be a count, an amount "
                         "or another person's id; match it against the column it fills "
                         "(--column, or 'Where to look' in the app)")


# ITU country codes of one and two digits; the others have three.
_SHORT_CODES = frozenset({"1", "7"}) | frozenset(
    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 "
    "64 65 66 81 82 84 86 90 91 92 93 94 95 98".split())


def _national_forms(value: str, digits: str) -> list[str]:
    """A number given with its country code, as dialled at home: +44 20 7946 0958 is also
    020 7946 0958; +1 212 555 0100 is 212 555 0100; +39 06 1234567 is 06 1234567."""
    if not value.startswith(("+", "00")):
        return []
    rest = digits[2:] if value.startswith("00") else digits
    code = 1 if rest[:1] in _SHORT_CODES else 2 if rest[:2] in _SHORT_CODES else 3
    national = rest[code:]
    if len(national) < 7:
        return []
    return [national] if rest[:1] == "1" or national.startswith("0") else [national,
                                                                             "0" + national]


def value_pattern(value: str) -> str:
    """An RE2 pattern finding ``value`` as a whole, in its other spellings (see the module)."""
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and re.fullmatch(rf"[\d\s+./()\-{_DASHES}]+", value):
        # A phone number (it starts with + or 0, or is written in parts) takes any separators;
        # a bare id takes spaces only, or "120356" would be the date 12/03/56.
        phone = value.startswith(("+", "0")) or not value.isdigit()
        separators = _DIGIT_SEPARATORS if phone else rf"{_SPACE}?"
        forms = list(dict.fromkeys([digits, *_national_forms(value, digits)]))
        bodies = "|".join(separators.join(form) for form in forms)
        return rf"(?:^|[^\pN])(?:{bodies})(?:$|[^\pN])"
    words = value.split()
    spellings = [rf"{_SPACE}+".join(_spelled(w) for w in words)]
    if len(words) == 2 and all(w.replace("-", "").replace("'", "").isalpha() for w in words):
        spellings.append(rf"{_spelled(words[1])},{_SPACE}*{_spelled(words[0])}")  # Doe, Jane
    before = rf"(?:^|{_NOT_WORD})" if _continues(value[0]) else ""
    # Full stops after it end the sentence ("write to jane@example.com.", "Jane Doe..."); one
    # before a letter or digit continues it (jane@example.com.au).
    after = rf"(?:$|{_NOT_WORD}|\.+(?:$|[^\pL\pN]))" if _continues(value[-1]) else ""
    return before + "(?:" + "|".join(spellings) + ")" + after


def _latin_variants() -> dict[str, str]:
    """Each ASCII letter with the Latin letters written as it plus a mark: "e" -> "eéèêë…"."""
    groups: dict[str, str] = {}
    for point in range(0xC0, 0x250):
        char = chr(point)
        base = unicodedata.normalize("NFD", char)[0]
        if char.islower() and base.isascii() and base.isalpha() and base != char:
            groups[base] = groups.get(base, base) + char
    for char, base in (("ø", "o"), ("ł", "l"), ("đ", "d"), ("ı", "i"), ("İ", "i")):
        groups[base] = groups.get(base, base) + char
    return groups


_VARIANTS = _latin_variants()
_TRANSLITERATED = {"ä": "ae", "ö": "oe", "ü": "ue"}  # German: Müller is also written Mueller


def _spelled(word: str) -> str:
    """``word`` as a pattern that also finds it with other accents and transliterations."""
    # Letter by letter: "İ".lower() is two characters (i and a combining dot).
    out, i, lower = [], 0, "".join(c.lower() if len(c.lower()) == 1 else c for c in word)
    while i < len(lower):
        pair = lower[i:i + 2]
        umlaut = next((u for u, t in _TRANSLITERATED.items() if pair == t), None)
        if umlaut:  # typed "ue": "ue" or "ü"
            out.append(f"(?:{_letter(pair[0])}{_letter(pair[1])}|{umlaut})")
            i += 2
        elif pair == "ss":
            out.append("(?:ss|ß)")
            i += 2
        elif lower[i] in _TRANSLITERATED:  # typed "ü": "ü", "u" or "ue"
            out.append(f"(?:{_letter(lower[i])}|{_TRANSLITERATED[lower[i]]})")
            i += 1
        elif lower[i] == "ß":
            out.append("(?:ß|ss)")
            i += 1
        else:
            out.append(_letter(lower[i]))
            i += 1
    return "".join(out)


def _letter(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0]
    base = next((b for b, v in _VARIANTS.items() if char in v), base)
    return f"[{_VARIANTS[base]}]" if base in _VARIANTS else re.escape(char)


def _continues(char: str) -> bool:
    """Whether a letter or digit next to ``char`` would make one word with it."""
    return (char.isalnum() or char == "_") and not _CJK.match(char)


def _as_strings(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # lists and other nested values hold no text a person is named by


def _whole(strings: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return pc.utf8_lower(pc.utf8_trim_whitespace(
        pc.replace_substring_regex(strings, rf"{_SPACE}+", " ")))


def column_matches(column: pa.ChunkedArray | pa.Array, value: str, *,
                   whole_cells: bool = False) -> np.ndarray:
    """A mask of the cells of ``column`` that name ``value`` (see the module's rules)."""
    strings = _as_strings(pa.chunked_array([column]) if isinstance(column, pa.Array) else column)
    if strings is None:
        return np.zeros(len(column), dtype=bool)
    if whole_cells and value.isdigit():  # an id: "42", "0042" and "00042" are one
        whole = _whole(strings)
        found = pc.and_(pc.equal(pc.utf8_ltrim(whole, "0"), value.lstrip("0")),
                        pc.not_equal(whole, ""))  # id 0 is not an empty cell
    elif whole_cells:
        found = pc.equal(_whole(strings), value.lower())
    else:
        found = pc.match_substring_regex(strings, value_pattern(value), ignore_case=True)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def rows_matching(table: pa.Table, values: Sequence[str], columns: Sequence[str] = (), *,
                  match_all: bool = False) -> tuple[np.ndarray, dict[str, int]]:
    """Which rows of ``table`` name any of ``values`` (every one, with ``match_all``: "Jane" in
    first_name and "Doe" in last_name), as a mask, and how many rows each names; with
    ``columns``, by those columns' whole cells only."""
    searched = list(columns) or list(table.column_names)
    missing = [c for c in searched if c not in table.column_names]
    if missing:
        raise InputError(f"no column {missing[0]!r} here: the columns are "
                         f"{', '.join(table.column_names)}")
    mask = np.full(table.num_rows, bool(match_all and values), dtype=bool)
    per_value: dict[str, int] = {}
    for value in values:
        hit = np.zeros(table.num_rows, dtype=bool)
        for name in searched:
            hit |= column_matches(table.column(name), value, whole_cells=bool(columns))
        per_value[value] = int(hit.sum())
        mask = mask & hit if match_all else mask | hit
    return mask, per_value


def labels_naming(labels: Sequence[str], values: Sequence[str]) -> np.ndarray:
    """Which file names, dataset names or log lines ("Complaints_Klaus_Mueller_2024.csv",
    "klaus-mueller-escalation") name any of ``values``: their dashes, underscores and dots read
    as spaces, since names are written so."""
    spaced = pc.replace_substring_regex(pa.array(list(labels), pa.string()), r"[-_.]+", " ")
    hit = np.zeros(len(labels), dtype=bool)
    for value in values:
        hit |= column_matches(spaced, value)
    return hit
