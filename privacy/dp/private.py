"""Opacus around a model and optimizer: per-sample clipping, noise, Poisson batches, accounting.

``make_private`` returns a ``PrivateTraining``: the wrapped module (ghost clipping by default,
per-sample gradient hooks as the fallback), the DP optimizer, the Poisson batch plan and the
accountant, with a backward/step pair that splits a logical batch into physical micro-batches
the way Opacus's ``BatchMemoryManager`` does (``signal_skip_step`` on all but the last), so
memory is bounded by the physical batch while privacy is accounted for the logical one.
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from privacy.dp.budget import (
    MAX_NOISE_TO_SIGNAL,
    DPSettingError,
    check_budget,
    epsilon_for,
    sample_rate_for,
    steps_within_budget,
    too_small,
)
from privacy.dp.validate import check_model

GRAD_SAMPLE_MODES = ("ghost", "hooks")


@dataclass(frozen=True)
class DPSettings:
    epsilon: float
    delta: float
    max_grad_norm: float = 1.0
    logical_batch_size: int = 256
    accountant: str = "prv"
    grad_sample_mode: str = "ghost"  # "hooks" materialises per-sample gradients: more memory
    # What the caller trains (e.g. "LoRA adapters ..."), for the summary: the noise, and so the
    # utility, depends on how many weights take it.
    trained: str = "all weights"
    # The unit of privacy: what the guarantee protects. ``n_rows`` given to ``make_private``
    # counts these units; with one person's rows grouped it is the number of people, and
    # ``training_rows`` the rows they hold.
    unit: str = "one training row"
    units: str = "training rows"  # plural, for messages
    person_column: str | None = None  # the column naming the person, when the unit is one
    training_rows: int | None = None


def per_sample_loss(criterion: Any, logits: Any, targets: Any) -> Any:
    """One loss per row: [B] (multi-label BCE gives [B, C]; its labels are averaged per row)."""
    old = criterion.reduction
    criterion.reduction = "none"
    try:
        loss = criterion(logits, targets)
    finally:
        criterion.reduction = old
    return loss.mean(dim=tuple(range(1, loss.dim()))) if loss.dim() > 1 else loss


class PrivateTraining:
    """What DP training needs beyond plain training; built by ``make_private``."""

    def __init__(self, *, module: Any, optimizer: Any, criterion: Any, settings: DPSettings,
                 noise_multiplier: float, sample_rate: float, n_rows: int, steps_per_epoch: int,
                 max_steps: int, accountant: Any, grad_sample_mode: str) -> None:
        self.module, self.optimizer, self.criterion = module, optimizer, criterion
        self.settings, self.noise_multiplier, self.sample_rate = settings, noise_multiplier, sample_rate
        self.n_rows, self.steps_per_epoch, self.max_steps = n_rows, steps_per_epoch, max_steps
        self.accountant, self.grad_sample_mode = accountant, grad_sample_mode
        self._eps_cache: dict[int, float] = {}
        self._secret: int | None = None
        self._noise_generators: dict[Any, Any] = {}

    def use_secret(self, secret: int) -> None:
        """Draw the batches and the noise from ``secret`` (a per-run value only the unlocked
        vault can derive) instead of the run's seed: the seed is public (the model card prints
        it), and noise anyone can recompute protects no one. Each step's noise is seeded by
        (secret, step), so a resumed run draws what an uninterrupted one would."""
        self._secret = int(secret)

    # ---- batches ------------------------------------------------------------------------
    def poisson_batches(self, epoch: int, seed: int) -> list[np.ndarray]:
        """The epoch's logical batches: each row drawn independently with the sampling rate.

        Opacus's own Poisson sampler, seeded by (seed, epoch) so an epoch's batches are the
        same after a resume. The accounting assumes exactly this sampling.
        """
        import torch
        from opacus.utils.uniform_sampler import UniformWithReplacementSampler

        gen = torch.Generator().manual_seed(mixed_seed(seed, "batches", epoch))
        sampler = UniformWithReplacementSampler(num_samples=self.n_rows, sample_rate=self.sample_rate,
                                                generator=gen, steps=self.steps_per_epoch)
        return [np.asarray(b, dtype=np.int64) for b in sampler]

    def batch_seed(self, public_seed: int) -> int:
        """What the batches are drawn from: the run's secret once ``use_secret`` gave it (who
        knows which rows each step read loses the sampling's amplification), else the seed."""
        return self._secret if self._secret is not None else int(public_seed)

    # ---- one step -----------------------------------------------------------------------
    def backward(self, logits: Any, targets: Any, last: bool) -> Any:
        """Backward pass of one physical micro-batch; returns its mean loss, detached."""
        losses = per_sample_loss(self.criterion, logits, targets)
        with warnings.catch_warnings():
            # torch warns that a full backward hook fires with no input needing gradients:
            # true of the embeddings' integer inputs, and harmless.
            warnings.filterwarnings("ignore", message="Full backward hook is firing")
            if self.grad_sample_mode == "ghost":
                from opacus.utils.fast_gradient_clipping_utils import DPTensorFastGradientClipping

                # Two backward passes: norms first, then the clipped sum (Li et al. 2021).
                DPTensorFastGradientClipping(self.module, self.optimizer, losses, "mean").backward()
            else:
                losses.mean().backward()
        if not last:
            # Clip and accumulate this micro-batch, but take no step: the BatchMemoryManager
            # protocol, so noise is added once per logical batch.
            self.optimizer.signal_skip_step(do_skip=True)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        return losses.mean().detach()

    def empty_step_grads(self) -> None:
        """Poisson sampling drew no row: the step still happens, with noise only."""
        import torch

        for p in self.optimizer.params:
            p.grad = torch.zeros_like(p)
            if self.grad_sample_mode != "ghost":
                p.grad_sample = torch.zeros((0, *p.shape), dtype=p.dtype, device=p.device)

    def step(self) -> None:
        if self.steps_taken >= self.max_steps:
            raise DPSettingError(
                f"the privacy budget ε = {self.settings.epsilon:g} is spent after {self.max_steps} "
                "steps: training stops here rather than exceed it"
            )
        if self._secret is not None:
            self.optimizer.generator = self._noise_generator(self.steps_taken)
        self.optimizer.step()  # noise, averaging, and the accountant's step hook

    def _noise_generator(self, step: int) -> Any:
        import torch

        device = self.optimizer.params[0].device
        gen = self._noise_generators.get(device)
        if gen is None:
            gen = self._noise_generators[device] = torch.Generator(device=device)
        return gen.manual_seed(mixed_seed(self._secret or 0, "noise", step))

    # ---- accounting ---------------------------------------------------------------------
    @property
    def steps_taken(self) -> int:
        return sum(int(n) for _, _, n in self.accountant.history)

    def epsilon_report(self, step: int) -> float:
        """ε to show at ``step``: exact at every tenth of the planned steps and at the end, and
        in between the value at the next such point, so what is shown is never below what has
        been spent. Opacus's PRV accountant takes 0.3–1 s per evaluation on a CPU: one per step
        cost a 32-step run as much time as a third of its training, so the display is bounded
        at ten evaluations whatever the run's length."""
        grid = max(1, -(-self.max_steps // 10))
        k = min(self.max_steps, -(-step // grid) * grid) if step < self.max_steps else step
        if k not in self._eps_cache:
            self._eps_cache[k] = epsilon_for(noise_multiplier=self.noise_multiplier,
                                             sample_rate=self.sample_rate, steps=k,
                                             delta=self.settings.delta,
                                             accountant=self.accountant.mechanism())
        return self._eps_cache[k]

    def epsilon(self) -> float:
        """ε spent so far, from the accountant's history (Opacus's own ``get_epsilon``)."""
        if not self.accountant.history:
            return 0.0
        return float(self.accountant.get_epsilon(delta=self.settings.delta))

    def state_dict(self) -> dict[str, Any]:
        """JSON: the accountant's history of (noise multiplier, sampling rate, steps)."""
        return {"mechanism": self.accountant.mechanism(),
                "history": [[float(s), float(q), int(n)] for s, q, n in self.accountant.history]}

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        if not state:
            raise DPSettingError("this checkpoint has no privacy accounting, so its ε is unknown: "
                                 "start a new DP run instead of resuming this one")
        if state.get("mechanism") != self.accountant.mechanism():
            raise DPSettingError(f"this checkpoint was accounted with {state.get('mechanism')}, not "
                                 f"{self.accountant.mechanism()}: resume it with the same accountant")
        self.accountant.history = [(float(s), float(q), int(n)) for s, q, n in state["history"]]

    def summary(self) -> dict[str, Any]:
        """What a run record and model card state about the guarantee."""
        s = self.settings
        return {
            "epsilon_target": s.epsilon, "epsilon_spent": self.epsilon(), "delta": s.delta,
            "accountant": self.accountant.mechanism(), "noise_multiplier": self.noise_multiplier,
            "max_grad_norm": s.max_grad_norm, "sample_rate": self.sample_rate,
            "logical_batch_size": s.logical_batch_size, "steps": self.steps_taken,
            "planned_steps": self.max_steps, "grad_sample_mode": self.grad_sample_mode,
            "unit": s.unit, "privacy_units": self.n_rows, "person_column": s.person_column,
            "training_rows": s.training_rows if s.training_rows is not None else self.n_rows,
            "sampling": "Poisson", "secure_rng": False, "noise_from_secret": self._secret is not None,
            "trained": s.trained,
            "trainable_parameters": sum(int(p.numel()) for p in self.optimizer.params),
        }


def mixed_seed(secret: int, purpose: str, index: int) -> int:
    """A 63-bit seed for one ``purpose`` and ``index`` (a step, an epoch) from ``secret``."""
    digest = hashlib.sha256(f"cloister-dp-v1\x00{purpose}\x00{int(secret)}\x00{int(index)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def _too_small(settings: DPSettings, sample_rate: float, steps: int) -> str:
    return too_small(settings.epsilon, delta=settings.delta, sample_rate=sample_rate, steps=steps,
                     logical_batch_size=settings.logical_batch_size, accountant=settings.accountant)


def make_private(model: Any, optimizer: Any, criterion: Any, *, n_rows: int, epochs: int,
                 settings: DPSettings, noise_multiplier: float | None = None) -> PrivateTraining:
    """Wrap ``model`` (in train mode) and ``optimizer`` for DP-SGD at the budget in ``settings``.

    ``make_private_with_epsilon`` gets a loader over the row positions only to fix the
    sampling rate the accountant uses; the batches come from ``poisson_batches``.
    ``noise_multiplier`` bypasses the calibration (Opacus's ``make_private``): for tests that
    compare a noiseless DP step with a plain one; it gives no guarantee at the stated ε.
    """
    import torch
    from opacus import PrivacyEngine

    problems = check_budget(epsilon=settings.epsilon, delta=settings.delta, n_rows=n_rows,
                            logical_batch_size=settings.logical_batch_size,
                            max_grad_norm=settings.max_grad_norm, accountant=settings.accountant,
                            units=settings.units)
    if settings.grad_sample_mode not in GRAD_SAMPLE_MODES:
        problems.append(f"per-sample gradient mode '{settings.grad_sample_mode}' is unknown: use ghost or hooks")
    if problems:
        raise DPSettingError("; ".join(problems))
    model.train()  # Hugging Face loads in eval mode; Opacus validates and records only in train mode
    check_model(model)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(n_rows)),
                                         batch_size=settings.logical_batch_size)
    sample_rate = 1.0 / len(loader)
    assert abs(sample_rate - sample_rate_for(n_rows, settings.logical_batch_size)) < 1e-15
    steps_per_epoch = len(loader)
    planned = steps_per_epoch * epochs
    modes = [settings.grad_sample_mode] + (["hooks"] if settings.grad_sample_mode == "ghost" else [])
    last_error: Exception | None = None
    for mode in modes:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "secure RNG off": stated in the model card
                engine = PrivacyEngine(accountant=settings.accountant)
                common = dict(module=model, optimizer=optimizer, criterion=criterion,
                              data_loader=loader, max_grad_norm=settings.max_grad_norm,
                              grad_sample_mode=mode, poisson_sampling=True)
                if noise_multiplier is None:
                    out = engine.make_private_with_epsilon(
                        target_epsilon=settings.epsilon, target_delta=settings.delta, epochs=epochs,
                        **common)
                else:
                    out = engine.make_private(noise_multiplier=noise_multiplier, **common)
        except ValueError as exc:
            if "budget is too low" in str(exc):
                raise DPSettingError(_too_small(settings, sample_rate, planned)) from exc
            last_error = exc  # e.g. a layer ghost clipping cannot handle: try hooks
            continue
        except NotImplementedError as exc:
            last_error = exc
            continue
        module, dp_optimizer = out[0], out[1]
        noise = float(dp_optimizer.noise_multiplier)
        if noise / settings.logical_batch_size > MAX_NOISE_TO_SIGNAL:
            raise DPSettingError(_too_small(settings, sample_rate, planned))
        max_steps = planned if noise_multiplier is not None else steps_within_budget(noise_multiplier=noise, sample_rate=sample_rate,
                                        planned_steps=planned, epsilon=settings.epsilon,
                                        delta=settings.delta, accountant=settings.accountant)
        return PrivateTraining(module=module, optimizer=dp_optimizer, criterion=criterion,
                               settings=settings, noise_multiplier=noise, sample_rate=sample_rate,
                               n_rows=n_rows, steps_per_epoch=steps_per_epoch, max_steps=max_steps,
                               accountant=engine.accountant, grad_sample_mode=mode)
    raise DPSettingError(f"Opacus cannot compute per-sample gradients for this model ({last_error}): "
                         "choose a BERT-family model or train fewer layers (--dp-trainable top-2)")

