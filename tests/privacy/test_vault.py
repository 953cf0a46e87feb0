"""The vault file: wrong passphrase vs damage vs newer format, passphrase change, KDF settings."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from privacy.vault.container import ScryptParams
from privacy.errors import PrivacyError, VaultDamaged, VaultExists, VaultTooNew, WrongPassphrase
from privacy.vault.keyfile import VAULT_FILE_NAME, change_passphrase, create_vault, unlock_vault
from privacy.vault.workspace import Workspace
from tests.privacy.conftest import FAST_KDF, PASSPHRASE


def _rewrite(path: Path, edit) -> None:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def test_unlock_gives_the_same_keys(tmp_path: Path) -> None:
    path = tmp_path / VAULT_FILE_NAME
    created = create_vault(path, PASSPHRASE, kdf=FAST_KDF)
    unlocked = unlock_vault(path, PASSPHRASE)
    assert unlocked.containers == created.containers
    assert unlocked.vault_id == created.vault_id
    assert len({bytes(created.containers), bytes(created.names), bytes(created.audit)}) == 3


def test_vault_file_records_kdf_and_holds_no_key(tmp_path: Path) -> None:
    path = tmp_path / VAULT_FILE_NAME
    keys = create_vault(path, PASSPHRASE, kdf=ScryptParams(log2_n=11, r=4, p=2))
    doc = json.loads(path.read_text())
    assert doc["kdf"]["name"] == "scrypt"
    assert (doc["kdf"]["log2_n"], doc["kdf"]["r"], doc["kdf"]["p"]) == (11, 4, 2)
    assert keys.containers.hex() not in path.read_text()
    assert PASSPHRASE not in path.read_text()


def test_default_kdf_is_scrypt_2_18() -> None:
    assert (ScryptParams().n, ScryptParams().r, ScryptParams().p) == (2**18, 8, 1)


def test_wrong_passphrase_is_not_damage(tmp_path: Path) -> None:
    path = tmp_path / VAULT_FILE_NAME
    create_vault(path, PASSPHRASE, kdf=FAST_KDF)
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        unlock_vault(path, PASSPHRASE + "x")


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(p.read_bytes()[:40]),  # truncated
    lambda p: p.write_bytes(b"\x00" * 10),  # garbage
    lambda p: _rewrite(p, lambda d: d["wrap"].__setitem__("ciphertext", "AAAA" + d["wrap"]["ciphertext"][4:])),
    lambda p: _rewrite(p, lambda d: d["kdf"].__setitem__("log2_n", 11)),
    lambda p: _rewrite(p, lambda d: d.__setitem__("vault_id", "0" * 32)),
])
def test_damaged_vault_is_reported_as_damage(tmp_path: Path, damage) -> None:
    path = tmp_path / VAULT_FILE_NAME
    create_vault(path, PASSPHRASE, kdf=FAST_KDF)
    damage(path)
    with pytest.raises(VaultDamaged, match="damaged"):
        unlock_vault(path, PASSPHRASE)


def test_newer_vault_is_refused(tmp_path: Path) -> None:
    path = tmp_path / VAULT_FILE_NAME
    create_vault(path, PASSPHRASE, kdf=FAST_KDF)
    _rewrite(path, lambda d: d.__setitem__("version", 2))
    with pytest.raises(VaultTooNew, match="newer Cloister.*format 2"):
        unlock_vault(path, PASSPHRASE)


def test_change_passphrase_keeps_data_files_untouched(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws", PASSPHRASE, kdf=FAST_KDF)
    ws.write_bytes("datasets/a/table", b"secret rows")
    object_files = {p: p.read_bytes() for p in (ws.root / "objects").rglob("*") if p.is_file()}
    ws.change_passphrase(PASSPHRASE, "new passphrase")
    assert {p: p.read_bytes() for p in object_files} == object_files
    with pytest.raises(WrongPassphrase) as refused:
        Workspace.unlock(ws.root, PASSPHRASE)
    # The old passphrase is told when the passphrase last changed: after a change that was
    # interrupted (the command said "interrupted"), the new one may already be in force.
    import datetime as dt

    vault_file = next(p for p in ws.root.iterdir() if p.name == VAULT_FILE_NAME)
    when = dt.datetime.fromisoformat(json.loads(vault_file.read_text())["passphrase_set"])
    assert abs((dt.datetime.now(dt.timezone.utc) - when).total_seconds()) < 60
    assert str(refused.value).endswith(f"(its passphrase was set or last changed {when:%Y-%m-%d %H:%M} "
                                       "UTC: after a change, only the new one opens it)")
    again = Workspace.unlock(ws.root, "new passphrase")
    assert again.read_bytes("datasets/a/table") == b"secret rows"
    # An ordinary commit rewrites the vault file (its anchor) but not when the passphrase was set.
    again.write_bytes("datasets/b/table", b"more rows")
    assert json.loads(vault_file.read_text())["passphrase_set"] == when.isoformat()
    with pytest.raises(WrongPassphrase) as later:
        Workspace.unlock(ws.root, PASSPHRASE)
    assert str(later.value) == str(refused.value)
    assert [e.action for e in again.verify_audit().entries] == ["vault.created",
                                                              "vault.passphrase_changed"]


def test_a_vault_from_before_the_passphrase_time_was_kept_says_no_time(tmp_path: Path) -> None:
    from privacy.vault.keyfile import _finish

    path = tmp_path / VAULT_FILE_NAME
    create_vault(path, PASSPHRASE, kdf=FAST_KDF)
    doc = json.loads(path.read_text())
    del doc["passphrase_set"]
    path.write_bytes(_finish(doc))
    with pytest.raises(WrongPassphrase) as refused:
        unlock_vault(path, "not the passphrase")
    assert str(refused.value) == f"wrong passphrase for the vault at {path}"


def test_change_passphrase_needs_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / VAULT_FILE_NAME
    create_vault(path, PASSPHRASE, kdf=FAST_KDF)
    before = path.read_bytes()
    with pytest.raises(WrongPassphrase):
        change_passphrase(path, "not it", "new")
    assert path.read_bytes() == before


def test_empty_passphrase_and_existing_vault_refused(tmp_path: Path) -> None:
    path = tmp_path / VAULT_FILE_NAME
    with pytest.raises(PrivacyError, match="must not be empty"):
        create_vault(path, "", kdf=FAST_KDF)
    assert not path.exists()
    create_vault(path, PASSPHRASE, kdf=FAST_KDF)
    with pytest.raises(VaultExists):
        create_vault(path, PASSPHRASE, kdf=FAST_KDF)


def test_unicode_passphrase_is_normalised(tmp_path: Path) -> None:
    path = tmp_path / VAULT_FILE_NAME
    create_vault(path, "caf\u00e9", kdf=FAST_KDF)  # precomposed é
    assert unlock_vault(path, "cafe\u0301").vault_id  # e + combining accent


def test_default_kdf_unlock_cost_is_in_range(tmp_path: Path) -> None:
    # One real 2^18 derivation: guards against someone weakening the default by accident.
    path = tmp_path / VAULT_FILE_NAME
    create_vault(path, PASSPHRASE)
    start = time.perf_counter()
    unlock_vault(path, PASSPHRASE)
    assert time.perf_counter() - start > 0.05
    assert json.loads(path.read_text())["kdf"]["log2_n"] == 18


def test_kdf_bounds_refuse_memory_bombs() -> None:
    from privacy.errors import ContainerError

    ScryptParams(log2_n=20, r=8).check()  # 1 GiB: the most a header may ask for
    for params in (ScryptParams(log2_n=22, r=32), ScryptParams(log2_n=23), ScryptParams(p=0)):
        with pytest.raises(ContainerError, match="unsupported scrypt parameters"):
            params.check()


_FUZZ_DIR: dict[str, bytes] = {}


def _valid_vault_bytes(tmp_path_factory) -> bytes:
    if "vault" not in _FUZZ_DIR:
        path = tmp_path_factory.mktemp("fuzz") / VAULT_FILE_NAME
        create_vault(path, PASSPHRASE, kdf=FAST_KDF)
        _FUZZ_DIR["vault"] = path.read_bytes()
    return _FUZZ_DIR["vault"]


def test_mutated_vault_files_raise_only_vault_errors(tmp_path_factory) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    valid = _valid_vault_bytes(tmp_path_factory)
    path = tmp_path_factory.mktemp("target") / VAULT_FILE_NAME

    @settings(max_examples=150, deadline=None)
    @given(edits=st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255)),
                          min_size=1, max_size=4), cut=st.integers(0, len(valid)))
    def check(edits, cut) -> None:
        data = bytearray(valid)
        for position, value in edits:
            data[position] = value
        path.write_bytes(bytes(data[:cut]))
        try:
            unlock_vault(path, PASSPHRASE)
        except (VaultDamaged, VaultTooNew, WrongPassphrase):
            return
        # Only an edit of insignificant JSON whitespace may still unlock: same document.
        assert json.loads(bytes(data[:cut])) == json.loads(valid)

    check()


def test_a_vault_written_while_this_one_was_made_is_never_replaced(tmp_path: Path, monkeypatch) -> None:
    # Two inits of one folder at once both found no vault; the later rename replaced the first
    # vault, whose index and audit log were then keyed by a key no passphrase opened.
    from privacy.vault import keyfile

    path = tmp_path / VAULT_FILE_NAME
    real_build = keyfile._build_document

    def other_init_finishes_first(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        path.write_bytes(b"the other vault")
        return real_build(*args, **kwargs)

    monkeypatch.setattr(keyfile, "_build_document", other_init_finishes_first)
    with pytest.raises(VaultExists, match="a vault already exists"):
        create_vault(path, PASSPHRASE, kdf=FAST_KDF)
    assert path.read_bytes() == b"the other vault"
    assert [p.name for p in tmp_path.iterdir() if p.name != "_env"] == [VAULT_FILE_NAME]
