"""Finding the rows that name one person, for an erasure request (``engine.erasure``).

A value matches case-insensitively wherever it stands as a whole in a column, in the spellings
``engine.data.person_spelling`` allows: "Jane Doe" is found in "Call from jane doe." but not in
"Mary-Jane Doe" or "Jane Doerr", and "jane@example.com" not in "mary.jane@example.com" or
"jane@example.com.au" (a letter, digit, or one of ``_JOINERS`` next to it continues it; full
stops that end a sentence do not). A number is not found inside a longer one written in groups
("1234567" in "+90 532 123 45 67"). Chinese and Japanese are written without spaces, and Korean
joins particles to names, so a value in those scripts matches inside a longer run.

A name kept in two columns (first_name "Jane", last_name "Doe", in either order) is found by
"Jane Doe" too: its words split between the whole cells of a first-name and a last-name
column (by their headers, in English, German, French, Spanish, Italian or Dutch).
The label column is not searched: a label is a class, and "Klein" would take every row of the
class "Klein" with Thomas Klein's. With ``columns``, a value matches only the whole value of a
cell of those columns, in the same spellings (an id "42" is "0042" and "00042" too).

A name written surname first with a comma ("Doe, Jane") is the same name, given or found; a
mailbox ("Jane Doe <jane@example.com>") is two values. A date is refused outside a column (a
birth date is shared by many people: give it with ``--column`` and ``--match-all`` beside the
name), and so are values too short, or numbers too short, to be about one person.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.person_spelling import DASHES, SPACE, body, kind, spelled
from engine.errors import InputError

# Shorter values would match inside too many other names and words to be about one person.
MIN_VALUE_LENGTH = 3
# Fewer digits than this, alone, are a count, an amount or someone else's id as often as theirs.
MIN_NUMBER_DIGITS = 6
# Characters that join words into one address, handle or name: "mary.jane@", "Mary-Jane".
_JOINERS = rf"_.@+\-{DASHES}"
_NOT_WORD = rf"[^\pL\pN{_JOINERS}]"
_SEP = rf"[\s\pZ./()\-{DASHES}]"  # what a number's groups are written apart with
_NOT_NUMBER = rf"[^\pN\s\pZ./()\-{DASHES}]"
_CODE_JOIN = r"[./\-_@]"  # what joins a code to more of it
_NOT_CODE = r"[^\pL\pN\s\pZ./\-_@]"
# Chinese and Japanese, written without spaces, and Korean, whose particles join the name
# before them ("김민수님이"): a letter beside a name there does not make it another word.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_MAILBOX = re.compile(r"^(.*?)\s*<([^<>\s]+@[^<>\s]+)>$")  # Jane Doe <jane@example.com>
# "Doe, Jane", "van der Berg, Anna": one or two (or three) words of letters on each side; not
# an address ("Hauptstraße 12, Berlin"), which stays as written.
_NAME_PART = r"[^\W\d_]+(?:[ '\-][^\W\d_]+){0,2}"
_SURNAME_FIRST = re.compile(rf"^({_NAME_PART}),\s*({_NAME_PART})$")
MAX_VALUE_LENGTH = 200  # longer is a text, not what identifies a person


def check_values(values: Iterable[str], *, whole_cells: bool = False) -> tuple[str, ...]:
    """The values, trimmed, NFC (as imports store text) and without repeats; a mailbox split
    into its name and address, and "Doe, Jane" read as "Jane Doe". InputError for an empty
    value and, outside ``whole_cells``, for a date or a value or number too short to be about
    one person."""
    out: list[str] = []
    for raw in values:
        value = " ".join(unicodedata.normalize("NFC", raw).split())
        mailbox = _MAILBOX.match(value)
        parts = [p for p in mailbox.groups() if p.strip(' "')] if mailbox else [value]
        for value in (_unquoted(p.strip()) for p in parts):
            if (surname_first := _SURNAME_FIRST.match(value)) and not whole_cells:
                value = f"{surname_first[2].strip()} {surname_first[1].strip()}"
            _check_one(value, whole_cells)
            if value.casefold() not in {v.casefold() for v in out}:
                out.append(value)
    if not out:
        raise InputError("give at least one value that identifies the person")
    return tuple(out)


def _unquoted(value: str) -> str:
    """``value`` without the quotes around it, when it has a pair ('"Jane Doe"'), only then."""
    while len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


_IN_A_COLUMN = "(--column, or 'Where to look' in the app)"


def _check_one(value: str, whole_cells: bool) -> None:
    if not value:
        raise InputError("an empty value identifies nobody: give a name, an e-mail address or "
                         "an identifier")
    if len(value) > MAX_VALUE_LENGTH:
        raise InputError(f"a value of {len(value):,} characters is a text, not what identifies a "
                         f"person: give names, addresses or numbers of up to {MAX_VALUE_LENGTH}")
    if whole_cells:
        return
    if len(value) < (2 if _CJK.search(value) else MIN_VALUE_LENGTH):
        raise InputError(f"{value!r} is too short to identify one person (it would match "
                         "inside other words and names): give a full name, an e-mail address "
                         f"or an identifier, or match it against one column's whole values "
                         f"{_IN_A_COLUMN}")
    digits = re.sub(r"\D", "", value)
    if digits and len(digits) < MIN_NUMBER_DIGITS and not re.search(r"[^\W\d_]", value):
        raise InputError(f"{value!r} is a short number: in a text it may be a count, an amount "
                         f"or another person's id; match it against the column it fills "
                         f"{_IN_A_COLUMN}")
    if _is_date(value):
        raise InputError(f"{value!r} is a date: many people share a birth date, so it does not "
                         "identify one; give it with the name, each in its column (--column "
                         "for both, and --match-all)")


_COMPACT_DATE = re.compile(r"^(?:19|20)\d\d[./\-]?(?:0[1-9]|1[0-2])[./\-]?(?:0[1-9]|[12]\d|3[01])$"
                           r"|^\d{4}年\d{1,2}月\d{1,2}日?$")


def _is_date(value: str) -> bool:
    from privacy.pii import detect

    if _COMPACT_DATE.match(value):  # 19560312, 1956.03.12, 1956年3月12日
        return True
    found = detect(value)
    return len(found) == 1 and found[0].type in ("DATE", "DATE_TIME") \
        and found[0].length >= 0.8 * len(value)


def value_pattern(value: str) -> str:
    """An RE2 pattern finding ``value`` as a whole, in its other spellings."""
    return "".join(_pattern_parts(value))


def _pattern_parts(value: str) -> tuple[str, str, str]:
    """(what must stand before it, the value in its spellings, what must stand after it)."""
    of = kind(value)
    if of in ("phone", "id"):  # not a group of a longer number ("532 123 45 67")
        return (rf"(?:^|{_NOT_NUMBER}|(?:^|[^\pN]){_SEP}+)", f"(?:{body(value)})",
                rf"(?:$|{_NOT_NUMBER}|{_SEP}+(?:$|[^\pN]))")
    if of == "email":  # what an address may hold next to it is part of another address
        return (r"(?:^|[\s\pZ<>(),;:\"\[\]])", f"(?:{body(value)})",
                r"(?:$|[\s\pZ<>(),;:\"\[\]]|\.+(?:$|[^\pL\pN]))")
    if of == "code":
        # Not part of a longer code: nothing joined on by a dash, dot, slash or "@"
        # ("AB123456-7", "XY-AB123456", "/02"), and no short group after a space ("JG 10 37
        # 95 B" is not JG103795); a word before it ("NI", "DNI") is fine.
        # Spaces: a word of two letters or more may stand on either side ("NI", "is"); a digit
        # or a lone letter is more of the code ("X 1234567 L", "AB 123 456 789").
        return (rf"(?:^|{_NOT_CODE}|(?:^|[^\pL\pN]|\pL\pL){SPACE}+|(?:^|[^\pL\pN])"
                rf"{_CODE_JOIN}+)", f"(?:{body(value)})",
                rf"(?:$|{_NOT_CODE}|{_CODE_JOIN}+(?:$|[^\pL\pN])|{SPACE}+(?:$|[^\pL\pN]|"
                rf"\pL\pL))")
    before = rf"(?:^|{_NOT_WORD})" if _continues(value[0]) else ""
    # Full stops after it end the sentence ("write to jane@example.com.", "Jane Doe..."); one
    # before a letter or digit continues it (jane@example.com.au).
    after = rf"(?:$|{_NOT_WORD}|\.+(?:$|[^\pL\pN]))" if _continues(value[-1]) else ""
    words = value.split()
    spellings = [body(value)]
    if len(words) >= 2 and all(re.fullmatch(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*", w) for w in words):
        for k in range(1, len(words)):  # "Doe, Jane", "van der Berg, Anna"
            spellings.append(rf"{SPACE}+".join(spelled(w) for w in words[k:]) + rf",{SPACE}*"
                             + rf"{SPACE}+".join(spelled(w) for w in words[:k]))
    return before, "(?:" + "|".join(spellings) + ")", after


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


def column_matches(column: pa.ChunkedArray | pa.Array, value: str, *,
                   whole_cells: bool = False) -> np.ndarray:
    """A mask of the cells of ``column`` that name ``value`` (see the module's rules)."""
    strings = _as_strings(pa.chunked_array([column]) if isinstance(column, pa.Array) else column)
    if strings is None:
        return np.zeros(len(column), dtype=bool)
    if whole_cells and kind(value) in ("id", "words") and re.fullmatch(r"[\d\s]+", value):
        # an id: "42", "0042", "00042" and "00 42" are one (a phone keeps its zeros)
        digits = re.sub(r"\D", "", value).lstrip("0") or "0"
        found = pc.match_substring_regex(
            strings, rf"^{SPACE}*0*{(SPACE + '?').join(digits)}{SPACE}*$")
    elif whole_cells:  # a phone's cell may hold its "+" and brackets
        edge = r"[\s\pZ+()]*" if kind(value) == "phone" else f"{SPACE}*"
        found = pc.match_substring_regex(strings, rf"^{edge}(?:{body(value)}){edge}$",
                                         ignore_case=True)
    else:
        found = pc.match_substring_regex(strings, value_pattern(value), ignore_case=True)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def name_columns(table: pa.Table, names: Sequence[str]) -> tuple[str, str] | None:
    """The one first-name and the one last-name column among ``names`` (by their headers, with
    short cells), or None where there is not exactly one of each."""
    firsts = [n for n in names if _FIRST_NAME.match(_folded(n)) and _short(table.column(n))]
    lasts = [n for n in names if _LAST_NAME.match(_folded(n)) and _short(table.column(n))]
    return (firsts[0], lasts[0]) if len(firsts) == 1 and len(lasts) == 1 else None


def rows_with_names(table: pa.Table, columns: tuple[str, str], first: str, last: str) -> np.ndarray:
    """Rows whose first-name column is ``first`` and last-name column ``last``, as whole cells."""
    return column_matches(table.column(columns[0]), first, whole_cells=True) \
        & column_matches(table.column(columns[1]), last, whole_cells=True)


def across_name_columns(table: pa.Table, names: Sequence[str], value: str) -> np.ndarray:
    """Rows where ``value``'s words stand as the whole cells of two columns, split anywhere:
    "Petra" in first_name and "Brand" in last_name (in either order), "José" and "García
    Pérez". Whole cells only, so a text that mentions "Petra" beside a column "Brand" is not
    one."""
    words = value.split()
    hit = np.zeros(table.num_rows, dtype=bool)
    columns = name_columns(table, names)
    if columns is None:  # whose? (a contact's beside a customer's)
        return hit
    for k in range(1, len(words)):
        hit |= rows_with_names(table, columns, " ".join(words[:k]), " ".join(words[k:]))
    return hit


# A first and a last name column: a city or product column beside a surname is not one
# ("Paris Jackson" is no Tom Jackson of Paris).
_FIRST_NAME = re.compile(r"^(?:(?:first|given|fore|christian)_?name|f_?name|name_first|vorname|"
                         r"prenom|nombre|nome|voornaam)$")
_LAST_NAME = re.compile(r"^(?:(?:last|sur|family)_?name|l_?name|name_last|nachname|familienname|"
                        r"nom|nom_de_famille|apellidos?|cognome|achternaam)$")


def _folded(name: str) -> str:
    """A column name as the rules above read it: lower case, accents off, "_" between words."""
    split = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).casefold()
    plain = "".join(c for c in unicodedata.normalize("NFKD", split) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def _short(column: pa.ChunkedArray, longest: int = 64) -> bool:
    strings = _as_strings(column)
    return strings is not None and len(strings) > 0 \
        and (pc.max(pc.utf8_length(strings)).as_py() or 0) <= longest


def rows_matching(table: pa.Table, values: Sequence[str], columns: Sequence[str] = (), *,
                  match_all: bool = False, skip: Sequence[str] = (), across: bool = True
                  ) -> tuple[np.ndarray, dict[str, int]]:
    """Which rows of ``table`` name any of ``values`` (every one, with ``match_all``: "Jane" in
    first_name and "Doe" in last_name), as a mask, and how many rows each names; with
    ``columns``, by those columns' whole cells only; ``skip``: columns never searched (the
    label); ``across``: a name split between first- and last-name columns counts (not for
    pseudonyms, which stand for what one cell held)."""
    searched = list(columns) or [c for c in table.column_names if c not in skip]
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
        if across and not columns and len(value.split()) >= 2:
            hit |= across_name_columns(table, searched, value)
        per_value[value] = int(hit.sum())
        mask = mask & hit if match_all else mask | hit
    return mask, per_value


def found_spellings(table: pa.Table, value: str, columns: Sequence[str] = (),
                    skip: Sequence[str] = (), limit: int = 50) -> list[str]:
    """How ``value`` is written where it is found in ``table`` ("Hans Mueller", "00042"): a
    one-way anonymized copy holds the pseudonyms of these spellings, not of the one typed."""
    searched = list(columns) or [c for c in table.column_names if c not in skip]
    out: list[str] = []
    for name in searched:
        strings = _as_strings(table.column(name))
        if strings is None:
            continue
        if columns:
            cells = pc.utf8_trim_whitespace(strings).filter(
                pa.array(column_matches(strings, value, whole_cells=True)))
            out += [c for c in cells.to_pylist() if c]
            continue
        before, itself, after = _pattern_parts(value)
        found = pc.extract_regex(strings.filter(pa.array(column_matches(strings, value))),
                                 f"(?i){before}(?P<found>{itself}){after}")
        out += [s["found"] for s in found.to_pylist() if s and s.get("found")]
        if len(out) >= limit:
            break
    return list(dict.fromkeys(" ".join(s.split()) for s in out))[:limit]


def labels_naming(labels: Sequence[str], values: Sequence[str]) -> np.ndarray:
    """Which file names, dataset names or log lines ("Complaints_Klaus_Mueller_2024.csv",
    "klaus-mueller-escalation") name any of ``values``: their dashes, underscores and dots read
    as spaces, since names are written so."""
    spaced = pc.replace_substring_regex(pa.array(list(labels), pa.string()), r"[-_.]+", " ")
    hit = np.zeros(len(labels), dtype=bool)
    for value in values:
        hit |= column_matches(spaced, value)
    return hit
