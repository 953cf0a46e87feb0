"""What a dataset's fixes did to its labels, for reading other data as the model was trained.

`cloister import --min-class-size 10 --merge-small-into other` (or `--drop-small`,
`--drop-class`, `--merge-label-variants`, and the same in `cloister fix`) trains a model that
never saw 'Student loan': its rows were 'other', or were left out. Scored on the source file, a
run refused every row of those classes as "labels the model was not trained on" and told the
user to edit the file by hand, outside the vault. The fixes' steps keep which labels went where;
``label_fixes`` composes them into one map, which a run keeps from training.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DROPPED = ""  # the label of rows a fix left out


def _step_map(step: Mapping[str, Any]) -> dict[str, str]:
    """One fix step's labels: each merged label to the label it became, dropped ones to ''."""
    kind, details = step.get("kind"), step.get("details") or {}
    if kind == "merge-label-variants":
        return {str(variant): str(kept) for kept, variants in dict(details.get("merged") or {}).items()
                for variant in variants or ()}
    if kind == "drop-classes":
        return {str(label): DROPPED for label in details.get("classes") or ()}
    if kind == "small-classes":
        into = details.get("into")
        return {str(label): str(into) if into else DROPPED for label in details.get("classes") or ()}
    return {}


def label_fixes(history: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each label that a fix in ``history`` (in order) merged into another or dropped, with what
    it became at the end: 'Student loan' merged into 'other', then 'other' dropped, is dropped."""
    fixes: dict[str, str] = {}
    for step in history:
        now = _step_map(step)
        if not now:
            continue
        fixes = {label: became if became == DROPPED else now.get(became, became)
                 for label, became in fixes.items()}
        for label, became in now.items():
            fixes.setdefault(label, became)
    return {label: became for label, became in fixes.items() if label != became}
