"""Words in capitals, read as prose writes them, for the name rules (``privacy.pii.names``).

Case is most of what those rules go by: a capitalised word may be a name, a lower-case one is
a word. A stretch in capitals ("MARGARET THORNBURY complained", a patient list, a shouted
complaint) says nothing either way, and the rules left every name in it. They now read such a
stretch title-cased, its small words in lower case, with every character where it was, so the
findings' places hold in the original text.
"""
from __future__ import annotations

import re
from collections.abc import Callable

# A word as the name rules see it: letters, with inner apostrophes and hyphens ("O'Neil",
# "Jean-Luc"; never a possessive "'s"), and a trailing full stop ("Mr.").
TOKEN = re.compile(r"[^\W\d_](?:\w|['’](?![sS]\b)(?=\w)|-(?=\w))*\.?", re.UNICODE)
MASK = re.compile(r"[Xx*#]{2,}\.?")  # a redaction mark, such as the CFPB's XXXX: never a name
_SMALL_WORD = re.compile(
    r"\b(?:The|A|An|Of|And|Or|To|In|On|At|For|As|By|With|From|Is|Are|Was|Were|Be|Been|Me|My|"
    r"We|Our|You|Your|It|Its|They|Them|Their|He|She|His|Her|Him|That|This|Not|No|But|If|So|"
    r"Have|Has|Had|Do|Did|Will|Would|Can|Could)\b")
_CAPITAL_WORD = re.compile(r"[^\W\d_]{2,}(?:['’-][^\W\d_]+)*", re.UNICODE)


def capitals_as_titles(text: str, everyday: Callable[[str], bool] | None = None) -> str:
    """``text`` with each stretch of two or more words in capitals title-cased, where that
    changes no character's position. A lone word in capitals stays as it is: an acronym or a
    heading ("FICO", "RE:", "USAA") far more often than a name. A word that holds digits
    ("AB12CD", a code) or is a redaction mark ("XXXX") ends a stretch and is never changed; "A"
    and "I" belong to the stretch around them ("PUT A LIEN" is no "Put" beside "A Lien").

    ``everyday(folded word)`` says which words prose writes in lower case: they are, so that
    "WELLS FARGO CLOSED MY ACCOUNT" reads "Wells Fargo closed my account" (the verb joined
    the run of capitalised words, which then read as a name and a word)."""
    if not any(c.isupper() for c in text):
        return text
    spans: list[list[tuple[int, int]]] = []
    stretch: list[tuple[int, int]] = []  # the current stretch's words, (start, end)

    def close() -> None:
        if sum(1 for s, e in stretch if e - s > 1) >= 2:
            spans.append(list(stretch))

    for m in TOKEN.finditer(text):
        word = m.group().rstrip(".") or m.group()
        capital = word in ("A", "I") or (word.isupper() and bool(_CAPITAL_WORD.fullmatch(word))
                                         and not MASK.fullmatch(word))
        if stretch and not (capital and not any(c.isalpha() for c in text[stretch[-1][1]:m.start()])):
            close()
            stretch = []
        if capital:
            stretch.append((m.start(), m.start() + len(word)))
    close()
    parts: list[str] = []
    at = 0
    for words in spans:
        start, end = words[0][0], words[-1][1]
        titled = text[start:end].title()
        if len(titled) != end - start:  # a letter whose title case is two ("ŉ"): leave it
            continue
        # As prose writes them: "As the Sellers Agent" read "The Sellers" as a name (Faker
        # lists "The"), and "Bank Of America" hid the "of" that says what the bank is.
        titled = titled[:1] + _SMALL_WORD.sub(lambda w: w.group().lower(), titled[1:])
        if everyday is not None:
            chars = list(titled)
            for s, e in words:
                if text[s:e] != "I" and everyday(text[s:e].casefold()):
                    chars[s - start:e - start] = titled[s - start:e - start].lower()
            titled = "".join(chars)
        parts += [text[at:start], titled]
        at = end
    parts.append(text[at:])
    return "".join(parts)
