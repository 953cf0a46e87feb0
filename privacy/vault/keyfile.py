"""The vault file: KDF parameters plus a random master key wrapped by a passphrase-derived key.

The master key never changes, so changing the passphrase only rewraps 32 bytes: no data is
re-encrypted. The file is JSON (it holds no user data: parameters, salts, ciphertext) with a
SHA-256 checksum, which lets unlock tell three failures apart: a vault written by a newer
Cloister (refused before anything else is read), a damaged file (checksum mismatch or
unparsable), and a wrong passphrase (the file is intact but the key does not unwrap).
See FORMAT.md for the exact fields.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privacy.vault.anchor import Anchor, seal, unseal
from privacy.vault.atomic import atomic_write_bytes
from privacy.vault.container import SALT_SIZE
from privacy.errors import (
    ContainerError,
    PrivacyError,
    VaultDamaged,
    VaultExists,
    VaultNotFound,
    VaultTooNew,
    WrongPassphrase,
)
from privacy.vault.kdf import KEY_SIZE, ScryptParams, write_floor

VAULT_FILE_NAME = "cloister.vault"
VAULT_FORMAT = "cloister-vault"
VAULT_VERSION = 1


@dataclass
class VaultKeys:
    """Subkeys derived from the master key, one per purpose, so no key is used for two jobs."""

    vault_id: str
    containers: bytearray  # base key of every workspace container
    names: bytearray  # HMAC key that turns entry names into file names
    audit: bytearray  # AES-GCM key of audit-log records
    anchor: bytearray  # HMAC key of the freshness anchors (privacy.vault.anchor)

    @classmethod
    def from_master(cls, master: bytes | bytearray, vault_id: str) -> VaultKeys:
        def sub(purpose: bytes) -> bytearray:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None,
                        info=b"cloister/v1/" + purpose)
            return bytearray(hkdf.derive(bytes(master)))

        return cls(vault_id=vault_id, containers=sub(b"containers"), names=sub(b"names"),
                   audit=sub(b"audit"), anchor=sub(b"anchor"))

    def wipe(self) -> None:
        """Overwrite the key bytes we own. Copies made inside OpenSSL or by ``bytes()`` calls are
        beyond Python's reach; this narrows, not closes, the window (said in FORMAT.md)."""
        for key in (self.containers, self.names, self.audit, self.anchor):
            key[:] = bytes(len(key))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _wrap_aad(doc: dict[str, Any]) -> bytes:
    # The wrapped key is bound to the vault id and KDF settings: editing either breaks the unwrap.
    return _canonical({"format": doc["format"], "version": doc["version"],
                       "vault_id": doc["vault_id"], "kdf": doc["kdf"]})


def _checked_passphrase(passphrase: str) -> str:
    if not passphrase:
        raise PrivacyError("the passphrase must not be empty")
    return passphrase


def _finish(doc: dict[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    body["checksum"] = hashlib.sha256(_canonical(body)).hexdigest()
    return json.dumps(body, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def _build_document(master: bytes | bytearray, passphrase: str, kdf: ScryptParams,
                    vault_id: str, created: str, anchor: Any = None) -> bytes:
    salt = os.urandom(SALT_SIZE)
    doc: dict[str, Any] = {
        "format": VAULT_FORMAT,
        "version": VAULT_VERSION,
        "vault_id": vault_id,
        "created": created,
        # When this passphrase was set (created or changed), for the wrong-passphrase message:
        # the file's own time moves with every commit (its anchor), so it cannot say this.
        "passphrase_set": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "kdf": {"name": "scrypt", "log2_n": kdf.log2_n, "r": kdf.r, "p": kdf.p, "salt": _b64(salt)},
    }
    nonce = os.urandom(12)
    kek = kdf.derive(passphrase, salt)
    wrapped = AESGCM(kek).encrypt(nonce, bytes(master), _wrap_aad(doc))
    doc["wrap"] = {"cipher": "AES-256-GCM", "nonce": _b64(nonce), "ciphertext": _b64(wrapped)}
    if anchor is not None:  # a rewrap must not reset the freshness record (that would hide a rollback)
        doc["anchor"] = anchor
    return _finish(doc)


def create_vault(path: Path, passphrase: str, *, kdf: ScryptParams | None = None) -> VaultKeys:
    """Write a new vault file at ``path`` (refusing to overwrite one) and return its keys."""
    path = Path(path)
    if path.exists():
        raise VaultExists(f"a vault already exists at {path}; unlock it, or choose another folder")
    kdf = kdf or ScryptParams()
    kdf.check_for_writing(label="the requested KDF settings")
    master = bytearray(os.urandom(KEY_SIZE))
    vault_id = os.urandom(16).hex()
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    document = _build_document(master, _checked_passphrase(passphrase), kdf, vault_id, created)
    try:
        # Never replacing: two inits of one folder at once both found no vault, and the later
        # one's vault replaced the earlier's under its index and audit log.
        atomic_write_bytes(path, document, replace=False)
    except FileExistsError:
        raise VaultExists(f"a vault already exists at {path}; unlock it, or choose another "
                          "folder") from None
    keys = VaultKeys.from_master(master, vault_id)
    master[:] = bytes(KEY_SIZE)
    return keys


def _load(path: Path) -> dict[str, Any]:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise VaultNotFound(f"no vault at {path}; create one with 'cloister init'") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != VAULT_FORMAT:
            raise ValueError("not a vault document")
        version = doc["version"]
        if not isinstance(version, int):
            raise ValueError("bad version")
    except (ValueError, KeyError, UnicodeDecodeError):
        raise VaultDamaged(f"the vault file {path} is damaged (it cannot be parsed); restore it "
                           "from a backup — without it the workspace cannot be opened") from None
    if version > VAULT_VERSION:
        raise VaultTooNew(f"the vault at {path} was written by a newer Cloister (vault format "
                          f"{version}, this version reads {VAULT_VERSION}); update Cloister")
    body = {k: v for k, v in doc.items() if k != "checksum"}
    if doc.get("checksum") != hashlib.sha256(_canonical(body)).hexdigest() or version < 1:
        raise VaultDamaged(f"the vault file {path} is damaged (checksum mismatch); restore it "
                           "from a backup — without it the workspace cannot be opened")
    return doc


def _unwrap(doc: dict[str, Any], passphrase: str, path: Path) -> bytearray:
    try:
        kdf_doc = doc["kdf"]
        if kdf_doc["name"] != "scrypt":
            raise ValueError("unknown KDF")
        kdf = ScryptParams(log2_n=int(kdf_doc["log2_n"]), r=int(kdf_doc["r"]), p=int(kdf_doc["p"]))
        kdf.check(label=str(path))
        salt = _unb64(kdf_doc["salt"])
        nonce = _unb64(doc["wrap"]["nonce"])
        wrapped = _unb64(doc["wrap"]["ciphertext"])
    except (KeyError, TypeError, ValueError, binascii.Error, ContainerError):
        raise VaultDamaged(f"the vault file {path} is damaged (bad key-wrapping fields); "
                           "restore it from a backup") from None
    try:
        master = AESGCM(kdf.derive(passphrase, salt)).decrypt(nonce, wrapped, _wrap_aad(doc))
    except (InvalidTag, ValueError):
        when = _last_set(doc)
        said = (f" (its passphrase was set or last changed {when}: after a change, only the new "
                "one opens it)" if when else "")
        raise WrongPassphrase(f"wrong passphrase for the vault at {path}{said}",
                              passphrase_set=when) from None
    return bytearray(master)


def _last_set(doc: dict[str, Any]) -> str:
    """When the passphrase was last set, for the wrong-passphrase message: after a passphrase
    change that was interrupted (or forgotten), the new one may be the one in force. A vault
    written before the time was kept says nothing (its file's time is that of its last commit)."""
    try:
        when = datetime.fromisoformat(str(doc["passphrase_set"])).astimezone(timezone.utc)
    except (KeyError, ValueError):
        return ""
    return f"{when:%Y-%m-%d %H:%M} UTC"


def unlock_vault(path: Path, passphrase: str) -> VaultKeys:
    """Return the keys of the vault at ``path``.

    Raises VaultNotFound, VaultTooNew, VaultDamaged or WrongPassphrase, in that order of checks.
    """
    doc = _load(path)
    master = _unwrap(doc, passphrase, path)
    keys = VaultKeys.from_master(master, str(doc["vault_id"]))
    master[:] = bytes(KEY_SIZE)
    return keys


def opens_vault(path: Path, passphrase: str) -> bool:
    """Whether ``passphrase`` unlocks the vault at ``path`` (one key derivation: slow). For
    refusing to seal an export with the vault's own passphrase where the vault's is not held,
    as in the app; the key it unwraps is wiped at once."""
    try:
        master = _unwrap(_load(path), passphrase, path)
    except WrongPassphrase:
        return False
    master[:] = bytes(KEY_SIZE)
    return True


def change_passphrase(path: Path, old: str, new: str, *, kdf: ScryptParams | None = None) -> None:
    """Rewrap the master key under ``new`` (atomic: a crash leaves the old or the new vault file)."""
    atomic_write_bytes(Path(path), rewrapped(path, old, new, kdf=kdf))


def rewrapped(path: Path, old: str, new: str, *, kdf: ScryptParams | None = None) -> bytes:
    """The vault file with its master key wrapped under ``new`` instead of ``old``, not yet
    written: the slow part (two key derivations), apart from the instant of the write."""
    doc = _load(path)
    master = _unwrap(doc, old, path)
    if kdf is None:
        kdf = ScryptParams(log2_n=int(doc["kdf"]["log2_n"]), r=int(doc["kdf"]["r"]),
                           p=int(doc["kdf"]["p"]))
        if kdf.log2_n < write_floor():  # an old, weak vault is upgraded when it is rewritten
            kdf = ScryptParams(r=kdf.r, p=kdf.p)
    kdf.check_for_writing(label="the requested KDF settings")
    try:
        return _build_document(master, _checked_passphrase(new), kdf, str(doc["vault_id"]),
                               str(doc.get("created", "")), doc.get("anchor"))
    finally:
        master[:] = bytes(KEY_SIZE)


def read_vault_anchor(path: Path, keys: VaultKeys) -> Anchor | None:
    """The freshness anchor kept in the vault file; None for a vault written before anchors."""
    doc = _load(path)
    if "anchor" not in doc:
        return None
    return unseal(doc["anchor"], keys.anchor, keys.vault_id, where=f"the vault file {path}")


def write_vault_anchor(path: Path, anchor: Anchor, keys: VaultKeys) -> None:
    """Replace the vault file's anchor (atomically; the wrapped key is copied unchanged)."""
    doc = _load(path)
    doc["anchor"] = seal(anchor, keys.anchor, keys.vault_id)
    atomic_write_bytes(Path(path), _finish(doc))
