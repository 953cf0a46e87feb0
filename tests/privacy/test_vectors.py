"""Known-answer vectors: the container bytes must not drift, and FORMAT.md must suffice.

``independent_decrypt`` is written from privacy/vault/FORMAT.md using only ``cryptography`` and
``hashlib`` primitives, not privacy.vault.container, so a format change that the document does not
describe (or a document that stops matching the code) fails here.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privacy.vault import container
from privacy.vault.container import ScryptParams

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "container_v1.json").read_text())


def independent_decrypt(blob: bytes, *, key: bytes | None = None, passphrase: str | None = None,
                        context: bytes = b"") -> bytes:
    assert blob[:8] == b"CLOISTER" and blob[8] == 1 and blob[11] == 0
    mode, log2 = blob[9], blob[10]
    salt = blob[12:28]
    end = 28
    if mode == 2:
        log2_n, r, p, kdf_salt = struct.unpack(">BII16s", blob[28:53])
        key = hashlib.scrypt(passphrase.encode(), salt=kdf_salt, n=1 << log2_n, r=r, p=p,
                             maxmem=1 << 28, dklen=32)
        end = 53
    header, tag, check = blob[:end], blob[end:end + 32], blob[end + 32:end + 48]
    assert hashlib.sha256(header + tag).digest()[:16] == check
    okm = HKDF(hashes.SHA256(), 64, salt, b"cloister/v1/file").derive(key)
    assert hmac.compare_digest(hmac.new(okm[:32], header + context, "sha256").digest(), tag)
    aead, size, out = AESGCM(okm[32:]), (1 << log2) + 16, []
    body = blob[end + 48:]
    pieces = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        out.append(aead.decrypt(i.to_bytes(11, "big") + bytes([last]), piece, None))
    return b"".join(out)


def test_vector_file_is_for_this_format() -> None:
    assert VECTORS["format_version"] == container.FORMAT_VERSION
    assert len(VECTORS["vectors"]) == 7


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_known_answers(vector: dict) -> None:
    blob = bytes.fromhex(vector["container"])
    plain = bytes.fromhex(vector["plaintext"])
    context = bytes.fromhex(vector["context"])
    salt = bytes.fromhex(vector["salt"])
    if vector["mode"] == "vault":
        key = bytes.fromhex(vector["key"])
        assert container.encrypt_bytes(plain, key, context=context,
                                       chunk_log2=vector["chunk_log2"], salt=salt) == blob
        assert container.decrypt_bytes(blob, key, context=context) == plain
        assert independent_decrypt(blob, key=key, context=context) == plain
    else:
        sink = io.BytesIO()
        enc = container.passphrase_encryptor(
            sink, vector["passphrase"], kdf=ScryptParams(vector["log2_n"], vector["r"], vector["p"]),
            context=context, chunk_log2=vector["chunk_log2"], salt=salt,
            kdf_salt=bytes.fromhex(vector["kdf_salt"]))
        container.write_all(enc, [plain])
        assert sink.getvalue() == blob
        got = b"".join(container.decrypt_passphrase_stream(io.BytesIO(blob), vector["passphrase"],
                                                           context=context))
        assert got == plain
        assert independent_decrypt(blob, passphrase=vector["passphrase"], context=context) == plain


def test_fallback_without_encrypt_into_writes_the_same_bytes(monkeypatch) -> None:
    # Older `cryptography` (< 45) lacks AESGCM.encrypt_into; the other path must be identical.
    vector = next(v for v in VECTORS["vectors"] if v["name"] == "three chunks")
    monkeypatch.setattr(container, "_HAS_ENCRYPT_INTO", False)
    blob = container.encrypt_bytes(bytes.fromhex(vector["plaintext"]),
                                   bytes.fromhex(vector["key"]),
                                   context=bytes.fromhex(vector["context"]),
                                   chunk_log2=vector["chunk_log2"],
                                   salt=bytes.fromhex(vector["salt"]))
    assert blob.hex() == vector["container"]
