"""Reversible pseudonyms: the surrogate -> original mapping of one anonymization.

Pseudonyms are one-way (HMAC under the workspace secret, ``privacy.pii.pseudonym``): even the
workspace cannot turn "Marisa Murray" back into "Maria Lopez", because the surrogate is a hash,
not an encryption. Some users must go back, e.g. from a flagged prediction to the customer it is
about. A policy that says ``reversible = true`` on a ``pseudonym`` action therefore has every
(entity, original) -> surrogate pair of the run recorded here, and the engine stores the result
as one entry of the encrypted workspace beside the dataset (``engine.data.reidentify``). The
mapping is as sensitive as the original data: it never leaves the vault's AEAD containers, and
it is deleted and renamed with its dataset.

This module knows nothing of storage or of the engine: it collects pairs, turns them into JSON
and back, and replaces surrogates found in a text by their originals.

Distinct values can share a surrogate (names: ~7,000 x ~1,000 combinations). Such a surrogate
is *ambiguous*: it is left as it is and counted, never guessed. Values that differ only in
ways the pseudonym ignores ("Maria Lopez" / "maria  lopez") are one value; the first form seen
is the one given back.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from privacy.pii.pseudonym import normal_form

MAP_FORMAT = 1


@dataclass
class Reidentified:
    text: str
    replaced: Counter[str] = field(default_factory=Counter)  # entity -> surrogates given back
    ambiguous: int = 0  # surrogates found that stand for more than one value, left as they are

    @property
    def total(self) -> int:
        return sum(self.replaced.values())


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class PseudonymMap:
    """surrogate -> [(entity, original), ...], one pair per distinct (entity, normal form)."""

    def __init__(self) -> None:
        self._pairs: dict[str, list[tuple[str, str]]] = {}
        self._keys: dict[str, set[tuple[str, str]]] = {}  # the normal forms seen per surrogate

    def __len__(self) -> int:
        return len(self._pairs)

    def record(self, entity: str, original: str, surrogate: str) -> None:
        """The ``Context.record`` callback of ``privacy.pii.operators``."""
        key = (entity, normal_form(entity, original))
        seen = self._keys.setdefault(surrogate, set())
        if key not in seen:
            seen.add(key)
            self._pairs.setdefault(surrogate, []).append((entity, original))

    def original(self, surrogate: str) -> tuple[str, str] | None:
        """(entity, original) for an unambiguous surrogate, else None."""
        pairs = self._pairs.get(surrogate)
        return pairs[0] if pairs is not None and len(pairs) == 1 else None

    def to_json(self) -> dict[str, Any]:
        return {"format": MAP_FORMAT,
                "pairs": {s: [list(p) for p in pairs] for s, pairs in self._pairs.items()}}

    @classmethod
    def from_json(cls, data: Any) -> PseudonymMap:
        """Raises ValueError for anything but what ``to_json`` writes."""
        if not isinstance(data, Mapping) or data.get("format") != MAP_FORMAT \
                or not isinstance(data.get("pairs"), Mapping):
            raise ValueError("not a pseudonym mapping of a known format")
        out = cls()
        for surrogate, pairs in data["pairs"].items():
            if not isinstance(surrogate, str) or not surrogate or not isinstance(pairs, list):
                raise ValueError("a pseudonym mapping entry is malformed")
            for pair in pairs:
                if not (isinstance(pair, list) and len(pair) == 2
                        and all(isinstance(x, str) for x in pair)):
                    raise ValueError("a pseudonym mapping entry is malformed")
                out.record(pair[0], pair[1], surrogate)
        return out

    def reidentify(self, text: str) -> Reidentified:
        """``text`` with every known surrogate replaced by its original.

        Exact, case-sensitive matches only, longest first, and a surrogate that begins (ends)
        with a letter or digit must not continue a word there: "Hill" is not found inside
        "Hillary". One left-to-right pass, trying each distinct surrogate length at the
        positions where a surrogate can start, so a large mapping stays fast.
        """
        result = Reidentified(text)
        if not self._pairs or not text:
            return result
        lengths = sorted({len(s) for s in self._pairs}, reverse=True)
        firsts = {s[0] for s in self._pairs}
        out: list[str] = []
        start = i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            if ch not in firsts or (_word(ch) and i > 0 and _word(text[i - 1])):
                i += 1
                continue
            match = next((c for c in (text[i:i + k] for k in lengths if i + k <= n)
                          if c in self._pairs
                          and not (_word(c[-1]) and i + len(c) < n and _word(text[i + len(c)]))),
                         None)
            if match is None:
                i += 1
                continue
            found = self.original(match)
            if found is None:
                result.ambiguous += 1
            else:
                out.append(text[start:i])
                out.append(found[1])
                start = i + len(match)
                result.replaced[found[0]] += 1
            i += len(match)
        out.append(text[start:])
        result.text = "".join(out)
        return result
