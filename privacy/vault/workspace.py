"""The workspace: a folder where every file but the vault is an encrypted container.

Entries are addressed by keys such as ``datasets/sms/table.parquet``. Keys contain user data
(dataset names), so they never become file names: an entry lives in
``objects/<h[:2]>/<h[2:32]>`` where ``h = HMAC-SHA256(names key, key)`` in hex, and the list of
keys is kept in an encrypted index container. Each entry's container is bound to its key (the
key is the header context), so files cannot be swapped between entries unnoticed.

Every write is atomic (``privacy.vault.atomic``). Ordering keeps the index honest across crashes:
an entry's file is written *before* its key is added to the index, and a key is removed from the
index *before* its file is unlinked. A crash in between leaves at worst an unreferenced object
file (ciphertext), which :meth:`Workspace.collect_garbage` removes.

Freshness (issue #13): the index records each entry's file salt, so an older copy of an object
is refused by name, and carries a generation number that, like the audit log's end, is anchored
in the vault file and outside the workspace (privacy.vault.anchor). An index older than its
anchor is refused, and nothing is garbage-collected while the index is suspect.
"""
from __future__ import annotations

import builtins

import contextlib
import errno
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from privacy.vault import container, file_lock
from privacy.vault.atomic import (TEMP_PREFIX, atomic_write_bytes, atomic_writer, make_private_dirs,
                                  remove_durably)
from privacy.vault.audit import AuditLog, AuditReport, forget_opened, in_parts
from privacy.vault.folders import (LOCK_FILE, _check_new_root, check_locks, check_room_for_new,
                                   not_found_message)
from privacy.vault.folders import default_workspace_dir  # noqa: F401 - callers import it from here
from privacy.vault.index import check_room
from privacy.vault.index import (  # noqa: F401 - the file names are part of this module's API
    AUDIT_FILE,
    INDEX_BACKUP_FILE,
    INDEX_FILE,
    OBJECTS_DIR,
    IndexStore,
    _chmod,
    _Index,
    _salt_of,
    _tighten_modes,
)
from privacy.vault.container import ScryptParams
from privacy.vault.entry_io import EntryReader, EntryWriter, class_or_instance
from privacy.errors import (ChangeNotLogged, ContainerError, IntegrityError, NotInVault, PrivacyError,
                            VaultLocked, VaultNotFound)
from privacy.interrupts import interrupts_held
from privacy.vault.keyfile import VAULT_FILE_NAME, VaultKeys, create_vault, rewrapped, unlock_vault

log = logging.getLogger(__name__)

AUDIT_HEAD_FILE = "audit-head.cloister"
_HEAD_CONTEXT = b"cloister/audit-head"
_ORPHAN_GRACE_S = 600  # another process may be between "file written" and "index updated"



def _check_key(key: str) -> str:
    if (not isinstance(key, str) or not key or len(key) > 1024 or key.startswith("/")
            or key.endswith("/") or "//" in key or "\x00" in key):
        raise ValueError(f"invalid workspace key {key!r}: use 'a/b/c' without empty parts")
    return key


def _context(key: str) -> bytes:
    return b"cloister/entry:" + key.encode("utf-8")


class Workspace(IndexStore):
    """An unlocked workspace. Create with :meth:`create` or :meth:`unlock`; :meth:`lock` when done."""

    def __init__(self, root: Path, keys: VaultKeys) -> None:
        self.root = Path(root)
        self._keys: VaultKeys | None = keys

    # ----- vault life cycle -------------------------------------------------------------
    not_found_message = staticmethod(not_found_message)

    @staticmethod
    def vault_exists(root: Path) -> bool:
        """Whether ``root`` holds a vault file (also reachable as ``Workspace.exists(root)``)."""
        return (Path(root) / VAULT_FILE_NAME).is_file()

    @classmethod
    def create(cls, root: Path, passphrase: str, *, kdf: ScryptParams | None = None) -> Workspace:
        root = Path(root)
        new = not cls.vault_exists(root)
        if new:  # an existing vault gets its own message (VaultExists)
            _check_new_root(root)
        existed = root.exists()
        make_private_dirs(root)
        _chmod(root, 0o700)  # the folder may already exist (chosen by the user), e.g. as 0755
        if new:
            check_room_for_new(root, remove_folder=not existed)
            check_locks(root / LOCK_FILE, remove_folder=not existed)
        ws = cls(root, create_vault(root / VAULT_FILE_NAME, passphrase, kdf=kdf))
        ws._save_index(_Index())
        ws.audit("vault.created")
        return ws

    @classmethod
    def unlock(cls, root: Path, passphrase: str, *, check_integrity: bool = True) -> Workspace:
        """Open the workspace. Raises IntegrityError (and stays locked) when the audit log or
        the index does not reach what the vault records, i.e. files were cut, deleted or put
        back from an older copy. ``check_integrity=False`` is for ``cloister audit``, which
        must open a suspect workspace to report on it (or to accept a restore)."""
        root = Path(root)
        if not cls.vault_exists(root):
            raise VaultNotFound(cls.not_found_message(root))
        ws = cls(root, unlock_vault(root / VAULT_FILE_NAME, passphrase))
        _tighten_modes(root)
        problems = ws.integrity_problems()
        if problems and check_integrity:
            refusal = ws._refusal(problems)
            ws.lock()
            raise refusal
        if problems:  # opened for inspection only: never clean up (collect) a suspect workspace
            return ws
        try:
            if not (root / INDEX_FILE).exists() and not ws._load_index():
                ws._save_index(_Index())  # finish a `create` that was interrupted after the vault
            ws._refresh_anchor()
            ws.collect_garbage()
        except (PrivacyError, OSError) as exc:  # housekeeping must never block opening
            if getattr(exc, "errno", None) in (errno.EROFS, errno.EACCES, errno.EPERM):
                log.info("workspace opened for reading only: %s", exc)  # nothing was interrupted
            else:
                log.warning("could not tidy the workspace up at opening: %s", exc)
        return ws

    def lock(self) -> None:
        """Drop the keys, and the entry names read with them; every later call raises
        VaultLocked."""
        self._index_cache = None
        forget_opened(self.root / AUDIT_FILE)
        if self._keys is not None:
            self._keys.wipe()
            self._keys = None

    @property
    def locked(self) -> bool:
        return self._keys is None

    def change_passphrase(self, old: str, new: str, *, kdf: ScryptParams | None = None) -> None:
        """Rewrap the master key; no data file is touched."""
        self._require()
        with contextlib.ExitStack() as held:
            with self._locked():  # the vault file also carries the anchor, which writers advance
                data = rewrapped(self.root / VAULT_FILE_NAME, old, new, kdf=kdf)  # slow: stoppable
                check_room(self.root, len(data))  # for the file and its entry, before either
                held.enter_context(interrupts_held())  # from the write to its entry: not
                atomic_write_bytes(self.root / VAULT_FILE_NAME, data)
            self.audit("vault.passphrase_changed")

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    @property
    def vault_id(self) -> str:
        """The vault's random id: it names the vault's freshness record outside the workspace."""
        return self._require().vault_id

    def private_name(self, label: str) -> str:
        """A name for ``label`` that only this unlocked workspace can tell (a keyed hash), for
        files kept beside the vault that must not say what they are for (run lock files)."""
        message = b"cloister-name-v1\x00" + label.encode("utf-8")
        return hmac.new(bytes(self._require().names), message, hashlib.sha256).hexdigest()[:32]

    # ----- internals --------------------------------------------------------------------
    def _require(self) -> VaultKeys:
        if self._keys is None:
            raise VaultLocked("the workspace is locked; unlock it again with the passphrase")
        return self._keys

    def _relpath(self, key: str, salt: str | None = None) -> str:
        # Each version of an entry has its own file name (the HMAC covers its file salt): a new
        # version is written beside the old one and the index switches to it, so a crash never
        # leaves the index naming a salt the file does not have, and versions are not linkable
        # by name. Entries indexed before salts were recorded (salt None) keep the old name.
        message = _context(key) + (b"\x00" + bytes.fromhex(salt) if salt else b"")
        digest = hmac.new(bytes(self._require().names), message, hashlib.sha256).hexdigest()
        return f"{OBJECTS_DIR}/{digest[:2]}/{digest[2:32]}"

    def file_of(self, key: str) -> Path:
        """The object file that holds ``key`` (for error reports, diagnostics and tamper tests)."""
        entries = self._load_state().entries
        return self.root / self._relpath(_check_key(key), entries.get(key))

    def _label(self, key: str, salt: str | None = None) -> str:
        return f"workspace entry '{key}' (file {self._relpath(key, salt)})"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise index changes between processes (the CLI and the app may both be open)."""
        with file_lock.held(self.root / LOCK_FILE, on_wait=self._say_waiting):
            yield

    def _say_waiting(self) -> None:
        log.warning("waiting for another Cloister (the app or a command) to finish its change "
                    "to this workspace (%s)", self.root)

    # ----- entries ----------------------------------------------------------------------
    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[EntryWriter]:
        """Stream an entry in; it replaces any previous version atomically on a clean exit.

        If the body raises, nothing is left behind and a previous version stays intact.
        """
        _check_key(key)
        keys = self._require()
        salt = os.urandom(container.SALT_SIZE).hex()
        with atomic_writer(self.root / self._relpath(key, salt)) as handle:
            encryptor = container.vault_encryptor(handle, bytes(keys.containers),
                                                  context=_context(key), salt=bytes.fromhex(salt))
            yield EntryWriter(encryptor)
            encryptor.close()
        try:
            with self._locked():
                state = self._load_state()
                had, previous = key in state.entries, state.entries.get(key)
                # Record this version's salt: putting the previous file back later is refused by
                # name. Two processes writing one key: the later index write wins, the other file
                # is unreferenced and removed here or by collect_garbage.
                state.entries[key] = salt
                self._save_index(state)
        except BaseException:
            self._drop_unrecorded(key, salt)
            raise
        if had and previous != salt:
            remove_durably(self.root / self._relpath(key, previous))

    def _drop_unrecorded(self, key: str, salt: str) -> None:
        """Remove a new entry file whose index write failed (a refusal for want of room, most
        often): it took space the user was told was left unchanged, and was only collected at
        an unlock ten minutes later. Kept if the index recorded it after all."""
        try:
            if self._load_state().entries.get(key) == salt:
                return
        except Exception:  # noqa: BLE001 - an unreadable index: collect_garbage decides later
            return
        with contextlib.suppress(OSError):
            (self.root / self._relpath(key, salt)).unlink()

    def open_read(self, key: str) -> EntryReader:
        """A context manager / iterable of the entry's plaintext chunks (streams)."""
        entries = self._load_state().entries
        if _check_key(key) not in entries:
            raise NotInVault(f"'{key}' is not in the workspace")
        salt = entries[key]
        return EntryReader(self.root / self._relpath(key, salt), bytes(self._require().containers),
                           _context(key), self._label(key, salt), expected_salt=_salt_of(salt))

    def write_bytes(self, key: str, data: bytes) -> None:
        with self.open_write(key) as out:
            out.write(data)

    def read_bytes(self, key: str) -> bytes:
        """The whole entry, returned only once every chunk (and the end) is authenticated."""
        with self.open_read(key) as reader:
            return b"".join(reader)

    def write_json(self, key: str, obj: Any) -> None:
        self.write_bytes(key, json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8"))

    def read_json(self, key: str) -> Any:
        try:
            return json.loads(self.read_bytes(key).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ContainerError(f"workspace entry '{key}' decrypts but is not valid JSON") from None

    def has(self, key: str) -> bool:
        """Whether ``key`` is an entry (also reachable as ``ws.exists(key)``)."""
        return _check_key(key) in self._load_index()

    # The agreed API spells both checks ``exists``: on the class it asks about a folder
    # (``Workspace.exists(root)``), on an unlocked workspace about an entry (``ws.exists(key)``).
    exists = class_or_instance(vault_exists, has)

    def list(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self._load_index() if k.startswith(prefix))

    def delete(self, key: str) -> None:
        _check_key(key)
        with self._locked():
            state = self._load_state()
            if key not in state.entries:
                raise NotInVault(f"'{key}' is not in the workspace")
            salt = state.entries.pop(key)
            self._save_index(state, frees=True)
        remove_durably(self.root / self._relpath(key, salt))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every entry whose key starts with ``prefix``; return how many."""
        if not prefix:
            raise ValueError("refusing to delete with an empty prefix (that is everything)")
        with self._locked():
            state = self._load_state()
            doomed = {k: v for k, v in state.entries.items() if k.startswith(prefix)}
            if doomed:
                for key in doomed:
                    del state.entries[key]
                self._save_index(state, frees=True)
        for key, salt in doomed.items():
            remove_durably(self.root / self._relpath(key, salt))
        return len(doomed)

    def rename_prefix(self, old: str, new: str) -> int:
        """Move every entry under ``old`` to ``new`` (no re-encryption); return how many.

        New files are written first, then the index switches in one atomic write, then the old
        files go: a crash leaves either the old names or the new ones.
        """
        if not old or not new:
            raise ValueError("rename_prefix needs non-empty prefixes")
        if old == new:
            return 0
        if new.startswith(old) or old.startswith(new):
            # Overlapping prefixes would make a target overwrite a source not yet moved.
            raise ValueError(f"cannot rename '{old}' to '{new}': one contains the other")
        keys = self._require()
        with self._locked():
            state = self._load_state()
            index = list(state.entries)
            moving = [k for k in index if k.startswith(old)]
            renamed = {k: _check_key(new + k[len(old):]) for k in moving}
            clash = sorted(set(renamed.values()) & (set(index) - set(moving)))
            if clash:
                raise PrivacyError(f"cannot rename: '{clash[0]}' already exists in the workspace")
            written: list[Path] = []
            try:
                for source_key, target_key in renamed.items():
                    salt = state.entries[source_key]
                    self._retag(keys, source_key, target_key, salt)
                    written.append(self.root / self._relpath(target_key, salt))
                # A retag keeps the file salt, so each moved key keeps its recorded salt.
                self._save_index(_Index({renamed.get(k, k): v for k, v in state.entries.items()},
                                        state.generation))
            except BaseException:
                # Nothing changed unless the index already names the new files: an interrupt
                # (Ctrl-C) can land after its atomic write, and deleting them then would leave
                # an index naming nothing, and the old files unreferenced.
                if not self._index_names_any(renamed.values()):
                    for path in written:
                        remove_durably(path)
                raise
        for source_key in moving:
            remove_durably(self.root / self._relpath(source_key, state.entries[source_key]))
        return len(moving)

    def _index_names_any(self, keys: Any) -> bool:
        """Whether the index on disk names any of ``keys`` (True when it cannot be read: keep
        files rather than risk deleting what it names; unreferenced ones are collected later)."""
        try:
            entries = self._load_state().entries
        except Exception:  # noqa: BLE001
            return True
        return any(key in entries for key in keys)

    def _retag(self, keys: VaultKeys, source_key: str, target_key: str,
               salt: str | None) -> None:
        label = self._label(source_key, salt)
        try:
            src = open(self.root / self._relpath(source_key, salt), "rb")
        except FileNotFoundError:
            raise ContainerError(f"{label} is missing from the workspace; "
                                 "restore the workspace from a backup") from None
        with src, atomic_writer(self.root / self._relpath(target_key, salt)) as dst:
            container.retag(src, dst, bytes(keys.containers), old_context=_context(source_key),
                            new_context=_context(target_key), label=label,
                            expected_salt=_salt_of(salt))

    def collect_garbage(self, *, grace_s: float = _ORPHAN_GRACE_S) -> int:
        """Remove object files no index entry refers to (left by a crash); return how many.

        Files younger than ``grace_s`` are spared: another process may be about to index them.
        """
        now = time.time()
        removed = 0
        with self._locked():
            # _load_index raises IntegrityError for an index older than its anchor: an object
            # missing from a rolled-back index is a newer entry, not garbage, and must stay.
            wanted = {self._relpath(k, v) for k, v in self._load_state().entries.items()}
            # Temporary files of interrupted index / audit-head writes sit beside the index.
            for path in sorted(self.root.glob(f"{TEMP_PREFIX}*")):
                if now - path.stat().st_mtime >= grace_s:
                    remove_durably(path)
                    removed += 1
            for path in sorted((self.root / OBJECTS_DIR).glob("*/*")):
                rel = path.relative_to(self.root).as_posix()
                if rel in wanted or now - path.stat().st_mtime < grace_s:
                    continue
                if path.name.startswith(TEMP_PREFIX) or path.is_file():
                    remove_durably(path)
                    removed += 1
        return removed

    # ----- audit ------------------------------------------------------------------------
    def _audit_log(self, advance: Any = None, anchor: Any = None) -> AuditLog:
        """The log, held to the anchors (or to ``anchor`` alone: is it whole as that records?)."""
        keys = self._require()

        def read_head() -> dict | None:
            path = self.root / AUDIT_HEAD_FILE
            if not path.exists():
                return None
            return json.loads(container.decrypt_bytes(
                path.read_bytes(), bytes(keys.containers), context=_HEAD_CONTEXT,
                label=f"the audit head ({path})"))

        def write_head(head: dict) -> None:
            with atomic_writer(self.root / AUDIT_HEAD_FILE) as handle:
                container.write_all(container.vault_encryptor(
                    handle, bytes(keys.containers), context=_HEAD_CONTEXT),
                    [json.dumps(head).encode("utf-8")])

        def advance_anchor(seq: int, link: str) -> None:
            self._advance(audit=(seq, link))

        return AuditLog(self.root / AUDIT_FILE, keys.audit, read_head=read_head,
                        write_head=write_head,
                        read_anchor=(lambda: (anchor, [])) if anchor is not None else self._anchor_state,
                        advance_anchor=advance or advance_anchor)

    def audit(self, action: str, **details: Any) -> None:
        """Append an audit entry. ``details`` name things (datasets, runs); never rows: a list
        of more than 64 is refused (``audit_names`` takes lists of names of any length).

        Called after the change it records. If the disk fails between the two (the room for
        the entry is checked before a change commits, so only another program filling the disk
        meanwhile gets here), the error says the change was made, not that it failed."""
        self._append_entries([(action, details)])

    def audit_names(self, action: str, **details: Any) -> None:
        """``audit`` for details that list names (datasets, runs) whose number has no bound:
        lists of more than 64 go on in ``<action>.continued`` entries (``audit.in_parts``)."""
        self._append_entries(in_parts(action, details))

    def _append_entries(self, entries: builtins.list[tuple[str, dict[str, Any]]]) -> None:
        action = entries[0][0]
        log_ = self._audit_log()
        with self._locked():
            try:
                for name, part in entries:
                    log_.append(name, part)
            except OSError as exc:
                raise ChangeNotLogged(
                    f"the audit entry {action!r} could not be written ({exc.strerror or exc}): "
                    "the change it records was made, and the audit log will not show it. Free "
                    f"space on the workspace's disk ({self.root}) before the next change") from exc

    def verify_audit(self) -> AuditReport:
        return self._audit_log().verify()

    def verify_entries(self) -> builtins.list[str]:  # builtins: the method list() shadows it here
        """Authenticate both index copies and every entry end to end (streaming); return one
        message per problem."""
        problems = []
        for name in (INDEX_FILE, INDEX_BACKUP_FILE):
            try:
                if self._read_index_file(name) is None:
                    problems.append(f"the workspace index copy {name} is missing")
            except ContainerError as exc:
                problems.append(str(exc))
        try:
            keys = self.list()
        except PrivacyError as exc:  # e.g. an index older than its anchor: name it, stop there
            return [*problems, str(exc)]
        for key in keys:
            try:
                for _ in self.open_read(key):
                    pass
            except PrivacyError as exc:
                problems.append(str(exc))
        return problems
