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
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from privacy.vault import container
from privacy.vault.atomic import TEMP_PREFIX, atomic_writer, remove_durably
from privacy.vault.audit import AuditLog, AuditReport
from privacy.vault.container import ScryptParams
from privacy.vault.entry_io import EntryReader, EntryWriter, class_or_instance
from privacy.errors import ContainerError, NotInVault, PrivacyError, VaultLocked, VaultNotFound
from privacy.vault.keyfile import VAULT_FILE_NAME, VaultKeys, change_passphrase, create_vault, unlock_vault

log = logging.getLogger(__name__)

INDEX_FILE = "index.cloister"
INDEX_BACKUP_FILE = "index.backup.cloister"
AUDIT_FILE = "audit.log"
AUDIT_HEAD_FILE = "audit-head.cloister"
OBJECTS_DIR = "objects"
LOCK_FILE = ".lock"
_INDEX_CONTEXT = b"cloister/index"
_HEAD_CONTEXT = b"cloister/audit-head"
_ORPHAN_GRACE_S = 600  # another process may be between "file written" and "index updated"

try:  # POSIX advisory lock; on Windows the desktop app is the only writer in practice.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def default_workspace_dir(chosen: str | os.PathLike[str] | None = None) -> Path:
    """Where the workspace is, decided here only (the CLI's --workspace and the desktop's
    setting pass their choice in): ``chosen`` if given, else ``$CLOISTER_WORKSPACE``, else the
    platform's user data dir / ``workspace``."""
    if chosen:
        return Path(chosen).expanduser()
    override = os.environ.get("CLOISTER_WORKSPACE")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("Cloister", appauthor=False)) / "workspace"


def _check_key(key: str) -> str:
    if (not isinstance(key, str) or not key or len(key) > 1024 or key.startswith("/")
            or key.endswith("/") or "//" in key or "\x00" in key):
        raise ValueError(f"invalid workspace key {key!r}: use 'a/b/c' without empty parts")
    return key


def _context(key: str) -> bytes:
    return b"cloister/entry:" + key.encode("utf-8")


class Workspace:
    """An unlocked workspace. Create with :meth:`create` or :meth:`unlock`; :meth:`lock` when done."""

    def __init__(self, root: Path, keys: VaultKeys) -> None:
        self.root = Path(root)
        self._keys: VaultKeys | None = keys

    # ----- vault life cycle -------------------------------------------------------------
    @staticmethod
    def vault_exists(root: Path) -> bool:
        """Whether ``root`` holds a vault file (also reachable as ``Workspace.exists(root)``)."""
        return (Path(root) / VAULT_FILE_NAME).is_file()

    @classmethod
    def create(cls, root: Path, passphrase: str, *, kdf: ScryptParams | None = None) -> Workspace:
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        ws = cls(root, create_vault(root / VAULT_FILE_NAME, passphrase, kdf=kdf))
        ws._save_index([])
        ws.audit("vault.created")
        return ws

    @classmethod
    def unlock(cls, root: Path, passphrase: str) -> Workspace:
        root = Path(root)
        if not cls.vault_exists(root):
            raise VaultNotFound(f"no Cloister workspace at {root}; create one with 'cloister init'")
        ws = cls(root, unlock_vault(root / VAULT_FILE_NAME, passphrase))
        try:
            if not (root / INDEX_FILE).exists() and not ws._load_index():
                ws._save_index([])  # finish a `create` that was interrupted after the vault
            ws.collect_garbage()
        except (PrivacyError, OSError) as exc:  # housekeeping must never block opening
            log.warning("could not clean up after an earlier interruption: %s", exc)
        return ws

    def lock(self) -> None:
        """Drop the keys; every later call raises VaultLocked."""
        if self._keys is not None:
            self._keys.wipe()
            self._keys = None

    @property
    def locked(self) -> bool:
        return self._keys is None

    def change_passphrase(self, old: str, new: str, *, kdf: ScryptParams | None = None) -> None:
        """Rewrap the master key; no data file is touched."""
        self._require()
        change_passphrase(self.root / VAULT_FILE_NAME, old, new, kdf=kdf)
        self.audit("vault.passphrase_changed")

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    # ----- internals --------------------------------------------------------------------
    def _require(self) -> VaultKeys:
        if self._keys is None:
            raise VaultLocked("the workspace is locked; unlock it again with the passphrase")
        return self._keys

    def _relpath(self, key: str) -> str:
        digest = hmac.new(bytes(self._require().names), _context(key), hashlib.sha256).hexdigest()
        return f"{OBJECTS_DIR}/{digest[:2]}/{digest[2:32]}"

    def file_of(self, key: str) -> Path:
        """The object file that holds ``key`` (for error reports, diagnostics and tamper tests)."""
        return self.root / self._relpath(_check_key(key))

    def _label(self, key: str) -> str:
        return f"workspace entry '{key}' (file {self._relpath(key)})"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise index changes between processes (the CLI and the app may both be open)."""
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        with open(self.root / LOCK_FILE, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _read_index_file(self, name: str) -> list[str] | None:
        """The keys in one copy of the index; None if that copy does not exist."""
        path = self.root / name
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        plain = container.decrypt_bytes(blob, bytes(self._require().containers),
                                        context=_INDEX_CONTEXT, label=f"the workspace index ({path})")
        return list(json.loads(plain)["keys"])

    def _load_index(self) -> list[str]:
        # Entry names cannot be recovered from the HMAC file names, so the index is kept twice:
        # a damaged or missing main copy falls back to the backup (written right after it).
        try:
            keys = self._read_index_file(INDEX_FILE)
        except ContainerError as damage:
            try:
                keys = self._read_index_file(INDEX_BACKUP_FILE)
            except ContainerError:
                raise damage from None
            if keys is None:
                raise
            log.warning("the workspace index is damaged; using its backup copy")
            return keys
        if keys is not None:
            return keys
        backup = self._read_index_file(INDEX_BACKUP_FILE)
        if backup is not None:
            log.warning("the workspace index is missing; using its backup copy")
            return backup
        if not any((self.root / OBJECTS_DIR).glob("*/*")):
            return []  # `create` was interrupted before its first index write: empty
        raise ContainerError(f"the workspace index ({self.root / INDEX_FILE}) and its backup are "
                             "missing; restore the workspace from a backup")

    def _save_index(self, keys: list[str]) -> None:
        data = json.dumps({"version": 1, "keys": sorted(set(keys))}).encode("utf-8")
        for name in (INDEX_FILE, INDEX_BACKUP_FILE):  # main copy first: it is the one read
            with atomic_writer(self.root / name) as handle:
                container.write_all(container.vault_encryptor(
                    handle, bytes(self._require().containers), context=_INDEX_CONTEXT), [data])

    # ----- entries ----------------------------------------------------------------------
    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[EntryWriter]:
        """Stream an entry in; it replaces any previous version atomically on a clean exit.

        If the body raises, nothing is left behind and a previous version stays intact.
        """
        _check_key(key)
        keys = self._require()
        path = self.root / self._relpath(key)
        with atomic_writer(path) as handle:
            encryptor = container.vault_encryptor(handle, bytes(keys.containers),
                                                  context=_context(key))
            yield EntryWriter(encryptor)
            encryptor.close()
        with self._locked():
            index = self._load_index()
            if key not in index:
                self._save_index([*index, key])

    def open_read(self, key: str) -> EntryReader:
        """A context manager / iterable of the entry's plaintext chunks (streams)."""
        if not self.has(key):
            raise NotInVault(f"'{key}' is not in the workspace")
        return EntryReader(self.root / self._relpath(key), bytes(self._require().containers),
                            _context(key), self._label(key))

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
            raise ContainerError(f"{self._label(key)} decrypts but is not valid JSON") from None

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
            index = self._load_index()
            if key not in index:
                raise NotInVault(f"'{key}' is not in the workspace")
            self._save_index([k for k in index if k != key])
        remove_durably(self.root / self._relpath(key))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every entry whose key starts with ``prefix``; return how many."""
        if not prefix:
            raise ValueError("refusing to delete with an empty prefix (that is everything)")
        with self._locked():
            index = self._load_index()
            doomed = [k for k in index if k.startswith(prefix)]
            if doomed:
                self._save_index([k for k in index if not k.startswith(prefix)])
        for key in doomed:
            remove_durably(self.root / self._relpath(key))
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
            index = self._load_index()
            moving = [k for k in index if k.startswith(old)]
            renamed = {k: _check_key(new + k[len(old):]) for k in moving}
            clash = sorted(set(renamed.values()) & (set(index) - set(moving)))
            if clash:
                raise PrivacyError(f"cannot rename: '{clash[0]}' already exists in the workspace")
            written: list[Path] = []
            try:
                for source_key, target_key in renamed.items():
                    self._retag(keys, source_key, target_key)
                    written.append(self.root / self._relpath(target_key))
                self._save_index([renamed.get(k, k) for k in index])
            except BaseException:
                for path in written:  # the index still names the old files: nothing changed
                    remove_durably(path)
                raise
        for source_key in moving:
            remove_durably(self.root / self._relpath(source_key))
        return len(moving)

    def _retag(self, keys: VaultKeys, source_key: str, target_key: str) -> None:
        label = self._label(source_key)
        try:
            src = open(self.root / self._relpath(source_key), "rb")
        except FileNotFoundError:
            raise ContainerError(f"{label} is missing from the workspace; "
                                 "restore the workspace from a backup") from None
        with src, atomic_writer(self.root / self._relpath(target_key)) as dst:
            container.retag(src, dst, bytes(keys.containers), old_context=_context(source_key),
                            new_context=_context(target_key), label=label)

    def collect_garbage(self, *, grace_s: float = _ORPHAN_GRACE_S) -> int:
        """Remove object files no index entry refers to (left by a crash); return how many.

        Files younger than ``grace_s`` are spared: another process may be about to index them.
        """
        now = time.time()
        removed = 0
        with self._locked():
            wanted = {self._relpath(k) for k in self._load_index()}
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
    def _audit_log(self) -> AuditLog:
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

        return AuditLog(self.root / AUDIT_FILE, keys.audit, read_head=read_head,
                        write_head=write_head)

    def audit(self, action: str, **details: Any) -> None:
        """Append an audit entry. ``details`` name things (datasets, runs); never rows."""
        log_ = self._audit_log()
        with self._locked():
            log_.append(action, details)

    def verify_audit(self) -> AuditReport:
        return self._audit_log().verify()

    def verify_entries(self) -> list[str]:
        """Authenticate both index copies and every entry end to end (streaming); return one
        message per problem."""
        problems = []
        for name in (INDEX_FILE, INDEX_BACKUP_FILE):
            try:
                if self._read_index_file(name) is None:
                    problems.append(f"the workspace index copy {name} is missing")
            except ContainerError as exc:
                problems.append(str(exc))
        for key in self.list():
            try:
                for _ in self.open_read(key):
                    pass
            except PrivacyError as exc:
                problems.append(str(exc))
        return problems
