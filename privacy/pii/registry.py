"""The detector registry: every detector is a small class registered by a decorator.

Registering a second detector under a name already taken raises, so two modules cannot
silently shadow each other. ``detect`` runs a chosen set of detectors (all by default) and
resolves overlaps with the rules in ``privacy.pii.findings``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from privacy.pii.findings import Finding, resolve


class Detector:
    """Subclasses set ``name`` and ``types`` and implement ``find``."""

    name: ClassVar[str] = ""
    types: ClassVar[tuple[str, ...]] = ()

    def find(self, text: str) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError


_REGISTRY: dict[str, type[Detector]] = {}
_INSTANCES: dict[str, Detector] = {}


class DuplicateDetector(ValueError):
    """A detector name registered twice."""


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator: add ``cls`` to the registry under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in _REGISTRY:
        raise DuplicateDetector(f"a detector named {cls.name!r} is already registered "
                                f"({_REGISTRY[cls.name].__qualname__})")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtins() -> None:
    # Imported for their @register side effect; here rather than at the top to avoid a cycle.
    from privacy.pii import addresses, dates, names, national_ids, patterns  # noqa: F401


def all_detectors() -> dict[str, type[Detector]]:
    _load_builtins()
    return dict(_REGISTRY)


def entity_types() -> set[str]:
    return {t for cls in all_detectors().values() for t in cls.types}


def instance(name: str) -> Detector:
    """One shared instance per detector (some build lookup tables once)."""
    if name not in _INSTANCES:
        _INSTANCES[name] = all_detectors()[name]()
    return _INSTANCES[name]


def detect(text: str, *, detectors: Iterable[str] | None = None,
           extra: Iterable[Detector] = (), types: Callable[[str], bool] | None = None
           ) -> list[Finding]:
    """Every resolved finding in ``text``. ``extra`` adds user detectors (patterns, deny-lists);
    ``types`` keeps only findings whose type it accepts (after overlap resolution, so a
    filtered-out card still stops a phone match inside it)."""
    if not text:
        return []
    names = list(all_detectors()) if detectors is None else list(detectors)
    found: list[Finding] = []
    for name in names:
        found.extend(instance(name).find(text))
    for det in extra:
        found.extend(det.find(text))
    resolved = resolve(found)
    return [f for f in resolved if types is None or types(f.type)]
