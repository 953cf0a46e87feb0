"""The training loop: a generator of events, resumable from the exact step.

The entry points (``train``, ``resume``) live in ``engine.training.entry``. The loop is plain
PyTorch, written to be read. What a step does comes from ``parts_factory`` as one
``TrainingParts``: the module the forward pass runs on, the backward pass (the loss comes from
the logits through a criterion, not the model's own loss, so a differential-privacy wrapper can
compute per-sample losses), the clipping and update step, and the batch plan. The loop never
touches the optimizer or gradients itself, so a DP factory cannot be bypassed by it.
"""
from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TYPE_CHECKING

import numpy as np

from engine.events import (
    CheckpointSaved,
    Cancelled,
    CancelToken,
    Evaluated,
    Event,
    FailureKind,
    Finished,
    Started,
    Step,
)
from engine.errors import InputError
from engine.models.weights import load_state_dict, save_model
from engine.runs import RunRecord, RunStatus, save_run, utc_now
from engine.training import checkpoint as ckpt_io
from engine.training.lora import plain_view, unload_lora
from engine.training.data import class_weight_vector, collate, run_through, sorted_batches
from engine.training.devices import DeviceChoice, choose_device
from engine.failures import TrainingFailure
from engine.training.optim import TrainingParts
from engine.training.prepare import Prepared, nothing_held_out
from engine.training.inputs import TrainingInputs, encoding_inputs
from engine.training.windows import mean_by_text, windows_of

if TYPE_CHECKING:
    from engine.vault import Vault

log = logging.getLogger(__name__)
PartsFactory = Callable[..., TrainingParts]
EARLY_STOPPING_METRIC = "macro_f1"  # higher is better; robust to class imbalance


def _steps_done(steps: list[list[np.ndarray]], micro_done: int) -> int:
    """How many of ``steps`` the first ``micro_done`` micro-batches complete."""
    done = count = 0
    for group in steps:
        if done >= micro_done:
            break
        done += len(group)
        count += 1
    return count


def improvement(p: ckpt_io.Progress, value: float, loss: float) -> tuple[bool, bool, bool]:
    """(better, tie, learning) for a validation point scoring ``value`` (the early-stopping
    metric) with ``loss``. A tie on the metric (small validation splits tie often, at 1.0 most
    of all) with a lower loss replaces the best weights, as the better-calibrated model; it is
    still learning, for early stopping, when the loss fell by ``TIE_STILL_LEARNING`` or more."""
    if p.best_metric is None or value > p.best_metric + 1e-9:
        return True, False, True
    best_loss = best_validation_loss(p)
    tie = abs(value - p.best_metric) <= 1e-9 and (best_loss is None or loss < best_loss)
    learning = tie and best_loss is not None and loss <= best_loss * (1 - TIE_STILL_LEARNING)
    return False, tie, learning


# A tie on the metric whose loss is lower by at least this share is still learning: on a
# validation split of a few rows macro-F1 reaches 1.0 at once, and counting every later point
# as "no improvement" stopped a 40-row run at step 6 of 20 with its loss still falling fast
# (test accuracy 0.75 there, 1.0 trained to the end).
TIE_STILL_LEARNING = 0.01


def best_validation_loss(p: ckpt_io.Progress) -> float | None:
    """The validation loss of the best point (checkpoints from before ``best_loss`` was kept
    find it in their history)."""
    return p.best_loss if p.best_loss is not None else next(
        (h["loss"] for h in p.history if h.get("split") == "validation"
         and h["step"] == p.best_step and "loss" in h), None)


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Trainer:
    """One run, fully built by the constructor: model loaded, parts made, checkpoint restored.

    ``self.model`` is the loaded Hugging Face model: it is what gets evaluated, saved and
    checkpointed. The forward pass of training runs on ``self.parts.model``, which may wrap it.
    """

    def __init__(self, ws: Vault, prep: Prepared, run: RunRecord, *, cancel: CancelToken | None,
                 parts_factory: PartsFactory, resume_from: ckpt_io.Checkpoint | None = None,
                 inputs: TrainingInputs | None = None) -> None:
        import torch

        from engine.models.folders import load_for_training

        self.ws, self.prep, self.run, self.cancel = ws, prep, run, cancel or CancelToken()
        self.config = config = prep.config
        self.device: DeviceChoice = choose_device(config.device)
        seed_everything(config.seed)  # the new head's initial weights depend on it
        try:
            model, self.tokenizer = load_for_training(
                prep.model.path, prep.coding.names, multi_label=config.multi_label,
                tokenizer=inputs.tokenizer if inputs is not None else None)
        except InputError as exc:
            raise TrainingFailure(FailureKind.BAD_MODEL, str(exc)) from exc
        self.model = model.to(self.device.device)
        # Each encoded row is a text, or with long texts read in windows a window of one;
        # ``source`` names its text, and ``train_rows`` are the encoded rows training reads.
        # The entry points tokenize first, with progress (``engine.training.inputs``).
        if inputs is None:
            inputs = run_through(encoding_inputs(self.tokenizer, prep))
        self.encoded, self.source, self.train_rows = inputs.encoded, inputs.source, inputs.train_rows
        if config.windows:
            log.info("long texts in windows: %d windows for %d texts", len(self.source), len(prep.texts))
        self.targets = torch.as_tensor(prep.coding.targets[self.source])
        # Examples a text makes (1 unless windows): throughput is reported in texts a second.
        self.examples_per_text = len(self.train_rows) / max(1, len(prep.train))
        weight = None
        # Class weights come from the texts' label counts; with windows, a class of long texts
        # also has more windows, so its examples weigh a little more in the loss than its rows.
        if config.class_weights:
            weight = torch.as_tensor(class_weight_vector(prep.coding, prep.train)).to(self.device.device)
        # Evaluation uses this criterion as it is; the parts may wrap it for per-sample losses.
        self.criterion = (torch.nn.BCEWithLogitsLoss(pos_weight=weight) if config.multi_label
                          else torch.nn.CrossEntropyLoss(weight=weight))
        self.scaler = torch.amp.GradScaler("cuda") if self.device.use_grad_scaler else None
        self.parts: TrainingParts = parts_factory(
            self.model, config=config, train_lengths=self.encoded.lengths[self.train_rows],
            train_people=None if prep.people is None else prep.people[self.source[self.train_rows]],
            device_type=self.device.device.type, criterion=self.criterion, scaler=self.scaler,
        )
        self.progress = ckpt_io.Progress()
        if resume_from is not None:
            # After the parts are made: a wrapper (Opacus) keeps ``self.model`` as it is, and
            # LoRA adapters are injected into it, so the checkpoint's names match only now.
            self.model.load_state_dict(resume_from.model_state)
            self.parts.optimizer.load_state_dict(resume_from.optimizer_state)
            self.parts.scheduler.load_state_dict(resume_from.scheduler_state)
            if self.scaler is not None and resume_from.scaler_state:
                self.scaler.load_state_dict(resume_from.scaler_state)
            if self.parts.privacy is not None:
                self._check_same_units(run)
                self.parts.privacy.load_state_dict(resume_from.privacy_state)
            ckpt_io.restore_rng(resume_from.rng)
            self.progress = resume_from.progress
        # A run checkpointed before the secret existed (its record does not say it used one)
        # goes on as it began: its card must not claim secret noise for its first steps.
        began_with_seed = resume_from is not None and not (run.privacy or {}).get("noise_from_secret")
        if self.parts.privacy is not None and hasattr(ws, "private_name") and not began_with_seed:
            # Noise and batches from a secret of this run that only the unlocked vault derives:
            # the seed is printed in the model card, and noise anyone can recompute hides no one.
            self.parts.privacy.use_secret(int(ws.private_name(f"dp-noise\x00{run.run_id}"), 16))
        self._record_privacy()

    def _check_same_units(self, run: RunRecord) -> None:
        """A resumed DP run must sample from the same rows or people it was accounted for."""
        before = (run.privacy or {}).get("privacy_units", (run.privacy or {}).get("training_rows"))
        now = self.parts.privacy.n_rows
        if before is not None and int(before) != now:
            raise TrainingFailure(FailureKind.BAD_DATA, f"dataset '{self.config.dataset}' has changed "
                                  f"since run {run.run_id} started: its privacy was accounted for "
                                  f"{before} units (rows or people), the data now has {now}; start "
                                  "a new run instead")

    def _record_privacy(self) -> None:
        if self.parts.privacy is not None:
            self.run = self.run.updated(privacy=self.parts.privacy.summary())

    def _autocast(self) -> Any:
        """Mixed precision for the training steps (on a GPU that has it), never for scoring."""
        import torch

        if self.device.autocast_dtype is None or not self.parts.autocast:
            return contextlib.nullcontext()
        return torch.autocast(self.device.device.type, dtype=self.device.autocast_dtype)

    def _batch(self, rows: np.ndarray) -> tuple[dict[str, Any], Any]:
        dev = self.device.device
        # Padding to a multiple of 8 lets tensor cores work; on CPU it only adds work.
        inputs = collate(self.encoded, rows, pad_to_multiple=8 if dev.type == "cuda" else 1)
        inputs = {k: v.to(dev, non_blocking=True) for k, v in inputs.items()}
        return inputs, self.targets[rows].to(dev, non_blocking=True)

    # ---- evaluation ---------------------------------------------------------------------
    def predict_proba(self, rows: np.ndarray) -> tuple[np.ndarray, float]:
        """Probabilities for ``rows`` (in their order) and the mean loss. With long texts read
        in windows, a text's probabilities are its windows' mean, and the loss is that of those
        probabilities, text by text, as every other metric is (it was the windows' mean loss:
        0.53 where the texts' was 0.44)."""
        import torch

        self.model.eval()
        encoded = windows_of(self.source, rows) if self.config.windows else rows
        out = np.zeros((len(encoded), len(self.prep.coding.names)), dtype=np.float32)
        loss_sum, batch = 0.0, max(32, 2 * self.config.batch_size)
        with torch.inference_mode():
            for positions in sorted_batches(self.encoded.lengths[encoded], batch_size=batch):
                inputs, targets = self._batch(encoded[positions])
                # In float32, as `predict`, `evaluate` and an export read the saved model: under
                # a GPU's bf16 autocast the stored test report was not what the model gives.
                logits = self.model(**inputs).logits.float()
                loss_sum += float(self.criterion(logits, targets)) * len(positions)
                probs = torch.sigmoid(logits) if self.config.multi_label else torch.softmax(logits, -1)
                out[positions] = probs.cpu().numpy()
        self.model.train()
        if self.config.windows:
            per_text = mean_by_text(out, self.source[encoded], rows)
            return per_text, self._loss_of(per_text, rows)
        return out, loss_sum / max(1, len(rows))

    def _loss_of(self, probs: np.ndarray, rows: np.ndarray) -> float:
        """The criterion (class weights and all) on texts' probabilities: given log p as logits,
        cross-entropy is -log p of the true class (the mean of softmaxes sums to 1); given
        logit(p), the sigmoid gives p back for several labels a row."""
        import torch

        if not len(rows):
            return 0.0
        dev = self.device.device
        p = torch.as_tensor(probs, dtype=torch.float32, device=dev).clamp(1e-7, 1 - 1e-7)
        targets = torch.as_tensor(self.prep.coding.targets[rows]).to(dev)
        with torch.inference_mode():
            return float(self.criterion(torch.logit(p) if self.config.multi_label else torch.log(p),
                                        targets))

    def report(self, rows: np.ndarray, *, with_texts: bool) -> Any:
        from engine.evaluation.report import compute_report

        probs, loss = self.predict_proba(rows)
        texts = [self.prep.texts[i] for i in rows] if with_texts else None
        people = self.prep.people
        report = compute_report(
            self.prep.coding.targets[rows], probs, self.prep.coding.names, texts,
            multi_label=self.config.multi_label, max_misclassified=None if with_texts else 0,
            groups=None if people is None else people[rows],
            label_delimiter=self.config.label_delimiter,
        )
        return report, loss

    def validate(self, epoch: float) -> Iterator[Event]:
        """Evaluate on the validation split; keep the best weights; count patience."""
        p = self.progress
        if len(self.prep.validation) == 0:
            return
        report, loss = self.report(self.prep.validation, with_texts=False)
        metrics = {"loss": loss, **report.headline()}
        p.history.append({"step": p.global_step, "epoch": epoch, "split": "validation", **metrics})
        yield Evaluated(step=p.global_step, epoch=epoch, split="validation", metrics=metrics)
        value = metrics[EARLY_STOPPING_METRIC]
        better, tie, learning = improvement(p, value, loss)
        if better or tie:
            p.best_metric, p.best_step, p.best_loss = value, p.global_step, loss
            if self.parts.privacy is not None:
                # The ε these weights spent is on disk before they are: a run that fails or is
                # killed before its next checkpoint must not export them under an older ε.
                self._record_privacy()
                save_run(self.ws, self.run)
            with plain_view(self.model):  # LoRA adapters folded in: a plain model is saved
                save_model(self.ws, f"runs/{self.run.run_id}/model", self.model, self.tokenizer)
        if learning:
            p.evals_without_improvement = 0
        else:
            p.evals_without_improvement += 1
            patience = self.config.early_stopping_patience
            if patience is not None and p.evals_without_improvement >= patience:
                p.stopped_early = True

    # ---- checkpoints ----------------------------------------------------------------------
    def save_checkpoint(self, elapsed: float) -> str:
        self.progress.elapsed_seconds = elapsed
        state = ckpt_io.Checkpoint(
            progress=self.progress,
            model_state=self.model.state_dict(),
            optimizer_state=self.parts.optimizer.state_dict(),
            scheduler_state=self.parts.scheduler.state_dict(),
            scaler_state=self.scaler.state_dict() if self.scaler is not None else None,
            rng=ckpt_io.capture_rng(),
            privacy_state=self.parts.privacy.state_dict() if self.parts.privacy is not None else None,
        )
        key = ckpt_io.save_checkpoint(self.ws, self.run.run_id, state)
        self._record_privacy()
        log.info("run %s: checkpoint at step %d", self.run.run_id, self.progress.global_step)
        self.run = self.run.updated(history=list(self.progress.history), duration_seconds=elapsed,
                                    best_step=self.progress.best_step)
        save_run(self.ws, self.run)
        return key

    # ---- the loop -------------------------------------------------------------------------
    def train_step(self, group: list[np.ndarray], loss_acc: Any) -> int:
        """One optimizer step over ``group`` (its micro-batches); returns the rows it used.

        The loss is added to ``loss_acc`` on the device: reading it back would wait for the
        GPU, so that happens only when a ``Step`` event is due.
        """
        parts = self.parts
        group_rows = sum(len(b) for b in group)
        parts.zero_grad()
        for i, positions in enumerate(group):
            inputs, targets = self._batch(self.train_rows[positions])
            with self._autocast():
                logits = parts.model(**inputs).logits
            loss_acc += parts.backward(logits.float(), targets, len(positions) / group_rows,
                                       i == len(group) - 1)
        parts.step()
        return group_rows

    def run_loop(self) -> Iterator[Event]:
        import torch

        config, parts, p = self.config, self.parts, self.progress
        dev = self.device.device
        total = parts.total_steps
        t_start = time.perf_counter() - p.elapsed_seconds
        last_ckpt = loop_start = time.monotonic()
        report_every = max(1, total // 200)
        resumed_step = p.global_step
        window_rows, window_start = 0, time.perf_counter()
        loss_acc = torch.zeros((), device=dev)
        loss_n = 0
        yield Started(run_id=self.run.run_id, device=self.device.description,
                      epochs=config.epochs, total_steps=total, train_rows=len(self.prep.train),
                      validation_rows=len(self.prep.validation), labels=self.prep.coding.names,
                      resumed_from_step=resumed_step)
        log.info("run %s: %d steps on %s, from step %d", self.run.run_id, total,
                 self.device.description, resumed_step)
        parts.model.train()
        while p.epoch < config.epochs and not p.stopped_early:
            steps = parts.batches_for_epoch(p.epoch)
            micro_total = max(1, sum(len(g) for g in steps))
            if p.step_in_epoch is None:  # a checkpoint from before steps were counted
                p.step_in_epoch = _steps_done(steps, p.batch_in_epoch)
            while p.step_in_epoch < len(steps):
                if self.cancel.cancelled:
                    key = self.save_checkpoint(time.perf_counter() - t_start)
                    self.run = self.run.updated(status=RunStatus.CANCELLED)
                    save_run(self.ws, self.run)
                    yield Cancelled(step=p.global_step, checkpoint_key=key, run_id=self.run.run_id)
                    return
                group = steps[p.step_in_epoch]
                group_rows = self.train_step(group, loss_acc)
                p.batch_in_epoch += len(group)
                p.step_in_epoch += 1
                p.global_step += 1
                loss_n += 1
                window_rows += group_rows
                epoch_f = p.epoch + p.batch_in_epoch / micro_total
                if p.global_step % report_every == 0 or p.global_step == total:
                    # The one host sync per report: the loss is summed on the device meanwhile.
                    mean_loss = float(loss_acc) / loss_n
                    now = time.perf_counter()
                    # Rows (texts) a second, as everywhere else, windows or not.
                    speed = window_rows / self.examples_per_text / max(now - window_start, 1e-9)
                    steps_done = p.global_step - resumed_step
                    eta = (time.monotonic() - loop_start) / max(1, steps_done) * (total - p.global_step)
                    lr = parts.scheduler.get_last_lr()[0]
                    point = {"step": p.global_step, "epoch": epoch_f, "loss": mean_loss, "lr": lr}
                    epsilon = None
                    if parts.privacy is not None:
                        epsilon = point["epsilon"] = parts.privacy.epsilon_report(p.global_step)
                    p.history.append(point)
                    yield Step(step=p.global_step, total_steps=total, epoch=epoch_f, loss=mean_loss,
                               learning_rate=lr, samples_per_second=speed, eta_seconds=eta,
                               epsilon=epsilon)
                    loss_acc.zero_()
                    loss_n, window_rows, window_start = 0, 0, time.perf_counter()
                if config.eval_every_steps and p.global_step % config.eval_every_steps == 0 \
                        and p.step_in_epoch < len(steps):
                    yield from self.validate(epoch_f)
                    if p.stopped_early:
                        break
                if time.monotonic() - last_ckpt >= config.checkpoint_every_minutes * 60 \
                        and p.step_in_epoch < len(steps):
                    key = self.save_checkpoint(time.perf_counter() - t_start)
                    last_ckpt = time.monotonic()
                    yield CheckpointSaved(step=p.global_step, epoch=epoch_f, key=key)
            if p.step_in_epoch >= len(steps):
                p.epoch += 1
                p.batch_in_epoch = p.step_in_epoch = 0
                yield from self.validate(float(p.epoch))
            key = self.save_checkpoint(time.perf_counter() - t_start)
            last_ckpt = time.monotonic()
            yield CheckpointSaved(step=p.global_step, epoch=float(p.epoch), key=key)
        yield from self.finish(time.perf_counter() - t_start)

    def finish(self, elapsed: float) -> Iterator[Event]:
        from engine.evaluation.report import save_report

        p, run_id = self.progress, self.run.run_id
        model_prefix = f"runs/{run_id}/model"
        unload_lora(self.model)  # training is over: from here on the model is a plain one
        best_val = next((h for h in p.history if h.get("split") == "validation"
                         and h["step"] == p.best_step), {})
        # The test scores the weights kept: those of the best validation step, when chosen.
        scored_step, scored_epoch = p.global_step, float(p.epoch)
        if self.config.select_best and p.best_step is not None:
            self.model.load_state_dict(load_state_dict(self.ws, model_prefix))
            scored_step, scored_epoch = p.best_step, float(best_val.get("epoch", p.epoch))
        else:
            save_model(self.ws, model_prefix, self.model, self.tokenizer)
        metrics: dict[str, float] = {}
        effective_rows = None  # test rows grouped by person: their worth as independent rows
        notes: tuple[str, ...] = ()
        app_notes: tuple[str, ...] = ()
        test_basis = ""
        if len(self.prep.test):
            from engine.evaluation.overlap import repeated_test_rows

            report, loss = self.report(self.prep.test, with_texts=True)
            prep = self.prep
            report = replace(report, repeated_in_training=repeated_test_rows(
                prep.texts, prep.train, prep.validation, prep.test))
            if report.repeated_in_training:
                notes = (report.repeats_text(self.config.dataset),)
                app_notes = (report.repeats_text(self.config.dataset, app=True),)
            save_report(self.ws, run_id, report)
            metrics, effective_rows = {**report.headline(), "loss": loss}, report.effective_rows
            test_basis = f"{report.n:,} test row{'s' * (report.n != 1)}; accuracy's {report.interval_text()}"
            yield Evaluated(step=scored_step, epoch=scored_epoch, split="test", metrics=metrics)
        else:
            notes = (nothing_held_out(len(self.prep.validation), 0, run_id=run_id),)
            app_notes = (nothing_held_out(len(self.prep.validation), 0, app=True),)
        self._record_privacy()
        self.run = self.run.updated(
            status=RunStatus.FINISHED, finished=utc_now(), duration_seconds=elapsed, metrics=metrics,
            test_rows=len(self.prep.test) if metrics else None,
            test_effective_rows=effective_rows,
            history=list(p.history), best_step=p.best_step,
            validation_metrics={k: v for k, v in best_val.items() if k not in ("step", "epoch", "split")},
        )
        save_run(self.ws, self.run)
        # A finished run needs no resume state; its optimizer moments are the bulk of the vault.
        if self.ws.has(ckpt_io.checkpoint_key(run_id)):
            self.ws.delete(ckpt_io.checkpoint_key(run_id))
        log.info("run %s finished in %.1f s (best step %s)", run_id, elapsed, p.best_step)
        yield Finished(run_id=run_id, duration_seconds=elapsed, metrics=metrics, best_step=p.best_step,
                       steps=p.global_step, notes=notes, app_notes=app_notes, test_basis=test_basis)
