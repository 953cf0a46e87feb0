"""Base model folders: the default, clear refusals, and vault round-trips of trained models."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from engine.errors import InputError
from engine.models.weights import load_model, save_model
from engine.models.folders import (
    check_model_folder,
    default_model_path,
    load_for_training,
    resolve_model_path,
)
from tests.engine.tiny_model import make_tiny_gpt2, tiny_bert, workspace  # noqa: F401

torch.set_num_threads(1)


def test_default_model_is_the_bundled_minilm() -> None:
    path = default_model_path()
    assert resolve_model_path(None) == path == resolve_model_path("default")
    info = check_model_folder(path)
    assert info.model_type == "bert"
    assert info.max_length == 512
    assert info.num_layers == 6 and info.hidden_size == 384
    assert 20e6 < info.approx_parameters < 25e6  # MiniLM-L6 has 22.7M parameters


def test_tiny_folder_is_described(tiny_bert: Path) -> None:
    info = check_model_folder(tiny_bert)
    assert (info.model_type, info.max_length, info.hidden_size, info.num_layers) == ("bert", 64, 32, 2)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        check_model_folder(tmp_path / "nope")


def test_no_config(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(InputError, match="no config.json"):
        check_model_folder(tmp_path / "m")


def test_decoder_only_model_is_refused(tmp_path: Path) -> None:
    folder = make_tiny_gpt2(tmp_path / "gpt2")
    with pytest.raises(InputError, match="text-generation model") as info:
        check_model_folder(folder)
    assert "gpt2" in str(info.value) and "BERT" in str(info.value)


def test_unknown_architecture_is_refused(tiny_bert: Path) -> None:
    cfg = json.loads((tiny_bert / "config.json").read_text())
    cfg["model_type"], cfg["architectures"] = "vit", ["ViTModel"]
    (tiny_bert / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(InputError, match="'vit' model, which is not an encoder"):
        check_model_folder(tiny_bert)


def test_no_weights(tiny_bert: Path) -> None:
    (tiny_bert / "model.safetensors").unlink()
    with pytest.raises(InputError, match="no weights"):
        check_model_folder(tiny_bert)


def test_no_tokenizer(tiny_bert: Path) -> None:
    for name in ("tokenizer.json", "vocab.txt"):
        (tiny_bert / name).unlink()
    with pytest.raises(InputError, match="no tokenizer"):
        check_model_folder(tiny_bert)


def test_a_config_file_given_for_its_folder_names_the_folder(tiny_bert: Path) -> None:
    with pytest.raises(InputError, match=f"is a file: give the folder that holds it \\({tiny_bert}\\)"):
        check_model_folder(tiny_bert / "config.json")


@pytest.mark.parametrize(("config", "said"), [
    ("[]", "is not a Hugging Face model config (it holds a list, not settings)"),
    ('{"model_type": "bert", "max_position_embeddings": "512px"}',
     "gives max_position_embeddings as '512px', not a number"),
    ('{"architectures": ["BertModel"]}', "its config.json names no model_type"),
])
def test_a_damaged_config_is_said_not_raised_as_a_traceback(tiny_bert: Path, config: str,
                                                            said: str) -> None:
    (tiny_bert / "config.json").write_text(config)
    with pytest.raises(InputError) as raised:
        check_model_folder(tiny_bert)
    assert said in str(raised.value)


def test_a_damaged_tokenizer_file_is_said_wherever_it_is_loaded(tiny_bert: Path) -> None:
    # The dry run's automatic settings loaded it unguarded: a JSONDecodeError traceback.
    from engine.models.folders import load_tokenizer

    (tiny_bert / "tokenizer.json").write_text('{"version": "1.0", \x01')
    with pytest.raises(InputError, match=r"the tokenizer files in model folder .* cannot be "
                                         r"loaded .*copy the model folder again"):
        load_tokenizer(tiny_bert)


def test_roberta_limit_excludes_the_padding_offset(tiny_bert: Path) -> None:
    cfg = json.loads((tiny_bert / "config.json").read_text())
    cfg["model_type"], cfg["max_position_embeddings"] = "roberta", 514
    (tiny_bert / "config.json").write_text(json.dumps(cfg))
    (tiny_bert / "tokenizer_config.json").unlink()
    assert check_model_folder(tiny_bert).max_length == 512


def test_load_for_training_adds_a_labelled_head(tiny_bert: Path) -> None:
    model, tokenizer = load_for_training(tiny_bert, ("ham", "spam", "eggs"))
    assert model.config.num_labels == 3
    assert model.config.id2label == {0: "ham", 1: "spam", 2: "eggs"}
    logits = model(**tokenizer(["free prize now"], return_tensors="pt")).logits
    assert logits.shape == (1, 3)
    multi, _ = load_for_training(tiny_bert, ("a", "b"), multi_label=True)
    assert multi.config.problem_type == "multi_label_classification"


def test_save_and_load_round_trip_through_the_vault(tiny_bert: Path, workspace, tmp_path: Path) -> None:
    model, tokenizer = load_for_training(tiny_bert, ("secret-label-x", "secret-label-y"))
    with torch.no_grad():
        model.classifier.weight.add_(0.5)  # differs from any fresh initialisation
    save_model(workspace, "runs/r1/model", model, tokenizer)
    # Nothing readable on disk: label names live only inside encrypted containers.
    for path in workspace.root.rglob("*"):
        if path.is_file():
            assert b"secret-label" not in path.read_bytes(), path
    shutil.rmtree(tiny_bert)  # the stored model must not need the base folder any more
    loaded, loaded_tok = load_model(workspace, "runs/r1/model")
    assert not loaded.training
    assert loaded.config.id2label == {0: "secret-label-x", 1: "secret-label-y"}
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name
    text = ["hello the canary"]
    assert loaded_tok(text)["input_ids"] == tokenizer(text)["input_ids"]
    model.eval()
    with torch.no_grad():
        expected = model(**tokenizer(text, return_tensors="pt")).logits
        got = loaded(**loaded_tok(text, return_tensors="pt")).logits
    assert torch.allclose(expected, got)


def test_load_model_names_a_missing_prefix(workspace) -> None:
    with pytest.raises(InputError, match="no trained model stored at 'runs/none/model'"):
        load_model(workspace, "runs/none/model")
