"""The differential-privacy parts factory: ``build_private_parts`` replaces
``build_training_parts`` when ``config.dp`` is set, through the loop's ``TrainingParts`` seam.

Opacus work (wrapping, clipping, noise, accounting) is in ``privacy.dp``; this module decides
what a Cloister model trains (all layers, or the top N plus the head) and adapts the result to
the loop: Poisson logical batches split into length-sorted physical micro-batches.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.events import FailureKind
from engine.training.config import TrainConfig, trainable_layers, trains_lower_biases
from engine.failures import TrainingFailure
from engine.training.lora import LORA, add_lora, is_lora_weight
from engine.training.optim import TrainingParts, default_criterion, linear_schedule, param_groups


def describe_trainable(spec: str) -> str:
    """What ``--dp-trainable spec`` trains, in words for the run record and the model card."""
    if spec == LORA:
        return ("LoRA adapters (rank 8) on every layer's attention query and value projections, "
                "the pooler and the head; the adapters are folded into the saved weights")
    n = trainable_layers(spec)
    if n is None:
        return "all weights, embeddings included"
    lower = (", and every bias and LayerNorm weight below them (embeddings' included)"
             if trains_lower_biases(spec) else "")
    return f"the top {n} encoder layers, the pooler and the head{lower}"


def dp_delta(config: TrainConfig, train_rows: int) -> float:
    from privacy.dp.budget import default_delta

    return config.dp_delta if config.dp_delta is not None else default_delta(train_rows)


def check_layer_count(spec: str, layers: int) -> None:
    """Refuse ``top-N`` (or ``top-N+bias``) for a model of fewer than N layers."""
    n = trainable_layers(spec)
    if n is not None and n > layers:
        raise TrainingFailure(FailureKind.BAD_SETTING, f"--dp-trainable {spec}: the model has only "
                              f"{layers} layers; use top-{layers} or all")


def freeze_for(model: Any, spec: str) -> None:
    """Train only the top N encoder layers, the pooler and the head for ``top-N``; LoRA
    adapters on every layer, the pooler and the head for ``lora`` (``engine.training.lora``).

    Fewer trainable parameters means less noise in total for the same ε (the noise is added
    to every trainable coordinate) and less per-sample work.
    """
    base = getattr(model, model.base_model_prefix, None)
    # The head: the pooler and everything outside the encoder (the classifier).
    head = {id(p) for name, p in model.named_parameters() if not name.startswith(model.base_model_prefix)}
    pooler = getattr(base, "pooler", None)
    if pooler is not None:
        head |= {id(p) for p in pooler.parameters()}
    if spec == LORA:
        try:
            add_lora(model)
        except ValueError as exc:
            raise TrainingFailure(FailureKind.BAD_MODEL, str(exc)) from exc
        for name, p in model.named_parameters():
            p.requires_grad_(id(p) in head or is_lora_weight(name))
        return
    n = trainable_layers(spec)
    if n is None:
        return
    # BERT, RoBERTa, MiniLM, ELECTRA: encoder.layer; DistilBERT: transformer.layer.
    layers = next((getattr(getattr(base, part, None), "layer", None) for part in ("encoder", "transformer")
                   if getattr(getattr(base, part, None), "layer", None) is not None), None)
    if layers is None:
        raise TrainingFailure(FailureKind.BAD_MODEL, f"--dp-trainable {spec} needs a BERT-style "
                              "encoder (encoder.layer or transformer.layer); use --dp-trainable all "
                              "for this model")
    check_layer_count(spec, len(layers))
    keep = head | {id(p) for layer in list(layers)[-n:] for p in layer.parameters()}
    if trains_lower_biases(spec):
        import torch

        # Biases and LayerNorms are a few thousand weights a layer, so their noise is small, yet
        # they let every layer adapt a little (BitFit: Zaken et al. 2022; DP-BiTFiT: Bu et al.).
        for module in base.modules() if base is not None else ():
            if isinstance(module, torch.nn.LayerNorm):
                keep |= {id(p) for p in module.parameters()}
            bias = getattr(module, "bias", None)
            if isinstance(module, torch.nn.Linear) and bias is not None:
                keep.add(id(bias))
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)


class PersonRows:
    """One person's rows, for DP whose unit is a person (``TrainConfig.dp_person_column``).

    Poisson sampling draws people, not rows, and each drawn person contributes **one** of
    their rows, picked at random, to the step. That row's gradient is clipped to C, so one
    person changes a step's sum by at most C however many rows they have: the guarantee and
    its accounting (N = people, q = people per step / N) are those of row-level DP-SGD with
    people in place of rows. The cost: an epoch reads one row per person, not every row.
    """

    def __init__(self, people: np.ndarray) -> None:
        codes = np.unique(people, return_inverse=True)[1].reshape(-1)
        self.order = np.argsort(codes, kind="stable")  # positions grouped by person
        self.counts = np.bincount(codes)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])

    def __len__(self) -> int:
        return len(self.counts)

    def one_row_each(self, drawn: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A uniformly chosen row position for each drawn person."""
        pick = self.starts[drawn] + (rng.random(len(drawn)) * self.counts[drawn]).astype(np.int64)
        return self.order[pick]


def person_unit(column: str, rows: int) -> dict[str, Any]:
    """``DPSettings`` fields for a guarantee per person: what it protects, in words."""
    return {"unit": f"one person: all rows with the same value in column '{column}'",
            "units": "people", "training_rows": rows, "person_column": column}


def build_private_parts(model: Any, *, config: TrainConfig, train_lengths: np.ndarray,
                        device_type: str = "cpu", criterion: Any = None, scaler: Any = None,
                        train_people: np.ndarray | None = None, **_: Any) -> TrainingParts:
    """DP-SGD parts: per-sample clipping at C, Gaussian noise for the ε budget, Poisson batches.

    ``config.batch_size`` is the physical batch; the loss scaler is not used (per-sample norms
    are computed in full precision, and the forward pass runs without autocast).
    ``train_people``: a person code per training row, with ``config.dp_person_column``.
    """
    import torch

    from privacy.dp.budget import DPSettingError
    from privacy.dp.private import DPSettings, make_private

    people, unit = None, {}
    if config.dp_person_column:
        if train_people is None or len(train_people) != len(train_lengths):
            raise TrainingFailure(FailureKind.BAD_SETTING, "DP per person needs who each training "
                                  f"row is about (the column '{config.dp_person_column}')")
        people = PersonRows(np.asarray(train_people))
        unit = person_unit(config.dp_person_column, len(train_lengths))
    n = len(people) if people is not None else len(train_lengths)
    criterion = criterion if criterion is not None else default_criterion(config)
    freeze_for(model, config.dp_trainable)
    optimizer = torch.optim.AdamW(param_groups(model, config.weight_decay), lr=config.learning_rate)
    settings = DPSettings(epsilon=config.dp_epsilon, delta=dp_delta(config, n),
                          max_grad_norm=config.dp_max_grad_norm,
                          logical_batch_size=config.dp_logical_batch_size,
                          accountant=config.dp_accountant, grad_sample_mode=config.grad_sample_mode,
                          trained=describe_trainable(config.dp_trainable), **unit)
    try:
        private = make_private(model, optimizer, criterion, n_rows=n, epochs=config.epochs,
                               settings=settings)
    except DPSettingError as exc:
        kind = FailureKind.BAD_MODEL if "this model" in str(exc) else FailureKind.BAD_SETTING
        raise TrainingFailure(kind, str(exc)) from exc
    per_epoch, total = private.steps_per_epoch, private.max_steps
    # The schedule drives the plain optimizer's learning rate, which the DP optimizer shares.
    scheduler = linear_schedule(optimizer, warmup_steps=int(round(config.warmup_ratio * total)),
                                total_steps=total)

    def batches_for_epoch(epoch: int) -> list[list[np.ndarray]]:
        logical = private.poisson_batches(epoch, private.batch_seed(config.seed))
        # The budget guard: the plan never holds more steps than the budget allows.
        logical = logical[: max(0, total - epoch * per_epoch)]
        if people is not None:  # people were drawn: one row of each, the same after a resume
            pick = np.random.default_rng([private.batch_seed(config.seed), int(epoch), 1])
            logical = [people.one_row_each(drawn, pick) for drawn in logical]
        steps = []
        for rows in logical:
            rows = rows[np.argsort(-train_lengths[rows], kind="stable")]  # less padding
            steps.append([rows[i : i + config.batch_size] for i in range(0, len(rows), config.batch_size)])
        return steps

    seen = {"rows": False}

    def backward(logits: Any, targets: Any, weight: float, last: bool) -> Any:
        seen["rows"] = True
        return private.backward(logits, targets, last) * weight

    def step() -> None:
        if not seen["rows"]:
            private.empty_step_grads()
        private.step()
        scheduler.step()
        seen["rows"] = False

    def zero_grad() -> None:
        private.optimizer.zero_grad(set_to_none=True)

    return TrainingParts(private.module, private.optimizer, scheduler, batches_for_epoch, per_epoch,
                         total, backward=backward, step=step, zero_grad=zero_grad, autocast=False,
                         privacy=private)
