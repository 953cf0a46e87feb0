"""Datasets in the workspace: an imported table stored as encrypted Parquet plus encrypted metadata.

Layout inside the workspace (keys, never file names — see privacy/vault/FORMAT.md)::

    datasets/<name>/meta.json                  mapping, counts, source name, table digest, ...
    datasets/<name>/table-<sha256[:16]>.parquet  the whole imported table (every column)
    datasets/<name>/pseudonym-map.json         only after a reversible anonymization: the
                                               surrogate -> original mapping (engine.data.reidentify)

The table key carries its digest, and ``meta.json`` names the table it describes. Saving writes
the new table first and the new meta second (each atomic), then removes the old table, so a
crash at any point leaves the previous dataset or the new one, never a mix. Parquet is built in
memory (``pyarrow.BufferOutputStream``) and read back from memory: no plaintext touches disk.
"""
from __future__ import annotations

import hashlib
import logging
import re
import shlex
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from privacy.errors import ContainerError, NotInVault
from privacy.interrupts import interrupts_held

from engine.data.columns import ColumnMapping, class_counts, drop_incomplete, texts_and_labels
from engine.data.dataset_writes import check_unchanged, sweep_orphan_tables, writing_datasets
from engine.errors import CloisterError, InputError

if TYPE_CHECKING:
    from engine.vault import Vault
    from engine.data.importing.table import ImportedTable
    from engine.data.problems import Problem

log = logging.getLogger(__name__)

PREFIX = "datasets/"
META_FORMAT = 1
MAX_NAME_LENGTH = 100
_MAX_PROBLEMS_KEPT = 200
# The line an anonymized copy's description carries, naming the dataset it was made from.
ANONYMIZED_FROM = "anonymized from dataset "


class DatasetNotFound(InputError):
    """No dataset of that name in the workspace."""


class DatasetExists(InputError):
    """A dataset of that name exists and overwriting was not asked for."""


class DatasetDamaged(CloisterError):
    """A stored dataset decrypts but is inconsistent (or does not decrypt)."""


@dataclass(frozen=True)
class DatasetInfo:
    """What ``cloister datasets`` lists; everything here comes from the encrypted meta entry."""

    name: str
    rows: int
    labels: dict[str, int]  # label -> count, most frequent first; empty when unlabelled
    size_bytes: int  # size of the Parquet table (plaintext), not of the ciphertext on disk
    created: datetime
    source_name: str
    mapping: ColumnMapping
    columns: tuple[str, ...] = ()
    source_format: str = ""
    sha256: str = ""
    problems: tuple[str, ...] = field(default=())  # the validation report at import time
    skip_incomplete: bool = False  # rows with blank text or no label are left out on load
    history: tuple[dict[str, Any], ...] = ()  # fixes applied before storing (engine.data.fixes)
    label_delimiter: str | None = None  # multi-label: what separates a row's labels

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def __hash__(self) -> int:
        # The generated hash would fail on the ``labels`` dict; name + digest identify a version.
        return hash((self.name, self.sha256))


@dataclass(frozen=True)
class StoredDataset:
    info: DatasetInfo
    table: pa.Table
    texts: list[str]
    labels: list[str]

    def as_imported(self) -> ImportedTable:
        """The stored table as an import reads one: what fixes, validation and anonymization
        take, for a dataset whose source file is not needed (or no longer there)."""
        from pathlib import Path

        from engine.data.importing.table import ImportedTable

        return ImportedTable(table=self.table, source=Path(self.info.source_name),
                             format=self.info.source_format or "table")


def dataset_exists(ws: Vault, name: str) -> bool:
    """Whether a dataset of this (valid) name is stored: one key lookup, nothing decrypted."""
    return ws.has(_meta_key(check_name(name)))


def check_name(name: str) -> str:
    """Return ``name`` (NFC) if usable as a dataset name, else raise InputError saying why."""
    if not isinstance(name, str):
        raise InputError("a dataset name must be text")
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise InputError("the dataset name is empty; give a name such as 'support-tickets'")
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(f"the dataset name is {len(name)} characters long; use at most "
                         f"{MAX_NAME_LENGTH}")
    if name in {".", ".."}:
        raise InputError(f"the dataset name {name!r} is only dots; give a name such as 'support-tickets'")
    if "/" in name or "\\" in name or re.search(r"[\x00-\x1f\x7f]", name):
        raise InputError(f"the dataset name {name!r} contains '/', '\\' or control characters; "
                         "use letters, digits, spaces, '-', '_' or '.'" + _file_hint(name))
    return name


def _dir(name: str) -> str:
    return f"{PREFIX}{name}/"


def pseudonym_map_key(name: str) -> str:
    """Where a dataset's reversible-pseudonym mapping is kept: under the dataset's prefix, so
    ``delete_dataset`` and ``rename_dataset`` take it along with the table."""
    return f"{_dir(check_name(name))}pseudonym-map.json"


def table_named(ws: Vault, name: str) -> str | None:
    """The table file the stored description of ``name`` names; None when there is none, or
    it cannot be read."""
    try:
        meta = ws.read_json(_meta_key(name)) if ws.has(_meta_key(name)) else None
        if meta is None or int(meta.get("format", 0)) > META_FORMAT:
            return None  # none, or a newer layout (which may name several tables): keep them
        return str(meta["table"])
    except Exception:  # noqa: BLE001 - unreadable: the caller keeps what it may name
        return None


def meta_key(name: str) -> str:
    return _meta_key(name)


def _meta_key(name: str) -> str:
    return f"{_dir(name)}meta.json"


def _table_file(digest: str) -> str:
    # Relative to the dataset's prefix, so renaming a dataset never has to touch its meta.
    return f"table-{digest[:16]}.parquet"


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _label_counts(table: pa.Table, mapping: ColumnMapping,
                  label_delimiter: str | None = None) -> dict[str, int]:
    """Rows per class, most frequent first; multi-label: per label, a row counting once for
    each label it carries."""
    if mapping.label_column is None:
        return {}
    if label_delimiter:
        from engine.data.columns import label_array
        from engine.data.labels import label_counts

        counts = label_counts(label_array(table, mapping), label_delimiter=label_delimiter)
        return dict(sorted(((k, v) for k, v in counts.items() if k), key=lambda kv: -kv[1]))
    return {label: count for label, count in class_counts(table, mapping) if label}


def _problem_lines(problems: Iterable[Problem | str]) -> list[str]:
    return [str(p) for p in list(problems)[:_MAX_PROBLEMS_KEPT]]


def save_dataset(ws: Vault, name: str, imported: ImportedTable, mapping: ColumnMapping, *,
                 problems: Iterable[Problem | str] = (), overwrite: bool = False,
                 skip_incomplete: bool = False,
                 history: Iterable[Mapping[str, Any]] = (),
                 label_delimiter: str | None = None,
                 after_commit: Callable[[DatasetInfo], None] | None = None,
                 history_audited: int = 0,
                 fixed_from: str | None = None,
                 created: datetime | None = None,
                 made_from: Mapping[str, str] | None = None,
                 expects_mapping: bool = False) -> DatasetInfo:
    """Store ``imported.table`` encrypted under ``name`` and return its info.

    Raises DatasetExists when ``name`` is taken and ``overwrite`` is false. A previous dataset of
    the same name stays intact until the new one is completely written. With
    ``skip_incomplete`` rows whose text is blank or whose label is missing
    (``columns.complete_rows``) are not stored at all: what the user chose to leave out does not
    go into the vault. Row-level "empty-text"/"missing-label" notes are dropped with them, since
    their row numbers no longer point into what is stored. ``history`` lists the fixes
    (``engine.data.fixes.FixStep.as_dict``) already applied to ``imported.table`` in memory: it is
    kept in the dataset's metadata and each step is audited. ``after_commit`` (what belongs
    with the new contents: an anonymized import's mapping and entry) runs with them, before a
    Ctrl-C that arrived meanwhile stops the command. ``history_audited``: how many of the
    first history steps the audit log has already (``cloister fix`` adds to a stored history).
    ``fixed_from``: the stored dataset these rows are a fixed version of (``cloister fix``):
    the audit entry says so, and its privacy review follows the rows. ``created``: when the
    rows were first imported, kept by a fix or an erasure (the lists show it as "imported").
    ``made_from``: dataset name -> the sha256 of the contents these rows were made from (a fix,
    an erasure); if one was stored again meanwhile, ``DatasetChanged`` and nothing is stored.
    ``expects_mapping``: ``after_commit`` writes a reversible pseudonym mapping; the description
    says so, so a process killed between the two is said as a lost mapping, not as a dataset
    that was never reversible.
    The checks and every step hold the workspace's dataset-write lock
    (``engine.data.dataset_writes``): another window or command waits, then sees this save.
    """
    name = check_name(name)
    _refuse_existing(ws, name, overwrite)  # at once, before the table is built
    table = imported.table
    for column in (*mapping.text_columns, *([mapping.label_column] if mapping.label_column else [])):
        if column not in table.column_names:
            raise InputError(f"column {column!r} is not in {imported.source.name}")
    if skip_incomplete:
        table = drop_incomplete(table, mapping)
        problems = [p for p in problems
                    if getattr(p, "code", None) not in ("empty-text", "missing-label")]
    # Rows that could not be read are not in the table stored, whatever was passed: kept as a
    # note of what was left out, they no longer block it (stored with --force, such a dataset
    # could never be trained, nor fixed, since its rows no longer hold the problem).
    from engine.data.validation import as_stored

    problems = [as_stored(p) for p in problems]
    data = _parquet_bytes(table)
    digest = hashlib.sha256(data).hexdigest()
    meta: dict[str, Any] = {
        "format": META_FORMAT,
        "table": _table_file(digest),
        "rows": table.num_rows,
        "columns": list(table.column_names),
        "labels": _label_counts(table, mapping, label_delimiter),
        # Multi-label ("billing|urgent"): what separates a row's labels; training reads it.
        "label_delimiter": label_delimiter or None,
        "mapping": mapping.as_dict(),
        "source_name": imported.source.name,
        "source_format": imported.format,
        "sha256": digest,
        "size_bytes": len(data),
        "created": (created or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "problems": _problem_lines(problems),
        "skip_incomplete": bool(skip_incomplete),
        "history": [dict(step) for step in history],
        **({"pseudonym_map": True} if expects_mapping else {}),
    }
    with writing_datasets(ws):
        exists = _refuse_existing(ws, name, overwrite)
        check_unchanged(ws, made_from or {})
        return _commit(ws, name, meta, data, exists=exists, fixed_from=fixed_from,
                       history_audited=history_audited, after_commit=after_commit,
                       source_name=imported.source.name)


def _refuse_existing(ws: Vault, name: str, overwrite: bool) -> bool:
    """Whether ``name`` is stored now; ``DatasetExists`` if it is and may not be replaced."""
    exists = ws.has(_meta_key(name))
    if exists and not overwrite:
        raise DatasetExists(f"a dataset named {name!r} already exists; choose another name, or "
                            "replace it (--replace on the command line)")
    return exists


def _commit(ws: Vault, name: str, meta: dict[str, Any], data: bytes, *, exists: bool,
            fixed_from: str | None, history_audited: int,
            after_commit: Callable[[DatasetInfo], None] | None, source_name: str) -> DatasetInfo:
    """The new table, then the description naming it, then the old table's removal."""
    table_key = _dir(name) + meta["table"]
    table_existed = ws.has(table_key)  # the very same table saved before: keep it on failure
    ws.write_bytes(table_key, data)
    with interrupts_held():  # a stop after the description's write would leave it unlogged
        try:
            ws.write_json(_meta_key(name), meta)
        except BaseException:
            # Drop the new table only while the stored description still names the old one
            # (an interrupt that the block does not hold can land after it was written).
            if not table_existed and not _names_table(ws, name, meta["table"]):
                ws.delete(table_key)
            raise
        # Logged at once: a SIGKILL or power cut before the entry leaves the change unlogged,
        # and the clean-up below (an index write per superseded file) widened that window. The
        # clean-up runs whatever the audit write does: replaced rows must not stay indexed.
        try:
            ws.audit("dataset.replaced" if exists else "dataset.imported", dataset=name,
                     rows=meta["rows"], classes=len(meta["labels"]), source=source_name,
                     **({"fixed_from": fixed_from} if fixed_from else {}))
        finally:
            # Only now is the old table unreferenced; a crash before here leaves an orphan,
            # which the next write's sweep removes (engine.data.dataset_writes). A pseudonym
            # mapping belonged to the previous contents: it goes too, so replaced data leaves no
            # originals behind; but where the new contents come with one, ``after_commit``
            # writes it over the old in one step. Deleted here first, a kill before that write
            # (a window of many index writes) lost both mappings, and with them the originals.
            new_mapping = bool(meta.get("pseudonym_map")) and after_commit is not None
            for key in ws.list(_dir(name)):
                if (key.startswith(f"{_dir(name)}table-") and key != table_key) \
                        or (key == pseudonym_map_key(name) and not new_mapping):
                    ws.delete(key)
        for step in meta["history"][history_audited:]:  # counts only: never rows or labels
            ws.audit("dataset.fixed", dataset=name, fix=step.get("kind"),
                     rows_removed=step.get("rows_removed", 0),
                     rows_changed=step.get("rows_changed", 0))
        info = _info(name, meta)
        if after_commit is not None:
            after_commit(info)
    try:  # tables an earlier save's crash left in any dataset: housekeeping, never a failure
        sweep_orphan_tables(ws)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not remove tables left by an interrupted save: %s", exc)
    log.info("stored dataset (%d rows)", meta["rows"])
    return info


def _names_table(ws: Vault, name: str, table: str) -> bool:
    """Whether the stored description of ``name`` names ``table`` (True when it cannot be read:
    keep the table rather than risk deleting the one it names)."""
    try:
        return ws.has(_meta_key(name)) and ws.read_json(_meta_key(name)).get("table") == table
    except Exception:  # noqa: BLE001
        return True


def _info(name: str, meta: Mapping[str, Any]) -> DatasetInfo:
    try:
        mapping = meta["mapping"]
        return DatasetInfo(
            name=name,
            rows=int(meta["rows"]),
            labels={str(k): int(v) for k, v in meta["labels"].items()},
            size_bytes=int(meta["size_bytes"]),
            created=datetime.fromisoformat(meta["created"]),
            source_name=str(meta["source_name"]),
            mapping=ColumnMapping(text_columns=tuple(mapping["text_columns"]),
                                  label_column=mapping["label_column"],
                                  separator=mapping.get("separator", "\n")),
            columns=tuple(meta.get("columns", ())),
            source_format=str(meta.get("source_format", "")),
            sha256=str(meta["sha256"]),
            problems=tuple(meta.get("problems", ())),
            skip_incomplete=bool(meta.get("skip_incomplete", False)),
            history=tuple(meta.get("history", ())),
            label_delimiter=meta.get("label_delimiter") or None,
        )
    except (KeyError, TypeError, ValueError, AttributeError, InputError) as exc:
        raise DatasetDamaged(f"the description of dataset {name!r} is unreadable ({exc}); "
                             f"delete it with `cloister rm {shlex.quote(name)}` and import it again") from None


def _read_meta(ws: Vault, name: str) -> dict[str, Any]:
    try:
        meta = ws.read_json(_meta_key(name))
    except NotInVault:
        raise _not_found(ws, name) from None
    except ContainerError as exc:
        raise DatasetDamaged(f"dataset {name!r} cannot be read: {exc}") from None
    if not isinstance(meta, dict) or int(meta.get("format", 0)) > META_FORMAT:
        raise DatasetDamaged(f"dataset {name!r} was stored by a newer Cloister (or its description "
                             "is damaged); update Cloister")
    return meta


def dataset_info(ws: Vault, name: str) -> DatasetInfo:
    return _info(name, _read_meta(ws, check_name(name)))


def load_dataset(ws: Vault, name: str, *, head: int | None = None) -> StoredDataset:
    """Decrypt a dataset into memory, check it against its recorded digest, and map its columns.
    ``head``: only the first rows as texts and labels (the table stays whole): `cloister show`
    turned a million rows into Python strings, 1.5 GB, to print five."""
    info, table = _read_table(ws, check_name(name))
    mapped = table if head is None else table.slice(0, head)
    if info.mapping.label_column is None:
        from engine.data.columns import text_array

        texts, labels = text_array(mapped, info.mapping).to_pylist(), list[str]()
    else:
        texts, labels = texts_and_labels(mapped, info.mapping,
                                         skip_incomplete=info.skip_incomplete)
    return StoredDataset(info=info, table=table, texts=texts, labels=labels)


def _read_table(ws: Vault, name: str) -> tuple[DatasetInfo, pa.Table]:
    meta = _read_meta(ws, name)
    info = _info(name, meta)
    try:
        data = ws.read_bytes(_dir(name) + str(meta["table"]))
    except NotInVault:
        raise DatasetDamaged(f"the table of dataset {name!r} is missing from the workspace; "
                             f"delete it with `cloister rm {shlex.quote(name)}` and import it again") from None
    except ContainerError as exc:
        raise DatasetDamaged(f"dataset {name!r} cannot be read: {exc}") from None
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise DatasetDamaged(f"the table of dataset {name!r} does not match its description; "
                             f"delete it with `cloister rm {shlex.quote(name)}` and import it again")
    return info, pq.read_table(pa.BufferReader(data))


def _stored_names(ws: Vault) -> list[str]:
    """The names of the stored datasets, from the index's keys alone (nothing decrypted)."""
    names = []
    for key in ws.list(PREFIX):
        rest = key[len(PREFIX):]
        if rest.count("/") == 1 and rest.endswith("/meta.json"):
            names.append(rest[: -len("/meta.json")])
    return names


def _not_found(ws: Vault, name: str) -> DatasetNotFound:
    """'no dataset named ...', with the stored name it was most likely meant to be."""
    import difflib

    names = _stored_names(ws)
    folded = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    hint = f"did you mean {folded[close[0]]!r}? " if close else ""
    return DatasetNotFound(f"no dataset named {name!r}; {hint}'cloister datasets' lists them"
                           + _file_hint(name))


def _file_hint(name: str) -> str:
    """Where a dataset name is a file's path (``cloister train data.csv``, the first thing a new
    user types): commands work on imported datasets, and the file must be imported first."""
    from pathlib import Path

    try:
        is_file = Path(name).expanduser().is_file()
    except OSError:
        is_file = False
    if not is_file:
        return ""
    import shlex

    return (f". {name} is a file: commands other than import work on datasets in the vault, "
            f"so import it first (`cloister import {shlex.quote(name)} --name NAME`) and use NAME")


def list_datasets(ws: Vault, *, damaged: list[tuple[str, str]] | None = None) -> list[DatasetInfo]:
    """Every dataset, by name. A dataset whose description is unreadable is logged and skipped;
    with ``damaged``, its name and the reason are added there, for lists that must show it (a
    listing that only skipped it told an administrator the workspace was empty)."""
    infos = []
    for name in _stored_names(ws):
        try:
            infos.append(_info(name, _read_meta(ws, name)))
        except DatasetDamaged as exc:
            if damaged is None:
                log.warning("%s", exc)
            else:  # the caller says it (a second warning read as a second damaged dataset)
                damaged.append((name, str(exc)))
    return sorted(infos, key=lambda i: i.name.casefold())


def delete_dataset(ws: Vault, name: str) -> int:
    """Unlink every entry of dataset ``name``; return how many."""
    name = check_name(name)
    with writing_datasets(ws), interrupts_held():  # the deletion and its entry, or neither
        if not ws.has(_meta_key(name)) and not ws.list(_dir(name)):
            raise _not_found(ws, name)
        count = ws.delete_prefix(_dir(name))
        ws.audit("dataset.deleted", dataset=name)
    return count


def rename_dataset(ws: Vault, old: str, new: str) -> DatasetInfo:
    old, new = check_name(old), check_name(new)
    with writing_datasets(ws), interrupts_held():  # the rename and its entry, or neither
        if not ws.has(_meta_key(old)):
            raise _not_found(ws, old)
        if old == new:
            return dataset_info(ws, new)
        if ws.list(_dir(new)):
            raise DatasetExists(f"a dataset named {new!r} already exists; choose another name")
        ws.rename_prefix(_dir(old), _dir(new))  # one atomic index switch
        ws.audit("dataset.renamed", old=old, new=new)
        from engine.runs import carry_runs_without_digest

        carry_runs_without_digest(ws, old, new)
    return dataset_info(ws, new)
