"""A finding (what a detector saw) and the rules that decide between overlapping findings.

Overlap rules, in order (``resolve``):

1. A finding whose value passed a checksum (Luhn, mod-97, SSN ranges) beats one that did not:
   ``4929578569339117`` is a CREDIT_CARD, never a PHONE that happens to cover it.
2. Then the longer span wins: "12 Baker Street" (STREET_ADDRESS) beats "12" (nothing) and
   "Baker" (PERSON); "john@example.com" (EMAIL) beats "example.com" (DOMAIN).
3. Then the more specific type (``SPECIFICITY``): DATE_TIME over DATE, US_SSN over ZIP, ...
4. Then the higher score, then the earlier start (deterministic).

The winner keeps its span; every finding that overlaps it is dropped (no partial trimming:
a trimmed half-match is more often wrong than right).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Higher is more specific. Types not listed rank 0.
SPECIFICITY: dict[str, int] = {
    "CREDIT_CARD": 90, "IBAN": 90, "US_DRIVER_LICENSE": 88, "US_SSN": 85, "NATIONAL_ID": 85, "EMAIL": 80, "IP_ADDRESS": 75, "URL": 70,
    "DATE_TIME": 65, "PHONE": 60, "DATE": 55, "STREET_ADDRESS": 50, "DOMAIN": 45, "AGE": 40,
    "ORGANIZATION": 35, "PERSON": 30, "LOCATION": 25, "ZIP": 20, "CUSTOM": 95, "DENY_LIST": 95,
}


@dataclass(frozen=True)
class Finding:
    """One span of personal data. ``end`` is exclusive; offsets are into the scanned text."""

    start: int
    end: int
    type: str
    score: float
    detector: str
    checksum: bool = False  # the value passed a checksum, so it is very unlikely a coincidence

    @property
    def length(self) -> int:
        return self.end - self.start

    def text(self, source: str) -> str:
        return source[self.start:self.end]

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end

    def rank(self) -> tuple:
        # Custom patterns and deny-lists are the user's own word: they rank with checksums.
        trusted = self.checksum or self.type in ("CUSTOM", "DENY_LIST") or \
            self.detector.startswith("custom:") or self.detector.startswith("deny:")
        return (trusted, self.length, SPECIFICITY.get(self.type, 0), self.score, -self.start)


def resolve(findings: Iterable[Finding]) -> list[Finding]:
    """The non-overlapping findings that win by the rules above, in text order."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=Finding.rank, reverse=True):
        if finding.length > 0 and not any(finding.overlaps(k) for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: (f.start, f.end))
