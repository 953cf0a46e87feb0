"""The audit log: append-only, encrypted, hash-chained records of what was done in a workspace.

Each record is ``length (u32 BE) | nonce (12) | AES-256-GCM ciphertext`` with the record's
sequence number as associated data, so records cannot be reordered. The chain runs over the
*ciphertext* bytes (``link = SHA-256(previous link | record bytes)``) and each entry carries the
link of everything before it. Appending therefore never needs to decrypt earlier records, and a
damaged record does not stop later ones from being appended (verification still reports it).

Cutting entries off the end cannot be seen from a chain alone, so a small encrypted "head"
container remembers the last sequence number and link; the log must reach at least that far.
A crash between the two writes leaves the head one entry behind, which is allowed.

The head sits beside the log, so deleting both, or putting back an older pair, would pass;
the workspace therefore also advances a freshness anchor (privacy.vault.anchor) kept in the
vault file and outside the workspace, and the log must reach that too. ``append`` checks all
of this first: when the log does not match, it refuses (AuditTampered), after recording a
``audit.tamper_detected`` entry so the refusal itself is on the record.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.errors import IntegrityError, PrivacyError
from privacy.vault.anchor import GENESIS, Anchor
from privacy.vault.atomic import sync_to_disk

log = logging.getLogger(__name__)

TAMPER_ACTION = "audit.tamper_detected"
RESTORE_ACTION = "audit.restore_accepted"
_LENGTH = struct.Struct(">I")
_AAD_PREFIX = b"cloister/audit/v1"
_MAX_RECORD = 1 << 20
_MAX_DETAIL_TEXT = 256  # details name things (datasets, runs, settings); they never carry rows


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: str
    user: str
    action: str
    details: dict[str, Any]

    def details_line(self) -> str:
        """The details as `cloister audit` and the app's audit log show them: key=value,
        values as JSON, keys in order."""
        return " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(self.details.items()))


@dataclass(frozen=True)
class AuditReport:
    """The outcome of verifying the log: every readable entry and each problem found."""

    entries: tuple[AuditEntry, ...]
    problems: tuple[str, ...] = field(default=())
    # The byte where a last entry starts that an interrupted write cut off (a full disk, a
    # killed process), when nothing else is wrong: never recorded as written, so no entry is
    # missing; the next append drops it. Said, but not a problem.
    cut_off_at: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Record:
    offset: int
    raw: bytes  # the whole record, length prefix included


_MAX_ITEMS = 64  # in one detail's list or mapping


def in_parts(action: str, details: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The entry, split where a list or mapping holds more than ``_MAX_ITEMS``: the entry with
    the first of each and ``parts``, then ``<action>.continued`` entries (``part`` of ``of``) with
    the rest. An erasure across 157 datasets, or of rows 65 runs trained on, failed its entry
    after the rows were gone; so it is logged whole, and each entry stays short."""
    long = {k: v for k, v in details.items()
            if isinstance(v, (list, tuple, dict)) and len(v) > _MAX_ITEMS}
    if not long:
        _check_details(details)
        return [(action, details)]

    def piece(value: Any, part: int) -> Any:
        items = list(value.items() if isinstance(value, dict) else value)
        chunk = items[part * _MAX_ITEMS:(part + 1) * _MAX_ITEMS]
        return dict(chunk) if isinstance(value, dict) else chunk

    parts = max(-(-len(v) // _MAX_ITEMS) for v in long.values())
    out = [(action, {**details, **{k: piece(v, 0) for k, v in long.items()}, "parts": parts})]
    for part in range(1, parts):
        more = {k: piece(v, part) for k, v in long.items() if len(v) > part * _MAX_ITEMS}
        out.append((f"{action}.continued", {"part": part + 1, "of": parts, **more}))
    for _, entry in out:  # every part, before any is written
        _check_details(entry)
    return out


def _check_details(details: dict[str, Any]) -> None:
    def ok(value: Any) -> bool:
        if isinstance(value, str):
            return len(value) <= _MAX_DETAIL_TEXT
        if isinstance(value, (list, tuple)):
            return len(value) <= _MAX_ITEMS and all(ok(v) for v in value)
        if isinstance(value, dict):
            return len(value) <= _MAX_ITEMS and all(isinstance(k, str) and ok(v) for k, v in value.items())
        return value is None or isinstance(value, (bool, int, float))

    for key, value in details.items():
        if not ok(value):
            raise ValueError(f"audit detail {key!r} must be a short scalar or list (never rows)")


def _link(previous: str, raw: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + raw).hexdigest()


# Per log file: (bytes of whole records read, SHA-256 object over them, records, links). An
# append re-read and re-hashed every record: 0.3-0.8 s an entry at 50,000 entries.
_CHAINS: dict[str, tuple[int, Any, list[_Record], list[str]]] = {}


# Per log file and key: (records opened, the link of the last, its entries, their problems).
_OPENED: dict[tuple[str, bytes], tuple[int, str, list[AuditEntry], list[str]]] = {}


def forget_opened(path: Path) -> None:
    """Let go of the entries ``verify`` kept for the log at ``path`` (the workspace is locked)."""
    for key in [k for k in _OPENED if k[0] == str(path)]:
        del _OPENED[key]


def _scan_linked(path: Path) -> tuple[list[_Record], list[str], int | None]:
    """The log split into records, each one's link in the chain, and the offset of a torn
    (incomplete) tail, if any. The records and links already known are reused where the file
    still starts with exactly the bytes they came from (hashed, not taken on trust from its
    size or time), and only what follows them is split and linked."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _CHAINS.pop(str(path), None)
        return [], [], None
    known = _CHAINS.get(str(path))
    records: list[_Record] = []
    links: list[str] = []
    start, digest = 0, hashlib.sha256()
    if known is not None and known[0] <= len(data):
        prefix = hashlib.sha256(memoryview(data)[:known[0]])
        if prefix.digest() == known[1].digest():
            start, digest, records, links = known[0], prefix, list(known[2]), list(known[3])
    more, torn = _split(data, start)
    link = links[-1] if links else GENESIS
    for record in more:
        link = _link(link, record.raw)
        links.append(link)
    records += more
    end = records[-1].offset + len(records[-1].raw) if records else 0
    digest.update(memoryview(data)[start:end])
    _CHAINS[str(path)] = (end, digest, records, links)
    return list(records), list(links), torn


def _split(data: bytes, offset: int) -> tuple[list[_Record], int | None]:
    records: list[_Record] = []
    while offset < len(data):
        if offset + _LENGTH.size > len(data):
            return records, offset
        (length,) = _LENGTH.unpack_from(data, offset)
        end = offset + _LENGTH.size + length
        if length > _MAX_RECORD or length < 28 or end > len(data):
            return records, offset
        records.append(_Record(offset, data[offset:end]))
        offset = end
    return records, None


class AuditTampered(IntegrityError):
    """The audit log does not match its head or the vault's freshness anchor; nothing was
    appended except the record of the refusal."""


AnchorReader = Callable[[], "tuple[Anchor, list[str]]"]


class AuditLog:
    """The log file plus its head. ``read_head``/``write_head`` come from the workspace (the head
    is an ordinary encrypted container); ``read_anchor`` returns the freshness anchor and any
    disagreement between its copies, ``advance_anchor(seq, link)`` moves it after an append.
    The caller's workspace lock serialises appenders."""

    def __init__(self, path: Path, key: bytearray, *, read_head: Callable[[], dict | None],
                 write_head: Callable[[dict], None], read_anchor: AnchorReader | None = None,
                 advance_anchor: Callable[[int, str], None] | None = None) -> None:
        self._path = path
        self._key = key
        self._read_head = read_head
        self._write_head = write_head
        self._read_anchor = read_anchor or (lambda: (Anchor(), []))
        self._advance_anchor = advance_anchor or (lambda seq, link: None)

    def _aad(self, seq: int) -> bytes:
        return _AAD_PREFIX + seq.to_bytes(8, "big")

    def append(self, action: str, details: dict[str, Any]) -> AuditEntry:
        """Append one entry; the caller holds the workspace lock."""
        if not action or len(action) > 64:
            raise ValueError("an audit action is a short name such as 'dataset.imported'")
        _check_details(details)
        records, links, torn = _scan_linked(self._path)
        problems: list[str] = []
        self._check_head(links, problems)
        self._check_anchor(links, problems)
        if problems:
            self._record_tamper(records, links, torn, problems)
            raise AuditTampered(
                "the audit log does not match its record of what was written: "
                + "; ".join(problems) + ". Refusing to add to it. Run 'cloister audit --verify' for "
                "details, and restore the workspace from a backup (or, if you restored an older "
                "copy on purpose, 'cloister audit --accept-restore')")
        if torn is not None:
            # A crash in the middle of an append leaves an incomplete record; drop it so the
            # chain can go on (verification of the complete records is unaffected).
            log.warning("audit log: dropping an incomplete last record left by an interrupted write")
        return self._write(records, links, action, details, torn=torn)

    def _write(self, records: list[_Record], links: list[str], action: str,
               details: dict[str, Any], *, torn: int | None, anchor: bool = True) -> AuditEntry:
        if torn is not None:  # only reached for a tail beyond every anchored record
            with open(self._path, "r+b") as handle:
                handle.truncate(torn)
                handle.flush()
                sync_to_disk(handle.fileno())
        link = links[-1] if links else GENESIS
        seq = len(records)
        entry = AuditEntry(seq=seq, time=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           user=_user(), action=action, details=dict(details))
        plain = json.dumps({"seq": seq, "time": entry.time, "user": entry.user, "action": action,
                            "details": entry.details, "prev": link},
                           sort_keys=True, separators=(",", ":")).encode("utf-8")
        nonce = os.urandom(12)  # random nonces: fine far below 2^32 records per key
        body = nonce + AESGCM(bytes(self._key)).encrypt(nonce, plain, self._aad(seq))
        raw = _LENGTH.pack(len(body)) + body
        # 0600 from the start: the log is ciphertext, but its size and timing are nobody's business.
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "ab") as handle:
            handle.write(raw)
            handle.flush()
            sync_to_disk(handle.fileno())
        try:
            self._write_head({"seq": seq, "link": _link(link, raw)})
            if anchor:
                self._advance_anchor(seq, _link(link, raw))
        except OSError as exc:
            # The entry is in the log, on disk: a head (or anchor) left one entry behind is
            # what a crash at this moment leaves, which verification accepts. A full disk that
            # took the entry into the log's last block but refused the head's new file was
            # said as an entry "the audit log will not show", and stopped the command.
            log.warning("audit entry %d was written, but the record of the latest entry could "
                        "not be updated (%s): it is updated with the next entry; free space on "
                        "the disk of the workspace (%s)", seq, exc.strerror or exc,
                        self._path.parent)
        return entry

    def _record_tamper(self, records: list[_Record], links: list[str], torn: int | None,
                       problems: list[str]) -> None:
        """Put the refusal on the record, once: chained onto what is there now, with the head
        following it, but the anchor left where it was, so verification keeps failing until
        someone restores the log or accepts the loss on purpose."""
        if records:
            last = self._open(records[-1], len(records) - 1,
                              links[-2] if len(links) > 1 else GENESIS, [])
            if last is not None and last.action == TAMPER_ACTION:
                return
        try:
            self._write(records, links, TAMPER_ACTION,
                        {"problems": [p[:_MAX_DETAIL_TEXT] for p in problems[:8]]},
                        torn=torn, anchor=False)
        except OSError as exc:  # the refusal stands even if it cannot be written down
            log.warning("could not record the audit tamper event: %s", exc)

    def accept_current(self, action: str, details: dict[str, Any]) -> AuditEntry:
        """Append ``action`` whatever the anchor says and move the anchor to it: the explicit
        "I restored this copy on purpose" step. Earlier problems stay visible in the entries."""
        records, links, torn = _scan_linked(self._path)
        return self._write(records, links, action, details, torn=torn)

    def structural_problems(self) -> list[str]:
        """The head and anchor checks only (hashes, no decryption): cheap enough for unlock."""
        _, links, _ = _scan_linked(self._path)
        problems: list[str] = []
        self._check_head(links, problems)
        self._check_anchor(links, problems)
        return problems

    def verify(self) -> AuditReport:
        """Every entry decrypted and its place in the chain checked, then the head and the
        anchor. Entries opened before are reused where the chain up to them is unchanged (their
        link is a hash of every byte before): the Train page and ``show`` read the whole log for
        the privacy reviews, 1.3 s at 50,000 entries each time."""
        records, links, torn = _scan_linked(self._path)
        cache_key = (str(self._path), hashlib.sha256(bytes(self._key)).digest())
        done, last, opened, problems = _OPENED.get(cache_key, (0, GENESIS, [], []))
        if done > len(links) or (done and links[done - 1] != last):
            done, opened, problems = 0, [], []
        entries, problems = list(opened), list(problems)
        link = links[done - 1] if done else GENESIS
        for seq in range(done, len(records)):
            entry = self._open(records[seq], seq, link, problems)
            if entry is not None:
                entries.append(entry)
            link = links[seq]
        _OPENED[cache_key] = (len(records), link, list(entries), list(problems))
        self._check_head(links, problems)
        self._check_anchor(links, problems)
        if torn is not None and problems:  # beside other damage, a cut may be part of it
            problems.append(f"the last entry (at byte {torn}) is incomplete: a write was "
                            "interrupted or the file was cut")
        return AuditReport(entries=tuple(entries), problems=tuple(problems),
                           cut_off_at=torn if not problems else None)

    def _open(self, record: _Record, seq: int, link: str, problems: list[str]) -> AuditEntry | None:
        body = record.raw[_LENGTH.size:]
        try:
            plain = AESGCM(bytes(self._key)).decrypt(body[:12], body[12:], self._aad(seq))
            doc = json.loads(plain)
        except (InvalidTag, ValueError):
            problems.append(f"entry {seq} is damaged, altered or out of place (it fails "
                            "authentication)")
            return None
        if doc.get("prev") != link:
            problems.append(f"entry {seq} does not follow entry {seq - 1}: the chain is broken "
                            "(an entry was removed, replaced or inserted)")
        return AuditEntry(seq=seq, time=str(doc.get("time")), user=str(doc.get("user")),
                          action=str(doc.get("action")), details=dict(doc.get("details") or {}))

    def _check_head(self, links: list[str], problems: list[str]) -> None:
        try:
            head = self._read_head()
        except Exception as exc:  # a damaged head is a finding, not a crash of the verifier
            problems.append(f"the audit head record cannot be read: {exc}")
            return
        if head is None:
            if links:
                problems.append("the audit head record is missing")
            return
        seq = int(head.get("seq", -1))
        if seq >= len(links):
            problems.append(_head_cut(len(links), seq))
        elif seq >= 0 and links[seq] != head.get("link"):
            problems.append(f"entry {seq} differs from the one recorded as the latest")


    def _check_anchor(self, links: list[str], problems: list[str]) -> None:
        try:
            anchor, disagreements = self._read_anchor()
        except PrivacyError as exc:  # an altered anchor, or a vault file damaged meanwhile
            problems.append(str(exc))
            return
        problems.extend(disagreements)
        seq = anchor.audit_seq
        if seq < 0:
            return
        if seq >= len(links):
            what = ("the log is missing or empty" if not links
                    else f"the log ends after {len(links)} entries")
            # The head's record of the same cut, said in its words: one fact read as two findings
            # (a head that counts another number of entries stays: it is another finding).
            problems[:] = [p for p in problems if p != _head_cut(len(links), seq)]
            problems.append(f"{what}, but the vault records that {seq + 1} were written: the "
                            "log was deleted, cut, or replaced by an older copy")
        elif links[seq] != anchor.audit_link:
            problems.append(f"entry {seq} differs from the one the vault records: the log was "
                            "replaced by an older or different copy")


def _head_cut(entries: int, seq: int) -> str:
    return f"the log ends after {entries} entries but {seq + 1} were written: entries were cut off the end"


def _windows_account() -> str | None:
    """GetUserNameW: the name of the account whose token the process holds (USERNAME, which
    getpass falls back to, is only an environment variable)."""
    import ctypes

    size = ctypes.c_ulong(257)  # UNLEN + 1
    buffer = ctypes.create_unicode_buffer(size.value)
    try:
        ok = ctypes.windll.advapi32.GetUserNameW(buffer, ctypes.byref(size))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None
    return str(buffer.value) if ok else None


def _user() -> str:
    """The account the process runs as. ``getpass.getuser`` reads LOGNAME/USER first, which
    anyone can set ("LOGNAME=dr.house cloister rm ..." was logged as dr.house); on POSIX the
    account comes from the process's uid instead, on Windows from its access token."""
    if sys.platform == "win32":
        account = _windows_account()
        if account:
            return account
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):  # no pwd, or a uid with no account entry
        pass
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): the entry still records what and when
        return "unknown"
