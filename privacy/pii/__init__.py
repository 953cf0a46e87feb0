"""Find personal data in text and anonymize it (Qt-free; never imports ``engine``).

``detect(text)`` runs every registered detector and resolves overlaps (``findings.resolve``);
``privacy.pii.operators`` replaces what was found; ``privacy.pii.policy`` reads the TOML file
that says what happens to each entity type and column.
"""
from __future__ import annotations

from privacy.pii.findings import Finding, resolve
from privacy.pii.registry import Detector, all_detectors, detect, register

__all__ = ["Detector", "Finding", "all_detectors", "detect", "register", "resolve"]
