"""SIGKILL a writer at random moments: every entry is always a complete old or new version."""
from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from privacy.vault.workspace import Workspace
from tests.privacy.conftest import FAST_KDF, PASSPHRASE

REPO = Path(__file__).resolve().parents[2]
BIG_REPEAT = 48 * 1024  # 32-byte digest * 48 Ki = 1.5 MiB per version: ~24 chunks per write

WRITER = f"""
import hashlib, sys
from pathlib import Path
from privacy.vault.workspace import Workspace
ws = Workspace.unlock(Path(sys.argv[1]), {PASSPHRASE!r})
start = int(sys.argv[2])
print("ready", flush=True)
i = start
while True:
    body = hashlib.sha256(str(i).encode()).digest() * {BIG_REPEAT}
    with ws.open_write("runs/r/weights") as out:
        out.write(i.to_bytes(8, "big"))
        for k in range(0, len(body), 100_000):
            out.write(body[k:k + 100_000])
    ws.write_json(f"runs/r/small-{{i % 4}}", {{"version": i}})
    i += 1
"""


def version_of(data: bytes) -> int:
    """The version a complete payload carries; fails on any mixed or partial content."""
    version = int.from_bytes(data[:8], "big")
    assert data[8:] == hashlib.sha256(str(version).encode()).digest() * BIG_REPEAT
    return version


def test_sigkill_during_writes_never_leaves_a_half_written_entry(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws", PASSPHRASE, kdf=FAST_KDF)
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ["PYTHONPATH"]])}
    seen_versions = set()
    last = -1
    killed_mid_write = 0
    for round_ in range(10):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(ws.root), str(last + 1)],
                                stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.4))  # a few writes in, then killed mid-way somewhere
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        killed_mid_write += any(p.name.startswith(".tmp-") for p in ws.root.rglob("*"))
        if not ws.exists("runs/r/weights"):
            continue  # killed before the first write completed: nothing claims to exist
        version = version_of(ws.read_bytes("runs/r/weights"))
        assert version >= last  # never goes back to an older version
        last = version
        seen_versions.add(version)
        for key in ws.list("runs/r/small-"):
            assert isinstance(ws.read_json(key)["version"], int)
    # The kills landed at different points: several distinct versions were observed.
    assert len(seen_versions) >= 3
    assert killed_mid_write >= 3  # the test really interrupted writes, not idle moments
    # Leftovers from kills are only temporary files (ciphertext), and garbage collection
    # removes them without touching a live entry.
    ws.collect_garbage(grace_s=0)
    leftovers = [p for p in ws.root.rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []
    assert version_of(ws.read_bytes("runs/r/weights")) == last


CONCURRENT_WRITER = f"""
import sys
from pathlib import Path
from privacy.vault.workspace import Workspace
ws = Workspace.unlock(Path(sys.argv[1]), {PASSPHRASE!r})
for i in range(25):
    ws.write_bytes(f"{{sys.argv[2]}}/{{i}}", sys.argv[2].encode() * i)
    ws.audit("test.write", writer=sys.argv[2], i=i)
"""


def test_two_processes_writing_at_once_lose_no_index_update(tmp_path: Path) -> None:
    # The index is read-modify-write: without the workspace lock one writer's additions would
    # overwrite the other's. Both writers run at the same time on purpose.
    ws = Workspace.create(tmp_path / "ws", PASSPHRASE, kdf=FAST_KDF)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ["PYTHONPATH"]])}
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(ws.root), name],
                              env=env) for name in ("left", "right")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    keys = ws.list()
    assert len(keys) == 50
    assert ws.read_bytes("right/7") == b"right" * 7
    report = ws.verify_audit()
    assert report.ok, report.problems
    assert len(report.entries) == 51  # vault.created + 2 x 25, chain intact across processes


PASSWD_LOOP = """
import sys
from pathlib import Path
from privacy.vault.keyfile import change_passphrase
path, phrases = Path(sys.argv[1]), ["first", "second"]
current = sys.argv[2]
print("ready", flush=True)
while True:
    new = phrases[1 - phrases.index(current)]
    change_passphrase(path, current, new)
    current = new
"""


def test_sigkill_during_passphrase_changes_leaves_a_usable_vault(tmp_path: Path) -> None:
    from privacy.errors import WrongPassphrase
    from privacy.vault.keyfile import VAULT_FILE_NAME, create_vault, unlock_vault

    path = tmp_path / VAULT_FILE_NAME
    vault_id = create_vault(path, "first", kdf=FAST_KDF).vault_id
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ["PYTHONPATH"]])}
    rng = random.Random(99)
    current = "first"
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", PASSWD_LOOP, str(path), current],
                                stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.01, 0.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        try:
            keys = unlock_vault(path, "first")
            current = "first"
        except WrongPassphrase:
            keys = unlock_vault(path, "second")  # must be the other one, never damaged
            current = "second"
        assert keys.vault_id == vault_id  # the same master key, whichever wrapping survived
