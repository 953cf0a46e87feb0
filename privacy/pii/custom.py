"""User-defined detectors: regular expressions (an employee-ID format) and deny-lists (ward
names). They are the user's own word, so they beat built-in findings they overlap
(``findings.Finding.rank``).

User patterns run on the ``regex`` engine with a per-call time limit: a catastrophic pattern
such as ``(a|aa)+$`` stops with a clear error instead of hanging a scan. Patterns are compiled and
tried on an adversarial probe when the policy is read, so a slow pattern is refused before
anything is scanned.
"""
from __future__ import annotations

import re as std_re
from collections.abc import Iterable, Iterator

import regex

from privacy.errors import PrivacyError
from privacy.pii.findings import Finding
from privacy.pii.registry import Detector

PATTERN_TIMEOUT_S = 0.25  # per text; a sane pattern takes microseconds
_PROBES = ("a" * 40 + "!", "1" * 40 + "x", " " * 40 + "\n", "aA1-_." * 12 + "\x00")


class PatternError(PrivacyError):
    """A user pattern that is not a valid regular expression, or is catastrophically slow."""


class CustomPattern(Detector):
    """Findings of type ``entity`` wherever ``pattern`` matches."""

    name = "custom"

    def __init__(self, entity: str, pattern: str, *, score: float = 0.9,
                 ignore_case: bool = False, label: str = "") -> None:
        self.entity, self.score = entity, score
        self.label = label or f"pattern for {entity}"
        flags = regex.IGNORECASE if ignore_case else 0
        try:
            self.compiled = regex.compile(pattern, flags | regex.VERSION0)
        except (regex.error, TypeError) as exc:
            raise PatternError(f"{self.label}: {pattern!r} is not a valid regular expression "
                               f"({exc})") from None
        if self.compiled.search("") is not None and self.compiled.fullmatch("") is not None:
            raise PatternError(f"{self.label}: {pattern!r} matches the empty string, so it "
                               "would mark every position; make it match at least one character")
        for probe in _PROBES:  # refuse a pattern that backtracks catastrophically now
            self._search_all(probe)
        self.detector_name = f"custom:{entity}"

    def _search_all(self, text: str) -> list[tuple[int, int]]:
        try:
            return [m.span() for m in self.compiled.finditer(text, timeout=PATTERN_TIMEOUT_S)]
        except TimeoutError:
            raise PatternError(
                f"{self.label}: {self.compiled.pattern!r} took longer than "
                f"{PATTERN_TIMEOUT_S:g} s on a {len(text)}-character text (catastrophic "
                "backtracking, e.g. overlapping alternatives under a repeat like (a|aa)+$); "
                "simplify it") from None

    def find(self, text: str) -> Iterator[Finding]:
        for start, end in self._search_all(text):
            if end > start:
                yield Finding(start, end, self.entity, self.score, self.detector_name)


class DenyList(Detector):
    """Findings of type ``entity`` for every listed term, as a whole word, case-insensitive."""

    name = "deny_list"

    def __init__(self, entity: str, terms: Iterable[str], *, label: str = "") -> None:
        cleaned = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
        if not cleaned:
            raise PatternError(f"{label or 'deny-list for ' + entity}: the list is empty")
        self.entity = entity
        # Longest first, so "St Mary Ward" wins over "St Mary"; escaped, so terms are literal.
        self.compiled = std_re.compile(r"(?<!\w)(?:" + "|".join(std_re.escape(t) for t in cleaned)
                                       + r")(?!\w)", std_re.IGNORECASE)
        self.detector_name = f"deny:{entity}"

    def find(self, text: str) -> Iterator[Finding]:
        for m in self.compiled.finditer(text):
            yield Finding(m.start(), m.end(), self.entity, 1.0, self.detector_name)
