"""The import's fixes on a dataset already in the vault, without its source file: what
`cloister fix` and the Datasets page's Fix… dialog both do. The fixed rows replace the stored
ones all at once (or go under another name); each fix joins the dataset's history and the audit
log; runs trained on the old rows keep their records. A refused fix changes nothing.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.data.fix_suggest import FixOption
    from engine.data.importing.table import ImportedTable
    from engine.data.problems import Problem
    from engine.data.store import DatasetInfo
    from engine.vault import Vault


def checked(info: DatasetInfo, imported: ImportedTable) -> list[Problem]:
    """``imported`` validated as the dataset ``info`` describes it (its columns, its rule for
    incomplete rows, its label delimiter)."""
    from engine.data.validation import validate

    return validate(imported, info.mapping, skip_incomplete=info.skip_incomplete,
                    label_delimiter=info.label_delimiter)


def stored_fix_options(ws: Vault, name: str) -> tuple[DatasetInfo, list[Problem], list[FixOption]]:
    """The dataset's problems now, and a previewed option per fix that resolves one of them
    (for multi-label data, none that drops or relabels whole rows by class)."""
    from engine.data.fix_suggest import suggest_fixes
    from engine.data.store import load_dataset

    stored = load_dataset(ws, name, head=0)  # the table is what is checked: no Python strings
    imported = stored.as_imported()
    problems = checked(stored.info, imported)
    options = suggest_fixes(imported.table, stored.info.mapping, problems,
                            label_delimiter=stored.info.label_delimiter)
    return stored.info, problems, options


def apply_stored_fix(ws: Vault, name: str, fix: Any, *, offered_on: str | None = None) -> DatasetInfo:
    """``fix`` applied to the stored dataset ``name``, in place. Raises ``FixRefused`` (nothing
    stored changes) when it would leave too few rows or classes. ``offered_on``: the sha256 of
    the contents the fix was offered for (a window's Fix… list); another since (a command
    stored the dataset again) is refused with ``DatasetChanged``, not fixed unseen."""
    from engine.data.dataset_writes import changed_since_read
    from engine.data.fixes import apply_fixes
    from engine.data.store import DatasetNotFound, load_dataset

    try:
        stored = load_dataset(ws, name, head=0)
    except DatasetNotFound:
        if offered_on is None:
            raise
        raise changed_since_read(name, deleted=True) from None
    if offered_on is not None and stored.info.sha256 != offered_on:
        raise changed_since_read(name)
    imported = stored.as_imported()
    table, report = apply_fixes(imported.table, stored.info.mapping, [fix])
    fixed = dataclasses.replace(imported, table=table, problems=())
    return store_fixed(ws, stored.info, fixed, report.history(), checked(stored.info, fixed))


def store_fixed(ws: Vault, info: DatasetInfo, fixed: ImportedTable, history: Sequence[dict[str, Any]],
                problems: list[Problem], *, target: str | None = None,
                replace: bool = False) -> DatasetInfo:
    """Store ``fixed`` (the dataset ``info`` with ``history``'s fixes applied) in its place, or
    as ``target``."""
    from engine.data.dataset_writes import writing_datasets
    from engine.data.reidentify import mapping_expected
    from engine.data.store import pseudonym_map_key, save_dataset

    target = target or info.name
    with writing_datasets(ws):  # the mapping read below is the one stored now, not before a wait
        # A reversible anonymization's mapping still holds for the fixed rows (fixes drop or
        # relabel rows, never change a text's pseudonyms); the save drops it with the old
        # contents, so it goes back in with the new ones.
        key = pseudonym_map_key(info.name)
        kept = ws.read_bytes(key) if ws.has(key) else None

        def keep_mapping(saved: Any) -> None:
            if kept is not None:
                ws.write_bytes(pseudonym_map_key(saved.name), kept)

        return save_dataset(ws, target, fixed, info.mapping, problems=problems,
                            overwrite=target == info.name or replace,
                            skip_incomplete=info.skip_incomplete, history=(*info.history, *history),
                            history_audited=len(info.history), label_delimiter=info.label_delimiter,
                            after_commit=keep_mapping, fixed_from=info.name, created=info.created,
                            made_from={info.name: info.sha256},
                            expects_mapping=kept is not None or mapping_expected(ws, info.name))
