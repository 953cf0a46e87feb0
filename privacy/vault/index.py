"""The workspace's index and its freshness: what ``Workspace`` inherits from ``IndexStore``.

The index lists every entry with the file salt of its current object and a generation number
that grows with each write. Both, like the audit log's end, are checked against the freshness
anchor (privacy.vault.anchor) kept in the vault file and outside the workspace, so deleting the
index, putting back an older copy of it, or an older version of an object, is refused by name
instead of making newer entries vanish (and then be garbage-collected). See FORMAT.md.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privacy.errors import ContainerError, IntegrityError, NoRoomForChange, PrivacyError
from privacy.vault import anchor as anchors
from privacy.vault import container
from privacy.vault.anchor import Anchor
from privacy.vault.atomic import atomic_writer
from privacy.vault.audit import RESTORE_ACTION, _scan_linked
from privacy.vault.keyfile import VAULT_FILE_NAME, read_vault_anchor, write_vault_anchor

log = logging.getLogger(__name__)
_WARNED: set[tuple[str, str]] = set()  # (workspace, "missing"/"damaged") already said

INDEX_FILE = "index.cloister"
INDEX_BACKUP_FILE = "index.backup.cloister"
AUDIT_FILE = "audit.log"
OBJECTS_DIR = "objects"
_INDEX_CONTEXT = b"cloister/index"
_STAMP_BYTES = 64  # a container's fixed header, its random file salt and its tag's start


@dataclass
class _Index:
    """One decrypted index: each key with the hex file salt of its object (None for an index
    written before salts were recorded), and the index's generation number."""

    entries: dict[str, str | None] = field(default_factory=dict)
    generation: int = 0


def _salt_of(entry: str | None) -> bytes | None:
    return bytes.fromhex(entry) if entry else None


class IndexStore:
    """Index and anchor handling for :class:`privacy.vault.workspace.Workspace`, which supplies
    ``root``, ``_require()``, ``_locked()`` and ``_audit_log()``."""

    root: Path
    # (``_stamp()`` when read, whether freshness was checked, the index): ``_load_state``.
    _index_cache: tuple[tuple[bytes | None, ...], bool, _Index] | None = None

    def _require(self) -> Any:  # pragma: no cover - provided by Workspace
        raise NotImplementedError

    def _locked(self) -> Any:  # pragma: no cover - provided by Workspace
        raise NotImplementedError

    def _audit_log(self, advance: Any = None, anchor: Any = None) -> Any:  # pragma: no cover - provided by Workspace
        raise NotImplementedError

    def _read_index_file(self, name: str) -> _Index | None:
        """One copy of the index; None if that copy does not exist."""
        path = self.root / name
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        label = f"the workspace index ({path})"
        plain = container.decrypt_bytes(blob, bytes(self._require().containers),
                                        context=_INDEX_CONTEXT, label=label)
        try:
            doc = json.loads(plain)
            salts = doc.get("salts") or {}
            return _Index({str(k): salts.get(k) for k in doc["keys"]},
                          int(doc.get("generation", 0)))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ContainerError(f"{label} decrypts but is not a valid index") from None

    def _stamp(self) -> tuple[bytes | None, ...]:
        """What changes whenever the index or an anchor is written, read cheaply: the start of
        each index copy (every write draws a new random file salt, so an older copy put back is
        told apart too) and the two anchors' own bytes (small files)."""
        def head(path: Path, size: int | None) -> bytes | None:
            try:
                with open(path, "rb") as handle:
                    return handle.read(size if size is not None else -1)
            except OSError:  # missing or unreadable: the full read says which
                return None

        mirror = anchors.mirror_path(self._require().vault_id)
        return (head(self.root / INDEX_FILE, _STAMP_BYTES),
                head(self.root / INDEX_BACKUP_FILE, _STAMP_BYTES),
                head(self.root / VAULT_FILE_NAME, None), head(mirror, None))

    def _load_state(self, *, check_fresh: bool = True) -> _Index:
        """The index, decrypted and checked for freshness; kept while nothing it was read from
        changes (every read of an entry loads it: ``cloister runs`` on 300 runs decrypted both
        copies 924 times, 1.7 s of its 2.3)."""
        stamp = self._stamp()
        cached = getattr(self, "_index_cache", None)
        if cached is not None and cached[0] == stamp and (cached[1] or not check_fresh):
            return _Index(dict(cached[2].entries), cached[2].generation)
        state = self._read_state(check_fresh=check_fresh)
        self._index_cache = (stamp, check_fresh, _Index(dict(state.entries), state.generation))
        return state

    def _read_state(self, *, check_fresh: bool) -> _Index:
        # Entry names cannot be recovered from the HMAC file names, so the index is kept twice:
        # a damaged or missing copy falls back to the other; of two good copies the newer wins
        # (the main copy is written first, so after a crash it may be one generation ahead).
        copies: list[_Index] = []
        damage: ContainerError | None = None
        main_state = "missing"
        for name in (INDEX_FILE, INDEX_BACKUP_FILE):
            try:
                copy = self._read_index_file(name)
            except ContainerError as exc:
                damage = damage or exc
                main_state = "damaged" if name == INDEX_FILE else main_state
                continue
            if copy is not None:
                copies.append(copy)
                main_state = "ok" if name == INDEX_FILE else main_state
        if copies:
            if main_state != "ok" and (str(self.root), main_state) not in _WARNED:
                # Once a process: every read loads the index, and a command said it three times.
                _WARNED.add((str(self.root), main_state))
                log.warning("the workspace index is %s; using its backup copy", main_state)
            elif main_state == "ok" and _WARNED:  # repaired: a later damage is said again
                _WARNED.difference_update({(str(self.root), "missing"), (str(self.root), "damaged")})
            state = max(copies, key=lambda c: c.generation)
        elif damage is not None:
            raise damage
        elif not any((self.root / OBJECTS_DIR).glob("*/*")):
            state = _Index()  # `create` was interrupted before its first index write: empty
        else:
            raise ContainerError(f"the workspace index ({self.root / INDEX_FILE}) and its backup "
                                 "are missing; restore the workspace from a backup")
        if check_fresh:
            expected = self._anchor_state()[0].index_generation
            if state.generation < expected:
                raise IntegrityError(
                    f"the workspace index is older than the vault records (version "
                    f"{state.generation}, expected {expected} or later): both index files were "
                    "replaced by older copies, or another copy of this workspace (a backup or a "
                    "copied folder) was changed since and is the newer one, so newer entries "
                    "would be missing here. Nothing was deleted; use the newer copy, or restore "
                    "the workspace from a backup")
        return state

    def _load_index(self) -> list[str]:
        return list(self._load_state().entries)

    def _save_index(self, state: _Index, *, frees: bool = False) -> None:
        """Write ``state`` as the next generation: both copies, then the anchors. ``frees``:
        the change deletes entries, which is how a full vault is freed, so it needs room for
        its audit entry only."""
        generation = state.generation + 1
        data = json.dumps({"version": 1, "generation": generation,
                           "keys": sorted(state.entries),
                           "salts": {k: v for k, v in sorted(state.entries.items()) if v}}
                          ).encode("utf-8")
        check_room(self.root, len(data), margin=_ROOM_TO_FREE if frees else _ROOM_AFTER_INDEX)
        for name in (INDEX_FILE, INDEX_BACKUP_FILE):  # main copy first: it is the one read
            with atomic_writer(self.root / name) as handle:
                container.write_all(container.vault_encryptor(
                    handle, bytes(self._require().containers), context=_INDEX_CONTEXT), [data])
        self._advance(index_generation=generation)

    # ----- freshness anchors (privacy.vault.anchor) ---------------------------------------
    def _anchor_state(self) -> tuple[Anchor, list[str]]:
        """The anchor to hold files to, and any disagreement between its two copies."""
        keys = self._require()
        in_vault = read_vault_anchor(self.root / VAULT_FILE_NAME, keys)
        try:
            found = anchors.read_mirror_and_folder(keys.vault_id, keys.anchor)
        except IntegrityError as exc:
            return in_vault or Anchor(), [str(exc)]
        mirrored, by = found if found is not None else (None, None)
        return anchors.reconcile(in_vault, mirrored, mirrored_by=by, here=self._folder())

    def _folder(self) -> str:
        try:
            return str(Path(self.root).resolve())
        except OSError:
            return str(self.root)

    def _write_anchor(self, new: Anchor) -> None:
        keys = self._require()
        write_vault_anchor(self.root / VAULT_FILE_NAME, new, keys)
        try:  # second, so a crash leaves the mirror behind (tolerated), never ahead
            anchors.write_mirror(keys.vault_id, new, keys.anchor, folder=self._folder())
        except OSError as exc:  # the vault file's copy still guards the folder itself
            log.warning("could not update the freshness record outside the workspace: %s", exc)

    def _advance(self, *, audit: tuple[int, str] | None = None,
                 index_generation: int | None = None) -> None:
        """Move the anchor forward after a write (the caller holds the lock)."""
        current, _ = self._anchor_state()
        seq, link = audit if audit is not None else (current.audit_seq, current.audit_link)
        self._write_anchor(Anchor(seq, link, max(current.index_generation,
                                                 index_generation or 0)))

    def _refresh_anchor(self) -> None:
        """At unlock of a sound workspace: anchor a vault written before anchors existed, and
        bring a lagging (or missing) mirror forward."""
        keys = self._require()
        with self._locked():
            in_vault = read_vault_anchor(self.root / VAULT_FILE_NAME, keys)
            if in_vault is None:
                _, links, _ = _scan_linked(self.root / AUDIT_FILE)
                self._write_anchor(Anchor(len(links) - 1, links[-1] if links else anchors.GENESIS,
                                          self._load_state().generation))
            elif anchors.read_mirror(keys.vault_id, keys.anchor) != in_vault:
                self._write_anchor(in_vault)

    def integrity_problems(self) -> list[str]:
        """What unlock checks: the index and the audit log reach what the anchors record
        (hashes and one index decryption; entries themselves are checked when read)."""
        problems: list[str] = []
        try:
            self._load_state()
        except PrivacyError as exc:
            problems.append(str(exc))
        problems.extend(self._audit_log().structural_problems())
        return list(dict.fromkeys(problems))  # one disagreement may show up twice

    def _refusal(self, problems: list[str]) -> IntegrityError:
        """Why unlock refuses, and the way on. A whole folder that is an older copy (a backup
        put back, or a second copy in use) is said as that alone: its older index and shorter
        log follow from it, and three diagnoses in a row read as three attacks."""
        restorable = self._restorable()
        older_copy = self._older_copy() if restorable else []
        if older_copy:
            return IntegrityError(
                "the workspace was not opened (nothing was changed): " + "; ".join(older_copy)
                + ". To keep this copy, accept it ('cloister audit --accept-restore', or Accept "
                "this copy in the app): what the newer copy had is then left out. Otherwise use "
                "the newer copy.", problems=tuple(problems), restorable=True)
        listed = "; ".join(problems)
        # A problem that already says to restore from a backup is not followed by the same words.
        restore = ("" if any(p.endswith("from a backup") for p in problems)
                   else ". Restore the workspace from a backup")
        return IntegrityError(
            "the workspace failed its integrity check and was not opened (nothing was changed "
            "or cleaned up): " + listed + restore + "; 'cloister audit --verify' lists the "
            "problems, and if you restored an older copy on purpose, 'cloister audit "
            "--accept-restore' records that and continues",
            problems=tuple(problems), restorable=restorable)

    def _older_copy(self) -> list[str]:
        """The mirror's reason, when the whole folder is a consistent older copy and nothing else
        is wrong: the index and the log reach what its own vault file records, and the mirror
        outside reads and is ahead. Anything more (a log cut besides, a forged mirror) gets the
        full list of problems instead."""
        keys = self._require()
        try:
            own = read_vault_anchor(self.root / VAULT_FILE_NAME, keys)
            found = anchors.read_mirror_and_folder(keys.vault_id, keys.anchor)
            if own is None or found is None:
                return []
            _, reasons = anchors.reconcile(own, found[0], mirrored_by=found[1], here=self._folder())
            consistent = (self._load_state(check_fresh=False).generation >= own.index_generation
                          and not self._audit_log(anchor=own).structural_problems())
        except PrivacyError:
            return []
        return reasons if consistent else []

    def older_copy(self) -> list[str]:
        """Why this folder is a consistent older copy of a workspace used since on this
        computer (a backup), or nothing when it is not, or when anything more is wrong."""
        return self._older_copy()

    def _restorable(self) -> bool:
        """Whether ``accept_restore`` can work: the index reads, only older than recorded."""
        try:
            self._load_state(check_fresh=False)
        except PrivacyError:
            return False
        return True

    def checked_audit(self) -> tuple[Any, list[str]]:
        """The audit log verified, and the workspace's own freshness problems besides, read
        under the writers' lock: read beside an append, the anchor could be ahead of the log
        that was read, and the check reported tampering that did not happen. A folder where the
        lock cannot be taken (read-only) is read without it: nothing can append there."""
        try:
            with self._locked():
                return self._audit_and_freshness()
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
        return self._audit_and_freshness()

    def _audit_and_freshness(self) -> tuple[Any, list[str]]:
        report = self.verify_audit()  # type: ignore[attr-defined]
        return report, [p for p in self.integrity_problems() if p not in report.problems]

    def accept_restore(self) -> list[str]:
        """Accept the workspace as it is now (the user restored an older copy on purpose):
        record that in the audit log, with the problems it had, and re-anchor to the current
        state. Return the problems that were accepted: none, and nothing recorded, when the
        workspace passes its check (an acceptance entry reads as a rollback to an auditor)."""
        problems = self.integrity_problems()
        if not problems:
            return []
        with self._locked():
            state = self._load_state(check_fresh=False)
            moved: list[tuple[int, str]] = []
            audit = self._audit_log(advance=lambda seq, link: moved.append((seq, link)))
            audit.accept_current(RESTORE_ACTION, {"problems": [p[:256] for p in problems[:8]]})
            seq, link = moved[-1]
            self._write_anchor(Anchor(seq, link, state.generation))
        return problems


# Room a change needs once its index is written: the audit entry, its head and the anchors
# (a few KiB), with a margin. A change is refused before it commits when the disk has less, so
# that a full disk cannot leave a change made but not logged.
_ROOM_AFTER_INDEX = 256 * 1024
# What a deletion needs beyond its (smaller) index: its audit entry, head and anchors. Asking
# the full margin of it would refuse the one change that frees space in a vault.
_ROOM_TO_FREE = 32 * 1024


def check_room(root: Path, index_bytes: int, *, margin: int = _ROOM_AFTER_INDEX) -> None:
    try:
        free = shutil.disk_usage(root).free
    except OSError:  # a filesystem that cannot say: the writes themselves will tell
        return
    needed = index_bytes + margin
    if free < needed:
        raise NoRoomForChange(errno.ENOSPC, f"No space left on device: the workspace's disk has "
                              f"{free // 1024:,} KiB free and a change needs {needed // 1024:,} KiB "
                              "to be made and logged. Nothing was changed; free some space and try "
                              "again", str(root))


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError as exc:  # e.g. a folder owned by someone else: say so, do not fail the open
        log.warning("could not restrict the permissions of %s: %s", path, exc)


def _tighten_modes(root: Path) -> None:
    """Folders 0700, files 0600 (workspaces written by earlier versions had 0755/0644)."""
    if os.name != "posix":
        return
    for folder, _dirs, files in os.walk(root):
        if os.stat(folder).st_mode & 0o077:
            _chmod(Path(folder), 0o700)
        for name in files:
            path = Path(folder) / name
            try:
                if path.stat().st_mode & 0o077:
                    _chmod(path, 0o600)
            except FileNotFoundError:  # a temporary file renamed away meanwhile
                pass
