"""Erasure requests: find every stored row about one person and remove it (``cloister forget``).

A person whose data was imported may ask for it to be erased (GDPR article 17 and its
equivalents). Without this, the only way was to find their rows by eye and re-import a
hand-edited file, outside the vault. Here the user gives what identifies the person (a name, an
e-mail address, a customer id); every stored dataset is searched for it, the matching rows are
shown as counts, and on confirmation each dataset is stored again without them (an atomic
replacement: the old table is unlinked only once the new one is written), with the removal in the
dataset's history and the audit log. Neither ever holds the values searched for.

How a value matches (``value_pattern``): case-insensitively, wherever it stands as whole words
in any column (so "Jane Doe" is found in "Call from Jane Doe today" but "Al" never inside
"Alice"); a value of mostly digits (a phone or account number) also matches when written with
other spaces, dots, dashes or brackets between its digits. With ``columns``, a value matches only
the whole value of a cell of those columns: a customer id "42" is that id, not "42" inside a text.

A dataset anonymized with reversible pseudonyms holds the person under pseudonyms: its mapping
says which, so those are searched for too, and the person's pairs leave the mapping. Runs trained
on the rows are named, not silently kept: a model can remember what it was trained on, and a
test report quotes test rows; ``delete_runs`` deletes them.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import InputError
from engine.units import count_of
from engine.vault import Vault

# Shorter values would match inside too many other names and words to be about one person.
MIN_VALUE_LENGTH = 3
# A value matching more rows than this share of a dataset (and more than a handful) is probably
# not about one person: said before anything is removed.
BROAD_SHARE = 0.05
BROAD_ROWS = 10
_NOT_WORD = r"[^\pL\pN_]"  # RE2: a letter or digit of any script continues a word
_DIGITS_SEPARATORS = r"[\s./()\-]*"
ANONYMIZED_FROM = "anonymized from dataset "  # how an anonymized copy's metadata names its source


def check_values(values: Iterable[str], *, whole_cells: bool = False) -> tuple[str, ...]:
    """The values, trimmed, NFC (as imports store text) and without repeats; InputError for an
    empty one, or (outside ``whole_cells``) one too short to be about one person."""
    out: list[str] = []
    for raw in values:
        value = " ".join(unicodedata.normalize("NFC", raw).split())
        if not value:
            raise InputError("an empty value identifies nobody: give a name, an e-mail address or "
                             "an identifier")
        if not whole_cells and len(value) < MIN_VALUE_LENGTH:
            raise InputError(f"{value!r} is too short to identify one person (it would match "
                             "inside other words and names): give a full name, an e-mail address "
                             "or an identifier, or name the column it fills with --column")
        if value.casefold() not in {v.casefold() for v in out}:
            out.append(value)
    if not out:
        raise InputError("give at least one value that identifies the person")
    return tuple(out)


def value_pattern(value: str) -> str:
    """An RE2 pattern finding ``value`` as whole words, whatever the whitespace between them."""
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and re.fullmatch(r"[\d\s+./()\-]+", value):  # a phone or account number
        body = _DIGITS_SEPARATORS.join(digits)
        return rf"(?:^|[^\pN]){body}(?:$|[^\pN])"
    body = r"\s+".join(re.escape(part) for part in value.split())
    before = rf"(?:^|{_NOT_WORD})" if _is_word_char(value[0]) else ""
    after = rf"(?:$|{_NOT_WORD})" if _is_word_char(value[-1]) else ""
    return before + body + after


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _as_strings(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # lists and other nested values hold no text a person is named by


def _column_matches(column: pa.ChunkedArray, value: str, whole_cells: bool) -> np.ndarray:
    strings = _as_strings(column)
    if strings is None:
        return np.zeros(len(column), dtype=bool)
    if whole_cells:
        found = pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(strings)), value.lower())
    else:
        found = pc.match_substring_regex(strings, value_pattern(value), ignore_case=True)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def rows_matching(table: pa.Table, values: Sequence[str], columns: Sequence[str] = ()
                  ) -> tuple[np.ndarray, dict[str, int]]:
    """Which rows of ``table`` name any of ``values`` (a mask), and how many rows each names."""
    searched = list(columns) or list(table.column_names)
    missing = [c for c in searched if c not in table.column_names]
    if missing:
        raise InputError(f"no column {missing[0]!r} here: the columns are "
                         f"{', '.join(table.column_names)}")
    mask = np.zeros(table.num_rows, dtype=bool)
    per_value: dict[str, int] = {}
    for value in values:
        hit = np.zeros(table.num_rows, dtype=bool)
        for name in searched:
            hit |= _column_matches(table.column(name), value, whole_cells=bool(columns))
        per_value[value] = int(hit.sum())
        mask |= hit
    return mask, per_value


@dataclass
class DatasetErasure:
    """One dataset's part of an erasure: which rows go, and what else holds the person."""

    name: str
    rows: int
    remove: np.ndarray
    per_value: dict[str, int]
    runs: list[Any] = field(default_factory=list)  # RunRecords trained on these rows
    pseudonyms: int = 0  # the person's pairs in the dataset's reversible mapping
    # The reversible mapping without the person's pairs (None: the dataset has none). A store
    # drops the mapping with the old rows, so it is written again with the new ones.
    mapping_left: dict[str, Any] | None = None
    anonymized_from: str | None = None
    stored: Any = None  # the StoredDataset, kept to store it again without the rows

    @property
    def removed(self) -> int:
        return int(self.remove.sum())

    @property
    def broad(self) -> list[str]:
        """The values that match too many rows to be about one person."""
        limit = max(BROAD_ROWS, BROAD_SHARE * self.rows)
        return [v for v, n in self.per_value.items() if n > limit]


@dataclass
class ErasurePlan:
    values: tuple[str, ...]
    datasets: list[DatasetErasure]

    @property
    def affected(self) -> list[DatasetErasure]:
        return [d for d in self.datasets if d.removed or d.pseudonyms]

    @property
    def rows(self) -> int:
        return sum(d.removed for d in self.datasets)

    @property
    def runs(self) -> list[Any]:
        seen: dict[str, Any] = {}
        for part in self.affected:
            for record in part.runs:
                seen.setdefault(record.run_id, record)
        return list(seen.values())


def _pseudonyms_of(ws: Vault, name: str, values: Sequence[str]
                   ) -> tuple[list[str], int, dict[str, Any] | None]:
    """The surrogates that stand for ``values`` in dataset ``name``'s reversible mapping, how many
    pairs name the person, and the mapping without those pairs (None: no mapping)."""
    from engine.data.reidentify import NoPseudonymMap, load_pseudonym_map

    try:
        mapping = load_pseudonym_map(ws, name).to_json()
    except NoPseudonymMap:
        return [], 0, None
    pairs: dict[str, list[list[str]]] = mapping["pairs"]
    surrogates: list[str] = []
    removed = 0
    kept: dict[str, list[list[str]]] = {}
    for surrogate, entries in pairs.items():
        originals = pa.array([original for _entity, original in entries], pa.string())
        hit = np.zeros(len(entries), dtype=bool)
        for value in values:
            hit |= _column_matches(pa.chunked_array([originals]), value, whole_cells=False)
        if hit.any():
            surrogates.append(surrogate)
            removed += int(hit.sum())
        left = [entry for entry, found in zip(entries, hit) if not found]
        if left:
            kept[surrogate] = left
    return surrogates, removed, {**mapping, "pairs": kept}


def plan_erasure(ws: Vault, values: Iterable[str], *, datasets: Sequence[str] = (),
                 columns: Sequence[str] = ()) -> ErasurePlan:
    """Search ``datasets`` (every stored one by default) for the person; nothing changes yet."""
    from engine.data.store import dataset_info, list_datasets, load_dataset
    from engine.runs import runs_on

    checked = check_values(values, whole_cells=bool(columns))
    names = [dataset_info(ws, n).name for n in datasets] or [i.name for i in list_datasets(ws)]
    if not names:
        raise InputError("the workspace holds no dataset to search")
    if columns:
        for name in names:
            stored_columns = dataset_info(ws, name).columns
            for column in columns:
                if column not in stored_columns:
                    raise InputError(f"dataset {name!r} has no column {column!r} (its columns: "
                                     f"{', '.join(stored_columns)}); name one dataset with "
                                     "--dataset, or leave out --column")
    parts = []
    for name in names:
        stored = load_dataset(ws, name)
        surrogates, pseudonyms, mapping_left = _pseudonyms_of(ws, name, checked)
        mask, per_value = rows_matching(stored.table, checked, columns)
        if surrogates:  # the person's pseudonyms, wherever they stand in the anonymized rows
            through, _ = rows_matching(stored.table, surrogates)
            mask |= through
        source = next((p.removeprefix(ANONYMIZED_FROM).strip("'\"")
                       for p in stored.info.problems if p.startswith(ANONYMIZED_FROM)), None)
        parts.append(DatasetErasure(
            name=name, rows=stored.info.rows, remove=mask, per_value=per_value,
            runs=runs_on(ws, name) if mask.any() or pseudonyms else [], pseudonyms=pseudonyms,
            mapping_left=mapping_left, anonymized_from=source,
            stored=stored))
    return ErasurePlan(values=checked, datasets=parts)


@dataclass(frozen=True)
class ErasureDone:
    rows: dict[str, int]  # dataset -> rows removed
    runs_deleted: tuple[str, ...]
    pseudonyms: int


def carry_out(ws: Vault, plan: ErasurePlan, *, delete_runs: bool = False,
              said: Callable[[str], None] = lambda _line: None) -> ErasureDone:
    """Store each affected dataset again without the person's rows (and its mapping without their
    pseudonyms), then, with ``delete_runs``, delete the runs trained on them.

    Refused before anything changes when every row of a dataset is about the person (delete the
    dataset instead) or a run to delete is being trained. Each dataset is replaced atomically;
    a failure between two leaves the earlier ones done and the rest as they were, so running
    the same request again finishes it."""
    from engine.data.store import dataset_info, save_dataset
    from engine.data.validation import validate
    from engine.runs import check_deletable, delete_run

    whole = [d.name for d in plan.affected if d.removed == d.rows]
    if whole:
        raise InputError(f"every row of {', '.join(map(repr, whole))} is about this person: "
                         f"delete {'it' if len(whole) == 1 else 'them'} with `cloister rm NAME "
                         "--with-runs` instead (nothing was changed)")
    if delete_runs:
        check_deletable(ws, plan.runs, how="`cloister rm-run RUN --force`")
    for part in plan.affected:  # another window or command may have changed one meanwhile
        if dataset_info(ws, part.name).sha256 != part.stored.info.sha256:
            raise InputError(f"dataset {part.name!r} changed since it was searched (nothing was "
                             "changed): search again")
    done: dict[str, int] = {}
    for part in plan.affected:
        stored, info = part.stored, part.stored.info
        if not part.removed:  # only its mapping named them (their rows were dropped before)
            _mapping_writer(ws, part.mapping_left)(info)
            said(f"removed {count_of(part.pseudonyms, 'pseudonym')} from the mapping of "
                 f"{info.name!r}")
            continue
        imported = replace(stored.as_imported(), table=stored.table.filter(pa.array(~part.remove)),
                           problems=())
        problems: list[Any] = [line for line in info.problems if line.startswith(ANONYMIZED_FROM)]
        problems += validate(imported, info.mapping, skip_incomplete=info.skip_incomplete,
                             label_delimiter=info.label_delimiter)
        step = {"kind": "forget", "rows_removed": part.removed, "rows_changed": 0,
                "description": f"removed {count_of(part.removed, 'row')} about a person who asked "
                               "to be forgotten (the values searched for are not kept)"}
        save_dataset(ws, info.name, imported, info.mapping, problems=problems, overwrite=True,
                     skip_incomplete=info.skip_incomplete, history=(*info.history, step),
                     history_audited=len(info.history), label_delimiter=info.label_delimiter,
                     after_commit=_mapping_writer(ws, part.mapping_left),
                     fixed_from=info.name)
        done[info.name] = part.removed
        said(f"removed {count_of(part.removed, 'row')} from {info.name!r}"
             + (f" and {count_of(part.pseudonyms, 'pseudonym')} from its mapping"
                if part.pseudonyms else ""))
    deleted = []
    if delete_runs:
        for record in plan.runs:
            delete_run(ws, record.run_id)
            deleted.append(record.run_id)
            said(f"deleted run {record.run_id} (its model, report and checkpoint)")
    ws.audit("person.forgotten", datasets=done, runs_deleted=deleted,
             pseudonyms=sum(d.pseudonyms for d in plan.affected))
    return ErasureDone(rows=done, runs_deleted=tuple(deleted),
                       pseudonyms=sum(d.pseudonyms for d in plan.affected))


def _mapping_writer(ws: Vault, mapping: dict[str, Any] | None) -> Callable[[Any], None]:
    from engine.data.reidentify import save_pseudonym_map
    from privacy.pii.reversible import PseudonymMap

    def write(saved: Any) -> None:
        if mapping is not None:
            save_pseudonym_map(ws, saved.name, PseudonymMap.from_json(mapping))
    return write
