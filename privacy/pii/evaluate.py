"""Span-level precision, recall and F1 per entity type, exact and overlap matching.

Used by bench/bench_pii.py and by the tests on the real excerpt. Gold and predicted types are
first mapped to one evaluation vocabulary (``EVAL_TYPES``): Presidio's names
(EMAIL_ADDRESS, PHONE_NUMBER, IBAN_CODE, DOMAIN_NAME, ADDRESS ...) and ours (EMAIL, PHONE,
IBAN, URL/DOMAIN, STREET_ADDRESS/ZIP ...). A predicted type with no gold counterpart (AGE) is
left out of precision; a gold type nobody detects (TITLE) counts as missed in the micro
figures "over all gold types". Exact matching is one-to-one; overlap matching is lenient
(see ``score``): both systems in the bench are scored by the same code.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

EVAL_TYPES: dict[str, str] = {
    # gold (presidio-research) names
    "EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "IBAN_CODE": "IBAN", "DOMAIN_NAME": "URL",
    "ADDRESS": "ADDRESS", "DATE_TIME": "DATE_TIME", "PERSON": "PERSON", "LOCATION": "LOCATION",
    "ORGANIZATION": "ORGANIZATION", "CREDIT_CARD": "CREDIT_CARD", "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS", "TITLE": "TITLE", "PREFIX": "PREFIX",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    # ours
    "EMAIL": "EMAIL", "PHONE": "PHONE", "IBAN": "IBAN", "URL": "URL", "DOMAIN": "URL",
    "STREET_ADDRESS": "ADDRESS", "ZIP": "ADDRESS", "DATE": "DATE_TIME",
    # Presidio's own prediction names beyond the gold ones
    "GPE": "LOCATION", "LOC": "LOCATION", "ORG": "ORGANIZATION",
}

Span = tuple[int, int, str]


@dataclass
class Counts:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)

    def prf(self, entity: str | None = None) -> tuple[float, float, float]:
        if entity is None:
            tp, fp, fn = sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        else:
            tp, fp, fn = self.tp[entity], self.fp[entity], self.fn[entity]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def types(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))


def map_spans(spans: Iterable[Span]) -> list[Span]:
    return [(s, e, EVAL_TYPES[t]) for s, e, t in spans if t in EVAL_TYPES]


def merge_adjacent(spans: list[Span], text: str) -> list[Span]:
    """Join same-type predictions separated only by spaces, commas or newlines: an address
    found as street + postal code is one address span in the gold data."""
    out: list[Span] = []
    for s, e, t in sorted(spans):
        if out and out[-1][2] == t == "ADDRESS" and not text[out[-1][1]:s].strip(" ,\n\t"):
            out[-1] = (out[-1][0], e, t)
        else:
            out.append((s, e, t))
    return out


def score(gold: list[Span], predicted: list[Span], counts_exact: Counts,
          counts_overlap: Counts, *, gold_types: set[str] | None = None) -> None:
    """Add one text's matches to both tallies. ``gold_types``: predicted types outside it are
    ignored (nothing in the gold data could confirm them)."""
    gold_types = gold_types if gold_types is not None else {t for _, _, t in gold}
    preds = [p for p in predicted if p[2] in gold_types]
    # Exact: one-to-one, same type, same start and end.
    used: set[int] = set()
    for g in gold:
        hit = next((i for i, p in enumerate(preds)
                    if i not in used and p[2] == g[2] and p[:2] == g[:2]), None)
        if hit is None:
            counts_exact.fn[g[2]] += 1
        else:
            used.add(hit)
            counts_exact.tp[g[2]] += 1
    for i, p in enumerate(preds):
        if i not in used:
            counts_exact.fp[p[2]] += 1
    # Overlap (lenient): a gold span is found when a prediction of its type shares a character
    # with it; a prediction is a false alarm when it shares none with any gold span of its type.
    # One prediction may so cover several gold pieces (presidio-research annotates an address
    # as house number, street and postal code separately).
    def touches(a: Span, b: Span) -> bool:
        return a[2] == b[2] and a[0] < b[1] and b[0] < a[1]

    for g in gold:
        if any(touches(g, p) for p in preds):
            counts_overlap.tp[g[2]] += 1
        else:
            counts_overlap.fn[g[2]] += 1
    for p in preds:
        if not any(touches(g, p) for g in gold):
            counts_overlap.fp[p[2]] += 1
