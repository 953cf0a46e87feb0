"""The audit log: entries round-trip, and any edit, removal, reordering or cut is reported."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from privacy.vault.workspace import AUDIT_FILE, AUDIT_HEAD_FILE, Workspace


def records(path: Path) -> list[bytes]:
    data, out, offset = path.read_bytes(), [], 0
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        out.append(data[offset:offset + 4 + length])
        offset += 4 + length
    return out


@pytest.fixture
def logged(workspace: Workspace) -> Workspace:
    for i in range(4):
        workspace.audit("dataset.imported", dataset=f"set{i}", rows=10 * i)
    return workspace


def test_entries_round_trip_in_order(logged: Workspace) -> None:
    report = logged.verify_audit()
    assert report.ok and report.problems == ()
    assert [e.action for e in report.entries] == ["vault.created"] + ["dataset.imported"] * 4
    assert [e.seq for e in report.entries] == [0, 1, 2, 3, 4]
    assert report.entries[3].details == {"dataset": "set2", "rows": 20}
    assert report.entries[0].time.endswith("+00:00") and report.entries[0].user


def test_log_is_encrypted(logged: Workspace) -> None:
    raw = (logged.root / AUDIT_FILE).read_bytes()
    assert b"dataset" not in raw and b"set2" not in raw


def test_edited_entry_is_reported(logged: Workspace) -> None:
    path = logged.root / AUDIT_FILE
    data = bytearray(path.read_bytes())
    offset = sum(len(r) for r in records(path)[:2]) + 30  # inside entry 2
    data[offset] ^= 1
    path.write_bytes(bytes(data))
    report = logged.verify_audit()
    assert not report.ok
    assert any("entry 2 is damaged" in p for p in report.problems)
    assert len(report.entries) == 4  # the others still read


def test_removed_middle_entry_breaks_the_chain(logged: Workspace) -> None:
    path = logged.root / AUDIT_FILE
    recs = records(path)
    path.write_bytes(b"".join(recs[:2] + recs[3:]))
    problems = logged.verify_audit().problems
    assert problems  # entry 3 now sits at position 2: wrong sequence number (AAD)
    assert any("entry 2" in p for p in problems)


def test_reordered_entries_are_reported(logged: Workspace) -> None:
    path = logged.root / AUDIT_FILE
    recs = records(path)
    recs[1], recs[2] = recs[2], recs[1]
    path.write_bytes(b"".join(recs))
    report = logged.verify_audit()
    assert {"entry 1", "entry 2"} <= {p[:7] for p in report.problems}


def test_cut_off_tail_is_caught_by_the_head(logged: Workspace) -> None:
    path = logged.root / AUDIT_FILE
    path.write_bytes(b"".join(records(path)[:-2]))
    problems = logged.verify_audit().problems
    # Said once, in the vault's words (the head recorded the same count: tests/privacy/
    # test_integrity.py's one-finding test).
    assert any("the log ends after 3 entries, but the vault records that 5 were written" in p
               for p in problems)


def test_torn_last_record_is_reported_then_repaired_by_the_next_append(logged: Workspace) -> None:
    path = logged.root / AUDIT_FILE
    head = (logged.root / AUDIT_HEAD_FILE).read_bytes()
    recs, whole = records(path), path.stat().st_size
    with path.open("ab") as handle:  # an append that died half way
        handle.write(struct.pack(">I", 200) + b"\x01" * 50)
    # Nothing recorded is missing (the head never moved): said as a cut-off write, not as
    # damage (a full disk made the next `audit --verify` call the log "altered or damaged").
    cut = logged.verify_audit()
    assert cut.ok and cut.cut_off_at == whole
    assert (logged.root / AUDIT_HEAD_FILE).read_bytes() == head
    # Beside real damage, the cut is listed with it.
    damaged = logged.verify_audit
    path.write_bytes(b"".join(recs[:-1]) + struct.pack(">I", 200) + b"\x01" * 50)
    assert any("incomplete" in p for p in damaged().problems) and damaged().cut_off_at is None
    path.write_bytes(b"".join(recs) + struct.pack(">I", 200) + b"\x01" * 50)
    logged.audit("dataset.deleted", dataset="set0")
    report = logged.verify_audit()
    assert report.ok, report.problems
    assert report.entries[-1].action == "dataset.deleted" and len(report.entries) == 6


def test_missing_head_is_reported(logged: Workspace) -> None:
    (logged.root / AUDIT_HEAD_FILE).unlink()
    assert "the audit head record is missing" in logged.verify_audit().problems


def test_details_must_not_carry_rows(workspace: Workspace) -> None:
    with pytest.raises(ValueError, match="never rows"):
        workspace.audit("dataset.imported", sample="x" * 1000)
    with pytest.raises(ValueError, match="never rows"):
        workspace.audit("dataset.imported", rows=[str(i) for i in range(100)])
    with pytest.raises(ValueError):
        workspace.audit("")
    assert len(workspace.verify_audit().entries) == 1  # nothing was appended


def test_long_lists_of_names_go_on_in_continued_entries(workspace: Workspace) -> None:
    names = [f"run-{i:03d}" for i in range(150)]
    workspace.audit_names("person.forgotten", runs_kept=names, datasets={"a": 1}, pseudonyms=0)
    entries = workspace.verify_audit().entries[1:]
    assert [(e.action, e.details.get("part")) for e in entries] == [
        ("person.forgotten", None), ("person.forgotten.continued", 2), ("person.forgotten.continued", 3)]
    assert entries[0].details == {"runs_kept": names[:64], "datasets": {"a": 1}, "pseudonyms": 0,
                                  "parts": 3}
    assert entries[2].details == {"part": 3, "of": 3, "runs_kept": names[128:]}
    assert workspace.verify_audit().ok
    with pytest.raises(ValueError, match="never rows"):  # a long text is refused before any part
        workspace.audit_names("x", runs_kept=names, note="y" * 1000)
    assert len(workspace.verify_audit().entries) == 4


def test_an_append_links_only_the_new_entries_and_still_sees_a_changed_log(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every append re-read and re-hashed the whole log: 0.3-0.8 s an entry at 50,000 entries.
    from privacy.vault import audit
    from privacy.vault.audit import AuditTampered

    for i in range(30):
        workspace.audit("dataset.imported", dataset=f"d{i}")
    linked: list[bytes] = []
    real = audit._link
    monkeypatch.setattr(audit, "_link", lambda previous, raw: linked.append(raw) or real(previous, raw))
    workspace.audit("dataset.imported", dataset="one more")
    assert len(linked) <= 3  # the entry before it (written last time) and its own, not all 31
    path = workspace.root / "audit.log"
    data = bytearray(path.read_bytes())
    data[40] ^= 1  # an earlier entry changed: its bytes no longer match what was linked
    path.write_bytes(bytes(data))
    with pytest.raises(AuditTampered):
        workspace.audit("dataset.imported", dataset="after the change")
    assert len(linked) > 30  # linked again from the start


def test_verify_opens_only_the_entries_new_since_it_last_did_and_still_sees_a_change(
        logged: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Train page and `show` read the whole log (1.3 s at 50,000 entries) on every visit.
    from privacy.vault.audit import AuditLog

    first = logged.verify_audit()
    assert first.ok
    opened: list[int] = []
    real = AuditLog._open
    monkeypatch.setattr(AuditLog, "_open", lambda self, record, seq, link, problems: (
        opened.append(seq), real(self, record, seq, link, problems))[1])
    logged.audit("dataset.deleted", dataset="x")
    again = logged.verify_audit()
    assert opened == [len(first.entries)] and again.entries[:-1] == first.entries
    assert again.entries[-1].action == "dataset.deleted" and again.ok
    path = logged.root / "audit.log"
    data = bytearray(path.read_bytes())
    data[40] ^= 1  # the first entry, opened and kept above, is altered
    path.write_bytes(bytes(data))
    report = logged.verify_audit()
    assert not report.ok and any("entry 0" in p for p in report.problems)


def test_random_damage_never_crashes_the_verifier(logged: Workspace) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    path = logged.root / AUDIT_FILE
    valid = path.read_bytes()

    @settings(max_examples=60, deadline=None)
    @given(position=st.integers(0, len(valid) - 1), value=st.integers(0, 255),
           cut=st.integers(0, len(valid)), extra=st.binary(max_size=40))
    def check(position, value, cut, extra) -> None:
        data = bytearray(valid)
        data[position] = value
        candidate = bytes(data[:cut]) + extra
        path.write_bytes(candidate)
        report = logged.verify_audit()
        # Bytes after the last recorded entry are an append cut off, never a lost entry.
        tail_only = candidate.startswith(valid) and report.cut_off_at == len(valid)
        assert report.ok == (candidate == valid or tail_only)

    check()


def test_the_user_logged_is_the_account_not_a_name_from_the_environment(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # "LOGNAME=dr.house cloister rm ..." was logged as dr.house: getpass reads the environment.
    pwd = pytest.importorskip("pwd")  # POSIX; on Windows the login name is all there is
    import os

    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "dr.house")
    workspace.audit("dataset.deleted", dataset="x")
    logged = workspace.verify_audit().entries[-1]
    assert logged.user == pwd.getpwuid(os.getuid()).pw_name != "dr.house"


def test_on_windows_the_user_logged_comes_from_the_access_token(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no pwd: getpass fell back to USERNAME, an environment variable. The account
    is now GetUserNameW's, read from the process's token (faked here, the one edge this machine
    cannot have: the Windows API)."""
    import ctypes
    import sys

    def get_user_name(buffer, size):  # noqa: ANN001, ANN202 - GetUserNameW(LPWSTR, LPDWORD)
        buffer.value = "CLINIC\\j.smith"
        return 1

    advapi32 = type("advapi32", (), {"GetUserNameW": staticmethod(get_user_name)})
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", type("windll", (), {"advapi32": advapi32}), raising=False)
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "dr.house")
    workspace.audit("dataset.deleted", dataset="x")
    assert workspace.verify_audit().entries[-1].user == "CLINIC\\j.smith"


def test_the_head_alone_catches_a_cut_tail_where_no_anchor_counts(tmp_path: Path) -> None:
    # Beside the vault's anchor the head's finding is merged into the anchor's; without one (a
    # log outside a workspace, an anchor older than the head), it is the only check left.
    from privacy.vault.audit import AuditLog

    heads: dict[str, dict] = {}
    log = AuditLog(tmp_path / "audit.log", bytearray(range(32)), read_head=lambda: heads.get("h"),
                   write_head=lambda head: heads.__setitem__("h", head))
    for i in range(5):
        log.append("dataset.imported", {"dataset": f"set{i}"})
    path = tmp_path / "audit.log"
    path.write_bytes(b"".join(records(path)[:-2]))
    assert "the log ends after 3 entries but 5 were written: entries were cut off the end" in \
        log.verify().problems
