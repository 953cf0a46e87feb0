"""The README.md model card that goes into every export.

It describes the model without carrying the data: row and label counts and a SHA-256 of the
dataset, never a row. ``ModelCardInfo`` is plain data (built by ``engine.export.exporters`` from the run
record, the dataset's stored metadata and the evaluation report); ``render_model_card`` turns it
into Markdown with a YAML header that the Hugging Face hub and tooling understand.
"""
from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.evaluation.report import UNTESTED_NOTE, EvaluationReport
from engine.units import label_cell


@dataclass(frozen=True)
class DataSummary:
    dataset: str
    sha256: str | None  # of the stored table, as recorded at import
    split_rows: Mapping[str, int] = field(default_factory=dict)  # train / validation / test
    label_counts: Mapping[str, int] = field(default_factory=dict)  # over the whole dataset
    note: str = ""  # why the split and label counts are missing (the dataset changed or went)


@dataclass(frozen=True)
class PrivacySummary:
    encrypted_at_rest: bool = True
    export_encrypted: bool = True
    differential_privacy: str = "off"
    anonymization: str = "none"
    dp: Mapping[str, Any] | None = None  # the run record's ``privacy`` for DP-SGD runs


@dataclass(frozen=True)
class ModelCardInfo:
    run_id: str
    base_model: str
    labels: tuple[str, ...]
    data: DataSummary
    hyperparameters: Mapping[str, Any]
    privacy: PrivacySummary
    report: EvaluationReport | None = None  # metrics on the test split
    multi_label: bool = False
    strips_markup: bool = False  # trained on texts cleaned of web markup (``--strip-markup``)
    # Long texts read in windows of ``max_length`` sharing this many tokens (None: cut).
    window_overlap: int | None = None
    format: str = "hf"  # the export's format: "hf" (safetensors) or "onnx"
    # The training data's text columns, joined by ``separator`` into the text the model read.
    text_columns: tuple[str, ...] = ()
    separator: str = "\n"
    threshold: float = 0.5  # multi-label: a label is predicted at this probability or more
    created: str = ""  # ISO date-time of the export; now when empty
    versions: Mapping[str, str] = field(default_factory=dict)  # now when empty


def library_versions() -> dict[str, str]:
    """Versions of Cloister and the libraries that shape the weights' format."""
    from importlib import metadata

    versions = {}
    for name in ("cloister", "torch", "transformers", "safetensors"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _how_to_load(info: ModelCardInfo) -> list[str]:
    """The snippet for the export's format; texts are cut where training cut them (the
    tokenizer's ``model_max_length`` is the run's max length)."""
    squash = "sigmoid" if info.multi_label else "softmax"
    if info.format == "onnx":
        return [
            "Run it with `onnxruntime` (`model.onnx`: inputs `input_ids`, `attention_mask` and, "
            f"for BERT models, `token_type_ids`; output: logits, before a {squash}):",
            "",
            "```python",
            "import numpy as np, onnxruntime",
            "from transformers import AutoTokenizer",
            'tokenizer = AutoTokenizer.from_pretrained("<this folder>")',
            'session = onnxruntime.InferenceSession("<this folder>/model.onnx")',
            'enc = tokenizer(["a text"], truncation=True, padding=True, return_tensors="np")',
            "names = {i.name for i in session.get_inputs()}",
            "logits = session.run(None, {k: v.astype(np.int64) for k, v in enc.items() if k in names})[0]",
            "```",
            "",
            "Labels by index are `id2label` in `config.json`.",
            "",
        ]
    return [
        "Load it with `transformers` alone:",
        "",
        "```python",
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
        'model = AutoModelForSequenceClassification.from_pretrained("<this folder>")',
        'tokenizer = AutoTokenizer.from_pretrained("<this folder>")',
        'logits = model(**tokenizer(["a text"], truncation=True, padding=True, return_tensors="pt")).logits',
        "```",
        "",
        f"`truncation=True` cuts a text where training did (`model_max_length` in the tokenizer's "
        f"settings); without it a long text fails. Take the {squash} of the logits for "
        "probabilities; `id2label` in `config.json` names them.",
        "",
    ]


def _input_and_threshold(info: ModelCardInfo) -> list[str]:
    """What reproducing its answers needs beyond the snippet: the columns a text is made of,
    and the threshold that turns multi-label probabilities into labels."""
    lines = []
    if len(info.text_columns) > 1:
        names = " and ".join(", ".join(f"`{c}`" for c in info.text_columns).rsplit(", ", 1))
        lines += [f"Each text it read was the columns {names} of its training data, in that "
                  f"order, joined by {json.dumps(info.separator)}: join yours the same way "
                  "(Cloister's own prediction does, for a file with those columns).", ""]
    if info.multi_label:
        lines += [f"A label is predicted when its probability is {info.threshold:g} or more "
                  "(the threshold Cloister's own prediction uses).", ""]
    return lines


def render_model_card(info: ModelCardInfo) -> str:
    created = info.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    versions = dict(info.versions) or library_versions()
    task = "multi-label" if info.multi_label else "single-label"
    lines = [
        "---",
        f"library_name: {'onnx' if info.format == 'onnx' else 'transformers'}",
        "pipeline_tag: text-classification",
        "tags:",
        "- cloister",
        "- text-classification",
        "---",
        "",
        f"# Text classifier `{info.run_id}`",
        "",
        f"A {task} text classifier fine-tuned locally with Cloister from `{info.base_model}`.",
        f"It predicts {len(info.labels)} labels: "
        # One line each (a label 'g<newline>h' split the sentence); a backtick in one would end
        # its code span: the span is fenced with one backtick more than the label holds.
        + ", ".join(_code(label_cell(label)) for label in info.labels)
        + ".",
        "",
        *_how_to_load(info),
        *_input_and_threshold(info),
    ]
    if info.strips_markup:
        lines += [
            "Its training texts had web markup removed at import (HTML tags dropped, entities "
            "such as `&amp;` decoded; `cloister import --strip-markup`). Clean the texts you "
            "give it the same way: Cloister's own prediction does "
            "(`engine.data.markup.strip_markup`; `cloister_text_cleaning` in `config.json`).",
            "",
        ]
    if info.window_overlap is not None:
        size = info.hyperparameters.get("max_length", "max_length")
        lines += [
            f"It was trained on long texts read in overlapping windows of {size} tokens, "
            f"consecutive windows sharing {info.window_overlap} (`cloister train --long-texts "
            "windows`; `cloister_window_overlap` in `config.json`). Read a longer text the same "
            "way: tokenize it with `truncation=True, return_overflowing_tokens=True, stride="
            f"{info.window_overlap}, max_length={size}`, keep the first 16 windows, and take the "
            "**mean of the windows' probabilities** (softmax, or sigmoid for multi-label) as "
            "the text's. Cloister's own prediction does.",
            "",
        ]
    lines += [
        "## Training data",
        "",
        "Only a summary: the rows never leave the Cloister workspace.",
        "",
        f"- Dataset: `{info.data.dataset}`",
        f"- SHA-256 of the dataset: `{info.data.sha256 or 'not recorded'}`",
    ]
    if info.data.note:
        lines.append(f"- Not shown: the rows per split and per label, because {info.data.note}")
    if info.data.split_rows:
        lines.append(
            "- Rows per split: "
            + ", ".join(f"{split} {count}" for split, count in info.data.split_rows.items())
        )
    if info.data.label_counts:
        # Over the whole dataset, all splits together: said, since the table sits under
        # "Training data" and its sum is larger than the training split.
        lines += ["", "Rows per label in the whole dataset (every split):", "",
                  "| label | rows |", "|---|---|"]
        lines += [f"| {_cell(label)} | {count} |" for label, count in info.data.label_counts.items()]
    lines += ["", "## Hyperparameters", "", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {_cell(_value(value))} |" for key, value in sorted(info.hyperparameters.items())]
    lines += ["", "## Evaluation (test split)", ""]
    lines += _metrics_lines(info.report)
    lines += [
        "",
        "## Privacy",
        "",
        f"- Data and model encrypted at rest in the workspace: {_yes(info.privacy.encrypted_at_rest)}",
        f"- This export encrypted: {_yes(info.privacy.export_encrypted)}",
        f"- Differential privacy: {info.privacy.differential_privacy}",
        f"- Anonymization of personal data: {info.privacy.anonymization}",
        *(["- The model saw tags and pseudonyms where the rows held personal data: anonymize "
           "its input by the same policy before use (Cloister's own prediction does)"]
          if info.privacy.anonymization.startswith("the training rows were anonymized") else []),
        "",
    ]
    lines += _dp_lines(info.privacy.dp)
    lines += [
        "## Provenance",
        "",
        f"- Exported: {created}",
    ]
    lines += [f"- {name}: {version}" for name, version in versions.items()]
    return "\n".join(lines) + "\n"


def _dp_lines(dp: Mapping[str, Any] | None) -> list[str]:
    if not dp:
        return []
    per_person = bool(dp.get("person_column"))
    left_out = ("all of any one person's rows" if per_person else "any one training row")
    if per_person:
        uncovered = ("one person's rows under two different ids (or in another column) count as "
                     "two people")
    else:
        uncovered = ("several rows about one person weaken the guarantee for that person (k rows: "
                     "roughly k·ε; train with a person column to protect people)")
    return [
        "### Differential privacy",
        "",
        f"Trained with DP-SGD (Opacus): ({dp['epsilon_spent']:.3f}, {dp['delta']:.3g})-differential "
        f"privacy for the unit of privacy, **{dp.get('unit', 'one training row')}**: the model's "
        f"weights would be nearly as likely had {left_out} been left out.",
        "",
        "| quantity | value |", "|---|---|",
        f"| ε spent | {dp['epsilon_spent']:.4f} |",
        f"| ε target | {dp['epsilon_target']:g} |",
        f"| δ | {dp['delta']:.3g} |",
        f"| accountant | {dp['accountant']} |",
        f"| noise multiplier σ | {dp['noise_multiplier']:.4f} |",
        f"| clipping norm C (per row) | {dp['max_grad_norm']:g} |",
        f"| sampling | {dp.get('sampling', 'Poisson')}, rate {dp['sample_rate']:.5f} "
        f"(logical batch {dp['logical_batch_size']}) |",
        f"| steps | {dp['steps']} of {dp['planned_steps']} planned |",
        f"| training rows | {dp['training_rows']} |",
        *([f"| people (each step uses one row of each person drawn) | {dp['privacy_units']} |"]
          if per_person else []),
        f"| per-sample gradients | {dp['grad_sample_mode']} |",
        *([f"| weights trained | {dp['trained']} ({dp['trainable_parameters']:,} values) |"]
          if "trained" in dp else []),
        "",
        f"What this does not cover: {uncovered}; choosing settings by trying several runs on the "
        "same data spends privacy that is not counted here; the validation and test rows and the metrics "
        "above are not protected; settings chosen automatically from all the rows (the max length, "
        "per-person epochs) and this card's exact label counts and split sizes are read outside the "
        "noisy steps and not counted. " + _noise_source(dp),
        "",
    ]


def _noise_source(dp: Mapping[str, Any]) -> str:
    if dp.get("noise_from_secret"):
        return ("The noise and the batches are drawn from a secret of this run kept in the vault, "
                "not from the seed in the table above, by torch's pseudo-random generator (not a "
                "cryptographically secure one).")
    # Runs trained before 2026-12-07 drew them from the seed, which this card prints.
    return ("The noise and the batches were drawn from the seed in the table above: whoever knows "
            "the other rows can recompute them, which weakens the guarantee; train again for "
            "noise drawn from a secret.")


def _metrics_lines(report: EvaluationReport | None) -> list[str]:
    if report is None:
        return ["No evaluation on a test split was recorded for this run."]
    lines = [f"{report.n} rows; accuracy {report.accuracy:.4f}, {report.interval_text()} (a "
             "smaller test split measures less precisely).", "", "| metric | value |", "|---|---|"]
    if report.repeated_in_training:  # before the table: the figures below are read in its light
        lines[1:1] = ["", f"**Warning:** {report.repeats_text()}"]
    lines += [f"| {name} | {value:.4f} |" for name, value in report.headline().items()]
    lines += ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    lines += [f"| {_cell(m.label)} | {' | '.join(m.shown())} | {m.support} |"
              for m in report.per_class]
    if not all(m.tested for m in report.per_class):
        lines += ["", UNTESTED_NOTE + "."]
    return lines


def _value(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _cell(text: str) -> str:
    # A label or setting with a pipe or newline must not break the Markdown table.
    return str(text).replace("|", "\\|").replace("\n", " ")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    import re

    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
