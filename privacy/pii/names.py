"""PERSON, ORGANIZATION and LOCATION in free text: context rules over Faker's name lists.

How a run of capitalised words is classified (``NameDetector._classify``):

- ending in a company word ("Inc.", "LLC", "Bank", "and Sons") -> ORGANIZATION, as is a firm's
  chain of words, names and all (``privacy.pii.firms``: "Forster & Garbus LLP", "Credit Karma,
  LLC"); a town before a state's code ("Denver, CO") -> LOCATION;
- after a title ("Mr.", "Dr.", "Mrs.") or a cue ("my name is", "starring", "said", a greeting
  or thanks: "hey", "thank you", "RIP"; a relative: "my brother") -> PERSON, whatever the words;
- all of it a known country, or a known city after "in/from/to/at/near" -> LOCATION;
- otherwise the longest stretch of name-list tokens -> PERSON, if it holds a strong name
  (one that is not a common English word) or two names; a lone weak token ("Will", "May")
  is left alone. An unknown capitalised word right after a first name joins it as the surname
  ("Matthew Sedej"); ALL-CAPS words are never strong (headings, shouting, place names);
- a known country or city that is not a name -> LOCATION.
- a capitalised word that no list holds and that is no everyday word in any regular form
  ("Shaq", "Trifonov"; not "Roads", "Takin", a handle or a hashtag) -> PERSON at 0.5, only with
  context that says "person" (``_person_context``): a possessive or a verb of being, saying or
  doing after it ("Shaq's", "Trump says"), a he/she pronoun in that sentence or the next
  ("Womble knew ... his"), "looks like X", "where's X"; never after "the" ("the Kremlin's").
  Names in tweets and comments are mostly of this kind: nicknames and names in no list.
  Brands take verbs too ("Tesla is", "Citi's denial"), so this stays at 0.5;
- In a list of single capitalised words ("Kovalev, Lee and Phillips"), when most are names,
  all are.

Lower-case tokens: a country name (5+ letters) is a LOCATION; a name-list token that is not a
common word is a PERSON at score 0.5 (0.7 for two in a row, or after a cue) in a text written
without capitals (chats, the lower-cased records of presidio-research), but only 0.35 (0.45
for two) in a text that does use capitals, below the default min_score of 0.5: there a
lower-case "bath" or "rose" is a word (measured on the SMS excerpt). The exception is a
sentence of such a text written without capitals but for its first letter and "I" ("Did
anyone notice gaby gave diego more?"): there a first name that two or more locales list
(``Lexicon.shared_first_names``), no everyday word and not after a determiner ("the raven")
is a PERSON at 0.5. This is a rule system, measured in bench/RESULTS.md; it knows no brands
("Uber"), and a name outside the lists only by the context above.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from privacy.pii.capitals import MASK as _MASK
from privacy.pii.capitals import TOKEN as _TOKEN
from privacy.pii.capitals import capitals_as_titles
from privacy.pii.findings import Finding
from privacy.pii.firms import FirmFinder, state_code_after
from privacy.pii.lexicon import PARTICLES, fold_word, lexicon, us_states
from privacy.pii.name_cues import (AFTER_CUE, ARTICLES, BUSINESS_WORDS, DETERMINER_BEFORE,
                                   DETERMINERS, KNOWN_ORGS, LIKE_BEFORE, LIST_SEP, NAME_CUE,
                                   ORG_HEADS, PERSON_AFTER, PLACE_CUE, PLACE_CUES, POSTCODE_AT,
                                   POSTCODE_BEFORE, PRONOUN, SENTENCE_BREAK, SPEAKER, STATE_AFTER,
                                   THE_BEFORE, TITLES, TITLES_AFTER, WHERE_BEFORE, next_break,
                                   town_in_address)
from privacy.pii.registry import Detector, register


def _is_cap(token: str) -> bool:
    return token[0].isupper()


class _Tok:
    __slots__ = ("start", "end", "text", "folded", "upper", "shouted")

    def __init__(self, m: re.Match[str], written: str) -> None:
        self.text = m.group().rstrip(".") or m.group()
        self.start, self.end = m.start(), m.start() + len(self.text)
        self.folded = fold_word(self.text)
        self.upper = len(self.text) > 1 and self.text.isupper()
        # In capitals as written, before a stretch of them was read title-cased.
        self.shouted = len(self.text) > 1 and written[self.start:self.end].isupper()


@register
class NameDetector(Detector):
    name = "names"
    types = ("PERSON", "ORGANIZATION", "LOCATION")

    def __init__(self) -> None:
        self.lex = lexicon()
        self.states = us_states()
        lex = self.lex
        # Words of places of two or more words ("NEW YORK", "UNITED STATES"): never lowered.
        self._place_words = frozenset(w for p in (*lex.cities, *lex.countries, *self.states)
                                      if " " in p for w in p.split())
        self._firm_words = frozenset(w for firm in KNOWN_ORGS for w in firm.split())
        self._firms = FirmFinder(self._everyday, lambda w: lex.is_place(w) or w in self.states
                                 or w in self._place_words, lex.is_name_token,
                                 lex.first_names.__contains__, lex.company_suffixes)

    def _written_lower(self, folded: str) -> bool:
        """Whether prose writes ``folded`` in lower case: an everyday word that is no name, no
        place, no title and no word of a firm's name ("Bank", "Financial" stay capitalised)."""
        lex = self.lex
        return folded in lex.common and not lex.is_name_token(folded) and not lex.is_place(folded) \
            and folded not in self._place_words and folded not in lex.company_suffixes \
            and folded not in BUSINESS_WORDS and folded not in TITLES and folded not in self._firm_words

    def find(self, text: str) -> Iterator[Finding]:
        # Words in capitals carry no case signal: "MARGARET THORNBURY complained", a patient
        # list written in capitals. Read such stretches as if title-cased (the findings keep
        # their places: only letters' case changes), so the rules for capitalised words apply.
        written, text = text, capitals_as_titles(text, self._written_lower)
        tokens = [_Tok(m, written) for m in _TOKEN.finditer(text)]
        # In a text written without capitals, lower case says nothing against a name; where the
        # writer does use capitals, a lower-case "rose" or "bath" is most likely a word.
        caseless = not any(c.isupper() for c in text)
        found: list[Finding] = []
        # "Forster & Garbus LLP", "Credit Karma, LLC": a firm whole, whatever names it holds;
        # a person's name before one's words ("Maria Garcia Wells Fargo") a PERSON.
        firms = self._firms.spans(text, tokens)
        i = 0
        while i < len(tokens):
            if i in firms:
                found.append(Finding(tokens[i].start, firms[i][1], firms[i][2], 0.8, self.name))
                i = firms[i][0]
                continue
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
            while j < len(tokens) and j not in firms and self._joins(text, tokens[j - 1], tokens[j]):
                j += 1
            while j - 1 > i and tokens[j - 1].folded in PARTICLES:
                j -= 1
            found.extend(self._classify(text, tokens, i, j))
            i = j
        yield from self._lists(text, tokens, self._other_halves(text, tokens, found))

    def _joins(self, text: str, left: _Tok, right: _Tok) -> bool:
        gap = text[left.end:right.start]
        if gap not in (" ", ". ", "-") and not (gap == " & " and right.folded == "co"):
            return False
        if gap == ". " and left.folded not in TITLES and len(left.text) > 1:
            return False  # a sentence ends here
        return _is_cap(right.text) or right.folded in PARTICLES

    def _cued(self, text: str, start: int) -> bool:
        return bool(NAME_CUE.search(text, max(0, start - 18), start))

    def _classify(self, text: str, tokens: list[_Tok], i: int, j: int) -> Iterator[Finding]:
        lex = self.lex
        run = [t for t in tokens[i:j] if not _MASK.fullmatch(t.text)]
        # "London NW1 6XE": the postcode's first half joined the run, which then read as a
        # name and a word; the run ends before it, and what it held is the town.
        cut = next((k for k, t in enumerate(run) if k and POSTCODE_AT.match(text, t.start)), 0)
        if cut:
            run = run[:cut]
        if len(run) > 1 and run[0].text == "I" and text[run[0].end:run[0].end + 1] != ".":
            run = run[1:]  # "I BANK WITH USAA": the pronoun opens no firm's or person's name
        if not run:
            return
        prev = tokens[i - 1].folded if i > 0 else ""
        last = run[-1].folded
        whole_run = " ".join(t.folded for t in run)
        if i >= 2 and prev == "of" and tokens[i - 2].folded in ORG_HEADS \
                and text[tokens[i - 2].end:tokens[i].start] == " of " \
                and (lex.is_place(whole_run) or whole_run in self.states):
            # "Bank of America", "University of Georgia" ("bank of America" too); never "the
            # office of John Smith" or "the court of Dr. Patel": a person stays a person.
            yield Finding(tokens[i - 2].start, run[-1].end, "ORGANIZATION", 0.7, self.name)
            return
        # "Smith and Sons", "Drake PLC", "Qado Energy Inc."
        if len(run) >= 2 and (last in lex.company_suffixes or last + "." in lex.company_suffixes):
            end = run[-1].end + (1 if text[run[-1].end:run[-1].end + 1] == "." else 0)
            yield Finding(run[0].start, end, "ORGANIZATION", 0.8, self.name)
            return
        if j + 1 < len(tokens) and text[run[-1].end:tokens[j].start] == " " and \
                tokens[j].folded == "and" and tokens[j + 1].folded == "sons":
            yield Finding(run[0].start, tokens[j + 1].end, "ORGANIZATION", 0.8, self.name)
            return
        titled = prev in TITLES
        title_start = tokens[i - 1].start if titled else None
        if run[0].folded in TITLES and len(run) > 1:
            title_start = run[0].start
            run, titled = run[1:], True
        if len(run) > 1 and run[-1].folded in TITLES_AFTER:
            # The whole "Gülşen Doğan Bey" goes: the title alone was replaced, the name kept.
            yield Finding(title_start if title_start is not None else run[0].start, run[-1].end,
                          "PERSON", 0.9, self.name)
            return
        if not titled:
            firm = self._known_firm(run)
            if firm:  # "Citibank", "USAA", "WELLS FARGO", "THANK YOU CHASE": a firm, no person
                yield Finding(run[0].start, run[firm - 1].end, "ORGANIZATION", 0.7, self.name)
                return
        initial = len(run[0].text) == 1 and text[run[0].end:run[0].end + 1] == "."  # "A. Smith"
        if len(run) > 1 and ((run[0].folded in DETERMINERS and not initial) or (
                run[0].folded in lex.common and not lex.is_name_token(run[0].folded)
                and not lex.is_place(" ".join(t.folded for t in run)))):
            # "The Princess Royal" -> look at "Princess Royal"; "United Kingdom" stays whole.
            run, led_by_word = run[1:], True
        else:
            led_by_word = False
        if led_by_word and not titled and len(run) > 1 and run[0].folded in TITLES:
            # "Dear Mr. Thornbury", "Hello Dr. Patel": the greeting led the run, the title
            # still says a name follows (only "Patel", a listed name, was found; "Thornbury" not).
            title_start = run[0].start
            run, titled = run[1:], True
        whole = " ".join(t.folded for t in run)
        if len(run) == 1 and whole in lex.common and not run[0].upper:
            return  # "My", "May", "Will": an everyday word alone is nothing
        if len(run) == 1 and len(run[0].text) == 1:
            return  # a letter alone ("contact U!", "plan B", "W"): an initial needs a name after it
        if not titled and len(run) <= 3 and run[-1] is tokens[j - 1] and j < len(tokens) \
                and state_code_after(text, run[-1].end, tokens[j].text, tokens[j].shouted,
                                     lex.is_place(whole)):
            # "Denver, CO", "Salt Lake City, UT 84101": a town before its state's code.
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.75, self.name)
            return
        code = POSTCODE_BEFORE.search(text[max(0, run[0].start - 7):run[0].start])
        if not titled and len(run) <= 3 and code and (len(code[1]) == 5 or lex.is_place(whole)):
            # Paris, Lyon and Berlin are given names somewhere too: after a postal code, a town.
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.8, self.name)
            return
        town = self._town_word(run[0]) if len(run) == 1 else lex.is_place(whole)
        if not titled and len(run) <= 3 and town \
                and (bool(cut) or town_in_address(text, run[0].start, run[-1].end)):
            # A town in an address ("12 Baker Street, London", "London NW1 6XE"), not a person.
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.75, self.name)
            return
        english = lex.english_common or lex.common
        if not titled and PLACE_CUE.search(text, max(0, run[0].start - 22), run[0].start) \
                and not self._namey(run) and not any(t.folded in english for t in run):
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.6, self.name)
            return
        if not titled and whole in lex.countries and not (len(run) == 1 and whole in ARTICLES):
            # Spanish "El banco me cobró": Faker's Finnish list holds "El" alone (El Salvador).
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.85, self.name)
            return
        state_follows = bool(STATE_AFTER.match(text, run[-1].end))
        # A lone ALL-CAPS word is a heading, an abbreviation or shouting ("RE:", "FICO",
        # "HOUR") far more often than a city that one of Faker's lists holds.
        if not titled and whole in lex.cities and not (len(run) == 1 and run[0].upper) \
                and not (len(run) == 1 and whole in ARTICLES) \
                and not (led_by_word and len(run) == 1 and prev not in PLACE_CUES) \
                and (prev in PLACE_CUES or state_follows or not self._namey(run)):
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.75, self.name)
            return
        # After a cue, an everyday word or its plural is not a name ("Hey Boys", "contact U.
        # Todays draw"), unless a listed name comes with it ("directed by Charles van Beers").
        cued = titled or (len(run) <= 3 and self._cued(text, run[0].start)
                          and not any(t.folded in lex.common for t in run)
                          and (self._namey(run) or not any(self._everyday(t.folded) for t in run)))
        if not cued and whole in self.states and (len(run) > 1 or (  # "New York is": no one's name
                not AFTER_CUE.match(text[run[-1].end:run[-1].end + 8])
                and not self._person_context(text, run[0].start, run[-1].end))):
            # "Texas", "Georgia", "New Mexico": a state unless a title, a cue or what follows
            # ("Virginia told me she ...", "Washington said") says a person.
            yield Finding(run[0].start, run[-1].end, "LOCATION", 0.7, self.name)
            return
        if cued and (titled or not any(t.upper for t in run)
                     or all(lex.is_name_token(t.folded) for t in run)):
            # After a title anything is a name ("Mr. THORNBURY"); after a cue, a word in
            # capitals only when it is a listed name ("my name is JOHN", not "thank you USAA").
            # A title belongs to the name: "Mr. Carl Koike" is replaced whole.
            start = title_start if title_start is not None else run[0].start
            yield Finding(start, run[-1].end, "PERSON", 0.9 if titled else 0.75, self.name)
            return
        if len(run) == 1 and self._unknown(run[0]) and SPEAKER.match(text, run[0].end) \
                and (run[0].start == 0 or text[run[0].start - 1] == "\n"):
            yield Finding(run[0].start, run[0].end, "PERSON", 0.6, self.name)  # "Ana: hi"
            return
        yield from self._people(text, run)

    def _known_firm(self, run: list[_Tok]) -> int:
        """How many of ``run``'s first tokens name a firm of ``KNOWN_ORGS``, with the business
        words after it ("ALLY FINANCIAL repossessed"); 0 if none, or if a name follows ("a man
        called Citibank Jones"). A firm whose words a name list holds counts only in capitals
        ("CHASE"; "Chase" may be a person)."""
        lex = self.lex
        for k in range(len(run), 0, -1):
            core = k
            while core > 1 and (run[core - 1].folded in BUSINESS_WORDS
                                or run[core - 1].folded in lex.company_suffixes):
                core -= 1
            if " ".join(t.folded for t in run[:core]) in KNOWN_ORGS \
                    and not any(lex.is_name_token(t.folded) for t in run[k:]) and (
                    all(t.shouted for t in run[:core])
                    or not any(lex.is_name_token(t.folded) for t in run[:core])):
                return k
        return 0

    @staticmethod
    def _town_word(tok: _Tok) -> bool:
        """A word written as a town's name is: letters, capitalised or in capitals ("London",
        "LONDON", "Uue-Saaluse"; not "PoBox84" or "TextOperator" before an SMS's postcode)."""
        return tok.text.replace("-", "").isalpha() and (tok.text.istitle() or tok.upper)

    def _strong(self, tok: _Tok) -> bool:
        return self.lex.is_name_token(tok.folded) and tok.folded not in self.lex.common \
            and len(tok.text) > 2 and not tok.upper

    def _namey(self, run: list[_Tok]) -> bool:
        return any(self._strong(t) for t in run)

    def _unknown(self, tok: _Tok) -> bool:
        lex = self.lex
        return not (tok.upper or tok.folded in lex.common or lex.is_place(tok.folded)
                    or tok.folded in lex.company_suffixes or len(tok.text) < 3)

    def _person_context(self, text: str, start: int, end: int, *, verbs: bool = True) -> bool:
        """Words around a mention that say it is a person: a possessive or (``verbs``) a verb
        after it, a he/she pronoun in the same or the next sentence, "looks like X", "where's X"."""
        after = PERSON_AFTER.match(text[end:end + 10])
        if after and (verbs or "s" == after.group()[-1:] and "'" in after.group().replace("’", "'")
                      or text.startswith((" is from ", " was from "), end)):  # "ZAMA IS FROM X"
            return True
        if PRONOUN.search(text, end, next_break(text, end)):
            return True
        if LIKE_BEFORE.search(text, max(0, start - 16), start):
            return True
        if WHERE_BEFORE.search(text, max(0, start - 12), start):
            return True
        return False

    def _everyday(self, folded: str) -> bool:
        """A common word or a regular inflection of one ("roads", "colors", "takin")."""
        if folded in self.lex.common:
            return True
        common = self.lex.english_common or self.lex.common
        for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"),
                             ("ing", ""), ("ing", "e"), ("in", ""), ("ly", ""), ("er", ""),
                             ("ers", "")):
            if folded.endswith(suffix) and len(folded) - len(suffix) >= 3 \
                    and folded[:-len(suffix)] + repl in common:
                return True
        return False

    def _novel(self, text: str, tok: _Tok) -> bool:
        """A capitalised word in no list at all, not an everyday word in any form, and not a
        handle or hashtag: what is left is mostly names of people, places, brands."""
        return self._unknown(tok) and not self.lex.is_name_token(tok.folded) \
            and not self._everyday(tok.folded) and text[tok.start - 1:tok.start] not in ("@", "#")

    def _people(self, text: str, run: list[_Tok]) -> Iterator[Finding]:
        lex = self.lex
        k = 0
        while k < len(run):
            if not lex.is_name_token(run[k].folded) or run[k].upper:
                if lex.is_place(run[k].folded) and run[k].folded not in (lex.english_common or lex.common) \
                        and len(run[k].text) > 2 and not (run[k].upper and len(run) == 1):
                    yield Finding(run[k].start, run[k].end, "LOCATION", 0.5, self.name)
                elif self._unknown(run[k]) and AFTER_CUE.match(text[run[k].end:run[k].end + 8]) \
                        and self._cued(text, run[k].start):
                    yield Finding(run[k].start, run[k].end, "PERSON", 0.6, self.name)
                # A word written in capitals needs more than a verb after it: there any noun
                # in no list takes one ("MY RELIGION DOES NOT ALLOW", "BATTERY IS FOUND").
                elif len(run) == 1 and self._novel(text, run[k]) \
                        and not THE_BEFORE.search(text, max(0, run[k].start - 5), run[k].start) \
                        and self._person_context(text, run[k].start, run[k].end,
                                                 verbs=not run[k].shouted):
                    yield Finding(run[k].start, run[k].end, "PERSON", 0.5, self.name)
                k += 1
                continue
            m = k + 1
            while m < len(run) and ((lex.is_name_token(run[m].folded) and not run[m].upper)
                                    or run[m].folded in PARTICLES):
                m += 1
            if m < len(run) and m == k + 1 and run[k].folded in lex.first_names \
                    and self._strong(run[k]) \
                    and (self._unknown(run[m]) or self._word_surname(run, m)):
                m += 1  # "Matthew Sedej": a first name's unknown neighbour is the surname
            if k < m - 1 and run[m - 1].folded in PARTICLES and m < len(run) and not run[m].upper:
                m += 1  # "Ursula von der Leyen": what follows a name's particle is its surname
            part = run[k:m]
            if len(part) >= 2 and part[0].folded in PARTICLES and part[1].folded in lex.first_names:
                # "von Jürgen Oberhauser": a particle comes before a surname, never a given
                # name; here it is the preposition ("das Konto von ..."), not the name's.
                part = part[1:]
            strong = [t for t in part if self._strong(t)]
            names = [t for t in part if t.folded not in PARTICLES]
            if strong or len(names) >= 2:
                score = 0.85 if len(names) >= 2 else 0.6
                yield Finding(part[0].start, part[-1].end, "PERSON", score, self.name)
            k = m

    def _word_surname(self, run: list[_Tok], m: int) -> bool:
        """An everyday word capitalised after a first name, ending the run, is a surname too
        ("Emily Card", "Jane Hope"): left out, it stayed beside the first name's surrogate
        ("Riley Card"). Not a place, a company word or a word in capitals."""
        tok, lex = run[m], self.lex
        return m == len(run) - 1 and not tok.upper and len(tok.text) >= 3 \
            and not lex.is_place(tok.folded) and tok.folded not in lex.company_suffixes \
            and tok.folded + "." not in lex.company_suffixes and not tok.text.endswith(".") \
            and tok.folded not in BUSINESS_WORDS

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
                plain = caseless or (tok.folded in lex.shared_first_names
                                     and not self._everyday(tok.folded)
                                     and not DETERMINER_BEFORE.search(text, max(0, tok.start - 7),
                                                                       tok.start)
                                     and self._plain_sentence(text, tok.start))
                score = 0.7 if cued else (0.5 if plain else 0.35)
                yield Finding(tok.start, tok.end, "PERSON", score, self.name)
            return
        if self._lower_name(tok):
            yield Finding(tok.start, tokens[j - 1].end, "PERSON", 0.7 if caseless else 0.45,
                          self.name)
        else:
            for k in range(i, j):
                yield from self._lowercase(text, tokens, k, k + 1, caseless)

    def _plain_sentence(self, text: str, pos: int) -> bool:
        """Whether the sentence around ``pos`` is written without capitals (its first letter
        and the pronoun "I" aside): a writer who does not capitalise there says nothing by
        writing a name in lower case ("Did you see gaby gave diego one?")."""
        start = max(0, pos - 300)  # a sentence is seldom longer; this bounds the work
        for m in SENTENCE_BREAK.finditer(text, start, pos):
            start = m.end()
        after = SENTENCE_BREAK.search(text, pos, pos + 300)
        end = after.start() if after else min(len(text), pos + 300)
        words = text[start:end].split()
        return not any(c.isupper() for k, w in enumerate(words) for c in (w[1:] if k == 0 else w)
                       if w != "I" and not w.startswith(("I'", "I’")))

    def _other_halves(self, text: str, tokens: list[_Tok], found: list[Finding]) -> list[Finding]:
        """Widen a one-word PERSON to the half of the name the rules left beside it: a record's
        "Thornbury, Margaret" (surname first, at the start of a line or after a label's colon)
        and a surname's unlisted given name ("Oleksandr Kowalczyk's"). Left, the pseudonym sat
        beside the real half ("Thornbury, Riley")."""
        lex = self.lex
        index = {t.start: k for k, t in enumerate(tokens)}
        taken = {(f.start, f.end) for f in found}
        widened: list[Finding] = []
        for f in found:
            k = index.get(f.start, -1)
            if f.type != "PERSON" or k < 1 or tokens[k].end != f.end:
                widened.append(f)
                continue
            tok, prev = tokens[k], tokens[k - 1]
            gap = text[prev.end:tok.start]
            free = not any(s < prev.end and prev.start < e for s, e in taken)
            before = text[tokens[k - 2].end if k >= 2 else 0:prev.start]
            surname_first = gap == ", " and tok.folded in lex.first_names \
                and (self._unknown(prev) or lex.is_name_token(prev.folded)) \
                and prev.folded not in lex.common and _is_cap(prev.text) \
                and (not before.strip() or before.rstrip().endswith((":", "(")) or "\n" in before)
            given_unlisted = gap == " " and tok.folded in lex.last_names \
                and tok.folded not in lex.first_names and self._novel(text, prev) \
                and _is_cap(prev.text)
            if free and (surname_first or given_unlisted):
                f = Finding(prev.start, f.end, "PERSON", f.score, self.name)
            widened.append(f)
        return widened

    def _lists(self, text: str, tokens: list[_Tok], found: list[Finding]) -> Iterator[Finding]:
        """Yield ``found``, plus the unknown members of name lists ("Kovalev, Lee and Phillips")."""
        people = {f.start: f for f in found if f.type == "PERSON"}
        taken = [(f.start, f.end) for f in found]
        extra: list[Finding] = []
        i = 0
        while i < len(tokens):
            members = [tokens[i]]
            while i + 1 < len(tokens) and LIST_SEP.match(text[tokens[i].end:tokens[i + 1].start]):
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
