"""Tiny, randomly initialised Hugging Face model folders for fast tests (never downloaded).

Other test modules import these helpers::

    from tests.engine.tiny_model import make_tiny_bert, make_tiny_gpt2, TINY_WORDS

``make_tiny_bert(tmp_path / "tiny")`` writes a complete local folder (config.json,
model.safetensors, vocab.txt, tokenizer files) that ``engine.models.folders.check_model_folder`` accepts
and ``AutoModelForSequenceClassification.from_pretrained`` loads in well under a second.
"""
from __future__ import annotations

import string
from pathlib import Path

# Words the tokenizer knows whole; everything else falls back to single characters, so any text
# tokenizes without [UNK] floods and sequence lengths vary with text length (dynamic padding).
TINY_WORDS = (
    "the a an is was good bad great awful movie film plot acting love hate fun boring free win "
    "prize call now txt reply stop cash claim urgent hello hi ok see you tomorrow meeting lunch "
    "home late sorry thanks yes no not very really quite secret canary"
).split()

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tiny_vocab() -> list[str]:
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = _SPECIAL + chars + [f"##{c}" for c in string.ascii_lowercase + string.digits]
    vocab += [w for w in TINY_WORDS if w not in vocab]
    return vocab


def make_tiny_tokenizer(folder: Path, *, model_max_length: int = 64):
    """A BertTokenizerFast over a small WordPiece vocab written into ``folder``."""
    from transformers import BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(tiny_vocab()) + "\n", encoding="utf-8")
    vocab = {token: i for i, token in enumerate(tiny_vocab())}
    # transformers 5 takes the vocab itself (``vocab=``); 4.x took ``vocab_file=``. The file is
    # written too so the folder looks like any BERT checkpoint.
    try:
        return BertTokenizerFast(vocab=vocab, do_lower_case=True, model_max_length=model_max_length)
    except TypeError:  # pragma: no cover - transformers 4.x
        return BertTokenizerFast(
            vocab_file=str(vocab_file), do_lower_case=True, model_max_length=model_max_length
        )


def make_tiny_bert(
    folder: Path,
    *,
    hidden_size: int = 32,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int = 37,
    max_position_embeddings: int = 64,
    seed: int = 0,
) -> Path:
    """Write a tiny random BERT encoder (the base model, no classification head) to ``folder``.

    ``max_position_embeddings`` is the model's token limit (64 by default), so tests can ask
    for a ``max_length`` above it and expect a clear refusal.
    """
    import torch
    from transformers import BertConfig, BertModel

    folder = Path(folder)
    tokenizer = make_tiny_tokenizer(folder, model_max_length=max_position_embeddings)
    config = BertConfig(
        vocab_size=len(tokenizer.get_vocab()),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        type_vocab_size=2,
        pad_token_id=0,
    )
    config.architectures = ["BertModel"]
    torch.manual_seed(seed)
    model = BertModel(config)
    model.save_pretrained(folder)  # safetensors by default
    tokenizer.save_pretrained(folder)
    return folder


def make_tiny_gpt2(folder: Path) -> Path:
    """A decoder-only (GPT-2) folder with config and weights: must be refused for training."""
    import torch
    from transformers import GPT2Config, GPT2Model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = GPT2Config(
        vocab_size=64, n_positions=32, n_embd=16, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0
    )
    torch.manual_seed(0)
    GPT2Model(config).save_pretrained(folder)
    make_tiny_tokenizer(folder)  # a tokenizer is present so the refusal is about the architecture
    return folder


# ---- shared fixtures: import them into a test module (``from tests.engine.tiny_model import
# tiny_bert, workspace``) and pytest picks them up. --------------------------------------------

import pytest  # noqa: E402

TEST_PASSPHRASE = "correct horse battery staple"


def fast_kdf():
    """scrypt at 2^10: the same code path as production at ~1 ms per vault."""
    from privacy.vault.container import ScryptParams

    return ScryptParams(log2_n=10, r=8, p=1)


def one_noise_secret(workspace, monkeypatch) -> None:
    """Every DP run's noise secret derived (with the vault's key, as always) from one label,
    for tests that compare two runs' weights: each run's own secret makes its noise its own."""
    derive = workspace.private_name
    monkeypatch.setattr(workspace, "private_name", lambda label: derive(
        "dp-noise\x00same" if label.startswith("dp-noise") else label))


def make_workspace(root: Path):
    from privacy.vault.workspace import Workspace

    return Workspace.create(root, TEST_PASSPHRASE, kdf=fast_kdf())


@pytest.fixture
def tiny_bert(tmp_path: Path) -> Path:
    """A tiny random BERT base-model folder (no head), max 64 tokens."""
    return make_tiny_bert(tmp_path / "tiny-bert")


@pytest.fixture
def workspace(tmp_path: Path):
    ws = make_workspace(tmp_path / "workspace")
    yield ws
    ws.lock()


_POSITIVE = ("good", "great", "fun", "love", "win", "prize")
_NEGATIVE = ("bad", "awful", "boring", "hate", "sorry", "late")
_FILLER = ("the", "movie", "plot", "was", "very", "really", "see", "you")


def toy_rows(n: int = 120, *, seed: int = 0, spam_share: float = 0.5) -> tuple[list[str], list[str]]:
    """Separable two-class rows of varied length (2..24 words): 'pos' / 'neg'."""
    import random

    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        positive = rng.random() < spam_share
        cue = _POSITIVE if positive else _NEGATIVE
        words = [rng.choice(cue) if rng.random() < 0.5 else rng.choice(_FILLER)
                 for _ in range(rng.randint(2, 24))]
        words[rng.randrange(len(words))] = rng.choice(cue)
        texts.append(" ".join(words))
        labels.append("pos" if positive else "neg")
    return texts, labels


def toy_splits(n: int, *, seed: int = 0) -> tuple[list[int], list[int], list[int]]:
    """Fixed 70/15/15 positions, so tests do not depend on the splitter."""
    import random

    order = list(range(n))
    random.Random(seed).shuffle(order)
    a, b = int(n * 0.7), int(n * 0.85)
    return order[:a], order[a:b], order[b:]


def store_rows(ws, name: str, texts: list[str], labels: list[str]):
    """Put rows into the vault as dataset ``name`` the way ``cloister import`` does (validation
    included, kept with the dataset even when it blocks, as ``--force`` would)."""
    import pyarrow as pa

    from engine.data.columns import ColumnMapping
    from engine.data.importing.table import ImportedTable
    from engine.data.store import save_dataset
    from engine.data.validation import validate

    imported = ImportedTable(table=pa.table({"text": texts, "label": labels}),
                             source=Path(f"{name}.csv"), format="csv")
    mapping = ColumnMapping(text_columns=("text",), label_column="label")
    return save_dataset(ws, name, imported, mapping, problems=validate(imported, mapping))
