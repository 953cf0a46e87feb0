"""The container format: round-trips, streaming, and rejection of every kind of tampering."""
from __future__ import annotations

import io
import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy.vault import container
from privacy.vault.container import (
    DEFAULT_CHUNK_LOG2,
    TAG_SIZE,
    decrypt_bytes,
    decrypt_vault_stream,
    encrypt_bytes,
    vault_encryptor,
)
from privacy.errors import ContainerError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
CHUNK = 1 << DEFAULT_CHUNK_LOG2
HEADER = 76  # vault-mode header: 28 fixed + 32 tag + 16 checksum
SMALL_LOG2 = 6  # 64-byte chunks: many chunks in a few hundred bytes


def chunk_offsets(blob: bytes, log2: int) -> list[int]:
    """Start offsets of each sealed chunk in a vault container."""
    step = (1 << log2) + TAG_SIZE
    return list(range(HEADER, len(blob), step))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * 1024 * 1024 + 7])
def test_round_trip_at_chunk_edges(size: int) -> None:
    data = os.urandom(size)
    blob = encrypt_bytes(data, KEY)
    assert decrypt_bytes(blob, KEY) == data
    chunks = max(1, -(-size // CHUNK))
    assert len(blob) == HEADER + size + chunks * TAG_SIZE  # exact overhead, no padding


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), log2=st.integers(6, 9),
       writes=st.lists(st.integers(0, 700), max_size=6), context=st.binary(max_size=20))
def test_round_trip_any_data_any_write_pattern(data: bytes, log2: int, writes: list[int],
                                               context: bytes) -> None:
    sink = io.BytesIO()
    enc = vault_encryptor(sink, KEY, context=context, chunk_log2=log2)
    rest = memoryview(data)
    for n in writes:  # split the input into arbitrary write() calls
        enc.write(rest[:n])
        rest = rest[n:]
    enc.write(rest)
    enc.close()
    blob = sink.getvalue()
    assert decrypt_bytes(blob, KEY, context=context) == data
    # The chunking never depends on how the writes were split.
    assert len(blob) == len(encrypt_bytes(data, KEY, context=context, chunk_log2=log2))


@settings(max_examples=15, deadline=None)
@given(size=st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 7 * CHUNK + 5, 4 * 1024 * 1024]),
       seed=st.integers(0, 2**32), split=st.integers(1, 3 * CHUNK))
def test_round_trip_chunk_edges_and_mebibytes_in_uneven_writes(size: int, seed: int,
                                                                split: int) -> None:
    data = random.Random(seed).randbytes(size)
    sink = io.BytesIO()
    enc = vault_encryptor(sink, KEY, context=b"k")
    for start in range(0, size, split):
        enc.write(data[start:start + split])
    enc.close()
    assert b"".join(decrypt_vault_stream(io.BytesIO(sink.getvalue()), KEY, context=b"k")) == data


def test_same_plaintext_encrypts_differently_each_time() -> None:
    assert encrypt_bytes(b"same", KEY) != encrypt_bytes(b"same", KEY)


def test_plaintext_does_not_appear_in_ciphertext() -> None:
    secret = b"patient 4711 has condition X " * 100
    assert b"patient" not in encrypt_bytes(secret, KEY)


def test_streaming_decrypt_yields_chunk_by_chunk() -> None:
    data = os.urandom(5 * CHUNK + 3)
    pieces = list(decrypt_vault_stream(io.BytesIO(encrypt_bytes(data, KEY)), KEY))
    assert [len(p) for p in pieces] == [CHUNK] * 5 + [3]


def test_wrong_key_and_wrong_context_are_rejected() -> None:
    blob = encrypt_bytes(b"data", KEY, context=b"datasets/a")
    with pytest.raises(ContainerError, match="does not belong"):
        decrypt_bytes(blob, OTHER_KEY, context=b"datasets/a")
    with pytest.raises(ContainerError, match="does not belong"):
        decrypt_bytes(blob, KEY, context=b"datasets/b")


def _rejected(blob: bytes, *, context: bytes = b"") -> str:
    """Decrypt ``blob`` and return the error message; fail if any plaintext comes out."""
    stream = decrypt_vault_stream(io.BytesIO(blob), KEY, context=context, label="test file")
    out = []
    with pytest.raises(ContainerError) as info:
        for piece in stream:
            out.append(piece)
    assert "test file" in str(info.value)
    return str(info.value)


def test_every_flipped_byte_is_rejected() -> None:
    # Four 64-byte chunks; every byte position, header included, flipped in turn.
    blob = encrypt_bytes(os.urandom(200), KEY, chunk_log2=SMALL_LOG2)
    for position in range(len(blob)):
        for mask in (0x01, 0x80):
            damaged = bytearray(blob)
            damaged[position] ^= mask
            with pytest.raises(ContainerError):
                decrypt_bytes(bytes(damaged), KEY)


def test_every_truncation_is_rejected_and_chunk_boundaries_say_truncated() -> None:
    blob = encrypt_bytes(os.urandom(300), KEY, chunk_log2=SMALL_LOG2)
    boundaries = chunk_offsets(blob, SMALL_LOG2)
    assert len(boundaries) == 5
    for cut in range(len(blob)):
        with pytest.raises(ContainerError):
            decrypt_bytes(blob[:cut], KEY)
    for cut in boundaries[1:]:
        assert "truncated" in _rejected(blob[:cut])


def test_swapped_duplicated_and_dropped_chunks_are_rejected() -> None:
    data = bytes(range(256)) * 2  # 8 chunks of 64 bytes
    blob = encrypt_bytes(data, KEY, chunk_log2=SMALL_LOG2)
    starts = chunk_offsets(blob, SMALL_LOG2)
    step = 64 + TAG_SIZE
    chunks = [blob[s:s + step] for s in starts]
    header = blob[:HEADER]
    swapped = chunks.copy()
    swapped[1], swapped[2] = swapped[2], swapped[1]
    last_swapped = chunks.copy()
    last_swapped[-1], last_swapped[-2] = last_swapped[-2], last_swapped[-1]
    # Each is caught at the first chunk out of place: its nonce (counter, last flag) differs.
    for variant, first_bad in ((swapped, 1), (last_swapped, 6), (chunks[:1] + chunks, 1),
                               (chunks[:3] + chunks[4:], 3), (chunks + chunks[-1:], 7)):
        message = _rejected(header + b"".join(variant))
        assert f"(chunk {first_bad} fails authentication)" in message


def test_header_from_another_file_is_rejected() -> None:
    a = encrypt_bytes(b"A" * 500, KEY, chunk_log2=SMALL_LOG2)
    b = encrypt_bytes(b"B" * 500, KEY, chunk_log2=SMALL_LOG2)
    assert "fails authentication" in _rejected(b[:HEADER] + a[HEADER:])


def test_trailing_garbage_is_rejected() -> None:
    for size in (0, 10, 64, 128):  # final chunk short, empty, and exactly full
        blob = encrypt_bytes(os.urandom(size), KEY, chunk_log2=SMALL_LOG2)
        for garbage in (b"\x00", os.urandom(16), os.urandom(100)):
            _rejected(blob + garbage)


def test_not_a_container_and_newer_version() -> None:
    assert "not a Cloister encrypted file" in _rejected(b"PK\x03\x04 a zip file, say")
    blob = bytearray(encrypt_bytes(b"x", KEY))
    blob[8] = 2  # format version 2
    assert "newer Cloister" in _rejected(bytes(blob))


def test_passphrase_file_is_not_a_vault_file() -> None:
    sink = io.BytesIO()
    container.write_all(container.passphrase_encryptor(
        sink, "pw", kdf=container.ScryptParams(log2_n=10)), [b"x"])
    assert "passphrase-sealed" in _rejected(sink.getvalue())


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_only_raise_container_error(data: bytes) -> None:
    with pytest.raises(ContainerError):
        decrypt_bytes(data, KEY)
    with pytest.raises(ContainerError):
        decrypt_bytes(container.MAGIC + data, KEY)


_VALID = encrypt_bytes(b"hello world, a valid container" * 5, KEY, chunk_log2=SMALL_LOG2)


@settings(max_examples=300, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(1, 255)),
                      min_size=1, max_size=5),
       cut=st.integers(0, len(_VALID)), extra=st.binary(max_size=20))
def test_mutated_containers_only_raise_container_error(edits, cut, extra) -> None:
    mutated = bytearray(_VALID)
    for position, xor in edits:
        mutated[position] ^= xor
    candidate = bytes(mutated[:cut]) + extra
    if candidate == _VALID:
        return  # the edits cancelled out: nothing to reject
    with pytest.raises(ContainerError):
        decrypt_bytes(candidate, KEY)


def test_header_damage_is_distinguished_from_wrong_key() -> None:
    blob = bytearray(encrypt_bytes(b"x", KEY))
    blob[20] ^= 1  # inside the salt: checksum catches it before any key is tried
    assert "damaged header" in _rejected(bytes(blob))
