"""Erasure requests: find every stored row about one person and remove it (``cloister forget``;
this module searches and plans, ``engine.erasure_apply`` carries a plan out).

A person whose data was imported may ask for it to be erased (GDPR article 17 and its
equivalents). Without this, the only way was to find their rows by eye and re-import a
hand-edited file, outside the vault. Here the user gives what identifies the person (a name, an
e-mail address, a customer id); every stored dataset is searched for it
(``engine.data.person_match`` says how a value matches), the matching rows are shown as counts,
and on confirmation each dataset is stored again without them (an atomic replacement: the old
table is unlinked only once the new one is written), with the removal in the dataset's history
and the audit log. Neither ever holds the values searched for.

A dataset anonymized with reversible pseudonyms holds the person under pseudonyms: its mapping
says which, so those are searched for too, and the person's pairs leave the mapping. A pseudonym
that also stands for someone else is not searched for (its rows may be theirs): its entry leaves
the mapping whole, so it no longer leads back to anyone. Runs trained on the rows are named, not
silently kept: a model can remember what it was trained on; ``delete_runs`` deletes them. The
rows a run's test report quotes are searched too, and those naming the person leave the report.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from engine.data.person_spelling import needs_other_form
from engine.data.person_match import check_values, found_spellings, labels_naming, rows_matching
from engine.erasure_traces import (ReportQuotes, audit_mentions, computed_surrogates,
                                   computed_name_pairs, mapped_name_pairs, name_pair_columns,
                                   report_quotes, rows_with_name_pairs, split_mapping,
                                   without_removed_rows)
from engine.data.store import ANONYMIZED_FROM
from engine.erasure_guard import side_digests
from engine.erasure_words import (ERASED_FROM_BACKUPS, check_reference,  # noqa: F401 - said here first
                                  without_advice)
from engine.errors import InputError, Stopped
from engine.events import CancelToken
from engine.units import count_of
from engine.vault import Vault
from engine.runs import runs_by_dataset

# A value matching more rows than this share of a dataset (and more than a handful) is probably
# not about one person: refused unless the user insists (``force``).
BROAD_SHARE = 0.05
BROAD_ROWS = 10
WITHHELD_SOURCE = "(file name withheld: it named a forgotten person)"


@dataclass
class DatasetErasure:
    """One dataset's part of an erasure: which rows go, and what else holds the person."""

    name: str
    rows: int
    remove: np.ndarray
    per_value: dict[str, int]  # rows naming each value (never stored)
    match_all: bool = False  # a row goes when it names every value, not any one
    runs: list[Any] = field(default_factory=list)  # RunRecords trained on these rows
    pseudonyms: int = 0  # the person's pairs in the dataset's reversible mapping
    through_pseudonyms: int = 0  # rows found by those pseudonyms
    shared: int = 0  # pseudonyms that stand for someone else too: dropped, not searched for
    # With ``match_all``: rows that hold the values together only through a pseudonym that also
    # stands for someone else. Such a row may be about either, so it stays, and the mapping
    # keeps its pairs (they go only with removed rows); the user is told how to get a clean copy.
    unsearched: int = 0
    # The reversible mapping without the person's pairs (None: the dataset has none). A store
    # drops the mapping with the old rows, so it is written again with the new ones.
    mapping_left: dict[str, Any] | None = None
    anonymized_from: str | None = None
    sha256: str = ""
    source_named: bool = False  # the name of the file it came from names them
    name_named: bool = False  # its own name does
    stored: Any = None  # the StoredDataset, kept (only where rows go) to store it again

    @property
    def removed(self) -> int:
        return int(self.remove.sum())

    def matched(self, limit: int | None = None, width: int = 90) -> list[tuple[int, str]]:
        """(row number from 1, its text on one line, cut at ``width``) of the rows to remove,
        for the user to check by eye."""
        from engine.data.columns import text_array

        if self.stored is None:
            return []
        rows = np.flatnonzero(self.remove)[:limit]
        texts = text_array(self.stored.table, self.stored.info.mapping).take(pa.array(rows))
        flat = (" ".join(str(t or "").split()) for t in texts.to_pylist())
        return [(int(r) + 1, t if len(t) <= width else t[:width - 1] + "…")
                for r, t in zip(rows, flat)]

    @property
    def changes(self) -> bool:
        return bool(self.removed or self.pseudonyms or self.shared)

    @property
    def broad(self) -> list[tuple[str, int]]:
        """What matches too many rows to be about one person, and how many: a value (as
        written, quoted), "their pseudonyms", or "the values together" (``match_all``)."""
        limit = max(BROAD_ROWS, BROAD_SHARE * self.rows)
        if self.match_all:  # "Jane" alone is in many rows; "Jane" and "Doe" together count
            return [("the values together", self.removed)] if self.removed > limit else []
        found = [(repr(v), n) for v, n in self.per_value.items() if n > limit]
        return found + ([("their pseudonyms", self.through_pseudonyms)]
                        if self.through_pseudonyms > limit else [])


@dataclass
class ErasurePlan:
    values: tuple[str, ...]
    datasets: list[DatasetErasure]
    reports: list[ReportQuotes] = field(default_factory=list)
    audit_entries: int = 0  # audit entries naming them: the chained log cannot change
    skipped: list[str] = field(default_factory=list)  # datasets without the columns named
    # Datasets that could not be read (name, why): rows about the person may be there.
    damaged: list[tuple[str, str]] = field(default_factory=list)
    side: dict[str, str] = field(default_factory=dict)  # engine.erasure_guard.side_digests

    @property
    def affected(self) -> list[DatasetErasure]:
        return [d for d in self.datasets if d.changes]

    @property
    def rows(self) -> int:
        return sum(d.removed for d in self.datasets)

    @property
    def broad(self) -> list[tuple[str, str]]:
        return [(d.name, what) for d in self.datasets for what, _n in d.broad]

    @property
    def whole(self) -> list[str]:
        """Datasets whose every row is about the person: to delete, not to empty."""
        return [d.name for d in self.affected if d.rows and d.removed == d.rows]

    def refusal(self, *, force: bool = False) -> str | None:
        """Why this plan is not carried out as it stands, or None."""
        if self.whole:
            return (f"every row of {', '.join(map(repr, self.whole))} is about this person: "
                    f"delete {'it' if len(self.whole) == 1 else 'them'} with `cloister rm NAME "
                    "--with-runs` instead (nothing was changed)")
        if self.broad and not force:
            listed = "; ".join(f"{what} in {name!r}" for name, what in self.broad)
            return (f"too many rows match to be about one person ({listed}): give a fuller "
                    "value, or name its column with --column; --force removes them anyway "
                    "(nothing was changed)")
        return None

    def notes(self) -> list[str]:
        """What the user should know beside the counts, as sentences (the CLI and the app)."""
        out = [f"Run {q.run_id}'s test report quotes {count_of(q.quotes, 'row')} about them: "
               "the quotes will leave it." for q in self.reports]
        if self.skipped:
            out.append(f"Not searched (no such column): {', '.join(self.skipped)}.")
        for name, why in self.damaged:
            out.append(f"Not searched, damaged: {name!r} ({why.rstrip('.')}). Rows about them may "
                       "be there, so the erasure is incomplete: put it back from a backup and "
                       "search again, or delete it.")
        phones = [v for v in self.values if needs_other_form(v)]
        if phones:
            out.append(f"Numbers are found as given, whatever the spacing: if {phones[0]!r} may "
                       "also be stored with (or without) its country code, give that form too.")
        if self.audit_entries:
            out.append(f"The audit log names them in {count_of(self.audit_entries, 'entry', 'entries')} (a "
                       "file or dataset named after them, a policy's deny-list): it is chained "
                       "to prove that nothing was taken out of it, so those entries stay.")
        return out

    @property
    def runs(self) -> list[Any]:
        """The runs trained on rows about the person (not those of a dataset whose mapping
        alone named them)."""
        seen: dict[str, Any] = {}
        for part in self.affected:
            if not part.removed:
                continue
            for record in part.runs:
                seen.setdefault(record.run_id, record)
        return list(seen.values())


def _names(label: str, values: Sequence[str]) -> bool:
    """Whether a file or dataset name ("Complaints_Klaus_Mueller_2024.csv") names the person."""
    return bool(labels_naming([label], values)[0])


def _rows_about(table: pa.Table, values: Sequence[str], columns: Sequence[str], match_all: bool,
                pseudonyms: dict[str, list[str]], skip: Sequence[str]
                ) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The rows to remove (each value found as written, or one of its pseudonyms found; any
    value, or every one with ``match_all``), the rows found by the values as written alone,
    and how many rows name each value as written."""
    combine = np.logical_and.reduce if match_all else np.logical_or.reduce
    direct_hits, all_hits, per_value = [], [], {}
    for value in values:
        hit, counts = rows_matching(table, [value], columns, skip=skip)
        per_value[value] = counts[value]
        through = rows_matching(table, pseudonyms[value], columns, skip=skip, across=False)[0] \
            if pseudonyms.get(value) else np.zeros(table.num_rows, dtype=bool)
        direct_hits.append(hit)
        all_hits.append(hit | through)
    return combine(all_hits), combine(direct_hits), per_value


def _mapping_of(ws: Vault, name: str) -> dict[str, Any] | None:
    from engine.data.reidentify import MappingLost, NoPseudonymMap, load_pseudonym_map

    try:
        return load_pseudonym_map(ws, name).to_json()
    except (NoPseudonymMap, MappingLost):  # lost: searched as a one-way copy is
        return None


def plan_erasure(ws: Vault, values: Iterable[str], *, datasets: Sequence[str] = (),
                 columns: Sequence[str] = (), match_all: bool = False,
                 cancel: CancelToken | None = None) -> ErasurePlan:
    """Search ``datasets`` (every stored one by default; with ``columns``, those that have
    them) for the person; nothing changes yet. ``match_all``: a row must name every value (a
    first and a last name in their columns). ``cancel`` is looked at between datasets (a lock
    stops the desktop's search).

    Datasets as imported are searched first: how the person is written there ("Hans Mueller",
    "00042") is what a one-way anonymized copy holds the pseudonyms of, and those copies are
    searched for the pseudonyms of those spellings too."""
    from engine.data.store import DatasetDamaged, check_name, dataset_info, list_datasets

    checked = check_values(values, whole_cells=bool(columns))
    if match_all and not columns:
        raise InputError("--match-all needs --column (a first and a last name, each in its "
                         "column); without it, give the full name as one value: 'Jane Doe'")
    damaged: list[tuple[str, str]] = []  # one damaged dataset must not stop the whole search
    infos = [dataset_info(ws, n) for n in dict.fromkeys(map(check_name, datasets))] \
        or list_datasets(ws, damaged=damaged)
    if not infos and not damaged:
        raise InputError("the workspace holds no dataset to search")
    skipped = [i.name for i in infos if not all(c in i.columns for c in columns)]
    infos = [i for i in infos if i.name not in skipped]
    if not infos:
        raise InputError(f"no dataset has the column{'s' if len(columns) > 1 else ''} "
                         f"{', '.join(map(repr, columns))}: `cloister show NAME` lists a "
                         "dataset's columns")
    made = _made_by_anonymization(ws)
    # Anonymized datasets are searched after those as imported, for the person's pseudonyms too.
    copies = [i for i in infos if _source_of(i) or i.name in made]
    spellings: dict[str, set[str]] = {v: {v} for v in checked}
    parts: list[DatasetErasure] = []
    for info in (i for i in infos if i not in copies):
        _check_cancel(cancel)
        try:
            part = _plan_one(ws, info.name, checked, columns, match_all, {})
        except DatasetDamaged as exc:
            damaged.append((info.name, without_advice(str(exc))))
            continue
        if part.stored is not None and part.removed:
            skip = _skip(part.stored.info, columns)
            rows = part.stored.table.filter(pa.array(part.remove))  # a few rows, not all
            for value in checked:
                spellings[value].update(found_spellings(rows, value, columns, skip))
        parts.append(part)
    computed = computed_surrogates(ws, checked, spellings) if copies else {}
    word_pairs = computed_name_pairs(ws, checked) if copies and not columns else {}
    for info in copies:
        _check_cancel(cancel)
        # Only the kinds the copy's policy replaced: in a copy that kept names, a real person
        # who bears this one's computed pseudonym is someone else, not a trace of them.
        policy = made.get(info.name)
        kinds = {v: [s for t, s in pairs if policy is None or policy.pseudonymizes(t)]
                 for v, pairs in computed.items()}
        try:
            parts.append(_plan_one(ws, info.name, checked, columns, match_all, kinds,
                                   [p for ps in word_pairs.values() for p in ps], policy))
        except DatasetDamaged as exc:
            damaged.append((info.name, without_advice(str(exc))))
    runs_of = runs_by_dataset(ws, [part.name for part in parts if part.changes])
    removed_texts, run_ids = set[str](), set[str]()
    for part in parts:
        part.runs = runs_of.get(part.name, [])
        run_ids.update(r.run_id for r in part.runs)
        if part.stored is not None and part.removed:
            removed_texts.update(str(t) for t in _texts(part) if t)
    reports = report_quotes(ws, values=() if columns else checked, removed_texts=removed_texts,
                            run_ids=run_ids if datasets else None, match_all=match_all)
    return ErasurePlan(values=checked, datasets=parts, reports=reports,
                       audit_entries=audit_mentions(ws, checked), skipped=skipped,
                       damaged=damaged, side=side_digests(
                           ws, [p.name for p in parts if p.changes], [q.run_id for q in reports]))


def _check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise Stopped("the search was stopped; nothing was changed")


def _made_by_anonymization(ws: Vault) -> dict[str, Any]:
    """Datasets whose current contents the audit log says anonymization made, ``import
    --anonymize`` included (``engine.data.anonymize.privacy_review``: it follows renames, fixes
    and erasures, and forgets a name imported again or deleted). Without it, an erasure searched
    a dataset made by ``import --anonymize`` for the values alone and reported "nothing found"
    while the person's rows stayed. Each with the policy that made it (None where it cannot be
    read, or the copy was made from another anonymized copy, whose pseudonyms it holds too:
    then every kind of pseudonym is searched for)."""
    if not hasattr(ws, "verify_audit"):
        return {}
    from engine.data.anonymize import privacy_reviews, review_policy

    return {name: None if details.get("from_anonymized") else review_policy(ws, details)
            for name, (action, details) in privacy_reviews(ws).items() if action == "dataset.anonymized"}


def _source_of(info: Any) -> str | None:
    """The dataset an anonymized copy was made from (its description says so), else None."""
    return next((p.removeprefix(ANONYMIZED_FROM).strip("'\"")
                 for p in info.problems if p.startswith(ANONYMIZED_FROM)), None)


def _skip(info: Any, columns: Sequence[str]) -> list[str]:
    """The label column, outside ``columns``: a label is a class, not a person's value."""
    return [info.mapping.label_column] if info.mapping.label_column and not columns else []


def _texts(part: DatasetErasure) -> list[Any]:
    from engine.data.columns import text_array

    table = part.stored.table.filter(pa.array(part.remove))
    return text_array(table, part.stored.info.mapping).to_pylist()


def _plan_one(ws: Vault, name: str, checked: tuple[str, ...], columns: Sequence[str],
              match_all: bool, computed: dict[str, list[str]],
              name_pairs: Sequence[tuple[str, str]] = (), policy: Any = None) -> DatasetErasure:
    from engine.data.store import load_dataset

    stored = load_dataset(ws, name, head=0)  # searched as a table: no Python strings of it
    mapping = _mapping_of(ws, name)
    per_value_surrogates, pseudonyms, shared, mapping_left = split_mapping(
        mapping, checked, bool(columns)) if mapping else ({}, 0, [], None)
    shared_of: dict[str, list[str]] = {}
    if match_all and mapping is not None:
        # "Hans" alone names every Hans: the pairs go only with the rows (below), never
        # because one of the values names them. Each value's pseudonyms that also stand for
        # someone else are kept aside: a row holding them may be about either.
        shared_of = {v: split_mapping(mapping, [v], bool(columns))[2] for v in checked}
        pseudonyms, shared, mapping_left = 0, [], mapping
    # Pseudonyms the mapping gives to someone else are theirs, whatever the key computes.
    others = set(mapping["pairs"]) - {s for v in per_value_surrogates.values() for s in v} \
        if mapping else set()
    # The person's pseudonyms, wherever they stand in the anonymized rows: the mapping's, and
    # in an anonymized copy those the workspace's key gives how they are written.
    theirs = {v: [*per_value_surrogates.get(v, []),
                  *(c for c in computed.get(v, []) if c not in others)] for v in checked}
    skip = _skip(stored.info, columns)
    mask, direct, per_value = _rows_about(stored.table, checked, columns, match_all, theirs, skip)
    # A full name typed whole, in a copy whose policy pseudonymized its first- and last-name
    # columns cell by cell: reversibly, the mapping's pairs are the person's; one-way, the
    # key's pairs may be someone else's too, so those rows are only said.
    maybe = np.zeros(stored.info.rows, dtype=bool)  # rows that may be about them: only said
    paired = name_pair_columns(stored.table, policy, skip) if not columns else None
    if paired is not None and paired[1] and mapping is not None:
        sure, shared_pairs = mapped_name_pairs(mapping, checked)
        mask |= rows_with_name_pairs(stored.table, paired[0], sure)
        maybe |= rows_with_name_pairs(stored.table, paired[0], shared_pairs)
    elif paired is not None:
        maybe |= rows_with_name_pairs(stored.table, paired[0], name_pairs)
    if any(shared_of.values()):  # rows found only when the shared pseudonyms count too
        maybe |= _rows_about(stored.table, checked, columns, match_all,
                             {v: [*theirs[v], *shared_of[v]] for v in checked}, skip)[0]
    unsearched = int((maybe & ~mask).sum())
    dropped = 0
    if mapping_left is not None and mask.any():  # pairs only the removed rows held
        mapping_left, dropped = without_removed_rows(
            mapping_left, stored.table.filter(pa.array(mask)), stored.table.filter(pa.array(~mask)))
    part = DatasetErasure(
        name=name, rows=stored.info.rows, remove=mask, per_value=per_value, match_all=match_all,
        pseudonyms=pseudonyms + dropped, through_pseudonyms=int((mask & ~direct).sum()),
        shared=len(shared), unsearched=unsearched, mapping_left=mapping_left,
        anonymized_from=_source_of(stored.info),
        sha256=stored.info.sha256, source_named=_names(stored.info.source_name, checked),
        name_named=_names(name, checked))
    if part.changes:  # only these stay decrypted in memory until the removal
        part.stored = stored  # and its runs, for all parts at once (``runs_by_dataset``)
    return part
