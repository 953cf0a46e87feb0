"""Passphrase-sealed files (encrypted exports): round trip, wrong passphrase, damage, atomicity."""
from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from privacy.vault.container import ScryptParams
from privacy.errors import ContainerError, PrivacyError, WrongPassphrase
from privacy.vault.sealed import open_sealed, read_sealed, seal_file
from tests.privacy.conftest import FAST_KDF


def test_round_trip_streams(tmp_path: Path) -> None:
    parts = [os.urandom(100_000), b"", os.urandom(70_000)]
    out = tmp_path / "model.cloister"
    seal_file(out, iter(parts), "export pass", kdf=FAST_KDF)
    assert read_sealed(out, "export pass") == b"".join(parts)
    assert [len(c) for c in open_sealed(out, "export pass")] == [65536, 65536, 38928]


def test_kdf_parameters_travel_in_the_header(tmp_path: Path) -> None:
    out = tmp_path / "x.cloister"
    seal_file(out, [b"payload"], "pw", kdf=ScryptParams(log2_n=11, r=4, p=2))
    raw = out.read_bytes()
    assert raw[9] == 2  # passphrase mode
    assert struct.unpack(">BII", raw[28:37]) == (11, 4, 2)
    assert read_sealed(out, "pw") == b"payload"  # no parameters needed to open it


def test_wrong_passphrase_vs_damage(tmp_path: Path) -> None:
    out = tmp_path / "x.cloister"
    seal_file(out, [b"secret" * 1000], "right", kdf=FAST_KDF)
    with pytest.raises(WrongPassphrase, match="wrong passphrase.*x.cloister"):
        read_sealed(out, "wrong")
    data = bytearray(out.read_bytes())
    data[-1] ^= 1
    out.write_bytes(bytes(data))
    with pytest.raises(ContainerError, match="x.cloister.*damaged"):
        read_sealed(out, "right")
    out.write_bytes(bytes(data[:40]))
    with pytest.raises(ContainerError, match="truncated"):
        read_sealed(out, "right")


def test_absurd_kdf_parameters_in_a_forged_header_are_refused_fast(tmp_path: Path) -> None:
    out = tmp_path / "x.cloister"
    seal_file(out, [b"p"], "pw", kdf=FAST_KDF)
    data = bytearray(out.read_bytes())
    data[28] = 40  # scrypt N = 2^40 would exhaust memory before the passphrase is checked
    out.write_bytes(bytes(data))
    with pytest.raises(ContainerError):
        read_sealed(out, "pw")


def test_failed_seal_leaves_previous_file(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.cloister"
    seal_file(out, [b"first"], "pw", kdf=FAST_KDF)

    def broken():
        yield b"partial"
        raise OSError("disk vanished")

    with pytest.raises(OSError, match="disk vanished"):
        seal_file(out, broken(), "pw", kdf=FAST_KDF)
    assert read_sealed(out, "pw") == b"first"
    assert sorted(p.name for p in out.parent.iterdir()) == ["x.cloister"]  # no temp left


def test_missing_file_and_empty_passphrase(tmp_path: Path) -> None:
    with pytest.raises(ContainerError, match="does not exist"):
        read_sealed(tmp_path / "nope", "pw")
    with pytest.raises(PrivacyError, match="empty"):
        seal_file(tmp_path / "y", [b"x"], "", kdf=FAST_KDF)
    assert not (tmp_path / "y").exists()
