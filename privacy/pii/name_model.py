"""The thorough name detector: a token classifier for PERSON, ORGANIZATION and LOCATION.

Cloister's default name detector is rules over name lists (``privacy.pii.names``): it meets
the scan's speed target (thousands of records a second) and finds 92% of the person spans of
presidio-research's ``generated_large``. A policy with ``names = "model"`` or ``"both"`` adds
this detector: MiniLM fine-tuned for names (``resources/pii/name_model/``, trained by
``bench/name_model.py``; data card in ``resources/pii/README.md``). Measured in
bench/RESULTS.md: it finds brands and names that no list holds (organization recall 0.12 ->
0.43, WNUT-17 tweet persons 0.43 -> 0.55 with the rules beside it), at about 100 records a
second on a 2-core CPU instead of thousands. It is a choice of thoroughness over speed.

The weights are bundled (fp16) and loaded from that folder only: nothing is downloaded. torch
and transformers are imported on first use, so a scan with the rules alone never loads them.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from privacy.errors import PrivacyError
from privacy.pii.findings import Finding
from privacy.pii.registry import Detector

NAME_MODES = ("rules", "model", "both")
MODEL_SCORE = 0.85  # what a finding scores at full confidence; below min_score 0.5 when unsure
_CACHE_SIZE = 4096
_BATCH = 32
_MAX_TOKENS = 256  # longer texts are read in windows of this many word pieces


class NameModelError(PrivacyError):
    """The bundled name model is missing or unreadable."""

    exit_code = 2


def default_model_dir() -> Path:
    from resources.paths import resources_dir

    return resources_dir() / "pii" / "name_model"


def decode(text: str, offsets: Sequence[Sequence[int]], labels: Sequence[str],
           confidence: Sequence[float]) -> list[tuple[int, int, str, float]]:
    """BIO word-piece tags -> character spans widened to whole words, scored by the mean
    confidence of their pieces. An I- tag without a B- before it starts a span (the model
    sometimes misses the B- of a name it is sure about)."""
    spans: list[list[Any]] = []
    for (s, e), tag, conf in zip(offsets, labels, confidence):
        if s == e or tag == "O":
            continue
        kind = tag[2:]
        last = spans[-1] if spans else None
        glued = last is not None and last[2] == kind and (tag.startswith("I-") or last[1] == s)
        if glued and last is not None and text[last[1]:s].strip(" ") == "":
            last[1] = e
            last[3].append(conf)
        else:
            spans.append([s, e, kind, [conf]])
    found = []
    for s, e, kind, confs in spans:
        while s > 0 and text[s - 1].isalnum():
            s -= 1
        while e < len(text) and text[e].isalnum():
            e += 1
        found.append((s, e, kind, sum(confs) / len(confs)))
    return found


class NameModelDetector(Detector):
    """PERSON / ORGANIZATION / LOCATION from the bundled token classifier.

    ``prefetch(texts)`` reads many texts in batches (much faster than one at a time) and keeps
    the findings for ``find``, which anonymization calls per cell. The cache is in memory only.
    """

    name = "name_model"
    types = ("PERSON", "ORGANIZATION", "LOCATION")

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_model_dir()
        self._model: Any = None
        self._tokenizer: Any = None
        self._cache: OrderedDict[str, list[Finding]] = OrderedDict()
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._model is not None:
            return
        if not (self.folder / "config.json").is_file():
            raise NameModelError(f"the name model is missing from {self.folder}: reinstall Cloister, "
                                 "or set names = \"rules\" in the policy")
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.folder, local_files_only=True)
            model = AutoModelForTokenClassification.from_pretrained(self.folder, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise NameModelError(f"cannot read the name model in {self.folder} ({exc}): reinstall "
                                 "Cloister, or set names = \"rules\" in the policy") from None
        # Stored in fp16 to halve the download; CPUs compute fp32 faster than fp16.
        self._model = model.float().eval()

    def _predict(self, texts: list[str]) -> list[list[Finding]]:
        import torch

        self._load()
        labels = self._model.config.id2label
        out: list[list[Finding]] = []
        for i in range(0, len(texts), _BATCH):
            chunk = texts[i:i + _BATCH]
            enc = self._tokenizer(chunk, truncation=True, max_length=_MAX_TOKENS, stride=32,
                                  return_overflowing_tokens=True, padding=True,
                                  return_offsets_mapping=True, return_tensors="pt")
            offsets = enc.pop("offset_mapping").tolist()
            owner = enc.pop("overflow_to_sample_mapping").tolist()
            with torch.inference_mode():
                probs = self._model(**enc).logits.float().softmax(-1)
            best, tags = probs.max(-1)
            per_text: list[list[Finding]] = [[] for _ in chunk]
            for k, (offs, row_tags, conf) in enumerate(zip(offsets, tags.tolist(), best.tolist())):
                text = chunk[owner[k]]
                per_text[owner[k]].extend(
                    Finding(s, e, kind, round(MODEL_SCORE * c, 3), self.name)
                    for s, e, kind, c in decode(text, offs, [labels[t] for t in row_tags], conf))
            # Windows overlap by 32 pieces: a span found twice is kept once.
            out.extend(sorted(set(found), key=lambda f: (f.start, f.end)) for found in per_text)
        return out

    def prefetch(self, texts: Iterable[str]) -> None:
        """Read ``texts`` in batches now; ``find`` then answers from memory."""
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t and t not in self._cache))
            if not todo:
                return
            for text, found in zip(todo, self._predict(todo)):
                self._cache[text] = found
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)

    def find(self, text: str) -> Iterable[Finding]:
        if not text:
            return []
        with self._lock:
            cached = self._cache.get(text)
        if cached is not None:
            return cached
        self.prefetch([text])
        with self._lock:
            return self._cache.get(text) or []


_SHARED: dict[Path, NameModelDetector] = {}


def shared_detector(folder: Path | None = None) -> NameModelDetector:
    """One detector (one loaded model) per folder for the whole process."""
    key = Path(folder) if folder is not None else default_model_dir()
    if key not in _SHARED:
        _SHARED[key] = NameModelDetector(key)
    return _SHARED[key]
