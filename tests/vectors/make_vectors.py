"""Regenerate the known-answer vectors (only when the format version changes on purpose).

    .venv/bin/python -m tests.vectors.make_vectors > tests/vectors/container_v1.json
"""
from __future__ import annotations

import io
import json

from privacy.vault import container
from privacy.vault.container import ScryptParams

KEY = bytes(range(32))
SALT = bytes(range(100, 116))
KDF_SALT = bytes(range(200, 216))
CASES = [
    ("empty", b"", 6, b""),
    ("one byte", b"\x00", 6, b"cloister/entry:a"),
    ("one full chunk", bytes(range(64)), 6, b"cloister/entry:datasets/x/meta.json"),
    ("chunk plus one", bytes(range(65)), 6, b""),
    ("three chunks", b"The quick brown fox jumps over the lazy dog. " * 4, 6, b"ctx"),
    ("default chunk size", b"hello", 16, b""),
]


def main() -> None:
    vectors = []
    for name, plain, log2, context in CASES:
        blob = container.encrypt_bytes(plain, KEY, context=context, chunk_log2=log2, salt=SALT)
        vectors.append({"name": name, "mode": "vault", "key": KEY.hex(), "salt": SALT.hex(),
                        "context": context.hex(), "chunk_log2": log2, "plaintext": plain.hex(),
                        "container": blob.hex()})
    sink = io.BytesIO()
    enc = container.passphrase_encryptor(sink, "pässphrase", kdf=ScryptParams(log2_n=10),
                                         context=b"cloister/sealed", chunk_log2=6, salt=SALT,
                                         kdf_salt=KDF_SALT)
    container.write_all(enc, [b"sealed export payload, two chunks long ......................."])
    vectors.append({"name": "sealed", "mode": "passphrase", "passphrase": "pässphrase",
                    "log2_n": 10, "r": 8, "p": 1, "kdf_salt": KDF_SALT.hex(), "salt": SALT.hex(),
                    "context": b"cloister/sealed".hex(), "chunk_log2": 6,
                    "plaintext": b"sealed export payload, two chunks long ......................."
                    .hex(), "container": sink.getvalue().hex()})
    print(json.dumps({"format_version": container.FORMAT_VERSION, "vectors": vectors}, indent=1))


if __name__ == "__main__":
    main()
