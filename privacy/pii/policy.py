"""The anonymization policy: a TOML file saying what happens to each entity type and column.

Read with ``load_policy(path)`` or ``parse_policy(text, source=...)``. Every mistake raises
PolicyError naming the file, the line where it can be found, and the setting: an unknown
entity type or action, malformed TOML, a pattern that is not a valid regex or that backtracks
catastrophically. Column names are checked against a table by ``Policy.check_columns`` before
anything is written. The format is documented in README.md ("The anonymization policy") and
in resources/anonymize-policy.example.toml.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privacy.errors import PrivacyError
from privacy.text_files import read_typed_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is the same parser, before it joined the stdlib)
    import tomli as tomllib
from privacy.pii.custom import CustomPattern, DenyList, PatternError
from privacy.pii.operators import DATE_ACTIONS, Operator, action_spec, actions
from privacy.pii.findings import Finding
from privacy.pii.name_model import NAME_MODES, shared_detector
from privacy.pii.registry import Detector, all_detectors, detect, entity_types

POLICY_VERSION = 1
_TOP_KEYS = {"version", "scan_columns", "min_score", "entities", "columns", "patterns",
             "deny_lists", "date_shift", "names"}
DEFAULT_ACTION = "tag"


class PolicyError(PrivacyError):
    """A policy file that cannot be used as written; the message names where and why."""

    exit_code = 2


@dataclass
class ColumnRule:
    column: str
    operator: Operator
    entity: str  # what the cells hold, for the surrogate's kind ("PERSON") or the tag


@dataclass
class Policy:
    source: str = "<policy>"
    entities: dict[str, Operator] = field(default_factory=dict)
    default: Operator = field(default_factory=lambda: Operator(DEFAULT_ACTION))
    columns: dict[str, ColumnRule] = field(default_factory=dict)
    scan_columns: list[str] | None = None  # None: every text column but the label
    min_score: float = 0.5
    detectors: list[Detector] = field(default_factory=list)  # user patterns and deny-lists
    date_shift_key: str | None = None
    max_shift_days: int = 365
    text: str = ""  # the policy as written, recorded in the audit log
    # Who finds names: "rules" (fast, the default), "model" (the bundled token classifier:
    # thorough, ~90 records/s on a CPU) or "both" (privacy.pii.name_model).
    names: str = "rules"

    def _builtin(self) -> list[str] | None:
        return None if self.names != "model" else [n for n in all_detectors() if n != "names"]

    def _extra(self) -> list[Detector]:
        return [*self.detectors, shared_detector()] if self.names != "rules" else self.detectors

    def find(self, text: str) -> list[Finding]:
        """The findings in ``text`` this policy acts on (at or above its ``min_score``)."""
        return [f for f in detect(text, detectors=self._builtin(), extra=self._extra())
                if f.score >= self.min_score]

    def prefetch(self, texts: Iterable[str]) -> None:
        """Let the name model read many texts in one batch before ``find`` asks one by one."""
        if self.names != "rules":
            shared_detector().prefetch(texts)

    @property
    def reversible(self) -> bool:
        """Whether any pseudonym action has ``reversible = true``: then anonymizing keeps the
        surrogate -> original mapping (encrypted, in the vault; ``privacy.pii.reversible``)."""
        ops = [self.default, *self.entities.values(), *(r.operator for r in self.columns.values())]
        return any(op.action == "pseudonym" and op.params.get("reversible") is True for op in ops)

    def operator_for(self, entity: str) -> Operator:
        return self.entities.get(entity, self.default)

    def pseudonymizes(self, entity: str) -> bool:
        """Whether this policy writes keyed pseudonyms for ``entity``, in texts or in a column:
        only then can a copy it made hold a person's computed pseudonym of that kind."""
        return self.operator_for(entity).action == "pseudonym" or any(
            r.entity == entity and r.operator.action == "pseudonym" for r in self.columns.values())

    def operators(self, types: Iterable[str]) -> dict[str, Operator]:
        return {t: self.operator_for(t) for t in types}

    def named_columns(self) -> list[tuple[str, str]]:
        """Each column the policy names, with the setting that names it ('columns', ...)."""
        named = [("columns", c) for c in self.columns]
        named += [("scan_columns", c) for c in self.scan_columns or ()]
        if self.date_shift_key:
            named.append(("date_shift.key_column", self.date_shift_key))
        return named

    def where(self, column: str) -> str:
        """'policy.toml line 7': where the policy names ``column`` (for a message)."""
        return f"{self.source}{_line_of(self.text, column)}"

    def check_columns(self, available: Iterable[str]) -> None:
        have = list(available)
        for setting, column in self.named_columns():
            if column not in have:
                raise PolicyError(f"{self.where(column)}: {setting} names "
                                  f"column {column!r}, which the data does not have; its columns "
                                  f"are {', '.join(repr(c) for c in have)}")


def _line_of(text: str, word: str) -> str:
    """' line N' for the first line that mentions ``word`` as a key or a quoted value."""
    pattern = re.compile(rf"^\s*(?:{re.escape(word)}\s*=|.*[\"']{re.escape(word)}[\"'])")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line):
            return f" line {number}"
    return ""


def _bare_key_hint(text: str, message: str) -> str:
    """TOML takes only ASCII letters, digits, - and _ in a bare key: a column name with an
    accent or a space ("Assuré = ...") must be quoted, which tomllib's message does not say."""
    found = re.search(r"at line (\d+)", message)
    lines = text.splitlines()
    if not found or not 0 < int(found[1]) <= len(lines):
        return ""
    key = lines[int(found[1]) - 1].split("=", 1)[0].strip()
    if key and key[0] not in "\"'[#" and re.search(r"[^A-Za-z0-9_.-]", key):
        return f'; a name with accents or spaces must be in quotes: "{key}" = ...'
    return ""


def load_policy(path: Path) -> Policy:
    path = Path(path)
    try:
        text = read_typed_text(path)
    except FileNotFoundError:
        raise PolicyError(f"policy file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from None
    return parse_policy(text, source=str(path))


def _operator(value: Any, where: str, src: str, text: str, key: str, *,
              column: bool = False) -> tuple[Operator, dict[str, Any]]:
    allowed = actions(column=column)
    if isinstance(value, str):
        action, params = value, {}
    elif isinstance(value, Mapping) and isinstance(value.get("action"), str):
        params = {k: v for k, v in value.items() if k != "action"}
        action = value["action"]
    else:
        raise PolicyError(f"{src}{_line_of(text, key)}: {where} must be an action name or a table "
                          f"with 'action = ...'; got {value!r}")
    if action not in allowed:
        raise PolicyError(f"{src}{_line_of(text, key)}: {where}: unknown action {action!r}; use "
                          f"one of {', '.join(allowed)}")
    spec = action_spec(action)
    extra = set(params) - spec.params - ({"entity"} if column else set())
    if extra:
        raise PolicyError(f"{src}{_line_of(text, key)}: {where}: {action!r} takes no setting "
                          f"{sorted(extra)[0]!r} (it takes {sorted(spec.params) or 'none'})")
    wrong = spec.check(params) if spec.check is not None else None
    if wrong:
        raise PolicyError(f"{src}{_line_of(text, key)}: {where}: {wrong}")
    return Operator(action, {k: v for k, v in params.items() if k != "entity"}), params


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    # Composed (NFC) as imported data is: a deny-list term or column name typed with combining
    # accents (macOS, some editors) matched nothing ("Station Löwenzahn": 0 rows).
    text = unicodedata.normalize("NFC", text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends in "(at line N, column M)": keep it, it is the useful part.
        raise PolicyError(f"{source}: not valid TOML: {exc}{_bare_key_hint(text, str(exc))}") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise PolicyError(f"{source}{_line_of(text, key)}: unknown setting {key!r}; the settings "
                          f"are {', '.join(sorted(_TOP_KEYS))}")
    version = data.get("version", POLICY_VERSION)
    if version != POLICY_VERSION:
        raise PolicyError(f"{source}{_line_of(text, 'version')}: version {version!r} is not "
                          f"supported (this Cloister reads version {POLICY_VERSION})")
    policy = Policy(source=source, text=text)
    custom_types: set[str] = set()
    for i, spec in enumerate(data.get("patterns", [])):
        where = f"patterns[{i}]"
        if not isinstance(spec, Mapping) or not isinstance(spec.get("regex"), str) \
                or not isinstance(spec.get("entity"), str):
            raise PolicyError(f"{source}: {where} needs entity = \"NAME\" and regex = '...'")
        try:
            det = CustomPattern(spec["entity"].upper(), spec["regex"],
                                ignore_case=bool(spec.get("ignore_case", False)),
                                label=f"{source}{_line_of(text, spec['regex'])}: {where}")
        except PatternError as exc:
            raise PolicyError(str(exc)) from None
        policy.detectors.append(det)
        custom_types.add(det.entity)
        if "action" in spec:
            policy.entities[det.entity] = _operator(spec["action"], f"{where}.action", source, text,
                                                    "action")[0]
    for i, spec in enumerate(data.get("deny_lists", [])):
        where = f"deny_lists[{i}]"
        if not isinstance(spec, Mapping) or not isinstance(spec.get("entity"), str) \
                or not isinstance(spec.get("terms"), list):
            raise PolicyError(f"{source}: {where} needs entity = \"NAME\" and terms = [\"...\"]")
        try:
            deny = DenyList(spec["entity"].upper(), [str(t) for t in spec["terms"]],
                            label=f"{source}: {where}")
        except PatternError as exc:
            raise PolicyError(str(exc)) from None
        policy.detectors.append(deny)
        custom_types.add(deny.entity)
        if "action" in spec:
            policy.entities[deny.entity] = _operator(spec["action"], f"{where}.action", source, text,
                                                    "action")[0]
    known = entity_types() | custom_types
    entities = data.get("entities", {})
    if not isinstance(entities, Mapping):
        raise PolicyError(f"{source}{_line_of(text, 'entities')}: [entities] must be a table")
    for entity, value in entities.items():
        if entity == "default":
            policy.default = _operator(value, "entities.default", source, text, entity)[0]
            continue
        if entity not in known:
            raise PolicyError(f"{source}{_line_of(text, entity)}: [entities] {entity}: unknown "
                              f"entity type {entity!r}; known: {', '.join(sorted(known))} (or "
                              "define it under [[patterns]] / [[deny_lists]])")
        policy.entities[entity] = _operator(value, f"entities.{entity}", source, text, entity)[0]
    columns = data.get("columns", {})
    if not isinstance(columns, Mapping):
        raise PolicyError(f"{source}{_line_of(text, 'columns')}: [columns] must be a table")
    for column, value in columns.items():
        op, params = _operator(value, f"columns.{column}", source, text, column, column=True)
        # What the cells hold unless said: a date rule's are dates, so one it cannot read is
        # tagged <DATE>, not <ID> (an identifier is what any other column rule is taken for).
        entity = str(params.get("entity", "DATE" if op.action in DATE_ACTIONS else "ID")).upper()
        if entity != "ID" and entity not in known:
            raise PolicyError(f"{source}{_line_of(text, column)}: columns.{column}: unknown entity "
                              f"type {entity!r}; known: {', '.join(sorted(known))}")
        policy.columns[column] = ColumnRule(column, op, entity)
    scan = data.get("scan_columns")
    if scan is not None:
        if not isinstance(scan, list) or not all(isinstance(c, str) for c in scan):
            raise PolicyError(f"{source}{_line_of(text, 'scan_columns')}: scan_columns must be a "
                              "list of column names")
        policy.scan_columns = list(scan)
    score = data.get("min_score", 0.5)
    if not isinstance(score, (int, float)) or not 0 <= score <= 1:
        raise PolicyError(f"{source}{_line_of(text, 'min_score')}: min_score must be between 0 and 1")
    policy.min_score = float(score)
    names = data.get("names", "rules")
    if names not in NAME_MODES:
        raise PolicyError(f"{source}{_line_of(text, 'names')}: names must be one of "
                          f"{', '.join(repr(m) for m in NAME_MODES)}; got {names!r}")
    policy.names = names
    shift = data.get("date_shift", {})
    if not isinstance(shift, Mapping) or set(shift) - {"key_column", "max_days"}:
        raise PolicyError(f"{source}{_line_of(text, 'date_shift')}: [date_shift] takes key_column "
                          "and max_days")
    policy.date_shift_key = shift.get("key_column")
    policy.max_shift_days = int(shift.get("max_days", 365))
    return policy
