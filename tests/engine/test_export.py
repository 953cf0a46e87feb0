"""Exports of a real (tiny) trained run: HF folder, ONNX, sealed file; all or nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.errors import InputError
from engine.export.exporters import export_run, open_export
from engine.evaluation.prediction import Predictor
from privacy.errors import WrongPassphrase
from tests.engine.test_prediction import train_tiny_run
from tests.engine.tiny_model import fast_kdf

# The last is longer than the run's max length (32 tokens) and changes its tune after it: a
# reader that cuts elsewhere than training did scores it differently.
TEXTS = ["free cash prize now", "see you tomorrow at lunch", "ok",
         "urgent call claim " * 10 + "see you tomorrow at lunch " * 6]
SECRET = "export passphrase"

# Loads an exported folder with transformers alone: Cloister's packages cannot be imported.
_LOAD_WITHOUT_CLOISTER = r"""
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'engine', 'privacy', 'desktop', 'resources'}:
            raise ImportError('Cloister is not installed here: ' + name)
sys.meta_path.insert(0, Block())
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
folder, texts = sys.argv[1], json.loads(sys.argv[2])
model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
tokenizer = AutoTokenizer.from_pretrained(folder)
with torch.no_grad():
    # As the card says: truncation=True alone cuts where training cut (it cut at the base
    # model's limit, so long texts scored differently from Cloister's predictions).
    probs = [torch.softmax(model(**tokenizer(t, truncation=True, return_tensors='pt')).logits, -1)[0].tolist() for t in texts]
print(json.dumps({"id2label": model.config.id2label, "probs": probs}))
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    ws, run_id, csv = train_tiny_run(tmp_path_factory.mktemp("export-run"))
    predictor = Predictor.from_run(ws, run_id, device="cpu")
    return ws, run_id, csv, predictor.predict_proba(TEXTS)


def test_plaintext_hf_export_loads_with_transformers_alone(run, tmp_path: Path) -> None:
    ws, run_id, csv, expected = run
    out = export_run(ws, run_id, tmp_path / "export", plaintext=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"
    ]
    result = subprocess.run(
        [sys.executable, "-I", "-c", _LOAD_WITHOUT_CLOISTER, str(out), json.dumps(TEXTS)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["id2label"] == {"0": "ham", "1": "spam"}
    np.testing.assert_allclose(np.array(loaded["probs"]), expected, atol=1e-5)


def test_model_card_summarises_without_rows(run, tmp_path: Path) -> None:
    import hashlib

    from engine.data.store import dataset_info

    ws, run_id, csv, _ = run
    card = (export_run(ws, run_id, tmp_path / "export", plaintext=True) / "README.md").read_text()
    info = dataset_info(ws, "sms")
    assert info.sha256 and info.sha256 in card
    assert "| ham | 20 |" in card and "| spam | 20 |" in card
    assert "Rows per label in the whole dataset (every split):" in card  # 40, not the 32 trained on
    assert "train 32, validation 4, test 4" in card
    assert "| learning_rate | 0.001 |" in card and "| epochs | 2 |" in card
    # Only settings that shaped this single-label, cut run, and none as a bare "None".
    assert "label_delimiter" not in card and "window_overlap" not in card
    assert "| eval_every_steps | None |" not in card
    assert "| accuracy |" in card and "| macro_f1 |" in card
    assert "test 4" in card and "4 rows; accuracy" in card and "95% interval" in card
    assert "Differential privacy: off" in card and "Anonymization of personal data: none" in card
    assert "This export encrypted: no" in card
    assert "- torch: " in card and "- transformers: " in card and "- cloister: " in card
    for line in csv.read_text().splitlines()[1:]:  # not one training text is in the card
        assert line.split(",")[1] not in card
    assert hashlib.sha256(card.encode()).hexdigest()  # the card is plain UTF-8 text


def test_onnx_export_matches_pytorch(run, tmp_path: Path, monkeypatch) -> None:
    import onnxruntime
    from transformers import AutoTokenizer

    ws, run_id, _, expected = run
    # Its telemetry (Windows event tracing) is switched off before the export's check session.
    switched_off: list[bool] = []
    real_off = onnxruntime.disable_telemetry_events
    monkeypatch.setattr(onnxruntime, "disable_telemetry_events",
                        lambda: (switched_off.append(True), real_off())[1])
    out = export_run(ws, run_id, tmp_path / "onnx", format="onnx", plaintext=True)
    assert switched_off == [True]
    assert (out / "model.onnx").is_file() and not (out / "model.safetensors").exists()
    assert json.loads((out / "config.json").read_text())["id2label"] == {"0": "ham", "1": "spam"}
    session = onnxruntime.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    tokenizer = AutoTokenizer.from_pretrained(out)
    # One batch of mixed lengths: the batch and sequence axes are dynamic, padding is masked.
    enc = tokenizer(TEXTS, padding=True, truncation=True, return_tensors="np")
    feeds = {i.name: enc[i.name].astype(np.int64) for i in session.get_inputs()}
    logits = session.run(["logits"], feeds)[0]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, atol=1e-4)


_BLOCK_CLOISTER = _LOAD_WITHOUT_CLOISTER.split("import torch", 1)[0]


@pytest.mark.parametrize("format", ["hf", "onnx"])
def test_the_cards_own_snippet_runs_and_agrees_with_cloister(run, tmp_path: Path, format: str) -> None:
    # The ONNX card used to tell its reader to load weights that an ONNX export does not have.
    ws, run_id, _, _ = run
    out = export_run(ws, run_id, tmp_path / format, format=format, plaintext=True)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert f"library_name: {'onnx' if format == 'onnx' else 'transformers'}" in card
    snippet = card.split("```python\n", 1)[1].split("```", 1)[0].replace("<this folder>", out.as_posix())
    text = TEXTS[-1]  # longer than the run's max length: cut where training cut it
    from transformers import AutoTokenizer

    assert len(AutoTokenizer.from_pretrained(out)(text, truncation=True)["input_ids"]) == 32
    script = (_BLOCK_CLOISTER + snippet.replace('["a text"]', repr([text]))
              + "\nimport json\nprint(json.dumps([list(map(float, row)) for row in logits.tolist()]))\n")
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    logits = np.array(json.loads(result.stdout.strip().splitlines()[-1]))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = Predictor.from_run(ws, run_id, device="cpu").predict_proba([text])
    np.testing.assert_allclose(probs, expected, atol=1e-4)


def test_sealed_export_round_trips_and_hides_everything(run, tmp_path: Path) -> None:
    ws, run_id, _, _ = run
    dest = tmp_path / "dest"
    dest.mkdir()
    sealed = export_run(ws, run_id, dest, passphrase=SECRET, kdf=fast_kdf())
    assert sealed == dest / f"{run_id}.cloister-export" and sealed.is_file()
    raw = sealed.read_bytes()
    # Fragments long enough (>= 6 bytes) that random ciphertext cannot contain them by chance:
    # a bare b"ham" turns up in ~1 of 30 sealed files of this size.
    for visible in (b'"spam"', b'"ham"', b'"id2label"', b"model.safetensors", b"README.md"):
        assert visible not in raw
    assert sorted(p.name for p in dest.iterdir()) == [sealed.name]  # nothing else written

    folder = open_export(sealed, tmp_path / "opened", SECRET)
    plain = export_run(ws, run_id, tmp_path / "plain", plaintext=True)
    names = sorted(p.name for p in plain.iterdir())
    assert sorted(p.name for p in folder.iterdir()) == names
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        assert (folder / name).read_bytes() == (plain / name).read_bytes()
    assert "This export encrypted: yes" in (folder / "README.md").read_text()


def test_sealed_export_refuses_wrong_passphrase_and_damage(run, tmp_path: Path) -> None:
    ws, run_id, _, _ = run
    tmp_path = tmp_path / "dest"
    tmp_path.mkdir()
    sealed = export_run(ws, run_id, tmp_path / "model.cloister-export", passphrase=SECRET, kdf=fast_kdf())
    with pytest.raises(WrongPassphrase):
        open_export(sealed, tmp_path / "out", "not the passphrase")
    assert not (tmp_path / "out").exists()
    cut = tmp_path / "cut.cloister-export"
    cut.write_bytes(sealed.read_bytes()[: sealed.stat().st_size // 2])
    with pytest.raises(InputError, match="damaged or was cut short on its way here; copy it again") as refused:
        open_export(cut, tmp_path / "out", SECRET)
    assert "backup" not in str(refused.value) and refused.value.exit_code == 2
    flipped = tmp_path / "flipped.cloister-export"
    data = bytearray(sealed.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    with pytest.raises(InputError, match="damaged or was cut short"):
        open_export(flipped, tmp_path / "out", SECRET)
    flipped.unlink()
    assert not (tmp_path / "out").exists()
    # A file that was never an export (a TSV given by mistake) is called that, not "damaged".
    data_file = tmp_path / "sms.tsv"
    data_file.write_text("text\tlabel\nhello\tham\n")
    with pytest.raises(InputError, match="sms.tsv is not a Cloister export"):
        open_export(data_file, tmp_path / "out", SECRET)
    data_file.unlink()
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.cloister-export", "model.cloister-export"]


def test_export_refusals(run, tmp_path: Path) -> None:
    from engine.runs import RunRecord, save_run

    ws, run_id, _, _ = run
    with pytest.raises(InputError, match="needs a passphrase"):
        export_run(ws, run_id, tmp_path / "x")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not an empty folder"):
        export_run(ws, run_id, tmp_path / "busy", plaintext=True)
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    existing = tmp_path / "taken.cloister-export"
    existing.write_text("old")
    with pytest.raises(InputError, match="already exists"):
        export_run(ws, run_id, existing, passphrase=SECRET)
    assert existing.read_text() == "old"
    save_run(ws, RunRecord(run_id="20260101-000000-beef", dataset="sms", config={}, labels=("a", "b")))
    with pytest.raises(InputError, match=r"has no trained model yet \(status: created\); it never started training"):
        export_run(ws, "20260101-000000-beef", tmp_path / "y", plaintext=True)


def test_failures_leave_no_partial_export(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.export.exporters as export

    ws, run_id, _, _ = run
    tmp_path = tmp_path / "dest"
    tmp_path.mkdir()
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync_then_disk_full(fd: int) -> None:  # the disk fills after the first file
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr("os.fsync", fsync_then_disk_full)
    with pytest.raises(InputError, match="No space left on device; choose a folder"):
        export_run(ws, run_id, tmp_path / "export", plaintext=True)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr("os.fsync", real_fsync)

    def broken_stream(files):
        yield b"x" * 1000
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "tar_stream", broken_stream)
    with pytest.raises(InputError, match="No space left on device; choose a folder"):
        export_run(ws, run_id, tmp_path / "m.cloister-export", passphrase=SECRET, kdf=fast_kdf())
    assert list(tmp_path.iterdir()) == []


def test_an_export_whose_audit_entry_cannot_be_written_is_taken_back(run, tmp_path: Path,
                                                                       monkeypatch) -> None:
    import errno

    from engine.errors import CloisterError
    from privacy.vault.audit import AuditLog

    ws, run_id, _, _ = run

    def full(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(AuditLog, "append", full)
    for plaintext in (True, False):
        out = tmp_path / ("plain" if plaintext else "sealed.cloister-export")
        with pytest.raises(CloisterError, match=r"the export was not kept: the audit log could not "
                                                r"record it \(No space left on device\)"):
            export_run(ws, run_id, out, plaintext=plaintext, passphrase=None if plaintext else SECRET,
                       kdf=fast_kdf())
        assert not out.exists()  # a model outside the vault is never unlogged
    assert [p.name for p in tmp_path.iterdir() if p.name != "_env"] == []


def test_a_killed_exports_plaintext_staging_folder_goes_with_the_next_export(run, tmp_path: Path) -> None:
    # SIGKILL mid-export left `.NAME.partial-*` (config, weights, tokenizer) for good.
    ws, run_id, _, _ = run
    import time

    left = tmp_path / ".export.partial-k1ll3d00"
    left.mkdir()
    (left / "config.json").write_text('{"id2label": {"0": "ham"}}')
    hour_ago = time.time() - 3600  # a younger one may be another export, writing now
    os.utime(left, (hour_ago, hour_ago))
    other = tmp_path / ".model-v1.partial-d34dd34d"  # killed on its way to another name
    other.mkdir()
    os.utime(other, (hour_ago, hour_ago))
    export_run(ws, run_id, tmp_path / "export", plaintext=True)
    assert not left.exists() and (tmp_path / "export" / "config.json").is_file()
    assert not other.exists()


def test_export_is_audited(run, tmp_path: Path) -> None:
    ws, run_id, _, _ = run
    export_run(ws, run_id, tmp_path / "e", plaintext=True)
    entries = [e for e in ws.verify_audit().entries if e.action == "export"]
    assert entries and entries[-1].details == {"run": run_id, "format": "hf", "encrypted": False}


def test_open_export_refuses_unsafe_members(tmp_path: Path) -> None:
    import io
    import tarfile

    from privacy.vault.sealed import seal_file

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    sealed = tmp_path / "evil.cloister-export"
    seal_file(sealed, [buffer.getvalue()], SECRET, kdf=fast_kdf())
    with pytest.raises(InputError, match="refusing file name"):
        open_export(sealed, tmp_path / "out", SECRET)
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out").exists()


def test_model_without_segment_ids_exports_and_predicts(tmp_path: Path) -> None:
    """DistilBERT takes no token_type_ids: the predictor and the ONNX graph must leave them out."""
    import onnxruntime
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    from engine.export.exporters import build_export_files
    from tests.engine.tiny_model import make_tiny_tokenizer

    tokenizer = make_tiny_tokenizer(tmp_path / "tok")
    torch.manual_seed(0)
    config = DistilBertConfig(vocab_size=len(tokenizer.get_vocab()), dim=32, n_layers=1, n_heads=2,
                              hidden_dim=37, max_position_embeddings=64, num_labels=3)
    model = DistilBertForSequenceClassification(config).eval()
    predictor = Predictor(model, tokenizer, ("x", "y", "z"), max_length=32, batch_size=2)
    probs = predictor.predict_proba(TEXTS)
    with torch.no_grad():
        alone = [torch.softmax(model(**tokenizer(t, truncation=True, max_length=32, return_tensors="pt")).logits, -1)[0].numpy()
                 for t in TEXTS]
    np.testing.assert_allclose(probs, np.stack(alone), atol=1e-5)

    files = build_export_files(model, tokenizer, ("x", "y", "z"), card="# card", format="onnx",
                               max_length=32)
    session = onnxruntime.InferenceSession(files["model.onnx"], providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask"]
    enc = tokenizer(TEXTS, padding=True, truncation=True, return_tensors="np")
    logits = session.run(["logits"], {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]})[0]
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), probs, atol=1e-4)
    assert json.loads(files["config.json"])["architectures"] == ["DistilBertForSequenceClassification"]


def test_export_formats_are_a_registry_with_clear_refusals(monkeypatch) -> None:
    from engine.errors import InputError
    from engine.export import formats

    assert [f.name for f in formats.export_formats()][:2] == ["hf", "onnx"]
    with pytest.raises(ValueError, match="already registered"):
        formats.export_format("hf", title="again")(lambda model, tokenizer, max_length: {})
    with pytest.raises(InputError, match="no export format 'tflite'; choose one of: hf, onnx"):
        formats.export_format_named("tflite")
    monkeypatch.setitem(formats._FORMATS, "needy", formats.ExportFormat(
        name="needy", title="Needs a module", model_files=lambda m, t, n: {}, needs=("cloister_absent_module",)))
    with pytest.raises(InputError, match="needs cloister_absent_module, which is not installed"):
        formats.export_format_named("needy")


def test_the_exported_tokenizer_says_one_max_length(tmp_path: Path) -> None:
    # MiniLM's tokenizer_config carries "max_length": 128; an export of a model trained at 32
    # said "max_length": 128 beside "model_max_length": 32, and a reader took the wrong one.
    from engine.export.exporters import tokenizer_files
    from tests.engine.tiny_model import make_tiny_tokenizer

    tokenizer = make_tiny_tokenizer(tmp_path / "tok")
    tokenizer.init_kwargs["max_length"] = 128  # as the bundled base model's config has it
    config = json.loads(tokenizer_files(tokenizer, max_length=32)["tokenizer_config.json"])
    assert config["model_max_length"] == 32 and config["max_length"] == 32


def test_the_exported_tokenizer_carries_no_leftover_call_settings(tmp_path: Path) -> None:
    # The last call's stride (windows) or padding (the ONNX check) went into tokenizer.json:
    # two exports of one run differed.
    from engine.export.exporters import tokenizer_files
    from tests.engine.tiny_model import make_tiny_tokenizer

    tokenizer = make_tiny_tokenizer(tmp_path / "tok")
    fresh = json.loads(tokenizer_files(tokenizer, max_length=32)["tokenizer.json"])
    tokenizer(["a b c d e f g h i j"] * 2, truncation=True, max_length=8, stride=2,
              return_overflowing_tokens=True, padding=True)
    used = json.loads(tokenizer_files(tokenizer, max_length=32)["tokenizer.json"])
    assert used["truncation"] is None and used["padding"] is None and used == fresh


def test_a_plaintext_export_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    # Its files took the umask: 0644, and 0666 under umask 000 (the folder's 0700 hid them).
    import stat

    from engine.export.exporters import write_folder

    old = os.umask(0)
    try:
        out = write_folder({"README.md": b"card", "model.safetensors": b"weights"}, tmp_path / "out")
    finally:
        os.umask(old)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {
        "README.md": 0o600, "model.safetensors": 0o600}
