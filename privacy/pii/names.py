"""PERSON, ORGANIZATION and LOCATION in free text: context rules over Faker's name lists.

How a run of capitalised words is classified (``NameDetector._classify``):

- ending in a company word ("Inc.", "LLC", "Bank", "and Sons") -> ORGANIZATION;
- after a title ("Mr.", "Dr.", "Mrs.") -> PERSON, whatever the words;
- all of it a known country, or a known city after "in/from/to/at/near" -> LOCATION;
- otherwise the longest stretch of name-list tokens -> PERSON, if it holds a strong name
  (one that is not a common English word) or two names; a lone weak token ("Will", "May")
  is left alone; a lone strong name counts too (score 0.6);
- a known country or city that is not a name -> LOCATION.

Lower-case names are taken only after "my name is", "I am", "called" and the like, and
lower-case places only when they are country names. This is a rule system, measured in
bench/RESULTS.md; it knows nothing of brands ("Uber") or rare names outside the lists.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from privacy.pii.findings import Finding
from privacy.pii.lexicon import PARTICLES, lexicon
from privacy.pii.registry import Detector, register

_TOKEN = re.compile(r"[^\W\d_](?:[\w'’]|-(?=\w))*\.?", re.UNICODE)
_TITLES = frozenset({"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "dr", "dr.", "prof", "prof.",
                     "sir", "madam", "mister", "dame", "lady", "lord", "rev", "rev."})
_PLACE_CUES = frozenset({"in", "from", "to", "at", "near", "visit", "visited", "moved", "live",
                         "lives", "living", "born", "city", "of", "towards", "via"})
_STATE_AFTER = re.compile(r",\s?[A-Z]{2}\b")
_NAME_CUE = re.compile(r"(?i)(?:my name is|name is|name:|i am|i'm|called|named|dear|hi|hello|"
                       r"thanks|signed|regards,?|from)\s+$")


def _is_cap(token: str) -> bool:
    return token[0].isupper()


class _Tok:
    __slots__ = ("start", "end", "text", "folded")

    def __init__(self, m: re.Match[str]) -> None:
        self.text = m.group().rstrip(".") or m.group()
        self.start, self.end = m.start(), m.start() + len(self.text)
        self.folded = self.text.casefold()


@register
class NameDetector(Detector):
    name = "names"
    types = ("PERSON", "ORGANIZATION", "LOCATION")

    def __init__(self) -> None:
        self.lex = lexicon()

    def find(self, text: str) -> Iterator[Finding]:
        tokens = [_Tok(m) for m in _TOKEN.finditer(text)]
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if not _is_cap(tok.text):
                found = self._lowercase(text, tokens, i)
                if found:
                    yield found
                i += 1
                continue
            j = i + 1  # a run: capitalised tokens one space apart, particles allowed inside
            while j < len(tokens) and self._joins(text, tokens[j - 1], tokens[j]):
                j += 1
            while j - 1 > i and tokens[j - 1].folded in PARTICLES:
                j -= 1
            yield from self._classify(text, tokens, i, j)
            i = j

    def _joins(self, text: str, left: _Tok, right: _Tok) -> bool:
        gap = text[left.end:right.start]
        if gap not in (" ", ". ", "-") and not (gap == " & " and right.folded == "co"):
            return False
        if gap == ". " and left.folded not in _TITLES and len(left.text) > 1:
            return False  # a sentence ends here
        return _is_cap(right.text) or right.folded in PARTICLES

    def _classify(self, text: str, tokens: list[_Tok], i: int, j: int) -> Iterator[Finding]:
        lex = self.lex
        run = tokens[i:j]
        prev = tokens[i - 1].folded if i > 0 else ""
        last = run[-1].folded
        # "Smith and Sons", "Drake PLC", "Qado Energy Inc."
        if len(run) >= 2 and (last in lex.company_suffixes or last + "." in lex.company_suffixes):
            end = run[-1].end + (1 if text[run[-1].end:run[-1].end + 1] == "." else 0)
            yield Finding(run[0].start, end, "ORGANIZATION", 0.8, self.name)
            return
        if j < len(tokens) and text[run[-1].end:tokens[j].start] == " " and \
                tokens[j].folded == "and" and j + 1 < len(tokens) and tokens[j + 1].folded == "sons":
            yield Finding(run[0].start, tokens[j + 1].end, "ORGANIZATION", 0.8, self.name)
            return
        titled = prev in _TITLES or prev.rstrip(".") in _TITLES
        if run[0].folded in _TITLES and len(run) > 1:
            run, titled = run[1:], True
        whole = " ".join(t.folded for t in run)
        if not titled and whole in lex.countries:
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.85, self.name)
            return
        state_follows = bool(_STATE_AFTER.match(text, run[-1].end))
        if not titled and whole in lex.cities and (prev in _PLACE_CUES or state_follows
                                                   or not self._namey(run)):
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.75, self.name)
            return
        if titled:
            yield Finding(run[0].start, run[-1].end, "PERSON", 0.9, self.name)
            return
        yield from self._people(text, run)

    def _namey(self, run: list[_Tok]) -> bool:
        return any(self.lex.is_name_token(t.folded) and t.folded not in self.lex.common for t in run)

    def _people(self, text: str, run: list[_Tok]) -> Iterator[Finding]:
        lex = self.lex
        k = 0
        while k < len(run):
            if not lex.is_name_token(run[k].folded):
                if lex.is_place(run[k].folded) and run[k].folded not in lex.common:
                    yield Finding(run[k].start, run[k].end, "LOCATION", 0.5, self.name)
                k += 1
                continue
            m = k + 1
            while m < len(run) and (lex.is_name_token(run[m].folded) or run[m].folded in PARTICLES):
                m += 1
            part = run[k:m]
            strong = [t for t in part if t.folded not in lex.common and len(t.text) > 2]
            names = [t for t in part if t.folded not in PARTICLES]
            if strong or len(names) >= 2:
                score = 0.85 if len(names) >= 2 else 0.6
                yield Finding(part[0].start, part[-1].end, "PERSON", score, self.name)
            k = m

    def _lowercase(self, text: str, tokens: list[_Tok], i: int) -> Finding | None:
        tok, lex = tokens[i], self.lex
        if tok.folded in lex.common or len(tok.text) < 3:
            return None
        if tok.folded in lex.countries and len(tok.text) >= 5:
            return Finding(tok.start, tok.end, "LOCATION", 0.6, self.name)
        if lex.is_name_token(tok.folded) and _NAME_CUE.search(text, max(0, tok.start - 16), tok.start):
            return Finding(tok.start, tok.end, "PERSON", 0.6, self.name)
        return None
