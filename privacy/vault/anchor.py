"""Freshness anchors: counters that say how far the workspace has got, kept where an old copy of
the workspace cannot quietly put them back.

The audit head and the two index copies live in the workspace folder, under the workspace key.
Someone who can write there can delete them, or put back an older pair, and nothing inside the
folder can tell. So every audit append and every index write also advances an *anchor*:

* ``audit_seq`` / ``audit_link``: the last audit record written and the chain link after it;
* ``index_generation``: the version number of the latest index write.

The anchor is kept twice: in the vault file (``cloister.vault``, field ``anchor``), which catches
a deleted or older log/head/index next to the current vault file, and in a small mirror file
*outside* the workspace (``<user config dir>/Cloister/anchors/<vault_id>.json``, or
``$CLOISTER_ANCHOR_DIR``), which catches a whole workspace folder restored from an old backup.
Both carry an HMAC under a key derived from the master key, so neither can be forged or edited.

Anchors only move forward and are written *after* the files they describe, so a crash leaves
them at most one step behind (never ahead). Readers therefore require: the files reach at least
as far as the anchor, and the mirror is not ahead of the vault file. A mirror that lags (crash,
or the workspace was moved to another machine) is simply brought forward.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from privacy.errors import IntegrityError
from privacy.vault.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

ANCHOR_DIR_ENV = "CLOISTER_ANCHOR_DIR"
GENESIS = "0" * 64  # the audit chain's first link (privacy.vault.audit uses the same)


@dataclass(frozen=True)
class Anchor:
    """How far the workspace has provably got. The zero anchor is "nothing written yet"."""

    audit_seq: int = -1
    audit_link: str = GENESIS
    index_generation: int = 0

    def behind(self, other: Anchor) -> bool:
        """Whether ``other`` has seen something this anchor has not (so this one is stale)."""
        return (other.audit_seq > self.audit_seq
                or other.index_generation > self.index_generation
                or (other.audit_seq == self.audit_seq and other.audit_link != self.audit_link))

    def merged(self, other: Anchor) -> Anchor:
        """The further of the two, field by field (the audit pair moves together)."""
        audit = other if other.audit_seq > self.audit_seq else self
        return Anchor(audit.audit_seq, audit.audit_link,
                      max(self.index_generation, other.index_generation))


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def seal(anchor: Anchor, key: bytes | bytearray, vault_id: str, *,
         folder: str | None = None) -> dict[str, Any]:
    """The anchor as a JSON object with its HMAC (bound to the vault id). ``folder``: the
    workspace folder that wrote it (the mirror's only), to tell a second copy from a backup."""
    body = {"vault_id": vault_id, **asdict(anchor), **({"folder": folder} if folder else {})}
    return {**body, "mac": hmac.new(bytes(key), _canonical(body), hashlib.sha256).hexdigest()}


def unseal(doc: Any, key: bytes | bytearray, vault_id: str, *, where: str) -> Anchor:
    """Check an anchor's HMAC and return it; IntegrityError if it was edited or forged."""
    try:
        body = {k: v for k, v in doc.items() if k != "mac"}
        good = hmac.new(bytes(key), _canonical(body), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, str(doc.get("mac"))) or body.get("vault_id") != vault_id:
            raise ValueError("bad mac")
        return Anchor(int(body["audit_seq"]), str(body["audit_link"]),
                      int(body["index_generation"]))
    except (AttributeError, KeyError, TypeError, ValueError):
        raise IntegrityError(f"the freshness record in {where} was altered or does not belong to "
                             "this vault") from None


def mirror_dir() -> Path:
    """Where anchors are mirrored: ``$CLOISTER_ANCHOR_DIR``, else the user config folder."""
    override = os.environ.get(ANCHOR_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("Cloister", appauthor=False)) / "anchors"


def mirror_path(vault_id: str) -> Path:
    if not vault_id or not all(c in "0123456789abcdef" for c in vault_id):
        raise IntegrityError("the vault id is not hexadecimal; the vault file is damaged")
    return mirror_dir() / f"{vault_id}.json"


def remove_mirror(vault_id: str) -> None:
    """Forget a vault's record outside it: only for a workspace deleted with its folder (the
    demo's throw-away one), whose record would otherwise stay behind for good."""
    mirror_path(vault_id).unlink(missing_ok=True)


def read_mirror(vault_id: str, key: bytes | bytearray) -> Anchor | None:
    found = read_mirror_and_folder(vault_id, key)
    return found[0] if found is not None else None


def read_mirror_and_folder(vault_id: str, key: bytes | bytearray) -> tuple[Anchor, str | None] | None:
    """The mirrored anchor and the workspace folder that wrote it last (None from versions
    that did not record it), or None when there is no mirror."""
    path = mirror_path(vault_id)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError):
        raise IntegrityError(f"the freshness record {path} (kept outside the workspace) cannot "
                             "be read") from None
    anchor = unseal(doc, key, vault_id, where=str(path))
    folder = doc.get("folder")
    return anchor, folder if isinstance(folder, str) else None


def write_mirror(vault_id: str, anchor: Anchor, key: bytes | bytearray, *,
                 folder: str | None = None) -> None:
    path = mirror_path(vault_id)
    # atomic_writer creates missing folders 0700 and the file 0600: only the user reads it.
    atomic_write_bytes(path, json.dumps(seal(anchor, key, vault_id, folder=folder), indent=2,
                                        sort_keys=True).encode("utf-8") + b"\n")


def reconcile(in_vault: Anchor | None, mirrored: Anchor | None, *, mirrored_by: str | None = None,
              here: str | None = None) -> tuple[Anchor, list[str]]:
    """The anchor to hold the workspace to, and why the two copies disagree (if they do).

    The vault file's copy is written first, so it may be ahead of the mirror (a crash between
    the two writes, or a workspace moved from another machine): that is fine. A mirror ahead of
    the vault file means the vault file, and so the workspace, is an older copy.
    """
    problems: list[str] = []
    vault = in_vault or Anchor()
    if mirrored is not None and vault.behind(mirrored):
        if in_vault is None:
            problems.append("the vault file has no freshness record, but the record kept "
                            "outside the workspace does: the vault file was replaced by an "
                            "older copy or edited")
        elif mirrored_by and here and mirrored_by != here:
            # Two copies of one workspace in use on this computer share one record: the one
            # used last is ahead, and this one looks restored although nobody restored it.
            problems.append(
                f"another copy of this workspace, in {mirrored_by}, was changed on this computer "
                f"after this one (audit entries {mirrored.audit_seq + 1} there, "
                f"{vault.audit_seq + 1} here): with two copies in use, each looks like an older "
                "backup of the other")
        else:
            problems.append(
                f"the workspace is older than the record kept outside it (audit entries "
                f"{vault.audit_seq + 1} vs {mirrored.audit_seq + 1}, index version "
                f"{vault.index_generation} vs {mirrored.index_generation}): it was restored "
                "from an older copy or backup")
    return (vault.merged(mirrored) if mirrored is not None else vault), problems
