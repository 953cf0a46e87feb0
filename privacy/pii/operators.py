"""Operators: what happens to a piece of personal data once found.

=================  ==============================================================  ===========
action             result for "Maria Lopez" / "4929 5785 6933 9117" / "3/14/2013"  parameters
=================  ==============================================================  ===========
keep               unchanged
redact             removed (empty string)
tag                ``<PERSON>``, ``<CREDIT_CARD>``, ``<DATE>``                     ``label``
mask               ``*** *****`` / ``**** **** **** 9117``: all but the last k      ``keep_last``
                   letters and digits become ``*``; spaces and dashes stay         ``char``
pseudonym          a consistent surrogate (``privacy.pii.pseudonym``), recorded    ``reversible``
                   for re-identification if reversible (``privacy.pii.reversible``)
generalize_date    ``2013-03`` (month) or ``2013`` (year)                          ``to``,
                                                                                   ``day_first``
shift_date         the date moved by a per-person offset, same layout              ``max_days``,
                                                                                   ``day_first``
drop               (columns only) the whole column is left out
=================  ==============================================================  ===========

A date that cannot be parsed is tagged instead of generalized or shifted: a value we do not
understand is never left as it was.

Each action is one function with one ``@action`` decorator (below): the policy parser takes its
name, settings and their checks from there, and the desktop offers what it marks ``in_app``.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from privacy.pii.findings import Finding
from privacy.pii.dates import EUROPEAN_MONTH_NUMBERS
from privacy.pii.pseudonym import Pseudonymizer

DATE_TYPES = ("DATE", "DATE_TIME")
DATE_ACTIONS = ("generalize_date", "shift_date")  # they tag what they cannot read as a date


@dataclass(frozen=True)
class Operator:
    action: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.action not in _REGISTRY:
            raise ValueError(f"unknown action {self.action!r}")


@dataclass
class Context:
    """What operators need beyond the value: the pseudonym key and whose row this is."""

    pseudonymizer: Pseudonymizer | None = None
    person: str | None = None  # the date-shift key of the current row (e.g. a patient ID)
    # Called with (entity, original, surrogate) for every ``reversible = true`` pseudonym; set
    # only when anonymizing for real (a scan or a preview must not collect originals).
    record: Callable[[str, str, str], None] | None = None


# ----- dates --------------------------------------------------------------------------------
# English month names, fixed: ``calendar.month_name`` follows the C locale, which Qt sets from
# the desktop's on Linux and macOS, so on a German desktop "March 5, 2020" was no date and a
# shifted one came out as "März" (the command line, started without Qt, said March).
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
_MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES, start=1)}
_MONTHS.update({name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)})
_MONTHS["sept"] = 9
_MONTHS.update(EUROPEAN_MONTH_NUMBERS)  # "3. März 1985", "5 de mayo de 2001"
_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2,4})")
# A day is one or two digits that no digit follows: "March 2024" is no "March 20" (it was read
# so, and generalized to 2000-03).
_WRITTEN_MD = re.compile(r"(?i)([^\W\d_]+)\.?\s(\d{1,2})(?![\d:])(?:st|nd|rd|th)?(?:,?\s(\d{4}))?")
_WRITTEN_DM = re.compile(r"(?i)(?<!\d)(\d{1,2})(?:st|nd|rd|th|er|\.|º)?\s(?:of\s|de\s)?"
                         r"([^\W\d_]+)\.?(?:,?\s(?:de\s)?(\d{4}))?")
_WRITTEN_MY = re.compile(r"(?i)([^\W\d_]+)\.?,?\s(?:de\s)?(\d{4})")


def _year(text: str) -> int:
    y = int(text)
    return y + (2000 if y < 50 else 1900) if y < 100 else y


def parse_date(value: str, *, day_first: bool = False) -> tuple[date, str] | None:
    """(the date, a layout to write a shifted date back in), or None. Numeric a/b/y reads as
    month/day (US) unless a > 12; a.b.y (dots) reads as day.month (European); ``day_first``
    reads an ambiguous one day first (05/03/2024 is 5 March in France, the UK, Germany)."""
    try:
        if m := _ISO.search(value):
            d = date(int(m[1]), int(m[2]), int(m[3]))
            return d, (_literal(value[:m.start()]) + f"%Y{value[m.start(2) - 1]}%m{value[m.start(3) - 1]}%d"
                       + _literal(value[m.end():]))
        if m := _NUMERIC.search(value):
            a, sep, b, y = int(m[1]), m[2], int(m[3]), m[4]
            # ``day_first`` decides what is ambiguous only: 3/14/2013 is still 14 March.
            day_first = sep == "." or a > 12 or (day_first and b <= 12)
            d = date(_year(y), b if day_first else a, a if day_first else b)
            layout = (f"%d{sep}%m" if day_first else f"%m{sep}%d") + f"{sep}{'%Y' if len(y) == 4 else '%y'}"
            return d, _literal(value[:m.start()]) + layout + _literal(value[m.end():])
        for pattern, order in ((_WRITTEN_MD, "md"), (_WRITTEN_DM, "dm")):
            if (m := pattern.search(value)) and m[1 if order == "md" else 2].lower() in _MONTHS:
                month_group, day_group = (1, 2) if order == "md" else (2, 1)
                month = _MONTHS[m[month_group].lower()]
                year = int(m[3]) if m[3] else 2000
                # Written back as the text wrote it: "3 avril 2021" stays French, "1. Januar"
                # German (a shifted date came out "April 28, 2021" in a French sentence).
                after = value[m.end(day_group):]
                # An ordinal follows the new day: "3rd" -> "5th", French "1er" -> "9".
                ordinal = re.match(r"(?i)st|nd|rd|th|er", after)
                day_end = m.end(day_group) + (len(ordinal[0]) if ordinal else 0)
                day = ("%d" if m[day_group].startswith("0") else "%D") + (
                    "" if not ordinal else "%E" if ordinal[0].lower() == "er" else "%O")
                spans = [(m.start(month_group), m.end(month_group),
                          _month_field(m[month_group], after, m[0])),
                         (m.start(day_group), day_end, day)]
                if m[3]:
                    spans.append((m.start(3), m.end(3), "%Y"))
                return date(year, month, int(m[day_group])), _layout(value, spans)
        if (m := _WRITTEN_MY.search(value)) and m[1].lower() in _MONTHS:
            return (date(int(m[2]), _MONTHS[m[1].lower()], 1),
                    _layout(value, [(m.start(1), m.end(1), _month_field(m[1], "", m[0])),
                                    (m.start(2), m.end(2), "%Y")]))
    except ValueError:  # 31 February and the like
        return None
    return None


def _literal(text: str) -> str:
    """Text around a date, kept as written in a layout (a "%" of its own is no field)."""
    return text.replace("%", "%%")


def _layout(value: str, spans: list[tuple[int, int, str]]) -> str:
    """``value`` as a layout: each (start, end, field) span becomes its field, the rest of the
    value (separators, "de", "of", the text around) stays as written."""
    out, at = [], 0
    for start, end, field in sorted(spans):
        out += [_literal(value[at:start]), field]
        at = end
    return "".join(out) + _literal(value[at:])


# Month names by language, to write a shifted month in the language it was written in.
MONTHS_BY_LANGUAGE = {
    "en": tuple(n.lower() for n in MONTH_NAMES),
    "de": ("januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september",
           "oktober", "november", "dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
    "it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
           "settembre", "ottobre", "novembre", "dicembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "pl": ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
           "września", "października", "listopada", "grudnia"),
    "tr": ("ocak", "şubat", "mart", "nisan", "mayıs", "haziran", "temmuz", "ağustos", "eylül",
           "ekim", "kasım", "aralık"),
}
_SPELLINGS = {"jänner": "de", "maerz": "de", "fevrier": "fr", "aout": "fr", "decembre": "fr",
              "setiembre": "es", "sept": "en"}


def _month_field(word: str, after_day: str, around: str = "") -> str:
    """The field that writes a month as ``word`` was written: its language and its case (upper,
    lower or capitalized). A name several languages share is told by how it is written:
    English and German capitalize months (German after "5." with its full stop), French,
    Spanish, Italian and Dutch do not; Spanish writes "de" around them, Italian does not
    ("3 mai" stays French, "3 marzo" Italian, "3 de marzo" Spanish)."""
    folded = word.lower()
    if folded in _SPELLINGS:
        language = _SPELLINGS[folded]
    else:
        found = [lang for lang, names in MONTHS_BY_LANGUAGE.items()
                 if folded in names or (lang == "en" and folded in {n[:3] for n in names})]
        capital = word[:1].isupper() and not word.isupper()
        order: tuple[str, ...]
        if capital:
            order = ("de", "en") if after_day.startswith(".") else ("en", "de")
        else:
            order = ("es", "it") if re.search(r"\bde\b", around) else ("fr", "it", "es")
            order += ("nl", "en", "de")
        preferred = [lang for lang in order if lang in found]
        language = (preferred or found or ["en"])[0]
    case = "u" if word.isupper() and len(word) > 1 else "l" if word.islower() else "c"
    short = "a" if language == "en" and folded not in MONTHS_BY_LANGUAGE["en"] else ""  # "Dec"
    return f"%L{language}{case}{short}"


_FIELD = re.compile(r"%(?:[%YymdBDOE]|L(?:en|de|fr|es|it|nl|pl|tr)[ulc]a?)")


def _english_ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _format(d: date, layout: str) -> str:
    """``layout`` written for ``d``: strftime's fields without strftime, whose month names
    follow the locale and which refuses a stray "%" on Windows ("approx. 50% 2020-03-01");
    ``%D`` is the day without a leading zero, ``%O`` its English ordinal ("st"), ``%E`` the
    French one ("er" on the 1st only), ``%L`` + language + case (+ ``a``: abbreviated) a month."""
    fields = {"%Y": f"{d.year:04d}", "%y": f"{d.year % 100:02d}", "%m": f"{d.month:02d}",
              "%d": f"{d.day:02d}", "%D": str(d.day), "%B": MONTH_NAMES[d.month - 1], "%%": "%",
              "%O": _english_ordinal(d.day), "%E": "er" if d.day == 1 else ""}

    def field(m: re.Match[str]) -> str:
        token = m[0]
        if not token.startswith("%L"):
            return fields[token]
        name = MONTHS_BY_LANGUAGE[token[2:4]][d.month - 1]
        if token.endswith("a"):
            name = name[:4] if name == "september" else name[:3]
        return name.upper() if token[4] == "u" else name if token[4] == "l" else name.capitalize()

    return _FIELD.sub(field, layout)


def generalize_date(value: str, to: str = "month", *, day_first: bool = False) -> str | None:
    parsed = parse_date(value, day_first=day_first)
    if parsed is None:
        return None
    d, layout = parsed
    if not {"%Y", "%y"} & set(_FIELD.findall(layout)):  # "Dec 5th": no year to keep (2000 stood in)
        return None if to == "year" else MONTH_NAMES[d.month - 1]
    return f"{d.year:04d}" if to == "year" else f"{d.year:04d}-{d.month:02d}"


def shift_date(value: str, days: int, *, day_first: bool = False) -> str | None:
    parsed = parse_date(value, day_first=day_first)
    if parsed is None:
        return None
    d, layout = parsed
    shifted = d + timedelta(days=days)
    return _format(shifted, layout) if "%" in layout else shifted.isoformat()


def shift_days(pseudonymizer: Pseudonymizer, person: str, max_days: int) -> int:
    """A per-person offset in [-max_days, max_days] without 0, the same for every date of the
    person (so intervals between their dates survive) and secret without the key."""
    span = max(1, int(max_days))
    offset = pseudonymizer.number("DATE_SHIFT", person, "date-shift") % (2 * span) - span
    return offset if offset < 0 else offset + 1  # -span..-1 or 1..span: never unshifted

# ----- applying -----------------------------------------------------------------------------
def mask(value: str, keep_last: int = 4, char: str = "*") -> str:
    """Every letter and digit but the last ``keep_last`` becomes ``char``; layout stays."""
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    hidden = set(positions[: max(0, len(positions) - max(0, keep_last))])
    return "".join(char if i in hidden else ch for i, ch in enumerate(value))


# ----- the actions: one function and one decorator each ---------------------------------------
# An action turns one found value into its replacement, or None for "cannot" (a date it cannot
# read), which becomes a tag: a value not understood is never left as it was.
Action = Callable[[str, str, dict[str, Any], Context], "str | None"]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    run: Action
    params: frozenset[str]  # the settings a policy may give it
    check: Callable[[dict[str, Any]], str | None] | None  # what is wrong with given settings
    columns_only: bool  # "drop": a whole column, never a span of text
    in_app: bool  # offered by the desktop's choices (shift_date needs a person key: policy files)


_REGISTRY: dict[str, ActionSpec] = {}


def action(name: str, *, params: tuple[str, ...] = (),
           check: Callable[[dict[str, Any]], str | None] | None = None,
           columns_only: bool = False, in_app: bool = True) -> Callable[[Action], Action]:
    """Register ``name``: the policy parser, the operators and the desktop's choices read it."""
    def register(run: Action) -> Action:
        if name in _REGISTRY:
            raise ValueError(f"action {name!r} is registered twice")
        _REGISTRY[name] = ActionSpec(name, run, frozenset(params), check, columns_only, in_app)
        return run
    return register


def action_spec(name: str) -> ActionSpec:
    return _REGISTRY[name]


@action("keep")
def _keep(value: str, _entity: str, _p: dict[str, Any], _ctx: Context) -> str | None:
    return value


@action("redact")
def _redact(_value: str, _entity: str, _p: dict[str, Any], _ctx: Context) -> str | None:
    return ""


@action("tag", params=("label",))
def _tag(_value: str, entity: str, p: dict[str, Any], _ctx: Context) -> str | None:
    return f"<{p.get('label', entity)}>"


def _check_mask(p: dict[str, Any]) -> str | None:
    return None if isinstance(p.get("keep_last", 4), int) else "keep_last must be a whole number"


@action("mask", params=("keep_last", "char"), check=_check_mask)
def _mask(value: str, _entity: str, p: dict[str, Any], _ctx: Context) -> str | None:
    return mask(value, int(p.get("keep_last", 4)), str(p.get("char", "*")))


def _check_pseudonym(p: dict[str, Any]) -> str | None:
    # A string "yes" or a 1 must not silently mean "keep a re-identification table".
    return None if isinstance(p.get("reversible", False), bool) else \
        "reversible must be true or false"


@action("pseudonym", params=("reversible",), check=_check_pseudonym)
def _pseudonym(value: str, entity: str, p: dict[str, Any], ctx: Context) -> str | None:
    if ctx.pseudonymizer is None:
        raise ValueError("pseudonyms need the workspace secret")
    surrogate = ctx.pseudonymizer.surrogate(entity, value)
    if ctx.record is not None and p.get("reversible") is True:
        ctx.record(entity, value, surrogate)
    return surrogate


def _check_day_first(p: dict[str, Any]) -> str | None:
    return None if isinstance(p.get("day_first", False), bool) else "'day_first' must be true or false"


def _check_generalize(p: dict[str, Any]) -> str | None:
    if p.get("to", "month") not in ("month", "year"):
        return "'to' must be \"month\" or \"year\""
    return _check_day_first(p)


@action("generalize_date", params=("to", "day_first"), check=_check_generalize)
def _generalize(value: str, _entity: str, p: dict[str, Any], _ctx: Context) -> str | None:
    return generalize_date(value, str(p.get("to", "month")), day_first=p.get("day_first") is True)


@action("shift_date", params=("max_days", "day_first"), in_app=False, check=_check_day_first)
def _shift(value: str, _entity: str, p: dict[str, Any], ctx: Context) -> str | None:
    if ctx.pseudonymizer is None:
        raise ValueError("date shifting needs the workspace secret")
    person = ctx.person if ctx.person is not None else "\x00row-without-key"
    return shift_date(value, shift_days(ctx.pseudonymizer, person, int(p.get("max_days", 365))),
                      day_first=p.get("day_first") is True)


@action("drop", columns_only=True)
def _drop(_value: str, _entity: str, _p: dict[str, Any], _ctx: Context) -> str | None:
    return ""


def actions(*, column: bool = False) -> tuple[str, ...]:
    """The registered actions, in order: for spans of text, or (``column``) for whole columns,
    which "drop" is for too."""
    return tuple(n for n, spec in _REGISTRY.items() if column or not spec.columns_only)


ACTIONS = actions()  # the built-in ones, for spans of text
COLUMN_ACTIONS = actions(column=True)
APP_ACTIONS = tuple(n for n, spec in _REGISTRY.items() if spec.in_app and not spec.columns_only)


def replace_value(value: str, entity: str, op: Operator, ctx: Context) -> str:
    """What one found value becomes under ``op``."""
    return try_value(value, entity, op, ctx)[0]


def try_value(value: str, entity: str, op: Operator, ctx: Context) -> tuple[str, bool]:
    """What ``value`` becomes under ``op``, and whether the action could read it: a date action
    given no date it reads ("unknown", "31/02/2020") tags it instead (``False``), which a whole
    column's report names by row."""
    out = _REGISTRY[op.action].run(value, entity, op.params, ctx)
    return (out, True) if out is not None else (f"<{op.params.get('label', entity)}>", False)


def apply(text: str, findings: list[Finding], operators: dict[str, Operator],
          ctx: Context) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with every finding replaced by its type's operator (types without one are
    kept). Returns the new text and the spans in it that changed (for highlighting)."""
    out: list[str] = []
    changed: list[tuple[int, int]] = []
    pos, length = 0, 0
    for f in findings:  # resolved findings never overlap and come in text order
        op = operators.get(f.type)
        if op is None or op.action == "keep":
            continue
        out.append(text[pos:f.start])
        length += f.start - pos
        new = replace_value(text[f.start:f.end], f.type, op, ctx)
        out.append(new)
        changed.append((length, length + len(new)))
        length += len(new)
        pos = f.end
    out.append(text[pos:])
    return "".join(out), changed
