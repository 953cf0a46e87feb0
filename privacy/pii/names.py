"""PERSON, ORGANIZATION and LOCATION in free text: context rules over Faker's name lists.

How a run of capitalised words is classified (``NameDetector._classify``):

- ending in a company word ("Inc.", "LLC", "Bank", "and Sons") -> ORGANIZATION;
- after a title ("Mr.", "Dr.", "Mrs.") or a cue ("my name is", "starring", "said") -> PERSON,
  whatever the words;
- all of it a known country, or a known city after "in/from/to/at/near" -> LOCATION;
- otherwise the longest stretch of name-list tokens -> PERSON, if it holds a strong name
  (one that is not a common English word) or two names; a lone weak token ("Will", "May")
  is left alone. An unknown capitalised word right after a first name joins it as the surname
  ("Matthew Sedej"); ALL-CAPS words are never strong (headings, shouting, place names);
- a known country or city that is not a name -> LOCATION.
- In a list of single capitalised words ("Kovalev, Lee and Phillips"), when most are names,
  all are.

Lower-case tokens: a country name (5+ letters) is a LOCATION; a name-list token that is not a
common word is a PERSON at score 0.5 (0.7 for two in a row, or after a cue) in a text written
without capitals (chats, the lower-cased records of presidio-research), but only 0.35 (0.45
for two) in a text that does use capitals, below the default min_score of 0.5: there a
lower-case "bath" or "rose" is a word (measured on the SMS excerpt). This is a rule
system, measured in bench/RESULTS.md; it knows no brands ("Uber") or names outside the lists.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from privacy.pii.findings import Finding
from privacy.pii.lexicon import PARTICLES, lexicon
from privacy.pii.registry import Detector, register

_TOKEN = re.compile(r"[^\W\d_](?:\w|['’](?![sS]\b)(?=\w)|-(?=\w))*\.?", re.UNICODE)
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mister", "dame",
                     "lady", "lord", "rev"})
_PLACE_CUES = frozenset({"in", "from", "to", "at", "near", "visit", "visited", "moved", "live",
                         "lives", "living", "born", "city", "towards", "via"})
# Text right before a place: "grew up in X", "moved here from X", "Where: X".
_PLACE_CUE = re.compile(r"(?i)(?:grew up in|moved (?:here )?(?:from|to)|lives? in|living in|born in|"
                        r"based in|located in|trip to|i am in|i'm in|home city|town of|city of|"
                        r"where:|arrived at|visiting|street in|travel(?:l?ed|ling)? to)\s+$")
_STATE_AFTER = re.compile(r",?\s?[A-Z]{2}\b")
# Text right before a name: "my name is X", "starring X", "said X", "Dear X", "by X".
_NAME_CUE = re.compile(r"(?i)(?:name is|name:|name's|i am|i'm|this is|called|named|dear|hi|hello|"
                       r"thanks|signed|regards,?|starring|directed by|written by|song by|said|"
                       r"asked|told|ask for|speak to|talk to|contact|husband|wife|son|daughter|"
                       r"partner|friend|patient|mrs?\.?|ms\.?|dr\.?)\s+$")
_AFTER_CUE = re.compile(r"^(?:'s\b|’s\b|\s+(?:is|was|and|has|had|said|says|wrote|told|who)\b)")
_SPEAKER = re.compile(r":\s?[\\\"“'«]")
_LIST_SEP = re.compile(r"^(?:,\s|\s(?:and|&|or)\s|,\s(?:and|or)\s)$")


def _is_cap(token: str) -> bool:
    return token[0].isupper()


class _Tok:
    __slots__ = ("start", "end", "text", "folded", "upper")

    def __init__(self, m: re.Match[str]) -> None:
        self.text = m.group().rstrip(".") or m.group()
        self.start, self.end = m.start(), m.start() + len(self.text)
        self.folded = self.text.casefold()
        self.upper = len(self.text) > 1 and self.text.isupper()


@register
class NameDetector(Detector):
    name = "names"
    types = ("PERSON", "ORGANIZATION", "LOCATION")

    def __init__(self) -> None:
        self.lex = lexicon()

    def find(self, text: str) -> Iterator[Finding]:
        tokens = [_Tok(m) for m in _TOKEN.finditer(text)]
        # In a text written without capitals, lower case says nothing against a name; where the
        # writer does use capitals, a lower-case "rose" or "bath" is most likely a word.
        caseless = not any(c.isupper() for c in text)
        found: list[Finding] = []
        i = 0
        while i < len(tokens):
            if not _is_cap(tokens[i].text):
                j = i + 1
                while j < len(tokens) and j - i < 3 and not _is_cap(tokens[j].text) \
                        and text[tokens[j - 1].end:tokens[j].start] == " " \
                        and self._lower_name(tokens[j]):
                    j += 1
                found.extend(self._lowercase(text, tokens, i, j, caseless))
                i = j
                continue
            j = i + 1  # a run: capitalised tokens one space apart, particles allowed inside
            while j < len(tokens) and self._joins(text, tokens[j - 1], tokens[j]):
                j += 1
            while j - 1 > i and tokens[j - 1].folded in PARTICLES:
                j -= 1
            found.extend(self._classify(text, tokens, i, j))
            i = j
        yield from self._lists(text, tokens, found)

    def _joins(self, text: str, left: _Tok, right: _Tok) -> bool:
        gap = text[left.end:right.start]
        if gap not in (" ", ". ", "-") and not (gap == " & " and right.folded == "co"):
            return False
        if gap == ". " and left.folded not in _TITLES and len(left.text) > 1:
            return False  # a sentence ends here
        return _is_cap(right.text) or right.folded in PARTICLES

    def _cued(self, text: str, start: int) -> bool:
        return bool(_NAME_CUE.search(text, max(0, start - 14), start))

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
        if j + 1 < len(tokens) and text[run[-1].end:tokens[j].start] == " " and \
                tokens[j].folded == "and" and tokens[j + 1].folded == "sons":
            yield Finding(run[0].start, tokens[j + 1].end, "ORGANIZATION", 0.8, self.name)
            return
        titled = prev in _TITLES
        title_start = tokens[i - 1].start if titled else None
        if run[0].folded in _TITLES and len(run) > 1:
            title_start = run[0].start
            run, titled = run[1:], True
        if run[0].folded in lex.common and len(run) > 1 and not lex.is_name_token(run[0].folded):
            run = run[1:]  # "The Princess Royal" -> look at "Princess Royal"
        whole = " ".join(t.folded for t in run)
        if len(run) == 1 and whole in lex.common and not run[0].upper:
            return  # "My", "May", "Will": an everyday word alone is nothing
        if not titled and _PLACE_CUE.search(text, max(0, run[0].start - 22), run[0].start) \
                and not self._namey(run) and not any(t.folded in lex.common for t in run):
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.6, self.name)
            return
        if not titled and whole in lex.countries:
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.85, self.name)
            return
        state_follows = bool(_STATE_AFTER.match(text, run[-1].end))
        if not titled and whole in lex.cities and (prev in _PLACE_CUES or state_follows
                                                   or not self._namey(run)):
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.75, self.name)
            return
        cued = titled or (len(run) <= 3 and self._cued(text, run[0].start)
                          and not any(t.folded in lex.common for t in run))
        if cued and not any(t.upper for t in run):
            # A title belongs to the name: "Mr. Carl Koike" is replaced whole.
            start = title_start if title_start is not None else run[0].start
            yield Finding(start, run[-1].end, "PERSON", 0.9 if titled else 0.75, self.name)
            return
        if len(run) == 1 and self._unknown(run[0]) and _SPEAKER.match(text, run[0].end) \
                and (run[0].start == 0 or text[run[0].start - 1] == "\n"):
            yield Finding(run[0].start, run[0].end, "PERSON", 0.6, self.name)  # "Ana: hi"
            return
        yield from self._people(text, run)

    def _strong(self, tok: _Tok) -> bool:
        return self.lex.is_name_token(tok.folded) and tok.folded not in self.lex.common \
            and len(tok.text) > 2 and not tok.upper

    def _namey(self, run: list[_Tok]) -> bool:
        return any(self._strong(t) for t in run)

    def _unknown(self, tok: _Tok) -> bool:
        lex = self.lex
        return not (tok.upper or tok.folded in lex.common or lex.is_place(tok.folded)
                    or tok.folded in lex.company_suffixes or len(tok.text) < 3)

    def _people(self, text: str, run: list[_Tok]) -> Iterator[Finding]:
        lex = self.lex
        k = 0
        while k < len(run):
            if not lex.is_name_token(run[k].folded) or run[k].upper:
                if lex.is_place(run[k].folded) and run[k].folded not in lex.common \
                        and len(run[k].text) > 2:
                    yield Finding(run[k].start, run[k].end, "LOCATION", 0.5, self.name)
                elif self._unknown(run[k]) and _AFTER_CUE.match(text[run[k].end:run[k].end + 8]) \
                        and self._cued(text, run[k].start):
                    yield Finding(run[k].start, run[k].end, "PERSON", 0.6, self.name)
                k += 1
                continue
            m = k + 1
            while m < len(run) and ((lex.is_name_token(run[m].folded) and not run[m].upper)
                                    or run[m].folded in PARTICLES):
                m += 1
            if m < len(run) and m == k + 1 and run[k].folded in lex.first_names \
                    and self._strong(run[k]) and self._unknown(run[m]):
                m += 1  # "Matthew Sedej": a first name's unknown neighbour is the surname
            part = run[k:m]
            strong = [t for t in part if self._strong(t)]
            names = [t for t in part if t.folded not in PARTICLES]
            if strong or len(names) >= 2:
                score = 0.85 if len(names) >= 2 else 0.6
                yield Finding(part[0].start, part[-1].end, "PERSON", score, self.name)
            k = m

    def _lower_name(self, tok: _Tok) -> bool:
        lex = self.lex
        return lex.is_name_token(tok.folded) and tok.folded not in lex.common \
            and len(tok.text) >= 3 and tok.folded not in lex.countries

    def _lowercase(self, text: str, tokens: list[_Tok], i: int, j: int,
                   caseless: bool) -> Iterator[Finding]:
        tok, lex = tokens[i], self.lex
        if j == i + 1:
            if tok.folded in lex.countries and len(tok.text) >= 5:
                yield Finding(tok.start, tok.end, "LOCATION", 0.6, self.name)
            elif self._lower_name(tok):
                cued = self._cued(text, tok.start)
                score = 0.7 if cued else (0.5 if caseless else 0.35)
                yield Finding(tok.start, tok.end, "PERSON", score, self.name)
            return
        if self._lower_name(tok):
            yield Finding(tok.start, tokens[j - 1].end, "PERSON", 0.7 if caseless else 0.45,
                          self.name)
        else:
            for k in range(i, j):
                yield from self._lowercase(text, tokens, k, k + 1, caseless)

    def _lists(self, text: str, tokens: list[_Tok], found: list[Finding]) -> Iterator[Finding]:
        """Yield ``found``, plus the unknown members of name lists ("Kovalev, Lee and Phillips")."""
        people = {f.start: f for f in found if f.type == "PERSON"}
        taken = [(f.start, f.end) for f in found]
        extra: list[Finding] = []
        i = 0
        while i < len(tokens):
            members = [tokens[i]]
            while i + 1 < len(tokens) and _LIST_SEP.match(text[tokens[i].end:tokens[i + 1].start]):
                i += 1
                members.append(tokens[i])
            i += 1
            if len(members) < 3:
                continue
            named = sum(1 for t in members if t.start in people)
            if named * 2 < len(members) + 1:
                continue
            for t in members:
                free = not any(s < t.end and t.start < e for s, e in taken)
                if free and t.start not in people and (self._unknown(t) or not _is_cap(t.text)) \
                        and t.folded not in self.lex.common:
                    extra.append(Finding(t.start, t.end, "PERSON", 0.6, self.name))
        yield from found
        yield from extra
