"""Anonymize a table or a stored dataset under a policy (the engine side of privacy.pii).

Everything happens in memory: the table is decrypted (or read from the user's file), its
columns go through ``privacy.pii.anonymize``, and the result is stored as a *new* encrypted
dataset. The original dataset is never modified, and every check (policy, columns, target
name, an empty table) runs before anything is written, so an error changes nothing stored.
The audit log records which policy was applied (its text and digest), never row contents.
A policy with reversible pseudonyms also stores the dataset's surrogate -> original mapping,
encrypted like every entry (``engine.data.reidentify``); the audit entry says whether it did.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from privacy.errors import PrivacyError
from privacy.pii.anonymize import Result, ScanReport, anonymize_columns, scan_columns
from privacy.pii.policy import Policy
from privacy.pii.secret import workspace_pseudonymizer
from privacy.vault.workspace import Workspace

from engine.data.columns import ColumnMapping
from engine.data.reidentify import save_pseudonym_map
from engine.data.store import (ANONYMIZED_FROM, DatasetExists, DatasetInfo, DatasetNotFound, check_name,
                               dataset_info, delete_dataset, load_dataset, save_dataset)
from engine.errors import InputError

if TYPE_CHECKING:
    from engine.data.importing.table import ImportedTable

Progress = Callable[[int, int], None]

PREVIEW_SCAN_ROWS = 1000  # rows read to find the preview's examples


def _exists(ws: Workspace, name: str) -> bool:
    try:
        dataset_info(ws, name)
    except DatasetNotFound:
        return False
    return True


def table_columns(table: pa.Table) -> dict[str, list[Any]]:
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _check_mapping(mapping: ColumnMapping, result: Result) -> None:
    needed = [*mapping.text_columns, *([mapping.label_column] if mapping.label_column else [])]
    gone = [c for c in needed if c in result.dropped]
    if gone:
        raise InputError(f"the policy drops column {gone[0]!r}, which the dataset trains on; "
                         "pseudonymize or redact it instead, or choose other columns")


def check_policy_reads(policy: Policy, mapping: ColumnMapping, *,
                       file_columns: Iterable[str] | None = None,
                       label_columns: Iterable[str] = ()) -> None:
    """Refuse, before anything is read or stored, a policy that would spoil what the dataset
    trains on: a rule under [columns] for a text column replaces each whole text (one fake name
    or tag for every row; "keep", which leaves it unscanned, excepted); a column that
    ``--label-columns`` reads as a label is stored as the labels, never anonymized. The names
    are checked against ``file_columns`` (the file's own; default: the table's), not the label
    column Cloister made of the 0/1 columns, which the user's policy cannot mean."""
    from privacy.pii.policy import PolicyError

    if file_columns is not None:
        policy.check_columns(file_columns)
    labels = set(label_columns)
    for setting, column in policy.named_columns():
        if column in labels:
            raise PolicyError(
                f"{policy.where(column)}: {setting} names column {column!r}, which "
                "--label-columns reads as a label (set where the cell is 1): the labels are "
                "stored as they are, not anonymized, and a 0/1 cell holds nothing personal. "
                f"Take {column!r} out of the policy, or out of --label-columns to store it as "
                "a column of its own")
    for column in mapping.text_columns:
        rule = policy.columns.get(column)
        if rule is not None and rule.operator.action not in ("keep", "drop"):  # drop: _check_mapping
            raise PolicyError(
                f"{policy.where(column)}: [columns] names the text column {column!r} "
                f"({rule.operator.action}), and a rule under [columns] replaces each whole "
                "cell: every text would become one value, with nothing left to train on. Take "
                f"{column!r} out of [columns]: a text is scanned span by span for the types "
                "under [entities] (scan_columns says which columns)")


def anonymize_imported(imported: ImportedTable, mapping: ColumnMapping, policy: Policy,
                       ws: Workspace, *, progress: Progress | None = None
                       ) -> tuple[ImportedTable, Result]:
    """The anonymized copy of ``imported`` (same source and format), still only in memory."""
    policy.check_columns(imported.column_names)
    check_policy_reads(policy, mapping)
    result = anonymize_columns(table_columns(imported.table), policy, workspace_pseudonymizer(ws),
                               label_column=mapping.label_column, keep_mapping=True,
                               progress=progress)
    _check_mapping(mapping, result)
    table = pa.table({name: pa.array(values, type=pa.string())
                      for name, values in result.columns.items()})
    return dataclasses.replace(imported, table=table, problems=()), result


# What an anonymized dataset says it came from when its file's name held what the policy removes.
WITHHELD_FILE_NAME = "(file name withheld: it held personal data)"


def _without_named_source(imported: ImportedTable, policy: Policy) -> ImportedTable:
    """``imported`` under a withheld file name when its name holds what ``policy`` removes
    from the rows ("margarethe_vollmer_notes.csv"): the copy's description and audit entries
    named the person the rows no longer do."""
    import re
    from pathlib import Path

    spaced = re.sub(r"[-_.]+", " ", Path(imported.source.name).stem)
    # Removed in the texts, or in a column (a policy that keeps names in texts but pseudonymizes
    # the customer column removes people all the same).
    removed = {t for t in (f.type for f in policy.find(spaced))
               if policy.operator_for(t).action != "keep"
               or any(r.entity == t and r.operator.action != "keep" for r in policy.columns.values())}
    return dataclasses.replace(imported, source=Path(WITHHELD_FILE_NAME)) if removed else imported


def _keep_mapping(ws: Workspace, name: str, result: Result, *, replaced: bool = False) -> None:
    """Store the reversible pseudonyms' mapping of the dataset just saved as ``name``. The
    mapping is kept even when empty (no value matched), so that ``reidentify`` on the dataset
    says "nothing to reverse in this text" rather than "not reversible".

    The mapping is a second vault entry written after the dataset (the save drops a replaced
    dataset's mapping). If it cannot be written (a full disk, a vault error), a dataset the
    policy promised to be reversible must not stay behind silently one-way: a new one is
    deleted again, so the error leaves the workspace as it was; a dataset that replaced
    another cannot bring the old one back, so the error says what to do.
    """
    if result.pseudonyms is None:
        return
    try:
        save_pseudonym_map(ws, name, result.pseudonyms)
    except (OSError, PrivacyError) as exc:
        if not replaced:
            delete_dataset(ws, name)
            raise InputError(f"the reversible pseudonym mapping of {name!r} could not be stored "
                             f"({exc}), so the anonymized dataset was not kept; free space or "
                             "fix the workspace, then run the command again") from exc
        raise InputError(f"dataset {name!r} was saved, but its reversible pseudonym mapping could "
                         f"not be stored ({exc}): 'cloister reidentify' cannot reverse it; free "
                         "space or fix the workspace, then import it again with --replace") from exc


# The audit log's details are short by design (they name things, never carry rows): a longer
# policy is kept whole in the vault, under its digest, and the log names it.
_POLICY_IN_LOG = 256


def policy_key(sha256: str) -> str:
    return f"policies/{sha256}.toml"


def _audit_policy(ws: Workspace, action: str, policy: Policy, result: Result, **names: str) -> None:
    report = result.report
    sha = hashlib.sha256(policy.text.encode("utf-8")).hexdigest()
    ws.write_bytes(policy_key(sha), policy.text.encode("utf-8"))  # encrypted, like the data
    text = {"policy": policy.text} if len(policy.text) <= _POLICY_IN_LOG else {"policy_kept_as": policy_key(sha)}
    ws.audit_names(action, **names, policy_sha256=sha, **text,  # dropped columns: any number
                   policy_source=str(policy.source)[:_POLICY_IN_LOG], names=policy.names,
                   findings=dict(report.counts),
                   dropped_columns=sorted(c for c, a in report.column_actions.items() if a == "drop"),
                   reversible=result.pseudonyms is not None,
                   pseudonyms_kept=len(result.pseudonyms) if result.pseudonyms is not None else 0)


def save_anonymized_import(ws: Workspace, name: str, imported: ImportedTable,
                           mapping: ColumnMapping, policy: Policy, *, replace: bool = False,
                           skip_incomplete: bool = False, progress: Progress | None = None,
                           label_delimiter: str | None = None,
                           history: Iterable[Mapping[str, Any]] = ()) -> tuple[DatasetInfo, ScanReport]:
    """``cloister import FILE --anonymize POLICY``: the file is anonymized in memory and only the
    anonymized table is stored; the original values never reach the workspace. ``history`` is
    the fixes (``--drop-empty`` ...) already applied to ``imported`` in memory: they stay in the
    new dataset's history, as a plain import keeps them."""
    from engine.data.validation import validate

    name = check_name(name)
    existed = _exists(ws, name)
    if existed and not replace:
        raise DatasetExists(f"a dataset named {name!r} already exists; choose another name, or "
                            "replace it (--replace on the command line)")
    anonymized, result = anonymize_imported(imported, mapping, policy, ws, progress=progress)
    anonymized = _without_named_source(anonymized, policy)
    problems = validate(anonymized, mapping, skip_incomplete=skip_incomplete,
                        label_delimiter=label_delimiter)  # multi-label: class by class

    def keep(saved: DatasetInfo) -> None:  # after the save, which drops a replaced one's mapping
        _keep_mapping(ws, saved.name, result, replaced=replace and existed)
        _audit_policy(ws, "dataset.anonymized", policy, result, dataset=name,
                      source=anonymized.source.name)

    info = save_dataset(ws, name, anonymized, mapping, problems=problems,
                        overwrite=replace, skip_incomplete=skip_incomplete, history=history,
                        label_delimiter=label_delimiter, after_commit=keep,
                        expects_mapping=result.pseudonyms is not None)
    return info, result.report


def anonymize_dataset(ws: Workspace, source: str, new_name: str, policy: Policy, *,
                      progress: Progress | None = None) -> tuple[DatasetInfo, ScanReport]:
    """``cloister anonymize DATASET --policy POLICY --name NEW``: a new dataset; the source stays."""
    new_name = check_name(new_name)
    if check_name(source) == new_name:
        raise InputError("the anonymized dataset needs a new name; the original is kept as it is "
                         "(delete it afterwards with 'cloister rm' if you wish)")
    if _exists(ws, new_name):
        raise DatasetExists(f"a dataset named {new_name!r} already exists; choose another name")
    stored = load_dataset(ws, source, head=0)  # the table alone is anonymized
    info = stored.info
    imported = stored.as_imported()
    anonymized, result = anonymize_imported(imported, info.mapping, policy, ws, progress=progress)
    anonymized = _without_named_source(anonymized, policy)

    def keep(saved: DatasetInfo) -> None:
        _keep_mapping(ws, saved.name, result)
        _audit_policy(ws, "dataset.anonymized", policy, result, dataset=new_name,
                      source_dataset=source)

    saved = save_dataset(ws, new_name, anonymized, info.mapping,
                         problems=[f"{ANONYMIZED_FROM}{source!r}"],
                         skip_incomplete=info.skip_incomplete,
                         history=info.history,  # the source's fixes hold for the copy too
                         label_delimiter=info.label_delimiter, after_commit=keep,
                         made_from={source: info.sha256},  # an erasure meanwhile: not undone
                         expects_mapping=result.pseudonyms is not None)
    return saved, result.report


def scan_table(table: pa.Table, policy: Policy | None = None, *, label_column: str | None = None,
               progress: Progress | None = None) -> ScanReport:
    return scan_columns(table_columns(table), policy, label_column=label_column, progress=progress)


def scan_dataset(ws: Workspace, name: str, policy: Policy | None = None, *,
                 progress: Progress | None = None) -> ScanReport:
    stored = load_dataset(ws, name, head=0)
    report = scan_table(stored.table, policy, label_column=stored.info.mapping.label_column,
                        progress=progress)
    ws.audit("dataset.scanned", dataset=dataset_info(ws, name).name, findings=dict(report.counts))
    return report


COLUMN_EXAMPLES = 3  # rows shown of each column a whole-column action changes


def preview(ws: Workspace, name: str, policy: Policy | None = None, *, rows: int = 5
            ) -> list[tuple[str, str, list[tuple[int, int]], str, list[tuple[int, int]]]]:
    """Before/after of the first ``rows`` cells that would change: (column, before, its found
    spans, after, its changed spans), for the desktop's highlighted preview, after the first
    rows of each column a whole-column action changes. In memory only."""
    policy = policy or Policy()
    stored = load_dataset(ws, name, head=0)
    # The first rows are enough to find a few that change: with the name model, reading the
    # whole table would take minutes for five examples.
    columns = table_columns(stored.table.slice(0, PREVIEW_SCAN_ROWS))
    result = anonymize_columns(columns, policy, workspace_pseudonymizer(ws),
                               label_column=stored.info.mapping.label_column,
                               keep_spans_for=PREVIEW_SCAN_ROWS)
    out = []
    # A whole-column action first: it changes every row, not spans of text. A few rows each,
    # so that a pseudonym's consistency shows (the same value, the same stand-in); a dropped
    # column needs one.
    for column, rule in policy.columns.items():
        if rule.operator.action == "keep" or column not in columns or not columns[column]:
            continue
        dropped = column not in result.columns
        for row in range(1 if dropped else min(COLUMN_EXAMPLES, len(columns[column]))):
            before = "" if columns[column][row] is None else str(columns[column][row])
            after = "(the column is left out)" if dropped else str(result.columns[column][row])
            out.append((column, before, [(0, len(before))], after, [(0, len(after))]))
    whole = len(out)
    for (column, row), after_spans in result.changed_spans.items():
        if len(out) >= rows + whole:
            break
        if not after_spans:
            continue
        before = columns[column][row]
        found = [(f.start, f.end) for f in policy.find(before)
                 if policy.operator_for(f.type).action != "keep"]
        out.append((column, before, found, result.columns[column][row], after_spans))
    return out


def _reviews(ws: Workspace) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per dataset, the last scan or anonymization of its current contents, from the audit log:
    a re-import under the same name needs a new scan, a rename keeps the review, and so does
    ``cloister fix`` (its rows are the reviewed ones, some dropped or relabelled). A scan of a
    dataset made by anonymization does not make it "not anonymized": it stays anonymized, with
    what the later scan found (kept types, or what the detectors still see) as ``rescan``."""
    reviews: dict[str, tuple[str, dict[str, Any]]] = {}
    for entry in ws.verify_audit().entries:
        name = entry.details.get("dataset")
        if entry.action == "dataset.scanned" and name and \
                reviews.get(name, ("",))[0] == "dataset.anonymized":
            reviews[name] = ("dataset.anonymized", {**reviews[name][1],
                                                    "rescan": dict(entry.details.get("findings", {}))})
        elif entry.action in ("dataset.scanned", "dataset.anonymized") and name:
            details = dict(entry.details)
            source = details.get("source_dataset")
            if entry.action == "dataset.anonymized" and source is not None and \
                    reviews.get(str(source), ("",))[0] == "dataset.anonymized":
                # A copy of a copy holds the first copy's pseudonyms too, whatever its own
                # policy wrote: erasure searches it for every kind.
                details["from_anonymized"] = True
            reviews[name] = (entry.action, details)
        elif entry.action in ("dataset.imported", "dataset.replaced", "dataset.deleted") and name:
            review = reviews.pop(name, None)
            source = entry.details.get("fixed_from")  # `cloister fix`: the same rows, fewer
            if source is not None and (source == name or source in reviews):
                kept = review if source == name else reviews[source]
                if kept is not None:  # its counts are of the rows before the fix
                    reviews[name] = (kept[0], {**kept[1], "counted_before_fix": True})
        elif entry.action == "dataset.renamed" and entry.details.get("old") in reviews:
            reviews[str(entry.details.get("new"))] = reviews.pop(entry.details["old"])
    return reviews


def review_policy(ws: Any, details: Mapping[str, Any]) -> Policy | None:
    """The policy an anonymization's audit entry recorded (its text, or the vault's copy of a
    long one), or None where it can no longer be read as a policy."""
    from privacy.pii.policy import parse_policy

    text = details.get("policy")
    if text is None and details.get("policy_kept_as"):
        try:
            text = ws.read_bytes(str(details["policy_kept_as"])).decode("utf-8")
        except (PrivacyError, OSError, UnicodeDecodeError):
            return None
    if not isinstance(text, str):
        return None
    try:
        return parse_policy(text, source=str(details.get("policy_source", "<policy>")))
    except PrivacyError:  # PolicyError among them: a detector file since moved, say
        return None


def privacy_review(ws: Workspace, name: str) -> tuple[str, dict[str, Any]] | None:
    """(action, details) of the last scan or anonymization of ``name``'s contents, or None."""
    return _reviews(ws).get(name)


def privacy_reviews(ws: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per dataset, (action, details) of the last scan or anonymization of its contents."""
    return _reviews(ws)


def privacy_reviewed(ws: Workspace) -> set[str]:
    """The datasets whose current contents were scanned or made by anonymization."""
    return set(_reviews(ws))


def trained_dataset_now(ws: Any, record: Any, reviews: Mapping[str, tuple[str, Any]]) -> str | None:
    """The name the rows run ``record`` trained on have now: followed through renames, and
    through fixes and erasures of an anonymized dataset (another digest, the same anonymized
    rows); None when they were deleted or imported again."""
    from engine.data.store import list_datasets
    from engine.runs import current_dataset

    now = current_dataset(record, list_datasets(ws))
    if now is None and reviews.get(record.dataset, ("",))[0] == "dataset.anonymized":
        now = record.dataset
    return now


def anonymization_said(ws: Any, record: Any) -> str:
    """What a run's model card says of personal data in its training rows (``ws``: a Workspace,
    whose audit log is read; ``record``: the run): it said "none" of every run, one trained on
    an anonymized copy too. The dataset is followed through renames (``current_dataset``), and
    the audit log's review through fixes and erasures, which keep it anonymized."""
    details = getattr(record, "anonymization", None)  # kept at training (newer runs)
    if details is None:
        reviews = privacy_reviews(ws)
        now = trained_dataset_now(ws, record, reviews)
        if now is None:
            return "not known (the dataset it trained on was deleted or imported again since)"
        review = reviews.get(now)
        details = review[1] if review is not None and review[0] == "dataset.anonymized" else {}
    if not details:
        return "none"
    kind = "reversible" if details.get("reversible") else "one-way"
    return (f"the training rows were anonymized before training ({kind} pseudonyms where the "
            f"policy pseudonymizes; policy sha256 {str(details.get('policy_sha256', ''))[:12]})")
